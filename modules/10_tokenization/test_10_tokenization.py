"""Graded tests for Module 10 (Tokenization). Each test carries the exercise id it grades;
points come from module.yaml, split evenly over that exercise's tests.

Byte ids are 4 + the byte value: "a" (97) is 101, " " (32) is 36. The encode/decode tests
(10.6) build merges by hand with the given `add_merge`, so they do not depend on your
training (10.5); training itself uses your count_pairs (10.3) and merge_pair (10.4).
The trade-off tests (10.7) use a stand-in tokenizer so that only the measuring is graded.
"""

import numpy as np
import pytest

from tinytorch.core import Tensor
from tinytorch.text import (
    BOS_ID,
    EOS_ID,
    PAD_ID,
    UNK_ID,
    BPETokenizer,
    CharTokenizer,
    TradeoffRow,
    count_pairs,
    merge_pair,
    pad_batch,
    vocabulary_tradeoff,
)

exercise = pytest.mark.exercise
REPLACEMENT = "\ufffd"


def byte_id(character: str) -> int:
    (value,) = character.encode("utf-8")
    return 4 + value


# ---- 10.1 CharTokenizer ----------------------------------------------------------
@exercise("10.1")
def test_10_1_vocabulary_is_special_tokens_then_sorted_characters():
    tokenizer = CharTokenizer()
    assert tokenizer.train(["hello", "help"]) is tokenizer, "train returns self"
    assert tokenizer.vocab_size == 9, (
        f"4 special tokens + 5 distinct characters (e h l o p) = 9, got {tokenizer.vocab_size}"
    )
    assert tokenizer.encode("ehlop") == [4, 5, 6, 7, 8], "characters follow ids 0-3, sorted"
    shuffled = CharTokenizer().train(["pleh", "olleh"])
    assert shuffled.encode("hello") == tokenizer.encode("hello"), (
        "the same characters must get the same ids whatever the corpus order"
    )
    tokenizer.train("ba")
    assert tokenizer.vocab_size == 6 and tokenizer.encode("ab") == [4, 5], (
        "training again replaces the vocabulary"
    )


@exercise("10.1")
def test_10_1_round_trip_unknown_characters_and_special_tokens():
    corpus = ["Hello, world!", "naïve café", "tabs\tand\nnew lines"]
    tokenizer = CharTokenizer().train(corpus)
    for text in corpus + ["world, Hello"]:
        assert tokenizer.decode(tokenizer.encode(text)) == text, f"round trip failed for {text!r}"
    ids = tokenizer.encode("Hz!", add_bos=True, add_eos=True)
    assert ids[0] == BOS_ID and ids[-1] == EOS_ID and ids[2] == UNK_ID, (
        f"'z' was never seen, so it is <unk> (3); got {ids}"
    )
    assert tokenizer.decode(ids) == f"H{REPLACEMENT}!", (
        "decode leaves out <bos>/<eos> and writes <unk> as U+FFFD"
    )
    padded = tokenizer.decode([PAD_ID, *tokenizer.encode("old"), PAD_ID])
    assert padded == "old", f"<pad> ids are left out when decoding: expected 'old', got {padded!r}"


# ---- 10.2 pad_batch ----------------------------------------------------------------
@exercise("10.2")
def test_10_2_pads_every_row_to_the_longest():
    batch = pad_batch([[1, 7, 8, 2], [1, 9, 2]])
    assert isinstance(batch, Tensor) and batch.shape == (2, 4), (
        f"two rows, the longest has 4 ids: shape (2, 4), got {getattr(batch, 'shape', batch)}"
    )
    assert batch.dtype == np.float32, f"ids are stored as float32, got {batch.dtype}"
    np.testing.assert_array_equal(
        batch.data, [[1, 7, 8, 2], [1, 9, 2, PAD_ID]], "the short row is filled at the end with 0"
    )


