# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     notebook_metadata_filter: -jupytext.text_representation
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Module 10 — Tokenization
#
# A model computes with numbers, but text arrives as characters. A **tokenizer**
# turns a string into a list of integer ids — one per *token* — and back again.
# The set of all tokens it knows is its vocabulary; how many there are is its
# **vocabulary size**.
#
# You build two tokenizers:
#
# - a **character tokenizer**: one token per character. Tiny vocabulary, long sequences.
# - a **byte-pair encoding (BPE)** tokenizer: starts from the 256 byte values and
#   learns, from a corpus, which adjacent pairs to glue into new tokens. Frequent
#   words become single tokens; rare words are spelled from pieces; nothing is ever
#   unknown.
#
# **Systems concept: vocabulary size against sequence length.** Every token is one
# step of work for every later model, so fewer tokens per text means less compute
# and memory. A bigger vocabulary gives fewer tokens — but every entry of it costs
# parameters in the model that reads the ids. You will measure the trade-off:
# average tokens per text at several vocabulary sizes.
#
# You edit only this file. `from tinytorch.text import BPETokenizer` reads it directly.
#
# | exercise | what you write |
# |---|---|
# | 10.1 char_tokenizer | learn the characters of a corpus; encode, decode, `<unk>` |
# | 10.2 pad_batch | equal-length rows of ids in one Tensor, filled with `<pad>` |
# | 10.3 count_pairs | how often each adjacent pair of ids occurs |
# | 10.4 merge_pair | replace every occurrence of a pair by a new id |
# | 10.5 bpe_train | learn merges: most frequent pair first, ties broken by the smaller pair |
# | 10.6 bpe_encode_decode | apply the merges in the order learned; bytes back to text |
# | 10.7 vocabulary_tradeoff | average tokens per text for several vocabulary sizes |

# %%
from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from itertools import pairwise

import numpy as np

from tinytorch._cells import part_of
from tinytorch.core import Tensor

# %% [markdown]
# ## Special tokens
#
# Four ids mean something other than text, and both tokenizers reserve them first:
#
# | id | token | meaning |
# |---|---|---|
# | 0 | `<pad>` | filler that makes short sequences as long as the longest in a batch |
# | 1 | `<bos>` | beginning of a sequence |
# | 2 | `<eos>` | end of a sequence: a model that produces this is done |
# | 3 | `<unk>` | a character the vocabulary does not contain |
#
# `encode(text, add_bos=True, add_eos=True)` wraps the ids in `<bos>` … `<eos>`.
# `decode` leaves out `<pad>`, `<bos>` and `<eos>` (they mark structure, not text)
# and writes `<unk>` as `"\ufffd"` (�), the character Unicode itself uses for
# "something was here that could not be read".

# %%
SPECIAL_TOKENS = ("<pad>", "<bos>", "<eos>", "<unk>")
PAD_ID, BOS_ID, EOS_ID, UNK_ID = range(len(SPECIAL_TOKENS))
UNKNOWN_TEXT = "\ufffd"


def as_texts(corpus: str | Iterable[str]) -> list[str]:
    """A corpus as a list of texts: one string counts as one text."""
    texts = [corpus] if isinstance(corpus, str) else list(corpus)
    if not all(isinstance(text, str) for text in texts):
        raise TypeError("a corpus is a string or a list of strings")
    return texts


def with_special_tokens(ids: list[int], add_bos: bool, add_eos: bool) -> list[int]:
    """`ids`, preceded by <bos> and followed by <eos> when asked."""
    return [BOS_ID] * bool(add_bos) + list(ids) + [EOS_ID] * bool(add_eos)


def check_ids(ids: Iterable[int], vocab_size: int) -> list[int]:
    """`ids` as a list of ints, with a ValueError for an id outside 0..vocab_size-1."""
    ids = [int(i) for i in ids]
    bad = [i for i in ids if not 0 <= i < vocab_size]
    if bad:
        raise ValueError(
            f"ids {bad[:5]} are not in this vocabulary (ids 0..{vocab_size - 1}). Were they "
            f"made by another tokenizer, or by this one before it was trained again?"
        )
    return ids


