"""ShardWriter: round-robin train shards, one file per other split, nothing after close."""

from __future__ import annotations

from pathlib import Path

import pytest

from preparation.recordio import SparseRow, read_sparse
from preparation.shards import ShardWriter, shard_name


def rows(path: Path) -> list[SparseRow]:
    with path.open("rb") as stream:
        return list(read_sparse(stream))


def test_train_records_are_dealt_round_robin_and_counted(tmp_path: Path) -> None:
    root = tmp_path / "not/yet/made"  # made, with its parents, by the first record
    writer = ShardWriter(root, dimension=7, train_shards=2)
    for key in range(5):
        writer.write("train", [key], [float(key + 1)])
    writer.write("test", [0, 6], [2.0, 3.0])
    writer.close()
    assert writer.documents == {"train": 5, "validation": 0, "test": 1}
    assert writer.nonzeros == 7
    assert writer.tokens == 1 + 2 + 3 + 4 + 5 + 2 + 3
    assert writer.files() == {
        "train": ["train/part-00000.pbr", "train/part-00001.pbr"],
        "test": ["test/part-00000.pbr"],
    }
    assert [row.keys for row in rows(root / "train/part-00000.pbr")] == [(0,), (2,), (4,)]
    assert [row.keys for row in rows(root / "train/part-00001.pbr")] == [(1,), (3,)]
    assert rows(root / "test/part-00000.pbr") == [SparseRow((0, 6), (2.0, 3.0), 7)]


def test_nothing_is_written_after_close_and_closing_twice_is_harmless(tmp_path: Path) -> None:
    writer = ShardWriter(tmp_path, dimension=3, train_shards=1)
    writer.write("train", [1], [1.0])
    writer.close()
    writer.close()
    for split in ("train", "validation"):  # a file that was open, and one that never was
        with pytest.raises(ValueError, match=r"^the shard writer is closed$"):
            writer.write(split, [1], [1.0])
    assert not (tmp_path / "validation").exists()
    assert len(rows(tmp_path / "train/part-00000.pbr")) == 1


def test_shard_names() -> None:
    assert shard_name("train", 0) == "train/part-00000.pbr"
    assert shard_name("validation", 12345) == "validation/part-12345.pbr"