@exercise("10.2")
def test_10_2_fixed_length_cuts_long_rows_and_uses_the_pad_id():
    rows = [[1, 7, 8, 2], [1, 9, 2], []]
    np.testing.assert_array_equal(
        pad_batch(rows, length=3, pad_id=9).data,
        [[1, 7, 8], [1, 9, 2], [9, 9, 9]],
        "length=3, pad_id=9: keep the first 3 ids of long rows, fill short ones with 9",
    )
    wide = pad_batch(rows, length=6)
    assert wide.shape == (3, 6), f"3 rows padded to length 6: (3, 6), got {wide.shape}"
    np.testing.assert_array_equal(
        wide.data[1], [1, 9, 2, 0, 0, 0], "[1, 9, 2] padded to 6 with <pad> (0) at the end"
    )


# ---- 10.3 count_pairs ----------------------------------------------------------------
@exercise("10.3")
def test_10_3_counts_every_adjacent_pair_including_overlaps():
    counts = count_pairs([1, 2, 3, 1, 2])
    assert counts == {(1, 2): 2, (2, 3): 1, (3, 1): 1}, f"pairs of [1, 2, 3, 1, 2], got {counts}"
    assert count_pairs([5, 5, 5]) == {(5, 5): 2}, "[5, 5, 5] holds (5, 5) twice"
    assert count_pairs([7]) == {} and count_pairs([]) == {}, "fewer than 2 ids have no pairs"


@exercise("10.3")
def test_10_3_weights_add_into_one_dict():
    counts = {}
    returned = count_pairs([1, 2], 3, counts)
    assert returned is counts, "update the dict you were given and return it"
    count_pairs([1, 2, 1], weight=2, counts=counts)
    assert counts == {(1, 2): 5, (2, 1): 2}, f"3 + 2 for (1, 2), 2 for (2, 1); got {counts}"


# ---- 10.4 merge_pair -------------------------------------------------------------------
@exercise("10.4")
def test_10_4_replaces_every_occurrence_in_a_new_list():
    ids = [1, 2, 3, 1, 2]
    merged = merge_pair(ids, (1, 2), 99)
    assert merged == [99, 3, 99], f"merging (1, 2) → 99 in {ids}: [99, 3, 99], got {merged}"
    assert ids == [1, 2, 3, 1, 2], "the input list must not change"
    assert merge_pair([3, 1, 3], (1, 2), 99) == [3, 1, 3], "no occurrence: same ids"
    assert merge_pair([4, 1, 2], (1, 2), 99) == [4, 99], "a pair at the very end"


@exercise("10.4")
def test_10_4_scans_left_to_right_without_overlaps():
    for ids, expected in (([5, 5, 5], [9, 5]), ([5, 5, 5, 5], [9, 9]), ([5], [5]), ([], [])):
        merged = merge_pair(ids, (5, 5), 9)
        assert merged == expected, f"merging (5, 5) → 9 in {ids}: {expected}, got {merged}"


# ---- 10.5 BPE training -------------------------------------------------------------------
@exercise("10.5")
def test_10_5_merges_the_most_frequent_pair_first_ties_to_the_smaller_pair():
    tokenizer = BPETokenizer().train(["low lower lowest"] * 10, vocab_size=263)
    el, o, w, space = byte_id("l"), byte_id("o"), byte_id("w"), byte_id(" ")
    # (l, o) and (o, w) both occur 30 times: the smaller pair (l, o) wins the tie.
    # Then (lo, w) occurs 30 times; then (" ", low) and (low, e) 20 times each: a tie again.
    assert tokenizer.merges == {(el, o): 260, (260, w): 261, (space, 261): 262}, (
        f"got merges {tokenizer.merges}"
    )
    assert tokenizer.vocab_size == 263 and tokenizer.pieces[262] == b" low", (
        f"3 merges: vocab_size 263 and piece 262 = b' low', got {tokenizer.vocab_size} and "
        f"{tokenizer.pieces.get(262)!r}"
    )


