"""A small corpus with planted topics: as an NTM dataset, and as raw documents.

``python -m preparation.synthetic DIR`` writes ``DIR/data/datasets/demo/{train,validation,test}``
(recordIO-protobuf shards) with ``DIR/data/datasets/demo/auxiliary/vocab.txt``, and the same
themes as raw text under ``DIR/corpus/corpora/demo/`` (JSON Lines and plain-text files). The
documents are drawn from a few themes, so a topic model has something real to find.
Deterministic: the same seed writes the same bytes.
"""

from __future__ import annotations

import json
import random
import sys
from collections import Counter
from pathlib import Path

from .recordio import SparseRow, write_sparse

THEMES: dict[str, tuple[str, ...]] = {
    "astronomy": (
        "star",
        "galaxy",
        "planet",
        "orbit",
        "telescope",
        "comet",
        "nebula",
        "moon",
        "solar",
        "gravity",
        "asteroid",
        "cosmic",
        "eclipse",
        "light",
        "universe",
        "supernova",
        "satellite",
        "astronomer",
        "meteor",
        "constellation",
    ),
    "cooking": (
        "recipe",
        "oven",
        "flour",
        "butter",
        "garlic",
        "simmer",
        "sauce",
        "bake",
        "onion",
        "pepper",
        "salt",
        "dough",
        "roast",
        "kitchen",
        "spice",
        "chef",
        "stir",
        "pan",
        "tomato",
        "herb",
    ),
    "finance": (
        "market",
        "stock",
        "bond",
        "interest",
        "inflation",
        "bank",
        "investor",
        "dividend",
        "portfolio",
        "equity",
        "credit",
        "loan",
        "currency",
        "price",
        "trading",
        "fund",
        "profit",
        "revenue",
        "debt",
        "rate",
    ),
    "football": (
        "goal",
        "match",
        "striker",
        "referee",
        "league",
        "penalty",
        "coach",
        "stadium",
        "midfield",
        "defender",
        "keeper",
        "season",
        "transfer",
        "score",
        "tackle",
        "pitch",
        "fans",
        "cup",
        "winger",
        "foul",
    ),
    "medicine": (
        "patient",
        "doctor",
        "vaccine",
        "symptom",
        "clinic",
        "diagnosis",
        "therapy",
        "dose",
        "infection",
        "nurse",
        "surgery",
        "hospital",
        "disease",
        "treatment",
        "virus",
        "immune",
        "chronic",
        "trial",
        "drug",
        "blood",
    ),
    "music": (
        "guitar",
        "melody",
        "chord",
        "rhythm",
        "album",
        "concert",
        "singer",
        "piano",
        "band",
        "tempo",
        "lyrics",
        "drum",
        "orchestra",
        "song",
        "harmony",
        "violin",
        "jazz",
        "tour",
        "studio",
        "bass",
    ),
}
COMMON = ("report", "year", "people", "new", "time", "world", "week", "local", "group", "plan")
SPLITS = {"train": 300, "validation": 60, "test": 60}
TRAIN_SHARDS = 2


def vocabulary() -> list[str]:
    words = [word for theme in THEMES.values() for word in theme] + list(COMMON)
    assert len(words) == len(set(words)), "a word is in two themes"
    return words


def document(rng: random.Random, index: dict[str, int]) -> SparseRow:
    themes = rng.sample(sorted(THEMES), k=rng.choice((1, 1, 2)))
    weights = [rng.uniform(0.6, 1.0) for _ in themes]
    length = rng.randint(30, 70)
    counts: Counter[int] = Counter()
    for _ in range(length):
        # random() returns multiples of 2**-53 and the float 0.1 is not one: <= is the same test.
        if rng.random() < 0.1:  # pragma: no mutate
            word = rng.choice(COMMON)
        else:
            theme = rng.choices(themes, weights)[0]
            # A few words of each theme are much more frequent, as in real text.
            word = THEMES[theme][min(int(rng.expovariate(0.25)), len(THEMES[theme]) - 1)]
        counts[index[word]] += 1
    keys = tuple(sorted(counts))
    return SparseRow(keys, tuple(float(counts[k]) for k in keys), len(index))


def write_dataset(root: Path, seed: int = 20261127) -> dict[str, int]:
    rng = random.Random(seed)
    words = vocabulary()
    index = {word: position for position, word in enumerate(words)}
    base = root / "datasets" / "demo"
    written: dict[str, int] = {}
    for split, count in SPLITS.items():
        rows = [document(rng, index) for _ in range(count)]
        shards = TRAIN_SHARDS if split == "train" else 1
        folder = base / split
        folder.mkdir(parents=True, exist_ok=True)
        for shard in range(shards):
            with (folder / f"part-{shard:05d}.pbr").open("wb") as stream:
                write_sparse(stream, rows[shard::shards])
        written[split] = count
    auxiliary = base / "auxiliary"
    auxiliary.mkdir(exist_ok=True)  # base was made with the splits' folders
    text = "".join(f"{word}\n" for word in words)
    # ASCII words (test_synthetic.py): the same bytes in any encoding, named or not.
    (auxiliary / "vocab.txt").write_text(text, encoding="utf-8")  # pragma: no mutate
    written["vocabulary"] = len(words)
    return written


def write_corpus(root: Path, seed: int = 20261128, documents: int = 400) -> int:
    """The same themes as raw text: a JSON Lines file and a few plain-text files, the way a
    corpus request finds them (``corpora/demo/`` under ``root``)."""
    rng = random.Random(seed)
    folder = root / "corpora" / "demo"
    folder.mkdir(parents=True, exist_ok=True)
    words = vocabulary()
    index = {word: position for position, word in enumerate(words)}

    def text() -> str:
        row = document(rng, index)
        # zip(strict=...) is Python 3.10+; this package also runs on the 3.9 processing image.
        pairs = zip(row.keys, row.values)  # noqa: B905
        tokens = [words[key] for key, count in pairs for _ in range(int(count))]
        rng.shuffle(tokens)
        return " ".join(tokens).capitalize() + "."

    lines = [json.dumps({"id": f"news-{n:04d}", "text": text()}) for n in range(documents - 10)]
    news = "\n".join(lines) + "\n"
    # ASCII text (json.dumps escapes the rest; the words are ASCII): the same bytes in any
    # encoding, named or not; the notes too.
    (folder / "news.jsonl").write_text(news, encoding="utf-8")  # pragma: no mutate
    notes = folder / "notes"
    notes.mkdir(exist_ok=True)
    for n in range(10):
        note = text() + "\n"
        (notes / f"note-{n:02d}.txt").write_text(note, encoding="utf-8")  # pragma: no mutate
    return documents


if __name__ == "__main__":
    target = Path(sys.argv[1] if len(sys.argv) > 1 else "examples")
    print(write_dataset(target / "data"), write_corpus(target / "corpus"))
