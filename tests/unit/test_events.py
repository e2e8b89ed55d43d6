"""Where a request came from, as the events tell it: each field of a delivery reaches its
origin and its identity, and clipped texts stay within their limits."""

from __future__ import annotations

import pytest
from ntm_tuning import events, naming
from pydantic import ValidationError

S3 = events.S3Delivery(
    origin="s3",
    event_id="e-1",
    bucket="data-bucket",
    key="requests/a.json",
    version_id="v-2",
    etag='"etag-3"',
)
UNVERSIONED = S3.model_copy(update={"version_id": None})
EVENT = events.EventDelivery(origin="event", event_id="e-4", source="team.pipeline")


def test_an_s3_delivery_becomes_its_origin_field_by_field() -> None:
    origin = events.origin_of(S3)
    assert origin == events.S3Origin(
        bucket="data-bucket", key="requests/a.json", version_id="v-2", etag='"etag-3"'
    )
    assert origin.model_dump(mode="json") == {
        "type": "s3",
        "bucket": "data-bucket",
        "key": "requests/a.json",
        "version_id": "v-2",
        "etag": '"etag-3"',
    }
    assert events.origin_of_dict(origin.model_dump(mode="json")) == origin


def test_an_event_delivery_becomes_its_origin_field_by_field() -> None:
    origin = events.origin_of(EVENT)
    assert origin.model_dump(mode="json") == {
        "type": "event",
        "event_id": "e-4",
        "source": "team.pipeline",
    }
    assert events.origin_of_dict(origin.model_dump(mode="json")) == origin


def test_an_origin_read_back_keeps_its_kind_and_refuses_the_other_kinds_fields() -> None:
    with pytest.raises(ValidationError):
        events.origin_of_dict({"type": "s3", "event_id": "e-4", "source": "team.pipeline"})
    with pytest.raises(ValidationError):
        events.origin_of_dict({"type": "event", "bucket": "b", "key": "k"})


def test_the_identity_of_a_delivery_is_its_object_version_or_its_event() -> None:
    assert events.delivery_identity(S3) == "s3://data-bucket/requests/a.json#version=v-2"
    assert events.delivery_identity(UNVERSIONED) == "s3://data-bucket/requests/a.json#etag=etag-3"
    assert events.delivery_identity(EVENT) == naming.event_identity("e-4") == "event:e-4"


@pytest.mark.parametrize(
    ("text", "limit", "clipped"),
    [
        ("abcdef", 6, "abcdef"),  # exactly at the limit: untouched
        ("abcdefg", 6, "abc..."),  # one over: cut, and still 6 long
        ("", 3, ""),
    ],
)
def test_clip_keeps_the_text_within_its_limit(text: str, limit: int, clipped: str) -> None:
    assert events.clip(text, limit) == clipped
    assert len(events.clip(text, limit)) <= limit


def test_a_delivery_is_parsed_by_its_origin() -> None:
    assert events.parse_delivery(S3.model_dump()) == S3
    assert events.parse_delivery(EVENT.model_dump()) == EVENT


def test_the_five_counters_are_read_each_from_its_own_field() -> None:
    counters = {
        "Completed": 5,
        "InProgress": 4,
        "RetryableError": 3,
        "NonRetryableError": 2,
        "Stopped": 1,
    }
    assert events.TrainingJobCounters.of({"TrainingJobStatusCounters": counters}) == (
        events.TrainingJobCounters(
            completed=5, in_progress=4, retryable_error=3, non_retryable_error=2, stopped=1
        )
    )
    # Absent counters (or no counters at all) are zero.
    assert events.TrainingJobCounters.of({"TrainingJobStatusCounters": {}}) == (
        events.TrainingJobCounters.of({})
    )
    assert events.TrainingJobCounters.of({}).model_dump() == {
        "completed": 0,
        "in_progress": 0,
        "retryable_error": 0,
        "non_retryable_error": 0,
        "stopped": 0,
    }
