"""Split assignment: deterministic per id, ratios honoured, salt-dependent."""

from __future__ import annotations

import hashlib
from collections import Counter

import pytest

from preparation.splits import SplitAssigner

IDS = [f"docs/file-{i}.txt" for i in range(10_000)]


def test_same_id_same_split_across_instances() -> None:
    first, second = SplitAssigner(0.1, 0.1), SplitAssigner(0.1, 0.1)
    assert [first(i) for i in IDS[:500]] == [second(i) for i in IDS[:500]]
    assert {first("a:1") for _ in range(10)} == {first("a:1")}


def test_ratios_are_approximately_honoured() -> None:
    assign = SplitAssigner(0.15, 0.05)
    counts = Counter(assign(i) for i in IDS)
    # Binomial standard deviation on 10k draws is at most 0.5 percent.
    assert abs(counts["test"] / len(IDS) - 0.05) < 0.015
    assert abs(counts["validation"] / len(IDS) - 0.15) < 0.02
    assert abs(counts["train"] / len(IDS) - 0.80) < 0.02


def test_zero_ratios_put_everything_in_train() -> None:
    assign = SplitAssigner(0.0, 0.0)
    assert {assign(i) for i in IDS[:1000]} == {"train"}


def test_salt_changes_the_assignment() -> None:
    plain, salted = SplitAssigner(0.1, 0.1), SplitAssigner(0.1, 0.1, salt="2026")
    moved = sum(plain(i) != salted(i) for i in IDS)
    # Two independent draws disagree about 1 - (0.8^2 + 0.1^2 + 0.1^2) = 34 percent of the time.
    assert 0.28 < moved / len(IDS) < 0.40


def test_documented_hash() -> None:
    salt, document = "s", "a/b.txt"
    digest = hashlib.sha256(
        len(salt).to_bytes(8, "big") + salt.encode() + document.encode()
    ).digest()
    assert (
        SplitAssigner(0.1, 0.1, salt).uniform(document) == int.from_bytes(digest[:8], "big") / 2**64
    )


def test_growing_a_split_only_moves_documents_into_it() -> None:
    small, large = SplitAssigner(0.1, 0.1), SplitAssigner(0.1, 0.2)
    for i in IDS[:2000]:
        if small(i) == "test":
            assert large(i) == "test"


@pytest.mark.parametrize(("validation", "test"), [(-0.1, 0.1), (0.5, 0.5), (0.0, 1.0)])
def test_bad_ratios(validation: float, test: float) -> None:
    with pytest.raises(ValueError):
        SplitAssigner(validation, test)
