"""Putting one event on the results bus (``aws.EventPublisher``), against botocore's Stubber:
the entry as PutEvents gets it, and a dropped entry raised, never passed over."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from ntm_tuning.aws import EventPublisher
from ntm_tuning.errors import EventPublishFailed

DETAIL_TYPE = "NTM Tuning Job Failed"


@pytest.fixture(scope="module")
def events() -> Any:
    return boto3.session.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1"
    ).client("events")


@pytest.fixture
def stub(events: Any) -> Iterator[Stubber]:
    with Stubber(events) as stubber:
        yield stubber
        stubber.assert_no_pending_responses()


def expect(stub: Stubber, response: dict[str, Any], detail: str = '{"n": 1}') -> None:
    stub.add_response(
        "put_events",
        response,
        {
            "Entries": [
                {
                    "EventBusName": "bus-e",
                    "Source": "ntm.custom",
                    "DetailType": DETAIL_TYPE,
                    "Detail": detail,
                    "Resources": ["arn:aws:sagemaker:us-east-1:1:hyper-parameter-tuning-job/a"],
                }
            ]
        },
    )


def publish(events: Any, detail: dict[str, Any] | None = None) -> str:
    publisher = EventPublisher("bus-e", "ntm.custom", events)
    assert (publisher.bus_name, publisher.source) == ("bus-e", "ntm.custom")
    return publisher.publish(
        DETAIL_TYPE,
        {"n": 1} if detail is None else detail,
        ["arn:aws:sagemaker:us-east-1:1:hyper-parameter-tuning-job/a"],
    )


def test_the_event_is_put_on_the_bus_and_its_id_returned(events: Any, stub: Stubber) -> None:
    expect(stub, {"FailedEntryCount": 0, "Entries": [{"EventId": "e-1"}]})
    assert publish(events) == "e-1"


def test_a_value_json_cannot_write_is_written_as_text(events: Any, stub: Stubber) -> None:
    at = dt.datetime(2026, 11, 27, 12, 0, tzinfo=dt.UTC)
    expect(stub, {"Entries": [{"EventId": "e-2"}]}, detail='{"at": "2026-11-27 12:00:00+00:00"}')
    # No FailedEntryCount in the response: nothing failed.
    assert publish(events, {"at": at}) == "e-2"


def test_a_dropped_entry_is_raised_with_its_code_and_message(events: Any, stub: Stubber) -> None:
    expect(
        stub,
        {
            "FailedEntryCount": 1,
            "Entries": [{"ErrorCode": "InternalFailure", "ErrorMessage": "try again"}],
        },
    )
    with pytest.raises(EventPublishFailed) as raised:
        publish(events)
    assert str(raised.value) == f"{DETAIL_TYPE}: InternalFailure try again"


def test_a_dropped_entry_without_a_message(events: Any, stub: Stubber) -> None:
    expect(stub, {"FailedEntryCount": 1, "Entries": [{"ErrorCode": "ThrottlingException"}]})
    with pytest.raises(EventPublishFailed) as raised:
        publish(events)
    assert str(raised.value) == f"{DETAIL_TYPE}: ThrottlingException"


def test_a_response_without_entries_is_a_failure(events: Any, stub: Stubber) -> None:
    expect(stub, {"FailedEntryCount": 0, "Entries": []})
    with pytest.raises(EventPublishFailed) as raised:
        publish(events)
    assert str(raised.value) == f"{DETAIL_TYPE}: unknown"


def test_an_entry_without_an_event_id_is_a_failure(events: Any, stub: Stubber) -> None:
    expect(stub, {"FailedEntryCount": 0, "Entries": [{}]})
    with pytest.raises(EventPublishFailed) as raised:
        publish(events)
    assert str(raised.value) == f"{DETAIL_TYPE}: unknown"


def test_a_failed_count_fails_even_with_an_event_id(events: Any, stub: Stubber) -> None:
    expect(stub, {"FailedEntryCount": 1, "Entries": [{"EventId": "e-3", "ErrorCode": "X"}]})
    with pytest.raises(EventPublishFailed) as raised:
        publish(events)
    assert str(raised.value) == f"{DETAIL_TYPE}: X"
