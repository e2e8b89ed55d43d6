"""Vocabulary selection: df bounds as counts and fractions, the cap, deterministic order."""

from __future__ import annotations

import random
from collections import Counter

from preparation.vocabulary import select_vocabulary

DF = Counter({"common": 10, "often": 8, "half": 5, "some": 3, "pair": 2, "once": 1, "tie": 3})


def test_integer_bounds_are_document_counts() -> None:
    assert select_vocabulary(DF, 10, 2, 8, 100) == ["often", "half", "some", "tie", "pair"]
    assert select_vocabulary(DF, 10, 3, 5, 100) == ["half", "some", "tie"]


def test_fraction_bounds_scale_with_the_corpus() -> None:
    # 10 documents: min 0.25 -> df >= 2.5, max 0.5 -> df <= 5 (inclusive, as scikit-learn)
    assert select_vocabulary(DF, 10, 0.25, 0.5, 100) == ["half", "some", "tie"]
    assert select_vocabulary(DF, 10, 1, 1.0, 100) == [
        "common",
        "often",
        "half",
        "some",
        "tie",
        "pair",
        "once",
    ]
    # 20 documents: df >= 2 and df <= 10
    assert select_vocabulary(DF, 20, 0.1, 0.5, 100) == [
        "common",
        "often",
        "half",
        "some",
        "tie",
        "pair",
    ]


def test_cap_keeps_highest_df_and_breaks_ties_by_token() -> None:
    assert select_vocabulary(DF, 10, 1, 1.0, 3) == ["common", "often", "half"]
    assert select_vocabulary(DF, 10, 1, 1.0, 4) == ["common", "often", "half", "some"]
    ties = Counter({"b": 4, "a": 4, "c": 4, "z": 5, "é": 4})
    assert select_vocabulary(ties, 10, 1, 10, 3) == ["z", "a", "b"]
    assert select_vocabulary(ties, 10, 1, 10, 10) == ["z", "a", "b", "c", "é"]  # code point order


def test_selection_does_not_depend_on_insertion_order() -> None:
    rng = random.Random(7)
    items = [(f"w{i}", rng.randint(1, 30)) for i in range(2000)]
    first = select_vocabulary(dict(items), 100, 2, 25, 500)
    rng.shuffle(items)
    assert select_vocabulary(dict(items), 100, 2, 25, 500) == first
    assert len(first) == 500


def test_nothing_eligible_gives_an_empty_vocabulary() -> None:
    assert select_vocabulary(DF, 10, 11, 20, 100) == []
    assert select_vocabulary(Counter(), 0, 2, 0.5, 100) == []
