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
    # Neither a version nor an ETag: the identity is the object's location alone.
    assert naming.s3_identity("b", "k", None, None) == "s3://b/k#etag="


def test_golden_names_for_known_identities() -> None:
    # Changing how a request is identified renames every job: a redelivery after a deployment
    # would then start a second tuning job for the same request.
    versioned = naming.s3_identity(
        "ntm-data-bucket", "requests/run.json", "3HL4kqtJlcpXroDTDmJ.rmSpXd3dIbrHY", '"abc"'
    )
    assert (
        versioned
        == "s3://ntm-data-bucket/requests/run.json#version=3HL4kqtJlcpXroDTDmJ.rmSpXd3dIbrHY"
    )
    assert naming.tuning_job_name(naming.request_id(versioned)) == "ntm-bf0150504ac7b48768827859"
    unversioned = naming.s3_identity(
        "ntm-data-bucket", "requests/run.json", None, '"9b2cf535f27731c974343645a3985328"'
    )
    assert (
        unversioned
        == "s3://ntm-data-bucket/requests/run.json#etag=9b2cf535f27731c974343645a3985328"
    )
    assert naming.tuning_job_name(naming.request_id(unversioned)) == "ntm-f4e3d8d303e9e37570796c25"
    assert naming.tuning_job_name(naming.request_id(naming.key_identity("x"))) == (
        "ntm-76b945435ce809f9293d182d"
    )
    assert naming.tuning_job_name(naming.request_id(naming.event_identity("x"))) == (
        "ntm-c16f378b13c991ba5ccdc5b1"
    )


def test_an_idempotency_key_and_an_event_id_that_are_equal_name_different_jobs() -> None:
    assert naming.request_id(naming.key_identity("x")) != naming.request_id(
        naming.event_identity("x")
    )


def test_processing_jobs_share_the_prefix_the_permissions_are_scoped_to() -> None:
    request = naming.request_id(naming.key_identity("corpus"))
    name = naming.processing_job_name(request)
    assert name == f"ntm-{request}-prep"
    assert name.startswith(naming.JOB_NAME_PREFIX)
    assert naming.tuning_job_name(request).startswith(naming.JOB_NAME_PREFIX)
    assert len(name) == 33
    assert naming.PROCESSING_JOB_NAME_PATTERN.fullmatch(name)
