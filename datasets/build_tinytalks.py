"""Build TinyTalks: synthetic conversational question–answer pairs, templates × entities.

    python -m datasets.build_tinytalks          # rewrite tinytalks.jsonl + the datasheet figures
    python -m datasets.build_tinytalks --check  # exit 1 if the files differ from a rebuild

Each category pairs a few question templates with a list of entities (numbers, words,
countries, animals ...); every template is filled with every entity and the answer is
derived from the entity, so it can be checked (`7 plus 5 is 12.`).

Split policy (the datasheet states it with the true counts):
- test: the LAST template of every category is held out, and so are the entities with the
  smallest sha256 of their key (HELDOUT_FRACTION of each category's entities). Every pair
  that uses a held-out template or a held-out entity is a test pair, so a test question is
  new in wording or in content: memorising the training pairs is not enough.
- validation: about VALIDATION_PERCENT % of the remaining pairs, chosen by sha256 of
  (category, entity, template) — same templates and entities as training.
- train: the rest.

Determinism: there is no random number generator. Choices are made by sha256 of stable
keys and every list is written in a fixed order, so the same script writes the same bytes
on every machine and Python version (the tests rebuild and compare byte for byte).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT_DIR = HERE / "tinytalks"
DATA_NAME = "tinytalks.jsonl"
DATASHEET_NAME = "DATASHEET.md"
BEGIN_FIGURES = "<!-- BEGIN GENERATED FIGURES: python -m datasets.build_tinytalks -->"
END_FIGURES = "<!-- END GENERATED FIGURES -->"

HELDOUT_FRACTION = 0.10
VALIDATION_PERCENT = 10
SPLITS = ("train", "validation", "test")
# A word of the vocabulary: a run of letters/digits, or one punctuation mark (lower-cased).
WORD = re.compile(r"\w+|[^\w\s]")


@dataclass(frozen=True)
class Entity:
    """One thing a category asks about: a unique `key` and the values of its slots."""

    key: str
    slots: tuple[tuple[str, str], ...]

    @classmethod
    def of(cls, key: str, **slots) -> Entity:
        return cls(key, tuple((name, str(value)) for name, value in slots.items()))


@dataclass(frozen=True)
class Category:
    """Question templates × entities; every template shares the one answer pattern.
    The last template is held out for the test split."""

    name: str
    templates: tuple[str, ...]
    answer: str
    entities: tuple[Entity, ...]


def _capitalise(text: str) -> str:
    return text[:1].upper() + text[1:]


def _article(noun: str) -> str:
    return f"an {noun}" if noun[0] in "aeiou" else f"a {noun}"


# ---- the fact tables ------------------------------------------------------------
NAMES = (
    "Ada Amir Ana Bea Ben Carlos Cleo Dara Dev Eli Ema Fatima Finn Gia Hana Hugo Ines Ivan "
    "Jade Kai Kira Kofi Lena Leo Luca Maya Mei Milo Nico Noah Nora Omar Priya Quinn Ravi "
    "Rosa Sven Tara Yusuf Zoe"
).split()

DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
MONTHS = (
    "January February March April May June July August September October November December"
).split()

FAREWELL_TIMES = (
    "tomorrow",
    "later",
    "soon",
    "tonight",
    "next week",
    "next month",
    "next year",
    "in the morning",
    "after lunch",
    "at the weekend",
    "on Monday",
    "on Friday",
    "at school",
    "at work",
    "in class",
    "at the party",
)

COLOURS = (
    ("the sky", "blue"),
    ("the sea", "blue"),
    ("a blueberry", "blue"),
    ("grass", "green"),
    ("a lime", "green"),
    ("a pea", "green"),
    ("a frog", "green"),
    ("a pine tree", "green"),
    ("snow", "white"),
    ("milk", "white"),
    ("salt", "white"),
    ("a cloud", "white"),
    ("a polar bear", "white"),
    ("a banana", "yellow"),
    ("a lemon", "yellow"),
    ("the sun", "yellow"),
    ("a school bus", "yellow"),
    ("a tomato", "red"),
    ("a cherry", "red"),
    ("a strawberry", "red"),
    ("a fire truck", "red"),
    ("coal", "black"),
    ("a crow", "black"),
    ("charcoal", "black"),
    ("a carrot", "orange"),
    ("a pumpkin", "orange"),
    ("an orange", "orange"),
    ("chocolate", "brown"),
    ("soil", "brown"),
    ("a coconut", "brown"),
    ("an eggplant", "purple"),
    ("a plum", "purple"),
    ("a flamingo", "pink"),
    ("an elephant", "grey"),
    ("a rain cloud", "grey"),
    ("a zebra", "black and white"),
    ("a panda", "black and white"),
    ("a penguin", "black and white"),
)

CAPITALS = (
    ("France", "Paris"),
    ("Spain", "Madrid"),
    ("Italy", "Rome"),
    ("Germany", "Berlin"),
    ("Portugal", "Lisbon"),
    ("Ireland", "Dublin"),
    ("Norway", "Oslo"),
    ("Sweden", "Stockholm"),
    ("Finland", "Helsinki"),
    ("Denmark", "Copenhagen"),
    ("Poland", "Warsaw"),
    ("Austria", "Vienna"),
    ("Hungary", "Budapest"),
    ("Greece", "Athens"),
    ("Belgium", "Brussels"),
    ("Iceland", "Reykjavik"),
    ("Egypt", "Cairo"),
    ("Kenya", "Nairobi"),
    ("Ghana", "Accra"),
    ("Morocco", "Rabat"),
    ("Nigeria", "Abuja"),
    ("Japan", "Tokyo"),
    ("China", "Beijing"),
    ("India", "New Delhi"),
    ("Thailand", "Bangkok"),
    ("Vietnam", "Hanoi"),
    ("South Korea", "Seoul"),
    ("Turkey", "Ankara"),
    ("Peru", "Lima"),
    ("Chile", "Santiago"),
    ("Argentina", "Buenos Aires"),
    ("Colombia", "Bogota"),
    ("Mexico", "Mexico City"),
    ("Canada", "Ottawa"),
    ("Cuba", "Havana"),
    ("Australia", "Canberra"),
    ("New Zealand", "Wellington"),
)

ANIMAL_SOUNDS = (
    ("dog", "woof"),
    ("cat", "meow"),
    ("cow", "moo"),
    ("duck", "quack"),
    ("sheep", "baa"),
    ("pig", "oink"),
    ("horse", "neigh"),
    ("lion", "roar"),
    ("owl", "hoot"),
    ("frog", "ribbit"),
    ("snake", "hiss"),
    ("bee", "buzz"),
    ("mouse", "squeak"),
    ("rooster", "cock-a-doodle-doo"),
    ("donkey", "hee-haw"),
    ("crow", "caw"),
    ("dove", "coo"),
    ("chick", "cheep"),
    ("turkey", "gobble"),
    ("goat", "maa"),
    ("hen", "cluck"),
    ("goose", "honk"),
    ("cuckoo", "cuckoo"),
    ("wolf", "awoo"),
)

WORDS = (
    "cat dog sun moon tree fish bird book ball cake milk rain snow star frog duck lamp door "
    "chair table apple grape lemon house river cloud green happy water bread plant horse "
    "mouse tiger zebra pencil window garden orange purple yellow summer winter spring "
    "autumn banana rabbit turtle rocket planet island castle dragon jungle pirate puzzle "
    "number letter animal"
).split()

OPPOSITES = (
    ("hot", "cold"),
    ("big", "small"),
    ("up", "down"),
    ("fast", "slow"),
    ("happy", "sad"),
    ("light", "dark"),
    ("open", "closed"),
    ("early", "late"),
    ("full", "empty"),
    ("hard", "soft"),
    ("high", "low"),
    ("long", "short"),
    ("loud", "quiet"),
    ("old", "new"),
    ("rich", "poor"),
    ("strong", "weak"),
    ("thick", "thin"),
    ("wet", "dry"),
    ("in", "out"),
    ("left", "right"),
    ("push", "pull"),
    ("win", "lose"),
    ("day", "night"),
    ("buy", "sell"),
    ("clean", "dirty"),
    ("first", "last"),
    ("near", "far"),
    ("sweet", "sour"),
    ("true", "false"),
    ("yes", "no"),
    ("above", "below"),
    ("inside", "outside"),
    ("begin", "end"),
    ("cheap", "expensive"),
    ("always", "never"),
    ("awake", "asleep"),
    ("give", "take"),
    ("north", "south"),
    ("east", "west"),
    ("top", "bottom"),
    ("wide", "narrow"),
    ("summer", "winter"),
)

PLURALS = (
    ("cat", "cats"),
    ("dog", "dogs"),
    ("book", "books"),
    ("apple", "apples"),
    ("house", "houses"),
    ("toy", "toys"),
    ("day", "days"),
    ("key", "keys"),
    ("box", "boxes"),
    ("bus", "buses"),
    ("fox", "foxes"),
    ("glass", "glasses"),
    ("church", "churches"),
    ("dish", "dishes"),
    ("watch", "watches"),
    ("baby", "babies"),
    ("city", "cities"),
    ("party", "parties"),
    ("story", "stories"),
    ("tomato", "tomatoes"),
    ("potato", "potatoes"),
    ("hero", "heroes"),
    ("leaf", "leaves"),
    ("knife", "knives"),
    ("wolf", "wolves"),
    ("half", "halves"),
    ("life", "lives"),
    ("child", "children"),
    ("mouse", "mice"),
    ("foot", "feet"),
    ("tooth", "teeth"),
    ("man", "men"),
    ("woman", "women"),
    ("person", "people"),
    ("goose", "geese"),
    ("ox", "oxen"),
    ("cactus", "cacti"),
    ("sheep", "sheep"),
    ("fish", "fish"),
    ("deer", "deer"),
)


# ---- the categories ---------------------------------------------------------------
def _sequence_entities() -> tuple[Entity, ...]:
    """Each day and month with the one after and the one before it (the order wraps)."""
    entities = []
    for kind, names in (("day", DAYS), ("month", MONTHS)):
        for i, item in enumerate(names):
            for relation, step in (("after", 1), ("before", -1)):
                key = f"{kind} {relation} {item}"
                answer = names[(i + step) % len(names)]
                entities.append(Entity.of(key, kind=kind, rel=relation, item=item, answer=answer))
    return tuple(entities)


def _comparison_entities(largest: int) -> tuple[Entity, ...]:
    """Unordered pairs a < b ≤ largest; which number is asked first is chosen by sha256."""
    entities = []
    for small in range(1, largest + 1):
        for big in range(small + 1, largest + 1):
            first, second = (small, big) if _digest(f"order {small} {big}")[0] % 2 else (big, small)
            entities.append(
                Entity.of(f"{first} vs {second}", a=first, b=second, big=big, small=small)
            )
    return tuple(entities)


def categories() -> tuple[Category, ...]:
    """Every category, in the order they are written to the file."""
    return (
        Category(
            "greeting",
            (
                "Hello, I am {name}.",
                "Hi! My name is {name}.",
                "Hey there, I'm {name}.",
                "Good morning, my name is {name}.",
                "Greetings! People call me {name}.",
            ),
            "Nice to meet you, {name}!",
            tuple(Entity.of(name, name=name) for name in NAMES),
        ),
        Category(
            "farewell",
            (
                "Goodbye, see you {when}.",
                "Bye! Talk to you {when}.",
                "I have to go now. See you {when}!",
                "See you {when}, bye!",
                "Farewell until {when}.",
            ),
            "Goodbye! See you {when}.",
            tuple(Entity.of(when, when=when) for when in FAREWELL_TIMES),
        ),
        Category(
            "addition",
            (
                "What is {a} plus {b}?",
                "How much is {a} + {b}?",
                "Add {a} and {b}.",
                "What is the sum of {a} and {b}?",
                "If you have {a} and get {b} more, how many do you have?",
            ),
            "{a} plus {b} is {c}.",
            tuple(
                Entity.of(f"{a}+{b}", a=a, b=b, c=a + b) for a in range(1, 9) for b in range(1, 9)
            ),
        ),
        Category(
            "subtraction",
            (
                "What is {a} minus {b}?",
                "How much is {a} - {b}?",
                "Subtract {b} from {a}.",
                "What is {a} take away {b}?",
                "If you have {a} and give away {b}, how many are left?",
            ),
            "{a} minus {b} is {c}.",
            tuple(
                Entity.of(f"{a}-{b}", a=a, b=b, c=a - b) for a in range(2, 12) for b in range(1, a)
            ),
        ),
        Category(
            "multiplication",
            (
                "What is {a} times {b}?",
                "How much is {a} x {b}?",
                "Multiply {a} by {b}.",
                "What is {a} multiplied by {b}?",
                "What is the product of {a} and {b}?",
            ),
            "{a} times {b} is {c}.",
            tuple(
                Entity.of(f"{a}x{b}", a=a, b=b, c=a * b) for a in range(2, 9) for b in range(2, 9)
            ),
        ),
        Category(
            "comparison",
            (
                "Which is bigger, {a} or {b}?",
                "Which number is larger: {a} or {b}?",
                "Is {a} or {b} the bigger number?",
                "What is the larger of {a} and {b}?",
                "Of {a} and {b}, which one is greater?",
            ),
            "{big} is bigger than {small}.",
            _comparison_entities(largest=10),
        ),
        Category(
            "counting",
            (
                "What number comes after {n}?",
                "What is the next number after {n}?",
                "Count one up from {n}.",
                "What do you get if you add one to {n}?",
                "Which number follows {n}?",
            ),
            "After {n} comes {m}.",
            tuple(Entity.of(str(n), n=n, m=n + 1) for n in range(0, 40)),
        ),
        Category(
            "colour",
            (
                "What colour is {thing}?",
                "What is the colour of {thing}?",
                "Tell me the colour of {thing}.",
                "Do you know what colour {thing} is?",
                "Which colour does {thing} have?",
            ),
            "{Thing} is {colour}.",
            tuple(
                Entity.of(thing, thing=thing, Thing=_capitalise(thing), colour=colour)
                for thing, colour in COLOURS
            ),
        ),
        Category(
            "capital",
            (
                "What is the capital of {country}?",
                "Which city is the capital of {country}?",
                "Name the capital of {country}.",
                "Tell me the capital city of {country}.",
                "What city is the capital of {country}?",
            ),
            "The capital of {country} is {capital}.",
            tuple(Entity.of(c, country=c, capital=capital) for c, capital in CAPITALS),
        ),
        Category(
            "animal_sound",
            (
                "What sound does {an_animal} make?",
                "What does {an_animal} say?",
                "How does {an_animal} sound?",
                "What noise does {an_animal} make?",
                "Which sound comes from {an_animal}?",
            ),
            "{An_animal} says {sound}.",
            tuple(
                Entity.of(
                    animal,
                    an_animal=_article(animal),
                    An_animal=_capitalise(_article(animal)),
                    sound=sound,
                )
                for animal, sound in ANIMAL_SOUNDS
            ),
        ),
        Category(
            "sequence",
            (
                "What {kind} comes {rel} {item}?",
                "Which {kind} is {rel} {item}?",
                "Name the {kind} that comes {rel} {item}.",
                "Tell me the {kind} {rel} {item}.",
                "Which {kind} is just {rel} {item}?",
            ),
            "The {kind} {rel} {item} is {answer}.",
            _sequence_entities(),
        ),
        Category(
            "spelling",
            (
                "How do you spell {word}?",
                "Spell the word {word}.",
                "Can you spell {word}?",
                "How is {word} spelled?",
                "Please spell {word} for me.",
            ),
            "The word {word} is spelled {letters}.",
            tuple(Entity.of(w, word=w, letters="-".join(w)) for w in WORDS),
        ),
        Category(
            "letter_count",
            (
                "How many letters are in {word}?",
                "How many letters does {word} have?",
                "Count the letters in {word}.",
                "How long is the word {word}?",
                "What is the number of letters in {word}?",
            ),
            "The word {word} has {n} letters.",
            tuple(Entity.of(w, word=w, n=len(w)) for w in WORDS),
        ),
        Category(
            "opposite",
            (
                "What is the opposite of {word}?",
                "Give me the opposite of {word}.",
                "What word means the opposite of {word}?",
                "Tell me the opposite of {word}.",
                "What is the reverse of {word}?",
            ),
            "The opposite of {word} is {opposite}.",
            tuple(Entity.of(w, word=w, opposite=o) for w, o in OPPOSITES),
        ),
        Category(
            "plural",
            (
                "What is the plural of {word}?",
                "Give me the plural of {word}.",
                "What do you call more than one {word}?",
                "Tell me the plural of {word}.",
                "What is the plural form of {word}?",
            ),
            "The plural of {word} is {plural}.",
            tuple(Entity.of(w, word=w, plural=p) for w, p in PLURALS),
        ),
    )


# ---- splitting ----------------------------------------------------------------------
def _digest(text: str) -> bytes:
    return hashlib.sha256(text.encode("utf-8")).digest()


def heldout_entities(category: Category) -> tuple[str, ...]:
    """Keys of the held-out entities: the HELDOUT_FRACTION (at least one) with the smallest
    sha256 of their key. Categories that share entities (spelling, letter_count) therefore
    hold out the same words."""
    count = max(1, round(HELDOUT_FRACTION * len(category.entities)))
    ranked = sorted(category.entities, key=lambda entity: _digest(f"heldout {entity.key}"))
    chosen = {entity.key for entity in ranked[:count]}
    return tuple(entity.key for entity in category.entities if entity.key in chosen)


def heldout_template(category: Category) -> int:
    """Index of the held-out template: always the last one."""
    return len(category.templates) - 1


def split_of(category: Category, entity: Entity, template: int, heldout: set[str]) -> str:
    if template == heldout_template(category) or entity.key in heldout:
        return "test"
    bucket = int.from_bytes(_digest(f"{category.name}|{entity.key}|{template}")[:4], "big")
    return "validation" if bucket % 100 < VALIDATION_PERCENT else "train"


def build_records() -> list[dict]:
    """Every pair in file order: category, then entity, then template."""
    records = []
    for category in categories():
        keys = [entity.key for entity in category.entities]
        if len(set(keys)) != len(keys):
            raise ValueError(f"category {category.name} has duplicate entity keys")
        heldout = set(heldout_entities(category))
        for entity in category.entities:
            slots = dict(entity.slots)
            for index, template in enumerate(category.templates):
                records.append(
                    {
                        "id": len(records),
                        "split": split_of(category, entity, index, heldout),
                        "category": category.name,
                        "template": index,
                        "entity": entity.key,
                        "question": template.format(**slots),
                        "answer": category.answer.format(**slots),
                    }
                )
    return records


def serialise(records: list[dict]) -> bytes:
    """One JSON object per line, keys in a fixed order, ASCII only, '\\n' line ends."""
    lines = [json.dumps(record, ensure_ascii=True, separators=(",", ":")) for record in records]
    return ("\n".join(lines) + "\n").encode("ascii")


# ---- the datasheet's generated figures --------------------------------------------------
def words_of(text: str) -> list[str]:
    """The datasheet's notion of a word: lower-cased runs of letters/digits, or one
    punctuation mark."""
    return WORD.findall(text.lower())


def render_figures(records: list[dict], data: bytes) -> str:
    """The markdown between BEGIN_FIGURES and END_FIGURES in DATASHEET.md."""
    per_split = Counter(record["split"] for record in records)
    per_category: dict[str, Counter] = {}
    for record in records:
        per_category.setdefault(record["category"], Counter())[record["split"]] += 1
    vocab = {split: set() for split in SPLITS}
    characters = set()
    for record in records:
        text = f"{record['question']} {record['answer']}"
        vocab[record["split"]].update(words_of(text))
        characters.update(text)
    all_words = set().union(*vocab.values())
    unseen = vocab["test"] - vocab["train"]
    out = [
        "| split | pairs |",
        "|---|---:|",
        *(f"| {split} | {per_split[split]} |" for split in SPLITS),
        f"| total | {len(records)} |",
        "",
        "| category | templates | entities | held-out entities | train | validation | test |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for category in categories():
        counts = per_category[category.name]
        out.append(
            f"| {category.name} | {len(category.templates)} | {len(category.entities)} | "
            f"{len(heldout_entities(category))} | {counts['train']} | {counts['validation']} | "
            f"{counts['test']} |"
        )
    out += [
        "",
        f"- Vocabulary: {len(all_words)} distinct words in all splits, "
        f"{len(vocab['train'])} in train; {len(unseen)} words of the test split never occur "
        f"in train. {len(characters)} distinct characters (ASCII only).",
        f"- File: `{DATA_NAME}`, {len(data):,} bytes, {len(records)} lines, "
        f"sha256 `{hashlib.sha256(data).hexdigest()}`.",
        "",
        "Held-out templates (test only):",
        "",
        *(f"- {c.name}: `{c.templates[heldout_template(c)]}`" for c in categories()),
        "",
        "Held-out entities (test only):",
        "",
        *(f"- {c.name}: {', '.join(heldout_entities(c))}" for c in categories()),
    ]
    return "\n".join(out)


def replace_figures(datasheet: str, figures: str) -> str:
    """`datasheet` with the text between the two markers replaced by `figures`."""
    start, end = datasheet.find(BEGIN_FIGURES), datasheet.find(END_FIGURES)
    if start < 0 or end < start:
        raise ValueError(
            f"the datasheet must contain the lines {BEGIN_FIGURES!r} and {END_FIGURES!r}; "
            f"the figures are written between them"
        )
    return datasheet[: start + len(BEGIN_FIGURES)] + "\n" + figures + "\n" + datasheet[end:]


def build(datasheet: str) -> tuple[bytes, str]:
    """The file's bytes and `datasheet` with freshly computed figures. Writes nothing."""
    records = build_records()
    data = serialise(records)
    return data, replace_figures(datasheet, render_figures(records, data))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--check", action="store_true", help="compare with the files, write nothing"
    )
    parser.add_argument(
        "--out", type=Path, default=OUT_DIR, help=f"folder to write (default {OUT_DIR})"
    )
    args = parser.parse_args(argv)
    template = (OUT_DIR / DATASHEET_NAME).read_text(encoding="utf-8")
    data, datasheet = build(template)
    pairs = data.count(b"\n")
    targets = ((args.out / DATA_NAME, data), (args.out / DATASHEET_NAME, datasheet.encode("utf-8")))
    if args.check:
        stale = [
            str(path)
            for path, wanted in targets
            if not path.is_file() or path.read_bytes() != wanted
        ]
        if stale:
            print(f"out of date: {', '.join(stale)}; run python -m datasets.build_tinytalks")
            return 1
        print(f"TinyTalks is up to date ({pairs} pairs)")
        return 0
    args.out.mkdir(parents=True, exist_ok=True)
    for path, content in targets:
        path.write_bytes(content)
    print(f"wrote {pairs} pairs ({len(data):,} bytes) to {args.out / DATA_NAME}")
    print(f"sha256 {hashlib.sha256(data).hexdigest()} (SHA256 in datasets/tinytalks.py must match)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
