"""The S3 side of the handlers (``aws.DataStore``), against botocore's Stubber (the requests
checked against the S3 API model, every parameter compared) and, where the body's reading is
what is tested, a stand-in body that records how it is read."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber
from ntm_tuning.aws import DataStore, ObjectTooLarge, error_code

BUCKET = "data-b"


@pytest.fixture(scope="module")
def s3() -> Any:
    return boto3.session.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1"
    ).client("s3")


@pytest.fixture
def stub(s3: Any) -> Iterator[Stubber]:
    with Stubber(s3) as stubber:
        yield stubber
        stubber.assert_no_pending_responses()


class Body:
    """A streamed object body: records each read's size and whether it was closed."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.reads: list[int | None] = []
        self.closed = False

    def read(self, size: int | None = None) -> bytes:
        self.reads.append(size)
        if size is None:
            chunk, self.data = self.data, b""
        else:
            chunk, self.data = self.data[:size], self.data[size:]
        return chunk

    def close(self) -> None:
        self.closed = True


class S3:
    """get_object only: the response given, or the error named, recording each call."""

    def __init__(self, response: dict[str, Any] | None = None, code: str | None = None) -> None:
        self.response = response
        self.code = code
        self.calls: list[dict[str, Any]] = []

    def get_object(self, **kwargs: Any) -> dict[str, Any]:
        self.calls.append(kwargs)
        if self.code is not None:
            raise ClientError({"Error": {"Code": self.code, "Message": "m"}}, "GetObject")
        assert self.response is not None
        return self.response


def store(s3: Any) -> DataStore:
    """The adapter on a Stubber's client or a stand-in."""
    return DataStore(s3)


def test_the_error_code_of_a_client_error() -> None:
    assert error_code(ClientError({"Error": {"Code": "NoSuchKey"}}, "GetObject")) == "NoSuchKey"
    assert error_code(ClientError({"Error": {"Message": "no code"}}, "GetObject")) == ""
    assert error_code(ClientError({}, "GetObject")) == ""
    numeric: Any = {"Error": {"Code": 404}}
    assert error_code(ClientError(numeric, "HeadObject")) == "404"


# -- read ------------------------------------------------------------------------------
def test_read_asks_for_the_object_and_its_version() -> None:
    fake = S3({"ContentLength": 3, "Body": Body(b"abc")})
    assert store(fake).read(BUCKET, "requests/a.json", "v-7", limit=10) == b"abc"
    assert fake.calls == [{"Bucket": BUCKET, "Key": "requests/a.json", "VersionId": "v-7"}]
    fake = S3({"ContentLength": 3, "Body": Body(b"abc")})
    assert store(fake).read(BUCKET, "requests/a.json", None, limit=10) == b"abc"
    assert fake.calls == [{"Bucket": BUCKET, "Key": "requests/a.json"}]


def test_an_object_exactly_at_the_limit_is_read_whole() -> None:
    body = Body(b"0123456789")
    data = store(S3({"ContentLength": 10, "Body": body})).read(BUCKET, "k", None, limit=10)
    assert data == b"0123456789"
    # One byte more than the limit is asked for, so a longer body shows itself.
    assert body.reads == [11] and body.closed


def test_an_object_announced_over_the_limit_is_not_read() -> None:
    body = Body(b"0123456789A")
    with pytest.raises(ObjectTooLarge) as raised:
        store(S3({"ContentLength": 11, "Body": body})).read(BUCKET, "k", None, limit=10)
    assert raised.value.size == 11
    assert str(raised.value) == "11 bytes"
    assert body.reads == [] and body.closed


def test_a_body_longer_than_announced_is_cut_one_byte_past_the_limit() -> None:
    body = Body(b"0123456789ABCDEF")
    with pytest.raises(ObjectTooLarge) as raised:
        store(S3({"ContentLength": 4, "Body": body})).read(BUCKET, "k", None, limit=10)
    assert raised.value.size == 11
    assert body.reads == [11] and body.closed


