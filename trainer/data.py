"""Bag-of-words channels as NTM reads them: recordIO-protobuf (sparse or dense) and CSV.

A channel is a folder (SageMaker's ``/opt/ml/input/data/<channel>/``) holding one or more
files, read in name order; every file holds documents, one record or one CSV row each. The
documents are kept as a compressed sparse row matrix of word counts.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from preparation.recordio import MAGIC, SparseRow, read_sparse

from .errors import DataError

RECORDIO = "application/x-recordio-protobuf"
CSV = "text/csv"
VOCABULARY_FILE = "vocab.txt"
DATA_CHANNELS = ("train", "validation", "test")


@dataclass(frozen=True)
class Corpus:
    """Documents as word counts: row i is ``values[indptr[i]:indptr[i+1]]`` at ``indices``."""

    indptr: np.ndarray
    indices: np.ndarray
    values: np.ndarray
    vocabulary_size: int

    def __len__(self) -> int:
        return len(self.indptr) - 1

    @property
    def nnz(self) -> int:
        return int(self.indptr[-1])

    @classmethod
    def from_rows(cls, rows: Iterable[SparseRow], vocabulary_size: int | None = None) -> Corpus:
        indptr = [0]
        indices: list[np.ndarray] = []
        values: list[np.ndarray] = []
        dimension = vocabulary_size
        for number, row in enumerate(rows):
            if dimension is None:
                dimension = row.dimension
            elif row.dimension != dimension:
                raise DataError(
                    f"document {number} has dimension {row.dimension}, expected {dimension}"
                )
            keys = np.asarray(row.keys, dtype=np.int64)
            counts = np.asarray(row.values, dtype=np.float32)
            if len(keys) != len(counts):
                raise DataError(f"document {number} has {len(keys)} keys but {len(counts)} values")
            if len(keys) and (keys.min() < 0 or keys.max() >= dimension):
                raise DataError(f"document {number} has a word id outside [0, {dimension})")
            keys, counts = _merge_duplicates(keys, counts)
            indices.append(keys.astype(np.int32))
            values.append(counts)
            indptr.append(indptr[-1] + len(keys))
        return cls._checked(
            np.asarray(indptr, dtype=np.int64),
            np.concatenate(indices) if indices else np.zeros(0, np.int32),
            np.concatenate(values) if values else np.zeros(0, np.float32),
            dimension or 0,
        )

    @classmethod
    def from_dense(cls, matrix: np.ndarray) -> Corpus:
        dense = np.asarray(matrix, dtype=np.float32)
        if dense.ndim != 2:
            raise DataError(f"expected a 2-d matrix of counts, got shape {dense.shape}")
        rows, cols = np.nonzero(dense)
        indptr = np.zeros(dense.shape[0] + 1, dtype=np.int64)
        np.cumsum(np.bincount(rows, minlength=dense.shape[0]), out=indptr[1:])
        return cls._checked(indptr, cols.astype(np.int32), dense[rows, cols], dense.shape[1])

    @classmethod
    def _checked(
        cls, indptr: np.ndarray, indices: np.ndarray, values: np.ndarray, vocabulary_size: int
    ) -> Corpus:
        if len(values) and (not np.all(np.isfinite(values)) or values.min() < 0):
            raise DataError("word counts must be finite and non-negative")
        return cls(indptr, indices, values.astype(np.float32), int(vocabulary_size))

    @classmethod
    def concatenate(cls, parts: Sequence[Corpus]) -> Corpus:
        if not parts:
            raise DataError("no documents")
        sizes = {part.vocabulary_size for part in parts if len(part)}
        if len(sizes) > 1:
            raise DataError(f"files disagree on the vocabulary size: {sorted(sizes)}")
        offsets = np.cumsum([0] + [part.nnz for part in parts[:-1]])
        indptr = np.concatenate(
            [np.zeros(1, np.int64)]
            + [part.indptr[1:] + offset for part, offset in zip(parts, offsets, strict=True)]
        )
        return cls(
            indptr,
            np.concatenate([part.indices for part in parts]),
            np.concatenate([part.values for part in parts]),
            sizes.pop() if sizes else parts[0].vocabulary_size,
        )

    def take(self, rows: np.ndarray) -> Corpus:
        """The documents at ``rows``, in that order."""
        rows = np.asarray(rows, dtype=np.int64)
        positions, lengths = self.positions(rows)
        indptr = np.zeros(len(rows) + 1, dtype=np.int64)
        np.cumsum(lengths, out=indptr[1:])
        return Corpus(indptr, self.indices[positions], self.values[positions], self.vocabulary_size)

    def positions(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Where the entries of ``rows`` sit in ``indices``/``values``, and each row's length."""
        starts = self.indptr[rows]
        lengths = self.indptr[rows + 1] - starts
        before = np.cumsum(lengths) - lengths
        positions = np.arange(int(lengths.sum()), dtype=np.int64) + np.repeat(
            starts - before, lengths
        )
        return positions, lengths

    def dense(self, rows: np.ndarray | None = None) -> np.ndarray:
        """Rows as a dense float32 matrix (all documents when ``rows`` is None)."""
        part = self if rows is None else self.take(rows)
        out = np.zeros((len(part), self.vocabulary_size), dtype=np.float32)
        row_ids = np.repeat(np.arange(len(part)), np.diff(part.indptr))
        out[row_ids, part.indices] = part.values
        return out

    def document_lengths(self) -> np.ndarray:
        row_ids = np.repeat(np.arange(len(self)), np.diff(self.indptr))
        return np.bincount(row_ids, weights=self.values, minlength=len(self))

    def word_counts(self) -> np.ndarray:
        return np.bincount(self.indices, weights=self.values, minlength=self.vocabulary_size)


