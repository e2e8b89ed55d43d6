"""Our recordIO-protobuf against bytes written by the SageMaker Python SDK v2 (fixtures/)."""

from __future__ import annotations

import io
import json
import struct
from pathlib import Path
from typing import Any

import pytest

from preparation.recordio import (
    SparseEncoder,
    SparseRow,
    decode_features,
    encode_sparse,
    frame,
    read_frames,
    read_sparse,
    write_sparse,
)

FIXTURES = Path(__file__).parent / "fixtures"
EXPECTED: dict[str, Any] = json.loads((FIXTURES / "expected.json").read_text())["fixtures"]
SPARSE = ["sdk-sparse.pbr", "sdk-sparse-wide.pbr", "sdk-sparse-labelled.pbr"]


def _rows(name: str) -> list[SparseRow]:
    fixture = EXPECTED[name]
    rows = []
    for entry in fixture["input"]:
        keys = sorted(int(key) for key in entry)
        rows.append(
            SparseRow(tuple(keys), tuple(entry[str(k)] for k in keys), fixture["dimension"])
        )
    return rows


@pytest.mark.parametrize("name", SPARSE)
def test_writer_matches_sdk_bytes(name: str) -> None:
    labels = EXPECTED[name].get("labels")
    rows = _rows(name)
    if labels is None:
        buffer = io.BytesIO()
        write_sparse(buffer, rows)
        written = buffer.getvalue()
    else:
        written = b"".join(
            frame(encode_sparse(row, label)) for row, label in zip(rows, labels, strict=True)
        )
    assert written == (FIXTURES / name).read_bytes()


@pytest.mark.parametrize("name", ["sdk-sparse.pbr", "sdk-sparse-wide.pbr"])
def test_fast_encoder_matches_sdk_bytes(name: str) -> None:
    encoder = SparseEncoder(EXPECTED[name]["dimension"])
    written = b"".join(encoder.encode(row.keys, row.values) for row in _rows(name))
    assert written == (FIXTURES / name).read_bytes()


@pytest.mark.parametrize("name", SPARSE)
def test_reader_decodes_sdk_sparse_records(name: str) -> None:
    with (FIXTURES / name).open("rb") as stream:
        decoded = list(read_sparse(stream))
    expected = EXPECTED[name]["records"]
    assert len(decoded) == len(expected)
    for row, record in zip(decoded, expected, strict=True):
        assert list(row.keys) == record["keys"]
        assert list(row.values) == record["values"]  # float32 values, exactly
        assert [row.dimension] == record["shape"]


def test_empty_sparse_row_is_a_shape_only_record() -> None:
    with (FIXTURES / "sdk-sparse.pbr").open("rb") as stream:
        payloads = list(read_frames(stream))
    empty = decode_features(payloads[1])
    assert empty == SparseRow((), (), 20_000)
    assert payloads[1] == encode_sparse(SparseRow((), (), 20_000))


def test_reader_decodes_sdk_dense_records() -> None:
    fixture = EXPECTED["sdk-dense.pbr"]
    with (FIXTURES / "sdk-dense.pbr").open("rb") as stream:
        decoded = list(read_sparse(stream))
    assert len(decoded) == len(fixture["input"]) == len(fixture["records"])
    for row, record, written in zip(decoded, fixture["records"], fixture["input"], strict=True):
        assert record["keys"] == [] and record["shape"] == []  # dense: values only
        width = len(written)
        assert row.dimension == width
        assert list(row.keys) == list(range(width))
        assert list(row.values) == record["values"]
        assert list(row.values) == [struct.unpack("<f", struct.pack("<f", v))[0] for v in written]


def test_fast_encoder_rejects_bad_rows() -> None:
    encoder = SparseEncoder(10)
    with pytest.raises(ValueError, match=r"^word ids must be in \[0, 10\)$"):
        encoder.encode([-1, 2], [1.0, 1.0])
    with pytest.raises(ValueError, match=r"^word ids must be in \[0, 10\)$"):
        encoder.encode([2, 10], [1.0, 1.0])
    with pytest.raises(ValueError, match=r"^word ids must be in \[0, 10\)$"):
        encoder.encode([0, 1, 10], [1.0, 1.0, 1.0])  # the last id is the largest
    with pytest.raises(ValueError, match=r"^keys and values differ in length$"):
        encoder.encode([1, 2], [1.0])
    assert encoder.encode([0, 9], [1.0, 2.0]) == frame(
        encode_sparse(SparseRow((0, 9), (1.0, 2.0), 10))
    )


@pytest.mark.parametrize("count", [4095, 4096, 5000])
def test_fast_encoder_matches_the_reference_for_lengths_of_two_and_three_byte_varints(
    count: int,
) -> None:
    # count float32 values: a values field of 4 * count bytes, 16384 needing a 3-byte varint.
    row = SparseRow(
        tuple(range(0, 2 * count, 2)), tuple(float(k % 7 + 1) for k in range(count)), 2 * count
    )
    assert SparseEncoder(row.dimension).encode(row.keys, row.values) == frame(encode_sparse(row))
