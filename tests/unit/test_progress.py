"""Progress events of "Describe tuning job" against fakes: every field of the event, when one
is sent, and that no failure to send one fails the poll."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botocore.exceptions import BotoCoreError
from ntm_tuning.errors import EventPublishFailed, LedgerThrottled, SageMakerThrottled
from ntm_tuning.events import PROGRESS
from ntm_tuning.progress import ProgressReport, report_progress

from tests.unit.step_fakes import FakeJobs, FakeLedger, FakePublisher, client_error

NOW = datetime(2026, 11, 27, 12, 30, tzinfo=UTC)
NAME = "ntm-abc"
ARN = f"arn:aws:sagemaker:us-east-1:123456789012:hyper-parameter-tuning-job/{NAME}"
EXECUTION = "execution-1"
REQUEST = {
    "request_id": "abc",
    "request_name": "demo",
    "origin": {"type": "event", "event_id": "e-1", "source": "tests"},
}
ESTIMATE = {"instance_count": 2, "hourly_price_usd": 0.9}


def tuning_job(**fields: Any) -> dict[str, Any]:
    job: dict[str, Any] = {
        "HyperParameterTuningJobName": NAME,
        "HyperParameterTuningJobArn": ARN,
        "HyperParameterTuningJobStatus": "InProgress",
        "HyperParameterTuningJobConfig": {"ResourceLimits": {"MaxNumberOfTrainingJobs": 9}},
        "TrainingJobStatusCounters": {
            "Completed": 1,
            "InProgress": 2,
            "RetryableError": 3,
            "NonRetryableError": 4,
            "Stopped": 5,
        },
        "BestTrainingJob": {
            "TrainingJobName": f"{NAME}-007",
            # Not the objective's usual name: the event shows the one SageMaker reported.
            "FinalHyperParameterTuningJobObjectiveMetric": {
                "MetricName": "validation:recons_loss",
                "Value": 2.5,
            },
        },
    }
    job.update(fields)
    return job


def setup(
    estimate: dict[str, Any] | None = None,
) -> tuple[FakeJobs, FakeLedger, FakePublisher, ProgressReport]:
    jobs, ledger, publisher = FakeJobs(), FakeLedger(), FakePublisher()
    jobs.summaries[NAME] = [
        # Ended: 100 s; running: 30 s up to now; not started: nothing.
        {
            "TrainingStartTime": NOW - timedelta(seconds=300),
            "TrainingEndTime": NOW - timedelta(seconds=200),
        },
        {"TrainingStartTime": NOW - timedelta(seconds=30)},
        {"TrainingJobName": "waiting"},
    ]
    return jobs, ledger, publisher, ProgressReport(EXECUTION, REQUEST, estimate, ledger, publisher)


COUNTERS = {
    "completed": 1,
    "in_progress": 2,
    "retryable_error": 3,
    "non_retryable_error": 4,
    "stopped": 5,
}


def test_the_first_poll_publishes_every_field_and_records_it() -> None:
    jobs, ledger, publisher, report = setup(ESTIMATE)
    assert report_progress(tuning_job(), jobs, report, now=NOW) == "published"
    expected = {
        **REQUEST,
        "tuning_job_name": NAME,
        "tuning_job_arn": ARN,
        "status": "InProgress",
        "counters": COUNTERS,
        "max_jobs": 9,
        "best_training_job": {
            "name": f"{NAME}-007",
            "objective": {"metric_name": "validation:recons_loss", "value": 2.5},
        },
        "billable_seconds": 130,
        # 130 s x 2 instances x $0.9 an hour.
        "cost_usd": round(130 * 2 * 0.9 / 3600, 4),
        "observed_at": NOW.isoformat(),
    }
    assert publisher.events == [(PROGRESS, expected, [ARN])]
    assert jobs.calls == [("training_jobs", NAME)]
    assert ledger.calls == [
        ("progress", (EXECUTION,), {}),
        ("record_progress", (EXECUTION, expected), {}),
    ]


def test_an_unpriced_request_gets_no_cost_and_a_job_without_limits_no_max() -> None:
    jobs, _, publisher, report = setup()
    job = tuning_job(HyperParameterTuningJobConfig={})
    del job["HyperParameterTuningJobArn"]
    assert report_progress(job, jobs, report, now=NOW) == "published"
    (_, detail, resources) = publisher.events[0]
    assert detail["cost_usd"] is None
    assert detail["max_jobs"] is None
    assert detail["tuning_job_arn"] is None
    assert resources == []


def test_a_poll_that_sees_no_change_publishes_nothing() -> None:
    jobs, ledger, publisher, report = setup()
    assert report_progress(tuning_job(), jobs, report, now=NOW) == "published"
    later = NOW + timedelta(minutes=1)
    assert report_progress(tuning_job(), jobs, report, now=later) == "unchanged"
    assert len(publisher.events) == 1
    assert ledger.names() == ["progress", "record_progress", "progress"]


@pytest.mark.parametrize(
    "change",
    [
        {"TrainingJobStatusCounters": {"Completed": 1, "InProgress": 2, "RetryableError": 3}},
        {
            "BestTrainingJob": {
                "TrainingJobName": f"{NAME}-008",
                "FinalHyperParameterTuningJobObjectiveMetric": {"Value": 2.5},
            }
        },
        {
            "BestTrainingJob": {
                "TrainingJobName": f"{NAME}-007",
                "FinalHyperParameterTuningJobObjectiveMetric": {"Value": 2.4},
            }
        },
        {"BestTrainingJob": None},
    ],
)
def test_a_poll_that_sees_new_counters_or_a_new_best_publishes_again(
    change: dict[str, Any],
) -> None:
    jobs, _, publisher, report = setup()
    report_progress(tuning_job(), jobs, report, now=NOW)
    assert report_progress(tuning_job(**change), jobs, report, now=NOW) == "published"
    assert len(publisher.events) == 2


def test_no_best_job_until_one_reported_its_objective() -> None:
    jobs, _, publisher, report = setup()
    job = tuning_job(
        BestTrainingJob={
            "TrainingJobName": "x",
            "FinalHyperParameterTuningJobObjectiveMetric": {"Value": None},
        }
    )
    report_progress(job, jobs, report, now=NOW)
    assert publisher.events[0][1]["best_training_job"] is None
    # Unchanged: still none.
    assert report_progress(job, jobs, report, now=NOW) == "unchanged"
    nameless = tuning_job(
        BestTrainingJob={
            "TrainingJobName": "",
            "FinalHyperParameterTuningJobObjectiveMetric": {"Value": 1.0},
        }
    )
    assert report_progress(nameless, jobs, report, now=NOW) == "unchanged"


def test_a_best_job_without_a_metric_name_is_on_the_objective() -> None:
    jobs, _, publisher, report = setup()
    job = tuning_job(
        BestTrainingJob={
            "TrainingJobName": "best",
            "FinalHyperParameterTuningJobObjectiveMetric": {"Value": "3"},
        }
    )
    report_progress(job, jobs, report, now=NOW)
    assert publisher.events[0][1]["best_training_job"] == {
        "name": "best",
        "objective": {"metric_name": "validation:total_loss", "value": 3.0},
    }


def test_billable_time_counts_each_started_job_to_its_end_or_to_now() -> None:
    jobs, _, publisher, report = setup()
    jobs.summaries[NAME] = [
        # Timestamps as strings, and without a zone (UTC); a clock skew never counts negative.
        {"TrainingStartTime": "2026-11-27T12:00:00", "TrainingEndTime": "2026-11-27T12:00:10.9"},
        # Not started yet: nothing, and the jobs after it still count.
        {"TrainingEndTime": NOW},
        # In another zone: 12:29 UTC.
        {"TrainingStartTime": "2026-11-27T13:29:00+01:00"},
        {
            "TrainingStartTime": NOW.replace(tzinfo=None),
            "TrainingEndTime": NOW - timedelta(seconds=5),
        },
        {"TrainingEndTime": NOW},
    ]
    report_progress(tuning_job(), jobs, report, now=NOW)
    # 10.9 + 60 + 0 seconds, whole seconds only.
    assert publisher.events[0][1]["billable_seconds"] == 70


@pytest.mark.parametrize(
    "error",
    [
        client_error("AccessDeniedException", "PutEvents", "no access"),
        BotoCoreError(),
        EventPublishFailed("dropped"),
        LedgerThrottled("slow down"),
        SageMakerThrottled("too many"),
    ],
)
def test_a_progress_event_that_cannot_go_out_says_why(error: Exception) -> None:
    jobs, ledger, publisher, report = setup()
    publisher.failure = error
    said = report_progress(tuning_job(), jobs, report, now=NOW)
    assert said == f"not published: {type(error).__name__}: {error}"
    assert ledger.names() == ["progress"]


def test_why_a_progress_event_did_not_go_out_is_cut_to_500_characters() -> None:
    jobs, ledger, publisher, report = setup()
    ledger.failure["progress"] = LedgerThrottled("x" * 600)
    said = report_progress(tuning_job(), jobs, report, now=NOW)
    assert said == ("not published: LedgerThrottled: " + "x" * 600)[:500]
    assert len(said) == 500
    assert publisher.events == []
