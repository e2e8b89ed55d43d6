"""SageMaker's recordIO-wrapped protobuf, as the built-in algorithms read it.

Each record is the ``aialgs.data.Record`` protobuf message framed by MXNet's RecordIO:
a little-endian magic number ``0xced7230a``, a 32-bit word holding the payload length
(the top three bits are the continuation flag, always 0 here), the payload, and zero
padding to a 4-byte boundary.

A sparse document is one record whose ``features["values"]`` is a ``Float32Tensor`` with
``values`` (the counts), ``keys`` (the word ids) and ``shape`` (``[vocabulary size]``), the
layout of ``write_spmatrix_to_sparse_tensor`` in the SageMaker Python SDK v2. Fields are
written in field-number order with packed repeated scalars, as protobuf's own serializer does,
so the bytes match the SDK's.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import BinaryIO

MAGIC = 0xCED7230A
_LENGTH_MASK = (1 << 29) - 1

# Protobuf field numbers of aialgs.data.Record, Value and Float32Tensor.
_RECORD_FEATURES = 1
_RECORD_LABEL = 2
_MAP_KEY = 1
_MAP_VALUE = 2
_VALUE_FLOAT32_TENSOR = 2
_TENSOR_VALUES = 1
_TENSOR_KEYS = 2
_TENSOR_SHAPE = 3
_LEN = 2  # wire type: length-delimited


_VALUES_TAG = bytes([(_TENSOR_VALUES << 3) | _LEN])
_KEYS_TAG = bytes([(_TENSOR_KEYS << 3) | _LEN])
_FLOAT32_TENSOR_TAG = bytes([(_VALUE_FLOAT32_TENSOR << 3) | _LEN])
_FEATURES_TAG = bytes([(_RECORD_FEATURES << 3) | _LEN])
# The map entry's key field ("values") followed by the tag of its value field.
_VALUES_KEY = bytes([(_MAP_KEY << 3) | _LEN, 6]) + b"values" + bytes([(_MAP_VALUE << 3) | _LEN])


# A protobuf varint is at most 10 bytes long (64 bits, 7 a byte).
_MAX_VARINT_BYTES = 10


def _varint(number: int) -> bytes:
    if number < 0:
        raise ValueError("varints here are unsigned")
    out = bytearray()
    for _ in range(_MAX_VARINT_BYTES):
        byte = number & 0x7F
        number >>= 7
        if number:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)
    raise ValueError("varints are at most 10 bytes long")


# Lengths below 16384 (one- and two-byte varints) cover all but very long documents.
_SHORT_VARINTS = [_varint(number) for number in range(1 << 14)]
_HEADERS = struct.Struct("<II")
_PADDING = [b"\x00" * count for count in range(4)]


def _length(number: int) -> bytes:
    # The table holds what _varint gives: skipping it is only slower.
    return _SHORT_VARINTS[number] if number < 16384 else _varint(number)  # pragma: no mutate


def _field(number: int, payload: bytes) -> bytes:
    return _varint((number << 3) | _LEN) + _varint(len(payload)) + payload


def _packed_floats(number: int, values: Sequence[float]) -> bytes:
    return _field(number, struct.pack(f"<{len(values)}f", *values)) if values else b""


def _packed_varints(number: int, values: Iterable[int]) -> bytes:
    payload = b"".join(_varint(v) for v in values)
    return _field(number, payload) if payload else b""


@dataclass(frozen=True)
class SparseRow:
    """One document: word ids and their counts, over a vocabulary of ``dimension`` words."""

    keys: tuple[int, ...]
    values: tuple[float, ...]
    dimension: int


def encode_sparse(row: SparseRow, label: float | None = None) -> bytes:
    """The protobuf Record of one sparse row."""
    tensor = (
        _packed_floats(_TENSOR_VALUES, row.values)
        + _packed_varints(_TENSOR_KEYS, row.keys)
        + _packed_varints(_TENSOR_SHAPE, (row.dimension,))
    )
    record = _field(
        _RECORD_FEATURES,
        _field(_MAP_KEY, b"values") + _field(_MAP_VALUE, _field(_VALUE_FLOAT32_TENSOR, tensor)),
    )
    if label is not None:
        label_tensor = _packed_floats(_TENSOR_VALUES, (label,))
        record += _field(
            _RECORD_LABEL,
            _field(_MAP_KEY, b"values")
            + _field(_MAP_VALUE, _field(_VALUE_FLOAT32_TENSOR, label_tensor)),
        )
    return record


def _header(size: int) -> bytes:
    """The RecordIO header of a payload of ``size`` bytes: the length must fit in 29 bits."""
    if size > _LENGTH_MASK:
        raise ValueError("record too large for RecordIO")
    return _HEADERS.pack(MAGIC, size)


def frame(payload: bytes) -> bytes:
    """Wrap one payload in a RecordIO frame."""
    size = len(payload)
    return b"".join((_header(size), payload, _PADDING[-size % 4]))


def write_sparse(stream: BinaryIO, rows: Iterable[SparseRow]) -> int:
    """Write rows as recordIO-protobuf; returns how many were written."""
    count = 0
    for row in rows:
        stream.write(frame(encode_sparse(row)))
        count += 1
    return count


class SparseEncoder:
    """Framed records of one vocabulary size: the bytes of ``frame(encode_sparse(row))``.

    Built for writing millions of documents: the varint of every word id and the shape field
    are computed once, so a record costs a few joins instead of a Python call per word.
    """

    def __init__(self, dimension: int) -> None:
        if dimension < 1:
            raise ValueError("dimension must be >= 1")
        self.dimension = dimension
        self._keys = [_varint(key) for key in range(dimension)]
        self._shape = _packed_varints(_TENSOR_SHAPE, (dimension,))
        self._floats: dict[int, struct.Struct] = {}

    def encode(self, keys: Sequence[int], values: Sequence[float]) -> bytes:
        """One framed record; keys ascending word ids below the dimension, values their counts."""
        count = len(keys)
        if len(values) != count:
            raise ValueError("keys and values differ in length")
        if count:
            if keys[0] < 0 or keys[-1] >= self.dimension:
                raise ValueError(f"word ids must be in [0, {self.dimension})")
            # A cache of packers by length: a miss only makes a new one.
            packer = self._floats.get(count)  # pragma: no mutate
            if packer is None:
                packer = self._floats[count] = struct.Struct(f"<{count}f")
            floats = packer.pack(*values)
            key_bytes = b"".join([self._keys[key] for key in keys])
            tensor = b"".join(
                (
                    _VALUES_TAG,
                    _length(len(floats)),
                    floats,
                    _KEYS_TAG,
                    _length(len(key_bytes)),
                    key_bytes,
                    self._shape,
                )
            )
        else:
            tensor = self._shape
        value = _FLOAT32_TENSOR_TAG + _length(len(tensor)) + tensor
        entry = _VALUES_KEY + _length(len(value)) + value
        record = b"".join((_FEATURES_TAG, _length(len(entry)), entry))
        size = len(record)
        return b"".join((_header(size), record, _PADDING[-size % 4]))


def read_frames(stream: BinaryIO) -> Iterator[bytes]:
    """The payloads of a RecordIO stream."""
    while header := stream.read(8):
        if len(header) < 8:
            raise ValueError("truncated RecordIO header")
        magic, word = struct.unpack("<II", header)
        if magic != MAGIC:
            raise ValueError(f"bad RecordIO magic {magic:#x}")
        if word >> 29:
            raise ValueError("multi-part RecordIO records are not supported")
        length = word & _LENGTH_MASK
        payload = stream.read(length)
        if len(payload) < length:
            raise ValueError("truncated RecordIO record")
        stream.read((4 - length % 4) % 4)
        yield payload


def _read_varint(data: bytes, position: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        byte = data[position]
        position += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, position
        shift += 7


def _fields(data: bytes) -> Iterator[tuple[int, int, bytes | int]]:
    position = 0
    while position < len(data):
        tag, position = _read_varint(data, position)
        number, wire = tag >> 3, tag & 7
        if wire == _LEN:
            length, position = _read_varint(data, position)
            yield number, wire, data[position : position + length]
            position += length
        elif wire == 0:
            value, position = _read_varint(data, position)
            yield number, wire, value
        elif wire == 5:
            yield number, wire, data[position : position + 4]
            position += 4
        elif wire == 1:
            yield number, wire, data[position : position + 8]
            position += 8
        else:
            raise ValueError(f"unsupported protobuf wire type {wire}")


def _unpack_varints(data: bytes) -> list[int]:
    values, position = [], 0
    while position < len(data):
        value, position = _read_varint(data, position)
        values.append(value)
    return values


def decode_features(payload: bytes) -> SparseRow:
    """The ``features["values"]`` tensor of a Record, sparse or dense."""
    for number, _, entry in _fields(payload):
        if number != _RECORD_FEATURES or not isinstance(entry, bytes):
            continue
        key = value = b""
        for field_number, _, content in _fields(entry):
            if field_number == _MAP_KEY and isinstance(content, bytes):
                key = content
            elif field_number == _MAP_VALUE and isinstance(content, bytes):
                value = content
        if key != b"values":
            continue
        for field_number, _, tensor in _fields(value):
            if field_number != _VALUE_FLOAT32_TENSOR or not isinstance(tensor, bytes):
                raise ValueError("only float32 tensors are supported")
            floats: list[float] = []
            keys: list[int] = []
            shape: list[int] = []
            for tensor_field, wire, content in _fields(tensor):
                if tensor_field == _TENSOR_VALUES and isinstance(content, bytes):
                    if wire == _LEN:
                        floats.extend(struct.unpack(f"<{len(content) // 4}f", content))
                    else:
                        floats.append(struct.unpack("<f", content)[0])
                elif tensor_field == _TENSOR_KEYS:
                    keys.extend(
                        _unpack_varints(content) if isinstance(content, bytes) else [content]
                    )
                elif tensor_field == _TENSOR_SHAPE:
                    shape.extend(
                        _unpack_varints(content) if isinstance(content, bytes) else [content]
                    )
            if not keys:  # dense: every position has a value
                keys = list(range(len(floats)))
            dimension = shape[0] if shape else len(floats)
            return SparseRow(tuple(keys), tuple(floats), dimension)
    raise ValueError("record has no features['values'] tensor")


def read_sparse(stream: BinaryIO) -> Iterator[SparseRow]:
    for payload in read_frames(stream):
        yield decode_features(payload)