def test_without_a_length_the_body_itself_is_measured() -> None:
    body = Body(b"")
    assert store(S3({"Body": body})).read(BUCKET, "k", None, limit=0) == b""
    body = Body(b"x")
    with pytest.raises(ObjectTooLarge) as raised:
        store(S3({"Body": body})).read(BUCKET, "k", None, limit=0)
    assert raised.value.size == 1


@pytest.mark.parametrize("code", ["NoSuchKey", "404", "NotFound", "NoSuchVersion"])
def test_a_missing_object_reads_as_none(code: str) -> None:
    assert store(S3(code=code)).read(BUCKET, "k", "v", limit=10) is None
    assert store(S3(code=code)).count_lines(BUCKET, "k") is None


@pytest.mark.parametrize("code", ["AccessDenied", "SlowDown"])
def test_any_other_error_is_raised(code: str) -> None:
    with pytest.raises(ClientError):
        store(S3(code=code)).read(BUCKET, "k", None, limit=10)
    with pytest.raises(ClientError):
        store(S3(code=code)).count_lines(BUCKET, "k")


# -- count_lines, open -----------------------------------------------------------------
@pytest.mark.parametrize(
    ("data", "lines"),
    [
        (b"", 0),
        (b"\n", 1),
        (b"a", 1),
        (b"a\nb", 2),
        (b"a\nb\n", 2),
        (b"a\n\nb\n", 3),
        (b"ab\n", 1),
    ],
)
def test_lines_are_counted_with_or_without_a_final_newline(data: bytes, lines: int) -> None:
    fake = S3({"Body": Body(data)})
    assert store(fake).count_lines(BUCKET, "vocab.txt") == lines
    assert fake.calls == [{"Bucket": BUCKET, "Key": "vocab.txt"}]


def test_lines_are_streamed_in_chunks_of_a_mebibyte() -> None:
    size = 1 << 20
    # A chunk boundary right after a newline, and a last line without one.
    data = b"x" * (size - 1) + b"\n" + b"tail\nend"
    body = Body(data)
    assert store(S3({"Body": body})).count_lines(BUCKET, "k") == 3
    assert body.reads == [size, size, size] and body.closed


def test_lines_ending_on_a_chunk_boundary_are_not_counted_twice() -> None:
    size = 1 << 20
    body = Body(b"y" * (size - 1) + b"\n")
    assert store(S3({"Body": body})).count_lines(BUCKET, "k") == 1


def test_open_gives_the_objects_body() -> None:
    body = Body(b"stream")
    fake = S3({"Body": body})
    assert store(fake).open(BUCKET, "corpus/a.jsonl") is body
    assert fake.calls == [{"Bucket": BUCKET, "Key": "corpus/a.jsonl"}]


# -- listing ---------------------------------------------------------------------------
def _listed(
    stub: Stubber, prefix: str, pages: list[list[tuple[str, int]]], *, asked: int | None = None
) -> None:
    """Stub list_objects_v2 pages (of 1,000 keys each, as the adapter asks); only the first
    ``asked`` are answered, so asking for another fails the test."""
    for number, page in enumerate(pages[:asked]):
        expected: dict[str, Any] = {"Bucket": BUCKET, "Prefix": prefix, "MaxKeys": 1000}
        if number:
            expected["ContinuationToken"] = f"token-{number}"
        response: dict[str, Any] = {
            "Contents": [{"Key": key, "Size": size} for key, size in page],
            "IsTruncated": number < len(pages) - 1,
        }
        if number < len(pages) - 1:
            response["NextContinuationToken"] = f"token-{number + 1}"
        stub.add_response("list_objects_v2", response, expected)


