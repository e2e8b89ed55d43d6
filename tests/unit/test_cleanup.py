"""The clean-up of executions that ended early, against fakes: what it stops, frees and
publishes in each case, and every field of the event and of its result."""

from __future__ import annotations

import json
from typing import Any

import pytest
from ntm_tuning import naming
from ntm_tuning.cleanup import clean_up
from ntm_tuning.events import FAILED, STOPPED

from tests.unit.step_fakes import FakeJobs, FakeLedger, FakePublisher

EXECUTION = "arn:aws:states:us-east-1:123456789012:execution:ntm:run-1"
NAME = "ntm-abc"
ARN = f"arn:aws:sagemaker:us-east-1:123456789012:hyper-parameter-tuning-job/{NAME}"
ORIGIN = {"type": "event", "event_id": "e-1", "source": "tests"}
REQUEST = {"request_id": "abc", "request_name": "demo", "origin": ORIGIN}
COUNTERS = {"Completed": 5, "InProgress": 4, "RetryableError": 3, "NonRetryableError": 2}
FIELDS = {
    "completed": 5,
    "in_progress": 4,
    "retryable_error": 3,
    "non_retryable_error": 2,
    "stopped": 0,
}


def status_change(status: str, **detail: Any) -> dict[str, Any]:
    return {"detail": {"executionArn": EXECUTION, "status": status, **detail}}


def world(
    tuning: str | None = None, processing: str | None = None, *, claimed: bool = True
) -> tuple[FakeJobs, FakeLedger, FakePublisher]:
    """An execution that claimed its request, holds a slot, and started the jobs given
    (their SageMaker status)."""
    jobs, ledger, publisher = FakeJobs(), FakeLedger(), FakePublisher()
    if claimed:
        ledger.claims["abc"] = EXECUTION
    ledger.leases.add(EXECUTION)
    ledger.jobs[EXECUTION] = {
        "tuning_job_name": NAME if tuning else None,
        "processing_job_name": "ntm-prep-abc" if processing else None,
        "request": REQUEST,
    }
    if tuning:
        jobs.tuning[NAME] = {
            "HyperParameterTuningJobArn": ARN,
            "HyperParameterTuningJobStatus": tuning,
            "TrainingJobStatusCounters": COUNTERS,
        }
    if processing:
        jobs.processing["ntm-prep-abc"] = {"ProcessingJobStatus": processing}
    return jobs, ledger, publisher


@pytest.mark.parametrize(
    ("status", "code", "words"),
    [("ABORTED", "ExecutionAborted", "aborted"), ("TIMED_OUT", "ExecutionTimedOut", "timed out")],
)
def test_an_execution_ended_while_its_job_ran_stops_it_and_publishes_stopped(
    status: str, code: str, words: str
) -> None:
    jobs, ledger, publisher = world("InProgress")
    result = clean_up(status_change(status), jobs, ledger, publisher)
    assert result == {
        "execution_id": EXECUTION,
        "status": status,
        "stopped": True,
        "tuning_job_name": NAME,
        "released": True,
        "event_id": "event-1",
        "published": STOPPED,
    }
    assert jobs.calls == [("describe", NAME), ("stop", NAME)]
    assert publisher.events == [
        (
            STOPPED,
            {
                **REQUEST,
                "tuning_job_name": NAME,
                "tuning_job_arn": ARN,
                "status": "Stopping",
                "counters": FIELDS,
                "reason": {
                    "code": code,
                    "message": f"the workflow execution was {words}; its tuning job was stopped",
                    "error": None,
                },
            },
            [ARN],
        )
    ]
    assert ledger.leases == set()
    assert ("reserve_outcome", ("abc", EXECUTION, STOPPED), {"take_over": True}) in ledger.calls
    assert ledger.outcomes["abc"] == {
        "detail_type": STOPPED,
        "execution_id": EXECUTION,
        "event_id": "event-1",
    }


def test_a_job_that_already_ended_is_left_alone_and_named_with_its_status() -> None:
    jobs, ledger, publisher = world("Completed")
    result = clean_up(status_change("ABORTED"), jobs, ledger, publisher, engine="local")
    assert result["stopped"] is False
    assert jobs.names() == ["describe"]
    ((detail_type, detail, _),) = publisher.events
    assert detail_type == STOPPED
    assert detail["status"] == "Completed"
    assert detail["engine"] == "local"
    assert detail["reason"]["message"] == "the workflow execution was aborted"


def test_a_failed_execution_is_a_failure_with_its_error_and_cause() -> None:
    jobs, ledger, publisher = world("InProgress")
    cause = json.dumps({"errorType": "KeyError", "errorMessage": "'job'"})
    result = clean_up(
        status_change("FAILED", error="States.TaskFailed", cause=cause), jobs, ledger, publisher
    )
    assert result["published"] == FAILED
    assert result["stopped"] is True
    ((detail_type, detail, resources),) = publisher.events
    assert detail_type == FAILED
    assert detail["reason"] == {
        "code": "ExecutionFailed",
        "message": "the workflow execution failed before it could publish an outcome: "
        "States.TaskFailed: KeyError: 'job'; its tuning job was stopped",
        "error": "States.TaskFailed",
    }
    assert detail["tuning_job_name"] == NAME
    assert resources == [ARN]
    assert "engine" not in detail


