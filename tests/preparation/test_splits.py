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


def _documented_u(salt: bytes, document: bytes) -> float:
    digest = hashlib.sha256(len(salt).to_bytes(8, "big") + salt + document).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def test_documented_hash() -> None:
    assert SplitAssigner(0.1, 0.1, "s").uniform("a/b.txt") == _documented_u(b"s", b"a/b.txt")
    # No salt: the empty one, eight zero bytes of length.
    assert SplitAssigner(0.1, 0.1).uniform("a/b.txt") == _documented_u(b"", b"a/b.txt")
    # Lone surrogates (a CSV id with bytes that are not UTF-8) are hashed, not refused.
    assert SplitAssigner(0.1, 0.1, "\udcff").uniform("caf\udce9") == _documented_u(
        b"\xed\xb3\xbf", b"caf\xed\xb3\xa9"
    )


def test_each_split_ends_just_below_its_bound() -> None:
    document = "docs/file-1.txt"
    u = SplitAssigner(0.0, 0.0).uniform(document)
    assert 0 < u < 0.5
    assert SplitAssigner(0.0, u)(document) == "train"  # u < test_ratio fails at u itself
    assert SplitAssigner(0.1, u)(document) == "validation"
    assert SplitAssigner(0.0, u + 1e-12)(document) == "test"
    assert SplitAssigner(u, 0.0)(document) == "train"  # u < test + validation fails too
    assert SplitAssigner(u + 1e-12, 0.0)(document) == "validation"


def test_growing_a_split_only_moves_documents_into_it() -> None:
    small, large = SplitAssigner(0.1, 0.1), SplitAssigner(0.1, 0.2)
    for i in IDS[:2000]:
        if small(i) == "test":
            assert large(i) == "test"


@pytest.mark.parametrize(("validation", "test"), [(-0.1, 0.1), (0.5, 0.5), (0.0, 1.0)])
def test_bad_ratios(validation: float, test: float) -> None:
    with pytest.raises(ValueError, match=r"^ratios must be >= 0 and sum to less than 1$"):
        SplitAssigner(validation, test)