def test_count_objects_counts_the_non_empty_ones_across_pages(s3: Any, stub: Stubber) -> None:
    _listed(
        stub,
        "datasets/d/train/",
        [
            [("datasets/d/train/", 0), ("datasets/d/train/a", 1), ("datasets/d/train/b", 5)],
            [("datasets/d/train/c", 2)],
        ],
    )
    assert store(s3).count_objects(BUCKET, "datasets/d/train/", up_to=10) == 3


def test_an_entry_without_a_size_counts_as_empty(s3: Any, stub: Stubber) -> None:
    for _ in range(2):
        stub.add_response(
            "list_objects_v2",
            {"Contents": [{"Key": "p/unsized"}, {"Key": "p/a", "Size": 4}], "IsTruncated": False},
            {"Bucket": BUCKET, "Prefix": "p/", "MaxKeys": 1000},
        )
    assert store(s3).count_objects(BUCKET, "p/", up_to=5) == 1
    assert store(s3).sizes(BUCKET, "p/", up_to=5) == {"p/a": 4}


def test_count_objects_stops_at_up_to(s3: Any, stub: Stubber) -> None:
    _listed(stub, "p/", [[("p/a", 1), ("p/b", 1)], [("p/c", 1)]], asked=1)
    # The second page is never asked for: the count reached up_to on the first.
    assert store(s3).count_objects(BUCKET, "p/", up_to=2) == 2


def test_an_empty_listing_counts_nothing(s3: Any, stub: Stubber) -> None:
    stub.add_response(
        "list_objects_v2",
        {"IsTruncated": False},
        {"Bucket": BUCKET, "Prefix": "p/", "MaxKeys": 1000},
    )
    assert store(s3).count_objects(BUCKET, "p/", up_to=5) == 0


def test_sizes_are_those_of_the_non_empty_objects_across_pages(s3: Any, stub: Stubber) -> None:
    _listed(
        stub,
        "d/",
        [
            [("d/", 0), ("d/empty", 0), ("d/a", 7), ("d/folder/", 3)],
            [("d/b", 1)],
        ],
    )
    assert store(s3).sizes(BUCKET, "d/", up_to=10) == {"d/a": 7, "d/b": 1}


def test_sizes_stop_at_up_to_objects(s3: Any, stub: Stubber) -> None:
    _listed(stub, "d/", [[("d/a", 7), ("d/b", 8)], [("d/c", 9)]], asked=1)
    assert store(s3).sizes(BUCKET, "d/", up_to=2) == {"d/a": 7, "d/b": 8}


def test_sizes_of_an_empty_listing(s3: Any, stub: Stubber) -> None:
    stub.add_response(
        "list_objects_v2",
        {"IsTruncated": False},
        {"Bucket": BUCKET, "Prefix": "d/", "MaxKeys": 1000},
    )
    assert store(s3).sizes(BUCKET, "d/", up_to=2) == {}


# -- put_json --------------------------------------------------------------------------
def test_put_json_writes_sorted_indented_json(s3: Any, stub: Stubber) -> None:
    document = {"b": 1, "a": {"when": object.__name__}, "é": "ü"}
    stub.add_response(
        "put_object",
        {},
        {
            "Bucket": BUCKET,
            "Key": "reports/r.json",
            "Body": json.dumps(document, indent=2, sort_keys=True).encode("utf-8"),
            "ContentType": "application/json",
        },
    )
    assert store(s3).put_json(BUCKET, "reports/r.json", document) == (
        f"s3://{BUCKET}/reports/r.json"
    )


def test_put_json_writes_what_json_cannot_as_text(s3: Any, stub: Stubber) -> None:
    class Stamp:
        def __str__(self) -> str:
            return "2026-11-27"

    stub.add_response(
        "put_object",
        {},
        {
            "Bucket": BUCKET,
            "Key": "r.json",
            "Body": b'{\n  "at": "2026-11-27",\n  "n": 1\n}',
            "ContentType": "application/json",
        },
    )
    store(s3).put_json(BUCKET, "r.json", {"n": 1, "at": Stamp()})
