"""Tuning job names: valid for SageMaker, deterministic, distinct per request."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from ntm_tuning import naming

keys = st.text(min_size=1, max_size=200)
versions = st.one_of(st.none(), st.text(min_size=1, max_size=40))


@given(bucket=st.text(min_size=3, max_size=63), key=keys, version=versions, etag=versions)
def test_name_is_valid_and_deterministic(
    bucket: str, key: str, version: str | None, etag: str | None
) -> None:
    identity = naming.s3_identity(bucket, key, version, etag)
    name = naming.tuning_job_name(naming.request_id(identity))
    assert 1 <= len(name) <= 32
    assert naming.JOB_NAME_PATTERN.fullmatch(name)
    assert name == naming.tuning_job_name(
        naming.request_id(naming.s3_identity(bucket, key, version, etag))
    )


def test_distinct_requests_get_distinct_names() -> None:
    identities = {
        naming.s3_identity("bucket", f"requests/{i}.json", f"v{j}", None)
        for i in range(200)
        for j in range(10)
    }
    identities |= {naming.event_identity(f"event-{i}") for i in range(2000)}
    identities |= {naming.key_identity(f"key-{i}") for i in range(2000)}
    names = {naming.tuning_job_name(naming.request_id(identity)) for identity in identities}
    assert len(names) == len(identities) == 6000
    # Names are unique case-insensitively in SageMaker; ours are lower case already.
    assert len({name.lower() for name in names}) == len(names)


def test_version_wins_over_etag_and_quotes_do_not_matter() -> None:
    assert naming.s3_identity("b", "k", "v1", "e") == naming.s3_identity("b", "k", "v1", "other")
    assert naming.s3_identity("b", "k", None, '"abc"') == naming.s3_identity("b", "k", None, "abc")
    assert naming.s3_identity("b", "k", "v1", None) != naming.s3_identity("b", "k", "v2", None)
