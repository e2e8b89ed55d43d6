"""States "Start dataset preparation" and "Describe dataset preparation" against fakes."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from botocore.exceptions import ClientError
from ntm_tuning.preparation import describe_dataset_preparation, start_dataset_preparation
from ntm_tuning.state import PreparationPlan

from tests.unit.step_fakes import FakeJobs, FakeLedger, client_error

NOW = datetime(2026, 11, 27, 12, 30, tzinfo=UTC)
EXECUTION = "execution-1"
REQUEST = {"request_id": "abc", "request_name": "demo", "origin": {"type": "event"}}
PLAN = PreparationPlan(
    processing_job_name="ntm-prep-abc",
    create_request={"ProcessingJobName": "ntm-prep-abc"},
    config_uri="s3://data/prepared/abc/config.json",
    request_uri="s3://data/prepared/abc/request.json",
    dataset_uri="s3://data/prepared/abc/dataset/",
    corpus_uri="s3://data/corpora/demo/",
)


def test_the_started_preparation_job_is_recorded_for_its_execution() -> None:
    jobs, ledger = FakeJobs(), FakeLedger()
    started = start_dataset_preparation(PLAN, EXECUTION, REQUEST, jobs, ledger, now=NOW)
    assert started.model_dump() == {"processing_job_arn": "arn:processing/ntm-prep-abc"}
    assert jobs.created == [{"ProcessingJobName": "ntm-prep-abc"}]
    assert ledger.calls == [
        (
            "record_job",
            (EXECUTION, REQUEST),
            {"now": NOW, "tuning_job_name": None, "processing_job_name": "ntm-prep-abc"},
        )
    ]


def test_a_preparation_job_started_before_is_taken_up_again() -> None:
    jobs, ledger = FakeJobs(), FakeLedger()
    jobs.errors["create_processing"] = client_error("ResourceInUse")
    jobs.processing["ntm-prep-abc"] = {"ProcessingJobArn": "arn:existing"}
    started = start_dataset_preparation(PLAN, EXECUTION, REQUEST, jobs, ledger, now=NOW)
    assert started.processing_job_arn == "arn:existing"
    assert jobs.calls[1] == ("describe_processing", "ntm-prep-abc")
    assert ledger.calls[0][2]["processing_job_name"] == "ntm-prep-abc"


def test_a_start_without_a_clock_records_the_time_now() -> None:
    jobs, ledger = FakeJobs(), FakeLedger()
    before = datetime.now(UTC)
    start_dataset_preparation(PLAN, EXECUTION, REQUEST, jobs, ledger)
    assert before <= ledger.calls[0][2]["now"] <= datetime.now(UTC)


def test_any_other_refusal_fails_the_step_and_records_nothing() -> None:
    jobs, ledger = FakeJobs(), FakeLedger()
    jobs.errors["create_processing"] = client_error("ResourceLimitExceeded")
    with pytest.raises(ClientError):
        start_dataset_preparation(PLAN, EXECUTION, REQUEST, jobs, ledger, now=NOW)
    assert ledger.calls == []


def test_describe_reads_status_reason_and_exit_message() -> None:
    jobs = FakeJobs()
    jobs.processing["ntm-prep-abc"] = {
        "ProcessingJobStatus": "Failed",
        "FailureReason": "AlgorithmError",
        "ExitMessage": "no corpus",
    }
    assert describe_dataset_preparation("ntm-prep-abc", jobs) == {
        "status": "Failed",
        "failure_reason": "AlgorithmError",
        "exit_message": "no corpus",
    }
    jobs.processing["ntm-prep-abc"] = {"ProcessingJobStatus": "InProgress"}
    assert describe_dataset_preparation("ntm-prep-abc", jobs) == {
        "status": "InProgress",
        "failure_reason": None,
        "exit_message": None,
    }