# %% [markdown]
# ## A character tokenizer
#
# Training is just collecting the characters of a corpus. Ids 0–3 are the special
# tokens; the characters follow **in sorted order**, so the same corpus always
# gives the same ids (a set's iteration order is not stable between runs).
# A character that training never saw encodes as `<unk>`.


# %%
class CharTokenizer:
    """One token per character; ids 0–3 special, then the corpus's characters, sorted.

    >>> tokenizer = CharTokenizer().train(["hello", "help"])
    >>> tokenizer.vocab_size, tokenizer.encode("hip"), tokenizer.decode([5, 4, 6, 6, 7])
    (9, [5, 3, 8], 'hello')

    Sequence length = number of characters (+2 with <bos>/<eos>).
    """

    def __init__(self):
        self.id_to_token: list[str] = list(SPECIAL_TOKENS)
        self.token_to_id: dict[str, int] = {token: i for i, token in enumerate(SPECIAL_TOKENS)}

    @property
    def vocab_size(self) -> int:
        return len(self.id_to_token)

    def train(self, corpus: str | Iterable[str]) -> CharTokenizer:
        """Vocabulary = special tokens + every distinct character of the corpus, sorted.
        Replaces any earlier vocabulary. Returns self, so `CharTokenizer().train(...)` works."""
        texts = as_texts(corpus)
        ### BEGIN SOLUTION 10.1
        characters = sorted(set("".join(texts)))
        self.id_to_token = [*SPECIAL_TOKENS, *characters]
        self.token_to_id = {token: i for i, token in enumerate(self.id_to_token)}
        ### END SOLUTION
        return self

    def encode(self, text: str, add_bos: bool = False, add_eos: bool = False) -> list[int]:
        """One id per character; characters not in the vocabulary become UNK_ID (3)."""
        ### BEGIN SOLUTION 10.1
        ids = [self.token_to_id.get(character, UNK_ID) for character in text]
        ### END SOLUTION
        return with_special_tokens(ids, add_bos, add_eos)

    def decode(self, ids: Iterable[int]) -> str:
        """The text of `ids`: <pad>, <bos>, <eos> left out, <unk> written as UNKNOWN_TEXT."""
        ids = check_ids(ids, self.vocab_size)
        ### BEGIN SOLUTION 10.1
        pieces = []
        for i in ids:
            if i == UNK_ID:
                pieces.append(UNKNOWN_TEXT)
            elif i not in (PAD_ID, BOS_ID, EOS_ID):
                pieces.append(self.id_to_token[i])
        return "".join(pieces)
        ### END SOLUTION

    def __repr__(self) -> str:
        return f"CharTokenizer(vocab_size={self.vocab_size})"


# %% [markdown]
# ## Batches of sequences: padding
#
# Texts have different lengths, but a batch is one rectangular Tensor. `pad_batch`
# makes every row as long as the longest (or a fixed `length`), filling the end of
# short rows with `<pad>` and cutting long rows. Every pad entry is memory and work
# spent on nothing: sorting texts by length before batching keeps the waste small.
#
#     [[1, 7, 8, 2], [1, 9, 2]]   →   [[1, 7, 8, 2],
#                                      [1, 9, 2, 0]]     shape (2, 4), float32


# %%
def pad_batch(sequences: Sequence[Sequence[int]], length: int | None = None, pad_id: int = PAD_ID):
    """Rows of ids → one Tensor of shape (N, L): L = `length`, or the longest row if None.

    Shorter rows are filled at the end with `pad_id`; longer rows keep their first L ids.
    Ids are stored as float32 (exact up to 2**24). Cost: N·L·4 bytes.
    """
    if len(sequences) == 0:
        raise ValueError("pad_batch needs at least one sequence")
    if length is not None and length < 1:
        raise ValueError(f"length must be at least 1, got {length!r}")
    ### BEGIN SOLUTION 10.2
    width = max(len(row) for row in sequences) if length is None else length
    batch = np.full((len(sequences), width), pad_id, dtype=np.float32)
    for number, row in enumerate(sequences):
        kept = list(row)[:width]
        batch[number, : len(kept)] = kept
    return Tensor(batch)
    ### END SOLUTION