def test_a_failure_without_error_or_cause_says_so_and_long_ones_are_cut() -> None:
    jobs, ledger, publisher = world()
    clean_up(status_change("FAILED"), jobs, ledger, publisher)
    assert publisher.events[0][1]["reason"] == {
        "code": "ExecutionFailed",
        "message": "the workflow execution failed before it could publish an outcome",
        "error": None,
    }
    jobs, ledger, publisher = world()
    clean_up(status_change("FAILED", error="E" * 300, cause="c" * 3000), jobs, ledger, publisher)
    reason = publisher.events[0][1]["reason"]
    assert reason["error"] == "E" * 256
    assert len(reason["message"]) == 2000
    assert reason["message"].startswith(
        "the workflow execution failed before it could publish an outcome: EEE"
    )
    jobs, ledger, publisher = world()
    clean_up(status_change("FAILED", cause="plain words"), jobs, ledger, publisher)
    assert publisher.events[0][1]["reason"]["message"].endswith("outcome: plain words")


@pytest.mark.parametrize(("status", "stops"), [("InProgress", True), ("Completed", False)])
def test_an_execution_ended_while_preparing_stops_its_processing_job(
    status: str, stops: bool
) -> None:
    jobs, ledger, publisher = world(processing=status)
    result = clean_up(status_change("ABORTED"), jobs, ledger, publisher)
    assert result == {
        "execution_id": EXECUTION,
        "status": "ABORTED",
        "stopped": stops,
        "processing_job_name": "ntm-prep-abc",
        "released": True,
        "event_id": "event-1",
        "published": FAILED,
    }
    assert jobs.calls == [("describe_processing", "ntm-prep-abc")] + (
        [("stop_processing", "ntm-prep-abc")] if stops else []
    )
    ((detail_type, detail, resources),) = publisher.events
    assert detail_type == FAILED
    assert detail["tuning_job_name"] is None
    assert detail["tuning_job_arn"] is None
    assert detail["counters"] is None
    assert detail["status"] == ("Stopping" if stops else None)
    assert resources == []


def test_an_execution_that_succeeded_only_frees_its_slot() -> None:
    jobs, ledger, publisher = world("Completed")
    result = clean_up(status_change("SUCCEEDED"), jobs, ledger, publisher)
    assert result == {
        "execution_id": EXECUTION,
        "status": "SUCCEEDED",
        "stopped": False,
        "tuning_job_name": NAME,
        "released": True,
    }
    assert publisher.events == []
    assert "reserve_outcome" not in ledger.names()


def test_a_slot_released_before_is_reported_as_not_released() -> None:
    jobs, ledger, publisher = world("Completed")
    ledger.leases.clear()
    assert clean_up(status_change("ABORTED"), jobs, ledger, publisher)["released"] is False


def test_a_request_whose_event_went_out_gets_no_second_one() -> None:
    jobs, ledger, publisher = world("InProgress")
    ledger.outcomes["abc"] = {"detail_type": FAILED, "execution_id": EXECUTION, "event_id": "x"}
    result = clean_up(status_change("ABORTED"), jobs, ledger, publisher)
    assert result["already_published"] is True
    assert "published" not in result and "event_id" not in result
    assert result["stopped"] is True
    assert publisher.events == []


def test_a_duplicate_execution_publishes_nothing() -> None:
    jobs, ledger, publisher = world()
    ledger.claims["abc"] = "another-execution"
    result = clean_up(status_change("FAILED"), jobs, ledger, publisher)
    assert publisher.events == []
    assert "already_published" not in result
    assert "reserve_outcome" not in ledger.names()


def delivery(**fields: Any) -> dict[str, Any]:
    return {"origin": "event", "event_id": "e-9", "source": "tests", "request": {}, **fields}


@pytest.mark.parametrize("as_text", [True, False])
def test_an_execution_with_no_record_is_named_from_its_input(as_text: bool) -> None:
    jobs, ledger, publisher = FakeJobs(), FakeLedger(), FakePublisher()
    given = json.dumps(delivery()) if as_text else delivery()
    result = clean_up(status_change("ABORTED", input=given), jobs, ledger, publisher)
    request_id = naming.request_id(naming.event_identity("e-9"))
    assert result["published"] == FAILED
    assert result["released"] is False
    assert "tuning_job_name" not in result
    ((_, detail, _),) = publisher.events
    assert detail["request_id"] == request_id
    assert detail["request_name"] is None
    assert detail["origin"] == {"type": "event", "event_id": "e-9", "source": "tests"}
    assert detail["reason"]["message"] == "the workflow execution was aborted"
    assert jobs.calls == []
    assert ledger.outcomes[request_id]["event_id"] == "event-1"


def test_a_record_without_a_request_id_is_named_from_the_input() -> None:
    jobs, ledger, publisher = world()
    ledger.jobs[EXECUTION]["request"] = {}
    clean_up(status_change("ABORTED", input=delivery()), jobs, ledger, publisher)
    assert publisher.events[0][1]["request_id"] == naming.request_id(naming.event_identity("e-9"))


@pytest.mark.parametrize(
    "given", [None, "not json", "[1]", "7", {"origin": "nowhere"}, {"request_id": "r"}, 7]
)
def test_an_execution_whose_input_is_no_request_publishes_nothing(given: Any) -> None:
    jobs, ledger, publisher = FakeJobs(), FakeLedger(), FakePublisher()
    result = clean_up(status_change("FAILED", input=given), jobs, ledger, publisher)
    assert result == {
        "execution_id": EXECUTION,
        "status": "FAILED",
        "stopped": False,
        "released": False,
    }
    assert publisher.events == []
