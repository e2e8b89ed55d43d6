"""recordIO-protobuf: frames and sparse records read back as written; the example dataset
is what the generator writes."""

from __future__ import annotations

import io
import struct
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from preparation.recordio import (
    MAGIC,
    SparseRow,
    encode_sparse,
    frame,
    read_frames,
    read_sparse,
    write_sparse,
)
from preparation.synthetic import write_dataset

ROOT = Path(__file__).resolve().parents[2]


@st.composite
def rows(draw: st.DrawFn) -> SparseRow:
    dimension = draw(st.integers(min_value=1, max_value=100_000))
    keys = sorted(draw(st.sets(st.integers(min_value=0, max_value=dimension - 1), max_size=40)))
    values = [float(draw(st.integers(min_value=1, max_value=1000))) for _ in keys]
    return SparseRow(tuple(keys), tuple(values), dimension)


@given(st.lists(rows(), max_size=20))
def test_sparse_rows_round_trip(written: list[SparseRow]) -> None:
    buffer = io.BytesIO()
    assert write_sparse(buffer, written) == len(written)
    data = buffer.getvalue()
    assert len(data) % 4 == 0
    assert list(read_sparse(io.BytesIO(data))) == written


def test_frame_layout() -> None:
    payload = encode_sparse(SparseRow((1, 3), (2.0, 1.0), 5))
    framed = frame(payload)
    magic, length = struct.unpack("<II", framed[:8])
    assert magic == MAGIC == 0xCED7230A
    assert length == len(payload)
    assert framed[8 : 8 + length] == payload
    assert framed[8 + length :] == b"\x00" * ((4 - length % 4) % 4)


def test_record_bytes() -> None:
    # features {"values": Float32Tensor(values=[2.0, 1.0], keys=[1, 3], shape=[5])}
    expected = bytes.fromhex(
        "0a1d"  # Record.features, 29 bytes
        "0a0676616c756573"  # map key "values"
        "1213"  # map value, 19 bytes
        "1211"  # Value.float32_tensor, 17 bytes
        "0a08"
        "00000040"
        "0000803f"  # values, packed float32
        "12020103"  # keys, packed varints
        "1a0105"  # shape, packed varints
    )
    assert encode_sparse(SparseRow((1, 3), (2.0, 1.0), 5)) == expected


def test_example_dataset_is_reproducible(tmp_path: Path) -> None:
    counts = write_dataset(tmp_path)
    committed = ROOT / "examples" / "data"
    generated = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*") if p.is_file())
    assert generated == sorted(
        p.relative_to(committed) for p in committed.rglob("*") if p.is_file()
    )
    for relative in generated:
        assert (tmp_path / relative).read_bytes() == (committed / relative).read_bytes(), relative
    vocabulary = (committed / "datasets/demo/auxiliary/vocab.txt").read_text().splitlines()
    assert len(vocabulary) == counts["vocabulary"]
    with (committed / "datasets/demo/validation/part-00000.pbr").open("rb") as stream:
        documents = list(read_sparse(stream))
    assert len(documents) == counts["validation"] == 60
    assert all(row.dimension == len(vocabulary) for row in documents)


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        (struct.pack("<I", MAGIC), "truncated RecordIO header"),
        (struct.pack("<II", 0x12345678, 0), "bad RecordIO magic 0x12345678"),
        # The top three bits of the length word flag a multi-part record (cflag 1, 2 or 3).
        (struct.pack("<II", MAGIC, 1 << 29), "multi-part RecordIO records are not supported"),
        (struct.pack("<II", MAGIC, 3 << 30), "multi-part RecordIO records are not supported"),
        (struct.pack("<II", MAGIC, 8) + b"1234", "truncated RecordIO record"),
    ],
    ids=["header", "magic", "cflag-1", "cflag-3", "record"],
)
def test_a_broken_stream_is_refused_saying_what_is_wrong(data: bytes, problem: str) -> None:
    with pytest.raises(ValueError, match=f"^{problem}$"):
        list(read_frames(io.BytesIO(data)))


def test_frames_are_read_back_past_their_padding() -> None:
    payloads = [b"a", b"bcde", b""]
    stream = io.BytesIO(b"".join(frame(payload) for payload in payloads))
    assert list(read_frames(stream)) == payloads