@exercise("10.5")
def test_10_5_counts_a_repeated_chunk_as_often_as_it_occurs():
    tokenizer = BPETokenizer().train("xy xy xy xy pq pr ps", vocab_size=261)
    x, y, space, p = byte_id("x"), byte_id("y"), byte_id(" "), byte_id("p")
    # chunks: "xy" once, " xy" three times, " pq", " pr", " ps" once each.
    # (x, y) occurs 1 + 3 = 4 times; (" ", p) 3 times, but in three distinct chunks.
    assert tokenizer.merges == {(x, y): 260}, (
        f"(x, y) occurs 4 times in the corpus and (' ', p) 3 times, so (x, y) = ({x}, {y}) "
        f"is merged first; got merges {tokenizer.merges} (the pair ({space}, {p}) is ' p'). "
        f"Weight each distinct chunk's pairs by how often the chunk occurs"
    )


@exercise("10.5")
def test_10_5_stops_when_nothing_is_left_and_forgets_earlier_merges():
    tokenizer = BPETokenizer().train("aaa", vocab_size=1000)
    a = byte_id("a")
    assert tokenizer.merges == {(a, a): 260, (260, a): 261}, (
        "'aaa' → [aa, a] → [aaa]: after two merges no pair is left, so training stops"
    )
    tokenizer.train("ab ab", vocab_size=261)
    assert tokenizer.merges == {(a, byte_id("b")): 260}, "train starts from scratch"
    with pytest.raises(ValueError):
        tokenizer.train("ab", vocab_size=100)


@exercise("10.5")
def test_10_5_never_merges_across_chunks():
    tokenizer = BPETokenizer().train(["a.a. a.a; b,b"] * 3, vocab_size=300)
    for new_id in tokenizer.merges.values():
        text = tokenizer.pieces[new_id].decode("utf-8")
        letters = any(ch.isalnum() for ch in text)
        marks = any(ch in ".;," for ch in text)
        assert not (letters and marks), f"{text!r} glues a word to punctuation"
    assert tokenizer.vocab_size > 260, "there were pairs to merge, e.g. ' a' and '. '"


# ---- 10.6 BPE encode / decode ----------------------------------------------------------
def hand_made_low() -> BPETokenizer:
    tokenizer = BPETokenizer()
    tokenizer.add_merge((byte_id("l"), byte_id("o")))  # 260 "lo"
    tokenizer.add_merge((260, byte_id("w")))  # 261 "low"
    tokenizer.add_merge((byte_id(" "), 261))  # 262 " low"
    return tokenizer


@exercise("10.6")
def test_10_6_applies_merges_in_the_order_learned():
    tokenizer = hand_made_low()
    e, s, t = byte_id("e"), byte_id("s"), byte_id("t")
    for text, expected in ((" lowest", [262, e, s, t]), ("lowlow", [261, 261])):
        ids = tokenizer.encode(text)
        assert ids == expected, f"with merges lo, low, ' low': {text!r} → {expected}, got {ids}"
    ordered = BPETokenizer()
    b_c = ordered.add_merge((byte_id("b"), byte_id("c")))  # learned first
    ordered.add_merge((byte_id("a"), byte_id("b")))  # learned second
    assert ordered.encode("abc") == [byte_id("a"), b_c], (
        "(b, c) was learned before (a, b), so it is merged first even though (a, b) comes "
        "first in the text"
    )


@exercise("10.6")
def test_10_6_round_trips_any_text_and_handles_special_tokens():
    tokenizer = hand_made_low()
    for text in ["", "slow lower", "naïve café ☕", "tabs\tand\nnewlines  ", "12+30=42"]:
        ids = tokenizer.encode(text)
        assert tokenizer.decode(ids) == text, f"round trip failed for {text!r}: ids {ids}"
    ids = tokenizer.encode("low", add_bos=True, add_eos=True)
    assert ids == [BOS_ID, 261, EOS_ID], f"'low' with <bos>, <eos>: [1, 261, 2], got {ids}"
    decoded = tokenizer.decode([PAD_ID, *ids, UNK_ID])
    assert decoded == "low" + REPLACEMENT, (
        f"<pad>, <bos>, <eos> are left out and <unk> is U+FFFD: expected 'low\\ufffd', got "
        f"{decoded!r}"
    )
    first_byte_of_e_acute = 4 + "é".encode()[0]
    assert tokenizer.decode([first_byte_of_e_acute]) == REPLACEMENT, "broken UTF-8 → U+FFFD"


