import pytest
from ntm_tuning.locations import S3Location, split_uri


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