# %% [markdown]
# ## Byte-pair encoding
#
# BPE starts from bytes. UTF-8 writes every character as 1–4 bytes, so 256 base
# tokens can spell *any* text — no `<unk>` ever. Here byte value `b` has id `4 + b`
# (ids 0–3 are the special tokens), so the base vocabulary has 260 entries.
#
# Training repeats one move until the vocabulary is big enough:
#
# 1. count every adjacent pair of ids in the corpus (`count_pairs`),
# 2. take the most frequent pair — on a tie, the **smallest** pair `(left, right)`,
#    so training never depends on dictionary order and is repeatable,
# 3. give it the next free id and replace it everywhere (`merge_pair`).
#
#     "low lower": l o w ␣ l o w e r   →  (l, o) is most frequent → "lo" = 260
#                  lo w ␣ lo w e r     →  (lo, w) → "low" = 261
#                  low ␣ low e r        …
#
# **Chunks.** Merges never cross a chunk boundary, where a chunk is a run of
# letters/digits, or of punctuation, together with the spaces before it
# (`split_chunks("Hi, you!")` → `["Hi", ",", " you", "!"]`). So `" the"` can become one
# token, but `"the."` never glues a word to its punctuation. It also makes training
# fast: count each distinct chunk once and weight it by how often it occurs.

# %%
BYTE_OFFSET = len(SPECIAL_TOKENS)
BASE_VOCAB_SIZE = BYTE_OFFSET + 256
CHUNK = re.compile(r"\s*\w+|\s*[^\w\s]+|\s+")


def byte_pieces() -> dict[int, bytes]:
    """The base vocabulary: id 4 + b is the single byte b, for b = 0..255."""
    return {BYTE_OFFSET + b: bytes([b]) for b in range(256)}


def split_chunks(text: str) -> list[str]:
    """Cut text into chunks that merges never cross; "".join(split_chunks(t)) == t."""
    return CHUNK.findall(text)


# %% [markdown]
# ### Counting pairs (10.3)
#
# Step 1 of a training round: how often does each adjacent pair occur? A chunk that
# appears n times counts n times.


# %%
def count_pairs(ids: Sequence[int], weight: int = 1, counts: dict | None = None) -> dict:
    """Add `weight` to counts[(a, b)] for every adjacent pair (a, b) in `ids`; return counts.

    Overlapping pairs all count: [5, 5, 5] has the pair (5, 5) twice. `counts` is updated
    in place (a new dict if None), so one dict can collect the pairs of many chunks.
    Cost: len(ids) - 1 dictionary updates.
    """
    counts = {} if counts is None else counts
    ### BEGIN SOLUTION 10.3
    for pair in pairwise(ids):
        counts[pair] = counts.get(pair, 0) + weight
    return counts
    ### END SOLUTION


# %% [markdown]
# ### Merging one pair (10.4)
#
# Step 3: rewrite a sequence with the chosen pair replaced by its new id. Occurrences
# may overlap; the scan decides which one wins.


# %%
def merge_pair(ids: Sequence[int], pair: tuple[int, int], new_id: int) -> list[int]:
    """A new list with every occurrence of `pair` replaced by `new_id`, scanning left to
    right without overlaps: merging (5, 5) in [5, 5, 5] gives [new_id, 5]. Cost: O(len(ids))."""
    ### BEGIN SOLUTION 10.4
    merged, position = [], 0
    while position < len(ids):
        if position + 1 < len(ids) and (ids[position], ids[position + 1]) == pair:
            merged.append(new_id)
            position += 2
        else:
            merged.append(ids[position])
            position += 1
    return merged
    ### END SOLUTION


# %% [markdown]
# ### Training (10.5)
#
# The whole loop: count, choose (ties broken the same way every run), record, merge,
# until the vocabulary is big enough or nothing is left to merge.


