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
    decode_features,
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


def _varint(number: int) -> bytes:
    out = b""
    while True:
        byte, number = number & 0x7F, number >> 7
        out += bytes([byte | (0x80 if number else 0)])
        if not number:
            return out


def _field(number: int, wire: int, content: bytes) -> bytes:
    tag = _varint((number << 3) | wire)
    return tag + (_varint(len(content)) + content if wire == 2 else content)


def test_a_record_written_by_another_encoder_is_read_field_by_field() -> None:
    # Unpacked values (fixed32 each) and keys (a varint each), other fields of every wire type
    # to skip, and a map entry for another feature before "values".
    tensor = (
        _field(1, 5, struct.pack("<f", 2.0))
        + _field(1, 5, struct.pack("<f", 0.5))
        + _field(2, 0, _varint(3))
        + _field(2, 0, _varint(300))
        + _field(9, 1, b"\x00" * 8)  # an unknown fixed64 field
        + _field(3, 0, _varint(1000))
    )
    values = _field(2, 2, tensor)  # Value.float32_tensor
    other = _field(1, 2, b"other") + _field(2, 2, _field(2, 2, _field(1, 5, b"\x00" * 4)))
    record = (
        _field(9, 5, b"\x01\x02\x03\x04")  # an unknown fixed32 field
        + _field(10, 0, _varint(7))  # an unknown varint field
        + _field(1, 2, other)
        + _field(1, 2, _field(1, 2, b"values") + _field(2, 2, values))
        + _field(2, 2, b"a label")
    )
    assert decode_features(record) == SparseRow((3, 300), (2.0, 0.5), 1000)


@pytest.mark.parametrize(
    ("record", "problem"),
    [
        (
            _field(1, 2, _field(1, 2, b"values") + _field(2, 2, _field(3, 2, b""))),
            "only float32 tensors are supported",
        ),
        (_varint((1 << 3) | 3), "unsupported protobuf wire type 3"),
        (_field(2, 2, b"a label only"), r"record has no features\['values'\] tensor"),
    ],
    ids=["int32-tensor", "group-wire-type", "no-features"],
)
def test_a_record_that_cannot_be_read_says_why(record: bytes, problem: str) -> None:
    with pytest.raises(ValueError, match=f"^{problem}$"):
        decode_features(record)


def test_a_record_length_must_fit_the_29_bits_of_the_header() -> None:
    from preparation.recordio import _LENGTH_MASK, _header

    assert _LENGTH_MASK == (1 << 29) - 1
    assert _header(_LENGTH_MASK) == struct.pack("<II", MAGIC, _LENGTH_MASK)  # exactly at
    with pytest.raises(ValueError, match=r"^record too large for RecordIO$"):
        _header(_LENGTH_MASK + 1)  # just over


def test_fields_of_every_wire_type_are_cut_at_their_length() -> None:
    from preparation.recordio import _fields

    data = (
        _field(9, 1, bytes(range(8)))  # fixed64
        + _field(8, 5, bytes(range(10, 14)))  # fixed32
        + _field(7, 0, _varint(300))
        + _field(6, 2, b"payload")
    )
    assert list(_fields(data)) == [
        (9, 1, bytes(range(8))),
        (8, 5, bytes(range(10, 14))),
        (7, 0, 300),
        (6, 2, b"payload"),
    ]


def test_a_map_entry_is_read_by_field_number_whatever_else_it_holds() -> None:
    tensor = _field(1, 2, struct.pack("<f", 4.0)) + _field(2, 2, _varint(2)) + _field(3, 2, b"\x05")
    entry = (
        _field(1, 2, b"values")
        + _field(2, 2, _field(2, 2, tensor))
        + _field(5, 2, b"not the value")  # an unknown field after the value
        + _field(6, 0, _varint(1))
    )
    assert decode_features(_field(1, 2, entry)) == SparseRow((2,), (4.0,), 5)


def test_a_values_entry_without_a_value_is_no_tensor() -> None:
    with pytest.raises(ValueError, match=r"^record has no features\['values'\] tensor$"):
        decode_features(_field(1, 2, _field(1, 2, b"values")))


def test_varints_are_unsigned_and_at_most_ten_bytes_long() -> None:
    from preparation.recordio import _varint

    assert _varint(0) == b"\x00"
    assert _varint(127) == b"\x7f"
    assert _varint(128) == b"\x80\x01"
    assert _varint(300) == b"\xac\x02"
    assert _varint((1 << 64) - 1) == b"\xff" * 9 + b"\x01"  # the largest uint64
    assert _varint((1 << 70) - 1) == b"\xff" * 9 + b"\x7f"  # ten bytes, exactly at the limit
    with pytest.raises(ValueError, match=r"^varints are at most 10 bytes long$"):
        _varint(1 << 70)
    with pytest.raises(ValueError, match=r"^varints here are unsigned$"):
        _varint(-1)


def test_an_encoder_needs_a_vocabulary_of_at_least_one_word() -> None:
    from preparation.recordio import SparseEncoder

    assert SparseEncoder(1).encode([0], [3.0]) == frame(encode_sparse(SparseRow((0,), (3.0,), 1)))
    with pytest.raises(ValueError, match=r"^dimension must be >= 1$"):
        SparseEncoder(0)
