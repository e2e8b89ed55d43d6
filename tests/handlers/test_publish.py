"""Handler "publish": every outcome reaches the results bus in its contract's shape."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3
import jsonschema
import pytest
from botocore.stub import ANY, Stubber
from ntm_tuning.errors import EventPublishFailed
from ntm_tuning.events import TrainingJobCounters
from ntm_tuning.handlers import publish_outcome, validate_request
from ntm_tuning.state import JobStatus, StartResult, dump

from tests.handlers.conftest import Aws, Clients, LambdaContext
from tests.settings_factory import REGION, example_request

SCHEMAS = Path(__file__).resolve().parents[2] / "schemas"
EXECUTION = "arn:aws:states:us-east-1:123456789012:execution:ntm:run-1"


def schema(detail_type: str) -> dict[str, Any]:
    name = detail_type.lower().replace(" ", "-")
    return json.loads((SCHEMAS / f"{name}.schema.json").read_text())


def accepted_state(aws: Aws, context: LambdaContext) -> dict[str, Any]:
    aws.put_dataset()
    return validate_request.handler(
        {"delivery": aws.put_request(example_request()), "execution_id": EXECUTION}, context
    )


def send(detail_type: str, state: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return publish_outcome.handler(
        {"detail_type": detail_type, "state": state, "execution_id": EXECUTION}, context
    )


def started(arn: str) -> dict[str, Any]:
    """What "Start tuning job" put at ``$.start``."""
    return dump(StartResult(tuning_job_arn=arn, duplicate=False, capacity_exhausted=False))


def job_status(status: str, *, deadline_passed: bool) -> dict[str, Any]:
    """What "Describe tuning job" put at ``$.job``."""
    return dump(
        JobStatus(
            status=status,
            counters=TrainingJobCounters(),
            failure_reason=None,
            deadline_passed=deadline_passed,
        )
    )


def only_event(aws: Aws, detail_type: str) -> dict[str, Any]:
    events = aws.published()
    assert [e["detail-type"] for e in events] == [detail_type]
    event = events[0]
    assert event["source"] == "ntm.tuning"
    jsonschema.validate(event["detail"], schema(detail_type))
    return event


def test_rejection_is_published(aws: Aws, context: LambdaContext) -> None:
    state = validate_request.handler(
        {"delivery": aws.put_request("{}"), "execution_id": EXECUTION}, context
    )
    result = send("NTM Tuning Request Rejected", state, context)
    event = only_event(aws, "NTM Tuning Request Rejected")
    assert event["id"] == result["event_id"]
    assert event["detail"]["violations"][0]["field"] == "data"
    assert event["detail"]["request_id"] == state["request_id"]


def test_failed_job_is_published_with_sagemakers_reason(aws: Aws, context: LambdaContext) -> None:
    state = accepted_state(aws, context)
    state["start"] = started(
        "arn:aws:sagemaker:us-east-1:123456789012:hyper-parameter-tuning-job/x"
    )
    state["job"] = dump(
        JobStatus(
            status="Failed",
            failure_reason="AlgorithmError: bad data",
            deadline_passed=False,
            counters=TrainingJobCounters(non_retryable_error=3),
        )
    )
    send("NTM Tuning Job Failed", state, context)
    event = only_event(aws, "NTM Tuning Job Failed")
    assert event["detail"]["reason"] == {
        "code": "TuningJobFailed",
        "message": "AlgorithmError: bad data",
        "error": None,
    }
    assert event["detail"]["tuning_job_name"] == state["tuning_job_name"]
    assert event["resources"] == [state["start"]["tuning_job_arn"]]


def test_stopped_job_is_published(aws: Aws, context: LambdaContext) -> None:
    state = accepted_state(aws, context)
    state["start"] = started("arn:x")
    state["job"] = job_status("Stopped", deadline_passed=False)
    send("NTM Tuning Job Stopped", state, context)
    assert (
        only_event(aws, "NTM Tuning Job Stopped")["detail"]["reason"]["code"] == "TuningJobStopped"
    )


def test_step_error_is_published_as_a_failure(aws: Aws, context: LambdaContext) -> None:
    state = accepted_state(aws, context)
    state["error"] = {
        "Error": "ClientError",
        "Cause": json.dumps(
            {
                "errorMessage": "An error occurred (ResourceLimitExceeded) when calling the CreateHyperParameterTuningJob operation: quota",
                "errorType": "ClientError",
            }
        ),
    }
    send("NTM Tuning Job Failed", state, context)
    detail = only_event(aws, "NTM Tuning Job Failed")["detail"]
    assert detail["reason"]["code"] == "SageMakerError"
    assert "ResourceLimitExceeded" in detail["reason"]["message"]
    assert detail["tuning_job_name"] is None  # no job was started


def test_error_before_validation_still_names_the_request(aws: Aws, context: LambdaContext) -> None:
    delivery = aws.put_request(example_request())
    state = {**delivery, "error": {"Error": "Lambda.Unknown", "Cause": "boom"}}
    send("NTM Tuning Job Failed", state, context)
    detail = only_event(aws, "NTM Tuning Job Failed")["detail"]
    assert detail["reason"] == {
        "code": "InternalError",
        "message": "boom",
        "error": "Lambda.Unknown",
    }
    assert detail["origin"]["key"] == "requests/run.json"


def test_watch_deadline_is_published_as_a_failure(aws: Aws, context: LambdaContext) -> None:
    state = accepted_state(aws, context)
    state["start"] = started("arn:x")
    state["job"] = job_status("InProgress", deadline_passed=True)
    send("NTM Tuning Job Failed", state, context)
    assert (
        only_event(aws, "NTM Tuning Job Failed")["detail"]["reason"]["code"]
        == "WatchDeadlineExceeded"
    )


def test_a_failed_entry_raises_so_the_state_machine_retries(
    aws: Aws, context: LambdaContext, clients: Clients
) -> None:
    state = validate_request.handler(
        {"delivery": aws.put_request("{}"), "execution_id": EXECUTION}, context
    )
    client = boto3.client("events", region_name=REGION)
    stubber = Stubber(client)
    stubber.add_response(
        "put_events",
        {
            "FailedEntryCount": 1,
            "Entries": [{"ErrorCode": "InternalFailure", "ErrorMessage": "try again"}],
        },
        {"Entries": ANY},
    )
    stubber.activate()
    clients(events=client)
    with pytest.raises(EventPublishFailed, match="InternalFailure"):
        send("NTM Tuning Request Rejected", state, context)


def test_unknown_detail_type_is_refused(aws: Aws, context: LambdaContext) -> None:
    with pytest.raises(ValueError, match="unknown detail type"):
        send("Something Else", {}, context)


@pytest.mark.parametrize(
    ("detail_type", "status"),
    [("NTM Tuning Job Failed", "Failed"), ("NTM Tuning Job Stopped", "Stopped")],
)
def test_failed_and_stopped_events_carry_each_counter_of_the_poll(
    aws: Aws, context: LambdaContext, detail_type: str, status: str
) -> None:
    counters = {
        "completed": 5,
        "in_progress": 4,
        "retryable_error": 3,
        "non_retryable_error": 2,
        "stopped": 1,
    }
    state = accepted_state(aws, context)
    state["start"] = started("arn:x")
    state["job"] = dump(
        JobStatus(
            status=status,
            failure_reason="AlgorithmError: bad data",
            deadline_passed=False,
            counters=TrainingJobCounters.model_validate(counters),
        )
    )
    send(detail_type, state, context)
    detail = only_event(aws, detail_type)["detail"]
    assert detail["counters"] == counters
    assert detail["status"] == status
    assert detail["tuning_job_name"] == state["tuning_job_name"]
    assert detail["tuning_job_arn"] == "arn:x"