# %%
class BPETokenizer:
    """Byte-level byte-pair encoding: ids 0–3 special, 4–259 the byte values, then one id
    per learned merge, in the order learned.

    >>> tokenizer = BPETokenizer().train(["low lower lowest"] * 10, vocab_size=263)
    >>> tokenizer.encode(" lowest"), tokenizer.decode(tokenizer.encode("slow"))
    ([262, 105, 119, 120], 'slow')

    self.merges: {(left_id, right_id): new_id} in the order learned; self.pieces: {id: bytes}.
    """

    def __init__(self):
        self.merges: dict[tuple[int, int], int] = {}
        self.pieces: dict[int, bytes] = byte_pieces()

    @property
    def vocab_size(self) -> int:
        return BASE_VOCAB_SIZE + len(self.merges)

    def add_merge(self, pair: tuple[int, int]) -> int:
        """Record the merge of `pair` under the next free id and return that id (given:
        bookkeeping shared by training and by tests that build merges by hand)."""
        left, right = pair
        if left not in self.pieces or right not in self.pieces:
            raise ValueError(f"cannot merge {pair}: both ids must be bytes or earlier merges")
        new_id = self.vocab_size
        self.merges[(left, right)] = new_id
        self.pieces[new_id] = self.pieces[left] + self.pieces[right]
        return new_id

    def train(self, corpus: str | Iterable[str], vocab_size: int) -> BPETokenizer:
        """Learn merges until vocab_size is reached, or until no chunk has a pair left.

        Starts from scratch (earlier merges are forgotten). Each round counts the pairs of
        every distinct chunk, weighted by how often the chunk occurs, merges the most
        frequent pair (ties: the smallest (left, right)) with add_merge, and rewrites the
        chunks. Cost: (vocab_size - 260) rounds × the total length of the distinct chunks.
        """
        if vocab_size < BASE_VOCAB_SIZE:
            raise ValueError(
                f"vocab_size must be at least {BASE_VOCAB_SIZE} (4 special tokens + 256 bytes), "
                f"got {vocab_size}"
            )
        self.merges, self.pieces = {}, byte_pieces()
        chunks = Counter(chunk for text in as_texts(corpus) for chunk in split_chunks(text))
        words = {tuple(BYTE_OFFSET + b for b in c.encode("utf-8")): n for c, n in chunks.items()}
        ### BEGIN SOLUTION 10.5
        while self.vocab_size < vocab_size:
            counts = {}
            for word, frequency in words.items():
                count_pairs(word, frequency, counts)
            if not counts:
                break
            best = min(counts, key=lambda pair: (-counts[pair], pair))
            new_id = self.add_merge(best)
            words = {tuple(merge_pair(word, best, new_id)): n for word, n in words.items()}
        ### END SOLUTION
        return self


# %% [markdown]
# ### Encoding and decoding (10.6)
#
# Encoding replays the learned merges on new text, earliest-learned first; decoding
# joins the bytes of each piece and turns them back into text. Written as a part of
# `BPETokenizer` so it gets its own cell (see Module 01 for `@part_of`).


# %%
@part_of(BPETokenizer)
class BPEEncoding:
    """10.6: encode and decode with the learned merges."""

    def encode(self, text: str, add_bos: bool = False, add_eos: bool = False) -> list[int]:
        """Ids of `text`: each chunk as byte ids, then, repeatedly, the pair present with the
        earliest-learned merge (smallest new id) is merged, until no learned pair is left.
        decode(encode(t)) == t for every string t. Cost: O(chunk length²) per chunk."""
        ### BEGIN SOLUTION 10.6
        ids = []
        for chunk in split_chunks(text):
            tokens = [BYTE_OFFSET + b for b in chunk.encode("utf-8")]
            while len(tokens) > 1:
                candidates = [pair for pair in pairwise(tokens) if pair in self.merges]
                if not candidates:
                    break
                pair = min(candidates, key=self.merges.__getitem__)
                tokens = merge_pair(tokens, pair, self.merges[pair])
            ids.extend(tokens)
        ### END SOLUTION
        return with_special_tokens(ids, add_bos, add_eos)

    def decode(self, ids: Iterable[int]) -> str:
        """Join the bytes of every id and read them as UTF-8 (a broken byte sequence becomes
        UNKNOWN_TEXT); <pad>, <bos>, <eos> left out, <unk> written as UNKNOWN_TEXT."""
        ids = check_ids(ids, self.vocab_size)
        ### BEGIN SOLUTION 10.6
        unknown = UNKNOWN_TEXT.encode("utf-8")
        data = b"".join(
            unknown if i == UNK_ID else self.pieces[i]
            for i in ids
            if i not in (PAD_ID, BOS_ID, EOS_ID)
        )
        return data.decode("utf-8", errors="replace")
        ### END SOLUTION

    def __repr__(self) -> str:
        return f"BPETokenizer(vocab_size={self.vocab_size}, merges={len(self.merges)})"