@exercise("10.6")
def test_10_6_merges_apply_inside_chunks_only():
    tokenizer = BPETokenizer()
    glued = tokenizer.add_merge((byte_id("a"), byte_id(".")))
    assert tokenizer.encode("a.") == [byte_id("a"), byte_id(".")], (
        "'a' and '.' are different chunks: split with split_chunks and encode chunk by chunk"
    )
    assert glued not in tokenizer.encode("a. a."), "no merge may cross a chunk boundary"


# ---- 10.7 vocabulary size against sequence length ------------------------------------------
class StandIn:
    """Pretends to tokenize: one token per `vocab_size // 100` bytes; reaches one entry less
    than asked, so the test sees which size is reported."""

    made = []

    def __init__(self):
        StandIn.made.append(self)

    def train(self, texts, vocab_size):
        self.texts, self.vocab_size, self.bytes_per_token = texts, vocab_size - 1, vocab_size // 100
        return self

    def encode(self, text):
        return [0] * (len(text.encode("utf-8")) // self.bytes_per_token)


@exercise("10.7")
def test_10_7_reports_tokens_per_text_and_bytes_per_token():
    StandIn.made.clear()
    train = ["anything"]
    rows = vocabulary_tradeoff(train, ["abcdefgh", "éé"], [100, 200, 400], make_tokenizer=StandIn)
    assert len(StandIn.made) == 3, "train a fresh tokenizer for every vocabulary size"
    assert all(made.texts == train for made in StandIn.made), "train on train_texts"
    assert all(isinstance(row, TradeoffRow) for row in rows), f"one TradeoffRow per size: {rows}"
    # 12 UTF-8 bytes in 2 texts ("é" is 2 bytes): 12, 6 and 2 + 1 = 3 tokens.
    assert [row.vocab_size for row in rows] == [99, 199, 399], "report the size reached"
    per_text = [row.tokens_per_text for row in rows]
    assert per_text == pytest.approx([6.0, 3.0, 1.5]), (
        f"12, 6 and 3 tokens over 2 texts: 6.0, 3.0, 1.5 tokens per text, got {per_text}"
    )
    assert [row.bytes_per_token for row in rows] == pytest.approx([1.0, 2.0, 4.0]), (
        "bytes per token counts UTF-8 bytes, not characters"
    )


@exercise("10.7")
def test_10_7_keeps_the_order_of_the_sizes_given():
    rows = vocabulary_tradeoff(["x"], ["abcd"] * 3, [400, 100], make_tokenizer=StandIn)
    sizes, per_text = [row.vocab_size for row in rows], [row.tokens_per_text for row in rows]
    assert sizes == [399, 99], f"rows in the order asked (400, then 100): sizes {sizes}"
    assert per_text == pytest.approx([1.0, 4.0]), (
        f"4 bytes per text: 1 and 4 tokens, got {per_text}"
    )


# ---- within the module, not graded ------------------------------------------------------------
@pytest.mark.integration
def test_integration_bigger_vocabulary_gives_shorter_sequences():
    """The trade-off with the real BPE: more merges, fewer tokens per held-out text."""
    corpus = [
        f"The {animal} says {sound}. What does the {animal} say?"
        for animal, sound in [("dog", "woof"), ("cat", "meow"), ("cow", "moo"), ("owl", "hoot")]
    ] * 5
    held_out = ["What does the duck say? The duck says quack.", "The dog and the cat say hi."]
    rows = vocabulary_tradeoff(corpus, held_out, [260, 280, 300, 330])
    lengths = [row.tokens_per_text for row in rows]
    assert lengths[0] == sum(len(t.encode()) for t in held_out) / 2, "260: one token per byte"
    assert lengths == sorted(lengths, reverse=True), f"more merges, never longer: {lengths}"
    assert lengths[-1] < 0.6 * lengths[0], f"330 entries should save at least 40 %: {lengths}"
    assert rows[0].bytes_per_token == pytest.approx(1.0) and rows[-1].bytes_per_token > 1.5
    characters = CharTokenizer().train(corpus)
    assert characters.vocab_size < 260 and len(characters.encode(held_out[1])) > lengths[-1]
