"""Shard files of one dataset, opened as the first record for them arrives.

Train records are dealt round-robin over ``train_shards`` files so the shards differ by at most
one record (SageMaker's ShardedByS3Key hands whole files to instances); validation and test get
one file each. A split or shard that receives nothing has no file.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import BinaryIO

from .recordio import SparseEncoder

_BUFFER_BYTES = 1 << 18


def shard_name(split: str, index: int) -> str:
    return f"{split}/part-{index:05d}.pbr"


class ShardWriter:
    def __init__(self, root: Path, dimension: int, train_shards: int) -> None:
        self.root = root
        self.train_shards = train_shards
        self.encoder = SparseEncoder(dimension)
        self.documents = {"train": 0, "validation": 0, "test": 0}
        self.nonzeros = 0
        self.tokens = 0
        # The open files by name; None once closed.
        self._streams: dict[str, BinaryIO] | None = {}
        self._names: set[str] = set()

    def _stream(self, name: str) -> BinaryIO:
        streams = self._streams
        if streams is None:
            raise ValueError("the shard writer is closed")
        stream = streams.get(name)
        if stream is None:
            path = self.root / name
            path.parent.mkdir(parents=True, exist_ok=True)
            # The buffer's size sets how often the file is written to, not what it holds.
            stream = streams[name] = path.open("wb", buffering=_BUFFER_BYTES)  # pragma: no mutate
            self._names.add(name)
        return stream

    def write(self, split: str, keys: Sequence[int], counts: Sequence[int]) -> None:
        index = self.documents[split] % self.train_shards if split == "train" else 0
        self._stream(shard_name(split, index)).write(self.encoder.encode(keys, counts))
        self.documents[split] += 1
        self.nonzeros += len(keys)
        self.tokens += sum(counts)

    def files(self) -> dict[str, list[str]]:
        """The shard files written, relative to the root, by split."""
        out: dict[str, list[str]] = {}
        for split in self.documents:
            names = sorted(name for name in self._names if name.startswith(split + "/"))
            if names:
                out[split] = names
        return out

    def close(self) -> None:
        """Close every file; writing after that is an error, closing again does nothing."""
        streams, self._streams = self._streams, None
        for stream in (streams or {}).values():
            stream.close()
