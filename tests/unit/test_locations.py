import pytest
from ntm_tuning.errors import RequestRejected, Violation
from ntm_tuning.locations import S3Location, resolve_location, split_uri, vocabulary_location

from tests.settings_factory import DATA_BUCKET, make_settings


@pytest.mark.parametrize(
    ("uri", "bucket", "key"),
    [
        ("s3://data-bucket/corpora/demo/", "data-bucket", "corpora/demo/"),
        ("s3://data-bucket/a/b.json", "data-bucket", "a/b.json"),
        ("s3://data-bucket", "data-bucket", ""),
        ("s3://data-bucket/", "data-bucket", ""),
    ],
)
def test_a_uri_splits_into_bucket_and_key(uri: str, bucket: str, key: str) -> None:
    assert split_uri(uri) == (bucket, key)
    assert S3Location.parse(uri) == S3Location(bucket, key)


def test_a_location_round_trips_through_its_uri() -> None:
    location = S3Location("artifacts", "reports/ntm-0123.json")
    assert location.uri == "s3://artifacts/reports/ntm-0123.json"
    assert S3Location.parse(location.uri) == location


@pytest.mark.parametrize("value", ["data-bucket/key", "https://data-bucket/key", "S3://b/k", ""])
def test_anything_but_an_s3_uri_is_refused(value: str) -> None:
    with pytest.raises(ValueError, match="not an s3:// URI"):
        S3Location.parse(value)


@pytest.mark.parametrize(
    ("value", "key"),
    [
        (f"s3://{DATA_BUCKET}/corpora/demo/", "corpora/demo/"),
        ("corpora/demo/train.pbr", "corpora/demo/train.pbr"),
        # Leading slashes are not part of a key; every other character is kept.
        ("//Xenon/train/", "Xenon/train/"),
        (f"s3://{DATA_BUCKET}//corpora/X", "corpora/X"),
    ],
)
def test_a_key_or_a_uri_inside_the_data_bucket_is_a_location(value: str, key: str) -> None:
    assert resolve_location("data.train", value, make_settings()) == S3Location(DATA_BUCKET, key)


def rejection(value: str) -> Violation:
    with pytest.raises(RequestRejected) as raised:
        resolve_location("data.train", value, make_settings())
    (violation,) = raised.value.violations
    return violation


@pytest.mark.parametrize("value", ["https://data-bucket/key", "gs://corpora/demo/", "a://b"])
def test_a_uri_of_another_scheme_is_refused(value: str) -> None:
    assert rejection(value) == Violation(
        "data.train", "s3_location", "must be a key or an s3:// URI"
    )


@pytest.mark.parametrize(
    "value",
    ["", "/", f"s3://{DATA_BUCKET}/", "corpora//train", "corpora/./train", "corpora/../x", "a//X"],
)
def test_an_empty_or_relative_key_is_refused(value: str) -> None:
    assert rejection(value) == Violation(
        "data.train", "s3_location", f"{value!r} is not a usable S3 key or prefix"
    )


def test_a_uri_in_another_bucket_is_refused() -> None:
    assert rejection("s3://another-bucket/corpora/") == Violation(
        "data.train",
        "inside_data_bucket",
        f"must be in the data bucket {DATA_BUCKET!r}, not 'another-bucket'",
    )


@pytest.mark.parametrize(
    ("key", "vocabulary"),
    [
        ("corpora/aux/vocab.txt", "corpora/aux/vocab.txt"),
        ("vocab.txt", "vocab.txt"),
        ("corpora/aux/", "corpora/aux/vocab.txt"),
        ("corpora/aux", "corpora/aux/vocab.txt"),
        ("corpora/vocab.txt/", "corpora/vocab.txt/vocab.txt"),
        ("corpora/my-vocab.txt", "corpora/my-vocab.txt/vocab.txt"),
    ],
)
def test_the_vocabulary_is_the_named_file_or_vocab_txt_under_the_prefix(
    key: str, vocabulary: str
) -> None:
    assert vocabulary_location(S3Location("b", key)) == S3Location("b", vocabulary)
