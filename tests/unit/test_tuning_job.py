"""States "Start tuning job", "Describe tuning job" and "Stop tuning job" against fakes: each
SageMaker answer, what the ledger is told, and every field of each result."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botocore.exceptions import ClientError
from ntm_tuning.progress import ProgressReport
from ntm_tuning.tags import EXECUTION_TAG
from ntm_tuning.tuning_job import describe_tuning_job, start_tuning_job, stop_tuning_job

from tests.unit.step_fakes import FakeJobs, FakeLedger, FakePublisher, client_error

NOW = datetime(2026, 11, 27, 12, 30, tzinfo=UTC)
NAME = "ntm-abc"
ARN = f"arn:tuning/{NAME}"
# "#" is no tag character: the job's tag holds it as "_".
EXECUTION = "run#1"
REQUEST = {
    "request_id": "abc",
    "request_name": "demo",
    "origin": {"type": "event", "event_id": "e-1", "source": "tests"},
}


def start(jobs: FakeJobs, ledger: FakeLedger, **kwargs: Any) -> dict[str, Any]:
    result = start_tuning_job(
        NAME,
        {"HyperParameterTuningJobName": NAME},
        EXECUTION,
        REQUEST,
        jobs,
        ledger,
        **kwargs,
    )
    return result.model_dump()


def test_a_started_job_is_recorded_for_its_execution() -> None:
    jobs, ledger = FakeJobs(), FakeLedger()
    assert start(jobs, ledger, now=NOW) == {
        "tuning_job_arn": ARN,
        "duplicate": False,
        "capacity_exhausted": False,
    }
    assert jobs.created == [{"HyperParameterTuningJobName": NAME}]
    assert ledger.calls == [
        (
            "record_job",
            (EXECUTION, REQUEST),
            {"now": NOW, "tuning_job_name": NAME, "processing_job_name": None},
        )
    ]


def test_a_start_without_a_clock_records_the_time_now() -> None:
    jobs, ledger = FakeJobs(), FakeLedger()
    before = datetime.now(UTC)
    start(jobs, ledger)
    recorded = ledger.calls[0][2]["now"]
    assert before <= recorded <= datetime.now(UTC)


def test_out_of_sagemaker_capacity_gives_the_slot_back_and_records_nothing() -> None:
    jobs, ledger = FakeJobs(), FakeLedger()
    jobs.errors["create"] = client_error("ResourceLimitExceeded")
    assert start(jobs, ledger, now=NOW) == {
        "tuning_job_arn": None,
        "duplicate": False,
        "capacity_exhausted": True,
    }
    assert ledger.calls == [("release", (EXECUTION,), {})]


def test_a_job_this_execution_started_before_is_its_own() -> None:
    jobs, ledger = FakeJobs(), FakeLedger()
    jobs.errors["create"] = client_error("ResourceInUse")
    jobs.tuning[NAME] = {"HyperParameterTuningJobArn": "arn:existing"}
    jobs.tag_sets["arn:existing"] = {EXECUTION_TAG: "run_1"}
    assert start(jobs, ledger, now=NOW) == {
        "tuning_job_arn": "arn:existing",
        "duplicate": False,
        "capacity_exhausted": False,
    }
    assert jobs.calls[1:] == [("describe", NAME), ("tags", "arn:existing")]
    assert ledger.names() == ["record_job"]
    assert ledger.calls[0][2]["tuning_job_name"] == NAME


@pytest.mark.parametrize("tags", [{EXECUTION_TAG: "run#1"}, {EXECUTION_TAG: "run_2"}, {}])
def test_a_job_another_execution_started_is_a_duplicate(tags: dict[str, str]) -> None:
    jobs, ledger = FakeJobs(), FakeLedger()
    jobs.errors["create"] = client_error("ResourceInUse")
    jobs.tuning[NAME] = {"HyperParameterTuningJobArn": "arn:existing"}
    jobs.tag_sets["arn:existing"] = tags
    assert start(jobs, ledger, now=NOW) == {
        "tuning_job_arn": "arn:existing",
        "duplicate": True,
        "capacity_exhausted": False,
    }
    assert ledger.calls == []


def test_any_other_refusal_fails_the_step() -> None:
    jobs, ledger = FakeJobs(), FakeLedger()
    jobs.errors["create"] = client_error("ValidationException")
    with pytest.raises(ClientError):
        start(jobs, ledger, now=NOW)
    assert ledger.calls == []


def job(status: str = "InProgress", **fields: Any) -> dict[str, Any]:
    return {
        "HyperParameterTuningJobName": NAME,
        "HyperParameterTuningJobArn": ARN,
        "HyperParameterTuningJobStatus": status,
        "TrainingJobStatusCounters": {
            "Completed": 1,
            "InProgress": 2,
            "RetryableError": 3,
            "NonRetryableError": 4,
            "Stopped": 5,
        },
        **fields,
    }


COUNTERS = {
    "completed": 1,
    "in_progress": 2,
    "retryable_error": 3,
    "non_retryable_error": 4,
    "stopped": 5,
}


def test_describe_reads_status_counters_and_reason() -> None:
    jobs = FakeJobs()
    jobs.tuning[NAME] = job("Failed", FailureReason="out of memory")
    deadline = (NOW + timedelta(seconds=1)).isoformat()
    status = describe_tuning_job(NAME, deadline, jobs, now=NOW)
    assert status.model_dump() == {
        "status": "Failed",
        "counters": COUNTERS,
        "failure_reason": "out of memory",
        "deadline_passed": False,
        "progress": None,
    }
    assert jobs.calls == [("describe", NAME)]


@pytest.mark.parametrize(
    ("offset", "passed"), [(timedelta(0), True), (timedelta(microseconds=1), False)]
)
def test_the_deadline_has_passed_from_its_very_moment(offset: timedelta, passed: bool) -> None:
    jobs = FakeJobs()
    jobs.tuning[NAME] = job()
    status = describe_tuning_job(NAME, (NOW + offset).isoformat(), jobs, now=NOW)
    assert status.deadline_passed is passed
    assert status.failure_reason is None


def test_describe_without_a_clock_compares_the_deadline_with_now() -> None:
    jobs = FakeJobs()
    jobs.tuning[NAME] = job()
    soon = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    assert describe_tuning_job(NAME, soon, jobs).deadline_passed is False
    past = (datetime.now(UTC) - timedelta(seconds=1)).isoformat()
    assert describe_tuning_job(NAME, past, jobs).deadline_passed is True


def test_describe_with_a_progress_report_publishes_and_says_so() -> None:
    jobs, ledger, publisher = FakeJobs(), FakeLedger(), FakePublisher()
    jobs.tuning[NAME] = job()
    report = ProgressReport(EXECUTION, REQUEST, None, ledger, publisher)
    status = describe_tuning_job(NAME, NOW.isoformat(), jobs, now=NOW, progress=report)
    assert status.progress == "published"
    (_, detail, resources) = publisher.events[0]
    assert detail["observed_at"] == NOW.isoformat()
    assert resources == [ARN]


@pytest.mark.parametrize("ended", ["Completed", "Failed", "Stopping", "Stopped"])
def test_stop_leaves_a_job_that_is_not_running(ended: str) -> None:
    jobs = FakeJobs()
    jobs.tuning[NAME] = job(ended)
    assert stop_tuning_job(NAME, jobs) == {"stopped": False, "status": ended}
    assert jobs.names() == ["describe"]


def test_stop_stops_a_running_job() -> None:
    jobs = FakeJobs()
    jobs.tuning[NAME] = job("InProgress")
    assert stop_tuning_job(NAME, jobs) == {"stopped": True, "status": "Stopping"}
    assert jobs.calls == [("describe", NAME), ("stop", NAME)]
