"""The Succeeded detail from a described tuning job: cost, static values, each field read back."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from ntm_tuning.events import MODEL_WARNINGS, WARNING_METRIC_PREFIX
from ntm_tuning.summary import rank_training_jobs, summarize_tuning_job

NOW = datetime(2026, 11, 27, 12, tzinfo=UTC)
NAME = "ntm-0123456789abcdef01234567"


def tuning_job() -> dict[str, Any]:
    return {
        "HyperParameterTuningJobName": NAME,
        "HyperParameterTuningJobArn": f"arn:aws:sagemaker:us-east-1:123456789012:hyper-parameter-tuning-job/{NAME}",
        "HyperParameterTuningJobStatus": "Completed",
        "HyperParameterTuningJobConfig": {"Strategy": "Hyperband"},
        "CreationTime": NOW,
        "HyperParameterTuningEndTime": NOW + timedelta(hours=2),
        "TrainingJobStatusCounters": {
            "Completed": 5,
            "InProgress": 4,
            "RetryableError": 3,
            "NonRetryableError": 2,
            "Stopped": 1,
        },
        "BestTrainingJob": {
            "TrainingJobName": f"{NAME}-002",
            "TrainingJobArn": "arn:best",
            "TrainingStartTime": NOW + timedelta(minutes=1),
            "TrainingEndTime": NOW + timedelta(minutes=21),
            "TunedHyperParameters": {"learning_rate": "0.01"},
            "FinalHyperParameterTuningJobObjectiveMetric": {
                "MetricName": "validation:total_loss",
                "Value": 6.25,
            },
        },
    }


def best_training_job() -> dict[str, Any]:
    return {
        "TrainingJobName": f"{NAME}-002",
        "HyperParameters": {
            "feature_dim": "999",
            "num_topics": "7",
            "learning_rate": "0.01",
            "_tuning_objective_metric": "validation:total_loss",
        },
        "ModelArtifacts": {"S3ModelArtifacts": "s3://artifacts/model.tar.gz"},
        "BillableTimeInSeconds": 900,
        "TrainingTimeInSeconds": 1200,
        "FinalMetricDataList": [
            {"MetricName": "topics:npmi", "Value": 0.25},
            {"MetricName": "topics:uniqueness", "Value": 0.75},
        ],
    }


def ranked() -> list[dict[str, Any]]:
    return [{"billable_seconds": 900}, {"billable_seconds": 600}, {"billable_seconds": None}]


def state(**extra: Any) -> dict[str, Any]:
    return {
        "request_id": "0123456789abcdef01234567",
        "request_name": "demo",
        "origin": {"type": "event", "event_id": "e-1", "source": "com.example"},
        "vocabulary_uri": "s3://data/vocab.txt",
        **extra,
    }


ESTIMATE = {
    "max_usd": 57.6,
    "hourly_price_usd": 0.72,
    "instance_type": "ml.g4dn.xlarge",
    "instance_count": 2,
    "max_jobs": 20,
    "max_billable_seconds": 144000,
    "prices_as_of": "2026-11-27",
}


def summarize(current: dict[str, Any]) -> dict[str, Any]:
    detail = summarize_tuning_job(
        state=current,
        tuning_job=tuning_job(),
        best_training_job=best_training_job(),
        ranked=ranked(),
        report_uri="s3://artifacts/reports/x.json",
    )
    return detail.model_dump(mode="json")


def test_the_actual_cost_counts_every_instance() -> None:
    detail = summarize(state(cost_estimate=ESTIMATE, static_hyperparameters={"num_topics": "7"}))
    assert detail["billable_seconds"] == 1500
    assert detail["cost"] == {
        "estimated_max_usd": 57.6,
        # 1500 billable seconds on each of 2 instances at $0.72/h
        "actual_usd": pytest.approx(1500 * 2 * 0.72 / 3600),
        "billable_seconds": 1500,
        "instance_count": 2,
        "hourly_price_usd": 0.72,
        "prices_as_of": "2026-11-27",
        "currency": "USD",
    }
    assert detail["cost"]["actual_usd"] == 0.6


def test_static_values_come_from_the_plan_not_the_training_job() -> None:
    planned = {"feature_dim": "120", "num_topics": "7", "learning_rate": "0.5"}
    best = summarize(state(static_hyperparameters=planned))["best_training_job"]
    # learning_rate was tuned: the plan's value is not the job's.
    assert best["static_hyperparameters"] == {"feature_dim": "120", "num_topics": "7"}
    assert best["tuned_hyperparameters"] == {"learning_rate": "0.01"}


def test_without_a_plan_static_values_are_the_training_jobs_minus_tuned_and_internal() -> None:
    best = summarize(state())["best_training_job"]
    assert best["static_hyperparameters"] == {"feature_dim": "999", "num_topics": "7"}


def test_every_field_of_the_detail_is_read_from_its_own_source() -> None:
    detail = summarize(state())
    assert detail["cost"] is None
    job = detail["tuning_job"]
    assert job["name"] == NAME
    assert job["arn"].endswith(f"/{NAME}")
    assert job["status"] == "Completed"
    assert job["strategy"] == "Hyperband"
    assert job["counters"] == {
        "completed": 5,
        "in_progress": 4,
        "retryable_error": 3,
        "non_retryable_error": 2,
        "stopped": 1,
    }
    assert job["started_at"] == NOW.isoformat()
    assert job["ended_at"] == (NOW + timedelta(hours=2)).isoformat()
    best = detail["best_training_job"]
    assert best["name"] == f"{NAME}-002"
    assert best["arn"] == "arn:best"
    assert best["objective"] == {"metric_name": "validation:total_loss", "value": 6.25}
    assert best["model_artifact_uri"] == "s3://artifacts/model.tar.gz"
    assert best["billable_seconds"] == 900
    assert best["training_seconds"] == 1200
    assert best["started_at"] == (NOW + timedelta(minutes=1)).isoformat()
    assert best["ended_at"] == (NOW + timedelta(minutes=21)).isoformat()
    assert detail["topic_quality"] == {"npmi": 0.25, "uniqueness": 0.75}
    assert detail["vocabulary_uri"] == "s3://data/vocab.txt"
    assert detail["report_uri"] == "s3://artifacts/reports/x.json"
    assert detail["request_name"] == "demo"
    assert detail["started_at"] == NOW.isoformat()
    assert detail["ended_at"] == (NOW + timedelta(hours=2)).isoformat()


def test_ranking_puts_the_lowest_loss_first_and_jobs_without_one_last() -> None:
    def summary(name: str, loss: float | None) -> dict[str, Any]:
        metric = {"FinalHyperParameterTuningJobObjectiveMetric": {"Value": loss}}
        return {
            "TrainingJobName": name,
            "TrainingJobStatus": "Completed",
            **(metric if loss is not None else {}),
        }

    jobs = [
        summary("c", None),
        summary("b", 7.5),
        summary("a", 7.5),
        summary("d", 2.0),
        summary("e", float("nan")),
    ]
    described = {"d": {"BillableTimeInSeconds": 30, "TrainingTimeInSeconds": 40}}
    ranked_jobs = rank_training_jobs(jobs, described)
    assert [(j["rank"], j["name"], j["objective"]) for j in ranked_jobs] == [
        (1, "d", 2.0),
        (2, "a", 7.5),
        (3, "b", 7.5),
        (4, "c", None),
        (5, "e", None),
    ]
    assert (ranked_jobs[0]["billable_seconds"], ranked_jobs[0]["training_seconds"]) == (30, 40)


def test_a_ranked_job_carries_every_field_from_its_summary_and_description() -> None:
    summary = {
        "TrainingJobName": "j-1",
        "TrainingJobStatus": "Failed",
        "TunedHyperParameters": {"learning_rate": "0.02"},
        "FailureReason": "AlgorithmError: out of memory",
        "TrainingStartTime": datetime(2026, 11, 27, 12, 0, 5, tzinfo=UTC),
        "TrainingEndTime": datetime(2026, 11, 27, 12, 0, 52, tzinfo=UTC),
    }
    described = {
        "j-1": {
            "BillableTimeInSeconds": 31,
            "TrainingTimeInSeconds": 47,
            "ModelArtifacts": {"S3ModelArtifacts": "s3://artifacts/j-1/model.tar.gz"},
        }
    }
    assert rank_training_jobs([summary], described) == [
        {
            "rank": 1,
            "name": "j-1",
            "status": "Failed",
            "objective": None,
            "tuned_hyperparameters": {"learning_rate": "0.02"},
            "billable_seconds": 31,
            "training_seconds": 47,
            "model_artifact_uri": "s3://artifacts/j-1/model.tar.gz",
            "failure_reason": "AlgorithmError: out of memory",
            "started_at": "2026-11-27T12:00:05+00:00",
            "ended_at": "2026-11-27T12:00:52+00:00",
        }
    ]
    assert rank_training_jobs([{"TrainingJobName": "j-2"}], {})[0]["tuned_hyperparameters"] == {}


@pytest.mark.parametrize(
    ("metrics", "quality"),
    [
        ([], None),
        ([{"MetricName": "topics:npmi", "Value": 0.25}], {"npmi": 0.25, "uniqueness": None}),
        ([{"MetricName": "topics:uniqueness", "Value": 0.5}], {"npmi": None, "uniqueness": 0.5}),
    ],
)
def test_topic_quality_is_reported_with_whichever_metric_the_job_gave(
    metrics: list[dict[str, Any]], quality: dict[str, float | None] | None
) -> None:
    best = {**best_training_job(), "FinalMetricDataList": metrics}
    detail = summarize_tuning_job(
        state=state(), tuning_job=tuning_job(), best_training_job=best, ranked=[], report_uri="r"
    ).model_dump(mode="json")
    assert detail["topic_quality"] == quality


@pytest.mark.parametrize(("value", "warned"), [(0.0, False), (0.99, False), (1.0, True)])
def test_a_warning_metric_of_one_raises_its_warning(value: float, warned: bool) -> None:
    code = next(iter(MODEL_WARNINGS))
    best = {
        **best_training_job(),
        "FinalMetricDataList": [{"MetricName": WARNING_METRIC_PREFIX + code, "Value": value}],
    }
    detail = summarize_tuning_job(
        state=state(), tuning_job=tuning_job(), best_training_job=best, ranked=[], report_uri="r"
    ).model_dump(mode="json")
    expected = [{"code": code, "message": MODEL_WARNINGS[code]}] if warned else []
    assert detail["warnings"] == expected


def test_the_strategy_falls_back_to_the_plan_then_to_bayesian_and_the_dataset_is_kept() -> None:
    job = {**tuning_job(), "HyperParameterTuningJobConfig": {}}
    dataset = {
        "uri": "s3://data/d/",
        "summary_uri": "s3://data/d/dataset.json",
        "corpus_uri": "s3://data/c/",
        "documents": {"train": 8},
        "dropped": {},
        "vocabulary_size": 40,
    }
    planned = summarize_tuning_job(
        state=state(strategy="Random", dataset=dataset),
        tuning_job=job,
        best_training_job=best_training_job(),
        ranked=[],
        report_uri="r",
    ).model_dump(mode="json")
    assert planned["tuning_job"]["strategy"] == "Random"
    assert planned["dataset"] == dataset
    unplanned = summarize_tuning_job(
        state=state(),
        tuning_job=job,
        best_training_job=best_training_job(),
        ranked=[],
        report_uri="r",
    ).model_dump(mode="json")
    assert unplanned["tuning_job"]["strategy"] == "Bayesian"
    assert unplanned["dataset"] is None


def test_a_sparse_description_still_gives_every_field_its_documented_default() -> None:
    # Only what DescribeHyperParameterTuningJob always returns: no counters, no config, a best
    # job without its ARN or metric name (the ARN is then the described training job's).
    job = {
        key: value
        for key, value in tuning_job().items()
        if key not in ("TrainingJobStatusCounters", "HyperParameterTuningJobConfig")
    }
    job["BestTrainingJob"] = {
        "TrainingJobName": f"{NAME}-002",
        "FinalHyperParameterTuningJobObjectiveMetric": {"Value": 6.25},
        "TrainingStartTime": "2026-11-27T12:01:00Z",
    }
    described = {**best_training_job(), "TrainingJobArn": "arn:described"}
    detail = summarize_tuning_job(
        state=state(), tuning_job=job, best_training_job=described, ranked=[], report_uri="r"
    ).model_dump(mode="json")
    assert detail["tuning_job"]["counters"] == {
        "completed": 0,
        "in_progress": 0,
        "retryable_error": 0,
        "non_retryable_error": 0,
        "stopped": 0,
    }
    best = detail["best_training_job"]
    assert best["arn"] == "arn:described"
    assert best["objective"] == {"metric_name": "validation:total_loss", "value": 6.25}
    assert best["started_at"] == "2026-11-27T12:01:00Z"  # a time given as text stays as it is
    assert best["ended_at"] is None


def test_a_non_finite_topic_metric_is_left_out_not_published() -> None:
    best = best_training_job()
    best["FinalMetricDataList"] = [
        {"MetricName": "topics:npmi", "Value": float("inf")},
        {"MetricName": "topics:uniqueness", "Value": 0.75},
    ]
    detail = summarize_tuning_job(
        state=state(), tuning_job=tuning_job(), best_training_job=best, ranked=[], report_uri="r"
    ).model_dump(mode="json")
    assert detail["topic_quality"] == {"npmi": None, "uniqueness": 0.75}


def test_the_actual_cost_is_given_to_a_hundredth_of_a_cent() -> None:
    # 7 s on one instance at $1/h is $0.0019444...: published as 0.0019.
    estimate = {**ESTIMATE, "instance_count": 1, "hourly_price_usd": 1.0}
    detail = summarize_tuning_job(
        state=state(cost_estimate=estimate),
        tuning_job=tuning_job(),
        best_training_job=best_training_job(),
        ranked=[{"billable_seconds": 7}],
        report_uri="r",
    ).model_dump(mode="json")
    assert detail["cost"]["actual_usd"] == 0.0019


def test_the_best_jobs_topics_fields_reach_the_detail() -> None:
    topics = {"wetc": 0.31, "tu": 0.62, "npmi": 0.12}
    detail = summarize_tuning_job(
        state=state(),
        tuning_job=tuning_job(),
        best_training_job=best_training_job(),
        ranked=[],
        report_uri="r",
        topic_fields=topics,
    ).model_dump(mode="json")
    assert {key: detail[key] for key in topics} == topics


def test_the_best_jobs_arn_and_metric_name_are_read_back() -> None:
    job = tuning_job()
    best = job["BestTrainingJob"]
    best["FinalHyperParameterTuningJobObjectiveMetric"]["MetricName"] = "test:total_loss"
    del best["TrainingJobArn"]
    described = {**best_training_job(), "TrainingJobArn": "arn:described"}

    def summarized(tuning: dict[str, Any], described: dict[str, Any]) -> dict[str, Any]:
        detail = summarize_tuning_job(
            state=state(),
            tuning_job=tuning,
            best_training_job=described,
            ranked=ranked(),
            report_uri="s3://artifacts/reports/x.json",
        )
        return detail.model_dump(mode="json")["best_training_job"]

    found = summarized(job, described)
    assert (found["arn"], found["objective"]["metric_name"]) == ("arn:described", "test:total_loss")
    # Neither the summary nor the description has an ARN; the objective names no metric.
    del best["FinalHyperParameterTuningJobObjectiveMetric"]["MetricName"]
    found = summarized(job, best_training_job())
    assert (found["arn"], found["objective"]["metric_name"]) == ("", "validation:total_loss")
