"""State "Summarize results" against fakes: which jobs are described and read, in which
order and within which time, and what the report holds."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from ntm_tuning import results, topic_report
from ntm_tuning.state import SummarizeInput
from ntm_tuning.training_logs import JobTopics

from tests.settings_factory import ARTIFACTS_BUCKET, make_settings
from tests.unit.step_fakes import FakeJobs, FakeStore

TUNING = "ntm-0123456789abcdef01234567"
BEST, SECOND, STOPPED, FAILED, RUNNING = (f"{TUNING}-00{n}-x" for n in (2, 1, 3, 4, 5))
SETTINGS = make_settings()
RANGES = {"ContinuousParameterRanges": [{"Name": "learning_rate", "MinValue": "0.001"}]}


def summary(name: str, status: str, loss: float | None = None) -> dict[str, Any]:
    found: dict[str, Any] = {
        "TrainingJobName": name,
        "TrainingJobArn": f"arn:training-job/{name}",
        "TrainingJobStatus": status,
        "TunedHyperParameters": {"learning_rate": "0.01"},
    }
    if loss is not None:
        found["FinalHyperParameterTuningJobObjectiveMetric"] = {
            "MetricName": "validation:total_loss",
            "Value": loss,
        }
    return found


class FakeLogs:
    """No job's log holds topics; each read is recorded with its deadline."""

    log_group = "/aws/sagemaker/TrainingJobs"

    def __init__(self) -> None:
        self.read: list[tuple[str, float | None]] = []

    def job_topics(self, job_name: str, *, deadline: float | None = None) -> JobTopics:
        self.read.append((job_name, deadline))
        return JobTopics(job_name, unavailable="no_log", message=f"no log for {job_name}")


def jobs_of(summaries: list[dict[str, Any]], best: str = BEST, **config: Any) -> FakeJobs:
    jobs = FakeJobs()
    jobs.tuning[TUNING] = {
        "HyperParameterTuningJobName": TUNING,
        "HyperParameterTuningJobArn": f"arn:tuning/{TUNING}",
        "HyperParameterTuningJobStatus": "Completed",
        "HyperParameterTuningJobConfig": {"Strategy": "Bayesian", **config},
        "CreationTime": datetime(2026, 11, 27, 12, tzinfo=UTC),
        "TrainingJobStatusCounters": {"Completed": 2, "NonRetryableError": 1},
        "BestTrainingJob": next(s for s in summaries if s["TrainingJobName"] == best),
    }
    jobs.summaries[TUNING] = summaries
    for found in summaries:
        name = found["TrainingJobName"]
        jobs.training[name] = {
            "TrainingJobName": name,
            "TrainingJobArn": f"arn:training-job/{name}",
            "HyperParameters": {"num_topics": "3", "feature_dim": "30"},
            "BillableTimeInSeconds": 60,
        }
    return jobs


GIVEN = SummarizeInput.model_validate(
    {
        "tuning_job_name": TUNING,
        "request_id": "0123456789abcdef01234567",
        "origin": {"type": "event", "event_id": "e-1", "source": "tests"},
        "vocabulary_uri": None,
        "static_hyperparameters": {},
        "strategy": "Bayesian",
        "cost_estimate": None,
        "dataset": None,
    }
)
ALL = [
    summary(SECOND, "Completed", 7.5),
    summary(BEST, "Completed", 6.25),
    summary(STOPPED, "Stopped", 8.0),
    summary(FAILED, "Failed"),
    summary(RUNNING, "InProgress"),
]


def test_ended_jobs_are_described_and_the_best_ones_log_is_read_first() -> None:
    jobs, store, logs = jobs_of(ALL, ParameterRanges=RANGES), FakeStore(), FakeLogs()
    result = results.summarize_results(GIVEN, SETTINGS, jobs, store, logs)  # type: ignore[arg-type]
    described = [name for call, name in jobs.calls if call == "describe_training_job"]
    assert described == [SECOND, BEST, STOPPED, FAILED]
    assert [name for name, _ in logs.read] == [BEST, SECOND, STOPPED]
    assert all(deadline is None for _, deadline in logs.read)
    key = f"{SETTINGS.report_prefix}{TUNING}.json"
    assert result.report_uri == f"s3://{ARTIFACTS_BUCKET}/{key}"
    assert list(store.written) == [(ARTIFACTS_BUCKET, key)]
    report = store.written[(ARTIFACTS_BUCKET, key)]
    assert set(report) == {"summary", "training_jobs", "pareto_front", "parameter_ranges"}
    assert report["summary"] == result.detail.model_dump(mode="json")
    assert report["parameter_ranges"] == RANGES
    assert [job["name"] for job in report["training_jobs"]][:2] == [BEST, SECOND]
    assert report["pareto_front"]["npmi_unavailable"]["reason"] == "no_topics"
    detail = result.detail
    assert detail.best_training_job.name == BEST
    assert detail.report_uri == result.report_uri
    assert detail.topics_unavailable is not None
    assert detail.topics_unavailable.reason == "no_log"
    assert detail.topics_unavailable.message == f"no log for {BEST}"
    assert detail.topics_source is None


def test_a_best_job_missing_from_the_listing_is_described_and_no_ranges_are_empty() -> None:
    jobs = jobs_of(ALL)
    jobs.summaries[TUNING] = [s for s in ALL if s["TrainingJobName"] != BEST]
    store = FakeStore()
    result = results.summarize_results(GIVEN, SETTINGS, jobs, store, FakeLogs())  # type: ignore[arg-type]
    described = [name for call, name in jobs.calls if call == "describe_training_job"]
    assert described == [SECOND, STOPPED, FAILED, BEST]
    assert result.detail.best_training_job.name == BEST
    assert result.detail.best_training_job.arn == f"arn:training-job/{BEST}"
    (report,) = store.written.values()
    assert report["parameter_ranges"] == {}


def test_half_the_time_goes_to_the_logs_and_npmi_stops_at_85_percent(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(results.time, "monotonic", lambda: 1000.0)
    deadlines: list[float | None] = []
    score = topic_report.score_npmi

    def spy(*args: Any, deadline: float | None, **kwargs: Any) -> Any:
        deadlines.append(deadline)
        return score(*args, deadline=deadline, **kwargs)

    monkeypatch.setattr(results.topic_report, "score_npmi", spy)
    logs = FakeLogs()
    results.summarize_results(
        GIVEN,
        SETTINGS,
        jobs_of(ALL),  # type: ignore[arg-type]
        FakeStore(),  # type: ignore[arg-type]
        logs,  # type: ignore[arg-type]
        seconds_left=200,
    )
    assert {deadline for _, deadline in logs.read} == {1100.0}
    assert deadlines == [1170.0]
    results.summarize_results(
        GIVEN,
        SETTINGS,
        jobs_of(ALL),  # type: ignore[arg-type]
        FakeStore(),  # type: ignore[arg-type]
        logs,  # type: ignore[arg-type]
    )
    assert deadlines[-1] is None