# %% [markdown]
# ## Measuring the trade-off
#
# For each vocabulary size, train a fresh tokenizer on `train_texts`, encode every
# text of `eval_texts` and record:
#
# - `vocab_size`: the size actually reached (training stops early if nothing is
#   left to merge),
# - `tokens_per_text`: total tokens / number of texts — the sequence length a model
#   would see,
# - `bytes_per_token`: total UTF-8 bytes / total tokens — how much text one token
#   carries (1.0 means no compression at all).
#
# Evaluate on texts the tokenizer was *not* trained on: a vocabulary that fits its
# training corpus too closely compresses that corpus better than anything else.


# %%
@dataclass(frozen=True)
class TradeoffRow:
    vocab_size: int
    tokens_per_text: float
    bytes_per_token: float


def vocabulary_tradeoff(
    train_texts: Sequence[str],
    eval_texts: Sequence[str],
    vocab_sizes: Iterable[int],
    make_tokenizer: Callable = BPETokenizer,
) -> list[TradeoffRow]:
    """One TradeoffRow per requested size, in the order given.

    make_tokenizer() must return an object with .train(texts, vocab_size) (returning the
    trained tokenizer), .encode(text) and .vocab_size. Encodes without <bos>/<eos>.
    """
    eval_texts = as_texts(eval_texts)
    if not eval_texts:
        raise ValueError("eval_texts must hold at least one text")
    ### BEGIN SOLUTION 10.7
    total_bytes = sum(len(text.encode("utf-8")) for text in eval_texts)
    rows = []
    for size in vocab_sizes:
        tokenizer = make_tokenizer().train(train_texts, size)
        tokens = sum(len(tokenizer.encode(text)) for text in eval_texts)
        rows.append(
            TradeoffRow(tokenizer.vocab_size, tokens / len(eval_texts), total_bytes / tokens)
        )
    return rows
    ### END SOLUTION


# %% [markdown]
# ## Try it
#
# Run `python modules/10_tokenization/tokenization.py`: it trains BPE on a small
# built-in corpus at four vocabulary sizes and prints tokens per text and bytes per
# token for held-out sentences, next to the character tokenizer.

# %%
DEMO_CORPUS = [
    "What is seven plus five? Seven plus five is twelve.",
    "The capital of France is Paris. The capital of Spain is Madrid.",
    "A dog says woof. A cat says meow. A cow says moo.",
    "The day after Monday is Tuesday. The month after May is June.",
    "How do you spell lower? The word lower is spelled l-o-w-e-r.",
    "The opposite of hot is cold, and the opposite of fast is slow.",
]

if __name__ == "__main__":
    train, held_out = DEMO_CORPUS[:-2] * 5, DEMO_CORPUS[-2:]
    characters = CharTokenizer().train(train)
    char_tokens = sum(len(characters.encode(text)) for text in held_out) / len(held_out)
    print(f"characters: vocabulary {characters.vocab_size:4d}, {char_tokens:6.1f} tokens/text")
    for row in vocabulary_tradeoff(train, held_out, [260, 280, 300, 330]):
        print(
            f"BPE:        vocabulary {row.vocab_size:4d}, {row.tokens_per_text:6.1f} tokens/text, "
            f"{row.bytes_per_token:.2f} bytes/token"
        )
    bpe = BPETokenizer().train(train, vocab_size=350)
    ids = bpe.encode("The capital of Spain is Paris?", add_bos=True, add_eos=True)
    print(ids, "→", repr(bpe.decode(ids)))
    print("pieces:", [bpe.pieces[i].decode("utf-8", "replace") for i in ids[1:-1]])
