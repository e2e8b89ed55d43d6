"""The request's one terminal event, against fakes: each detail built from the state, each
failure reason, and every field of a rejection."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from ntm_tuning import events, naming
from ntm_tuning.errors import RequestRejected, Violation
from ntm_tuning.outcomes import (
    build_detail,
    error_message,
    failure_reason,
    publish_outcome,
    rejection,
    request_fields,
)
from ntm_tuning.state import OutcomeState

from tests.unit.step_fakes import FakeLedger, FakePublisher

EXAMPLES = Path(__file__).resolve().parents[2] / "schemas" / "examples"
EXECUTION = "execution-1"
ORIGIN = {"type": "event", "event_id": "e-1", "source": "tests"}
BASE = {"request_id": "abc", "request_name": "demo", "origin": ORIGIN}
COUNTERS = {
    "completed": 5,
    "in_progress": 4,
    "retryable_error": 3,
    "non_retryable_error": 2,
    "stopped": 1,
}


def ended_state(**fields: Any) -> dict[str, Any]:
    return {
        **BASE,
        "tuning_job_name": "ntm-abc",
        "watch_deadline": "2026-11-27T18:00:00+00:00",
        "start": {"tuning_job_arn": "arn:job", "duplicate": False, "capacity_exhausted": False},
        "job": {
            "status": "Failed",
            "counters": COUNTERS,
            "failure_reason": "AlgorithmError: bad data",
            "deadline_passed": False,
        },
        **fields,
    }


def publish(
    detail_type: str, state: dict[str, Any], ledger: FakeLedger, **kwargs: Any
) -> tuple[dict[str, Any], FakePublisher]:
    publisher = FakePublisher()
    given = OutcomeState.model_validate(state)
    published = publish_outcome(detail_type, given, publisher, ledger, EXECUTION, **kwargs)
    return published.model_dump(), publisher


def test_a_failure_is_published_once_with_every_field() -> None:
    ledger = FakeLedger()
    published, publisher = publish(events.FAILED, ended_state(), ledger)
    assert published == {
        "event_id": "event-1",
        "detail_type": events.FAILED,
        "already_published": False,
    }
    assert publisher.events == [
        (
            events.FAILED,
            {
                **BASE,
                "tuning_job_name": "ntm-abc",
                "tuning_job_arn": "arn:job",
                "status": "Failed",
                "counters": COUNTERS,
                "reason": {
                    "code": "TuningJobFailed",
                    "message": "AlgorithmError: bad data",
                    "error": None,
                },
            },
            ["arn:job"],
        )
    ]
    assert ledger.calls == [
        ("reserve_outcome", ("abc", EXECUTION, events.FAILED), {"take_over": False}),
        ("record_outcome", ("abc", "event-1"), {}),
    ]
    # Its retry finds the event recorded; another execution finds it reserved.
    ledger.outcomes["abc"]["execution_id"] = "another"
    again, publisher = publish(events.FAILED, ended_state(), ledger)
    assert again == {"event_id": None, "detail_type": events.FAILED, "already_published": True}
    assert publisher.events == []
    assert ledger.names()[-1] == "reserve_outcome"


def test_a_failure_before_validation_is_published_for_the_delivered_request() -> None:
    delivery = {"origin": "event", "event_id": "e-3", "source": "tests", "request": {}}
    state = {**delivery, "error": {"Error": "Lambda.Unknown", "Cause": "boom"}}
    ledger = FakeLedger()
    published, publisher = publish(events.FAILED, state, ledger)
    request_id = naming.request_id(naming.event_identity("e-3"))
    assert published["event_id"] == "event-1"
    ((_, detail, resources),) = publisher.events
    assert detail == {
        "request_id": request_id,
        "request_name": None,
        "origin": {"type": "event", "event_id": "e-3", "source": "tests"},
        "tuning_job_name": None,
        "tuning_job_arn": None,
        "status": None,
        "counters": None,
        "reason": {"code": "InternalError", "message": "boom", "error": "Lambda.Unknown"},
    }
    assert resources == []
    assert ledger.outcomes[request_id]["event_id"] == "event-1"


def test_the_offline_engine_marks_the_event_and_aws_leaves_the_field_out() -> None:
    _, publisher = publish(events.STOPPED, ended_state(), FakeLedger(), engine="scripted")
    assert publisher.events[0][1]["engine"] == "scripted"
    _, publisher = publish(events.STOPPED, ended_state(), FakeLedger())
    assert "engine" not in publisher.events[0][1]


def test_a_rejection_is_published_as_validation_built_it() -> None:
    detail = json.loads((EXAMPLES / "ntm-tuning-request-rejected.json").read_text())
    state = {**BASE, "rejection": detail}
    _, publisher = publish(events.REJECTED, state, FakeLedger(), engine="local")
    ((detail_type, sent, resources),) = publisher.events
    assert detail_type == events.REJECTED
    # A rejection is no engine's: the field stays out whatever played the job.
    assert sent == events.RequestRejectedDetail.model_validate(detail).model_dump(mode="json")
    assert "engine" not in sent
    assert resources == []


def test_a_success_is_published_as_the_summary_built_it() -> None:
    detail = json.loads((EXAMPLES / "ntm-tuning-job-succeeded.json").read_text())
    state = {
        **BASE,
        "result": {"detail": detail, "report_uri": "s3://a/r.json"},
        "start": {"tuning_job_arn": "arn:job", "duplicate": False, "capacity_exhausted": False},
    }
    _, publisher = publish(events.SUCCEEDED, state, FakeLedger(), engine="local")
    ((_, sent, resources),) = publisher.events
    expected = events.JobSucceededDetail.model_validate(detail).model_dump(mode="json")
    assert sent == {**expected, "engine": "local"}
    assert resources == ["arn:job"]


def test_an_unknown_detail_type_is_refused() -> None:
    with pytest.raises(ValueError, match=r"^unknown detail type 'NTM Something'$"):
        build_detail("NTM Something", ended_state())


def test_without_a_started_job_the_event_names_none() -> None:
    state = ended_state(start=None, job=None)
    del state["start"], state["job"]
    detail = build_detail(events.FAILED, state).model_dump(mode="json")
    assert detail["tuning_job_name"] is None
    assert detail["tuning_job_arn"] is None
    assert detail["status"] is None
    assert detail["counters"] is None
    assert detail["reason"]["code"] == "InternalError"
    stopped = build_detail(events.STOPPED, state)
    assert isinstance(stopped, events.JobStoppedDetail)
    assert stopped.model_dump()["reason"] == {
        "code": "TuningJobStopped",
        "message": "the tuning job was stopped",
        "error": None,
    }
    assert type(build_detail(events.FAILED, state)) is events.JobFailedDetail


def test_the_request_is_named_from_the_delivery_when_validation_broke() -> None:
    delivery = {
        "origin": "s3",
        "event_id": "e-2",
        "bucket": "data",
        "key": "requests/x.json",
        "version_id": "v1",
        "etag": "tag",
        "error": {"Error": "Boom"},
    }
    assert request_fields(delivery) == {
        "request_id": naming.request_id(naming.s3_identity("data", "requests/x.json", "v1", "tag")),
        "origin": {
            "type": "s3",
            "bucket": "data",
            "key": "requests/x.json",
            "version_id": "v1",
            "etag": "tag",
        },
    }
    assert request_fields({"request_id": "r", "origin": ORIGIN, "other": 1}) == {
        "request_id": "r",
        "request_name": None,
        "origin": ORIGIN,
    }


def reason(detail_type: str = events.FAILED, **state: Any) -> dict[str, Any]:
    return failure_reason(detail_type, state).model_dump()


# The errors a SageMaker call raises, as the Catch names them (a ClientError's code, or the
# adapter's own throttling error).
@pytest.mark.parametrize(
    "name",
    [
        "ClientError",
        "ValidationException",
        "ResourceLimitExceeded",
        "ResourceNotFound",
        "SageMakerThrottled",
        "ResourceInUse",
    ],
)
def test_a_sagemaker_error_is_a_sagemaker_failure(name: str) -> None:
    assert reason(error={"Error": name, "Cause": "refused"}) == {
        "code": "SageMakerError",
        "message": "refused",
        "error": name,
    }


def test_an_error_naming_sagemaker_is_a_sagemaker_failure_and_others_are_internal() -> None:
    assert reason(error={"Error": "Lambda.Unknown", "Cause": "the SageMaker call"})["code"] == (
        "SageMakerError"
    )
    assert reason(error={"Error": "Lambda.Unknown", "Cause": "a sagemaker call"}) == {
        "code": "InternalError",
        "message": "a sagemaker call",
        "error": "Lambda.Unknown",
    }
    assert reason(error={"Cause": "x" * 2500}) == {
        "code": "InternalError",
        "message": "x" * 2000,
        "error": "Unknown",
    }
    # The error outranks whatever the job says.
    assert reason(error={"Error": "E"}, job={"status": "Failed"})["code"] == "InternalError"


def test_a_failed_or_stopped_preparation_names_its_job_and_reason() -> None:
    preparation = {"processing_job_name": "ntm-prep-abc"}
    assert reason(
        preparation=preparation,
        preparation_status={"status": "Failed", "failure_reason": "AlgorithmError: no disk"},
    ) == {
        "code": "PreparationFailed",
        "message": "dataset preparation job ntm-prep-abc failed: AlgorithmError: no disk",
        "error": None,
    }
    assert reason(events.STOPPED, preparation_status={"status": "Stopped"}) == {
        "code": "PreparationFailed",
        "message": "dataset preparation job the processing job stopped: no reason given",
        "error": None,
    }
    long = reason(preparation_status={"status": "Failed", "failure_reason": "y" * 2500})
    assert len(long["message"]) == 2000
    assert reason(preparation_status={"status": "Completed"})["code"] == "InternalError"


def test_a_stopped_job_a_failed_job_and_a_deadline_each_have_their_reason() -> None:
    assert reason(events.STOPPED, job={"status": "Failed"}) == {
        "code": "TuningJobStopped",
        "message": "the tuning job was stopped",
        "error": None,
    }
    assert reason(job={"status": "Failed"}) == {
        "code": "TuningJobFailed",
        "message": "no reason given",
        "error": None,
    }
    assert reason(job={"status": "Failed", "failure_reason": "z" * 2100})["message"] == "z" * 2000
    assert reason(
        job={"status": "InProgress", "deadline_passed": True},
        watch_deadline="2026-11-27T18:00:00+00:00",
    ) == {
        "code": "WatchDeadlineExceeded",
        "message": "still InProgress at 2026-11-27T18:00:00+00:00; it was stopped",
        "error": None,
    }
    assert reason(job={"status": "Completed", "deadline_passed": False}) == {
        "code": "InternalError",
        "message": "the workflow failed without an error",
        "error": None,
    }


@pytest.mark.parametrize(
    ("cause", "message"),
    [
        (json.dumps({"errorType": "KeyError", "errorMessage": "'x'"}), "KeyError: 'x'"),
        (json.dumps({"errorMessage": "no type"}), "Error: no type"),
        (json.dumps({"message": "other envelope"}), json.dumps({"message": "other envelope"})),
        (json.dumps(["errorMessage"]), json.dumps(["errorMessage"])),
        ("not json at all", "not json at all"),
        (None, ""),
        (42, "42"),
    ],
)
def test_an_error_cause_shows_its_message_not_its_envelope(cause: Any, message: str) -> None:
    assert error_message(cause) == message


def test_a_rejection_lists_the_first_violations_each_clipped_and_counts_all() -> None:
    found = [Violation(f"field{i}", "rule", f"message {i}") for i in range(25)]
    found[0] = Violation("f" * 300, "r" * 70, "m" * 600)
    estimate = {
        "max_usd": 12.3456,
        "hourly_price_usd": 0.9,
        "instance_type": "ml.c5.xlarge",
        "instance_count": 2,
        "max_jobs": 4,
        "max_billable_seconds": 3600,
        "prices_as_of": "2026-11-01",
    }
    result = rejection({**BASE, "extra": 1}, RequestRejected(found, cost_estimate=estimate))
    assert result["outcome"] == "rejected"
    assert result["extra"] == 1
    assert result["request_id"] == "abc"
    detail = result["rejection"]
    assert detail["request_id"] == "abc"
    assert detail["request_name"] == "demo"
    assert detail["origin"] == ORIGIN
    assert detail["reason"] == "InvalidRequest"
    assert detail["violation_count"] == 25
    assert len(detail["violations"]) == 20
    assert detail["violations"][0] == {
        "field": "f" * 253 + "...",
        "rule": "r" * 61 + "...",
        "message": "m" * 497 + "...",
    }
    assert detail["violations"][19] == {"field": "field19", "rule": "rule", "message": "message 19"}
    assert detail["message"].startswith("25 problem(s): " + "f" * 300 + ": ")
    assert len(detail["message"]) == 1000 and detail["message"].endswith("...")
    assert detail["cost_estimate"] == {**estimate, "max_usd": 12.35}


def test_a_short_rejection_says_how_many_problems_and_has_no_estimate() -> None:
    result = rejection(BASE, RequestRejected([Violation("data", "exists", "no data")]))
    assert result["rejection"]["message"] == "1 problem(s): data: no data"
    assert result["rejection"]["cost_estimate"] is None
    assert result["rejection"]["violations"] == [
        {"field": "data", "rule": "exists", "message": "no data"}
    ]