def _merge_duplicates(keys: np.ndarray, counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    if len(keys) < 2 or np.all(np.diff(keys) > 0):
        return keys, counts
    unique, inverse = np.unique(keys, return_inverse=True)
    return unique, np.bincount(inverse, weights=counts).astype(np.float32)


def channel_files(path: Path) -> list[Path]:
    """The data files of a channel folder, in name order; hidden files are skipped."""
    if path.is_file():
        return [path]
    if not path.is_dir():
        raise DataError(f"no channel at {path}")
    return sorted(
        p
        for p in path.rglob("*")
        if p.is_file() and not any(part.startswith(".") for part in p.relative_to(path).parts)
    )


def _is_recordio(path: Path) -> bool:
    with path.open("rb") as stream:
        head = stream.read(4)
    return len(head) == 4 and struct.unpack("<I", head)[0] == MAGIC


def read_file(
    path: Path, content_type: str | None = None, vocabulary_size: int | None = None
) -> Corpus:
    kind = (content_type or "").split(";")[0].strip().lower()
    if not kind:
        kind = RECORDIO if _is_recordio(path) else CSV
    try:
        if kind == RECORDIO:
            with path.open("rb") as stream:
                return Corpus.from_rows(read_sparse(stream), vocabulary_size)
        if kind == CSV:
            return _read_csv(path, vocabulary_size)
    except DataError as error:
        raise DataError(f"{path.name}: {error}") from None
    except (ValueError, IndexError) as error:
        raise DataError(f"{path.name}: not readable as {kind}: {error}") from None
    raise DataError(f"content type {content_type!r} is not supported; use {RECORDIO} or {CSV}")


def _read_csv(path: Path, vocabulary_size: int | None) -> Corpus:
    if path.stat().st_size == 0:
        return Corpus.from_dense(np.zeros((0, vocabulary_size or 0), np.float32))
    matrix = np.loadtxt(path, delimiter=",", dtype=np.float32, ndmin=2)
    if vocabulary_size is not None and matrix.shape[1] != vocabulary_size:
        raise DataError(f"rows have {matrix.shape[1]} columns, expected {vocabulary_size}")
    return Corpus.from_dense(matrix)


def read_channel(
    path: Path, content_type: str | None = None, vocabulary_size: int | None = None
) -> Corpus:
    """Every document of a channel folder (or one file)."""
    files = channel_files(Path(path))
    if not files:
        raise DataError(f"channel {path} holds no files")
    corpus = Corpus.concatenate([read_file(f, content_type, vocabulary_size) for f in files])
    if vocabulary_size is not None and corpus.vocabulary_size != vocabulary_size:
        raise DataError(
            f"the data has {corpus.vocabulary_size} words per document but feature_dim is "
            f"{vocabulary_size}"
        )
    return corpus


def read_vocabulary(path: Path) -> list[str] | None:
    """The words of ``vocab.txt`` (line i is word i) in a channel folder, or None."""
    path = Path(path)
    if path.is_file():
        candidates = [path]
    elif path.is_dir():
        candidates = sorted(path.rglob(VOCABULARY_FILE))
    else:
        return None
    if not candidates:
        return None
    text = candidates[0].read_text(encoding="utf-8")
    return [line.strip() for line in text.splitlines()]
