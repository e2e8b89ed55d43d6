"""Summarising a completed tuning job: the best training job, the ranking, the detail."""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

from . import events
from .cost import cost_usd
from .ntm import OBJECTIVE_METRIC


def _iso(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def _objective(summary: dict[str, Any]) -> float | None:
    metric = summary.get("FinalHyperParameterTuningJobObjectiveMetric") or {}
    value = metric.get("Value")
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def _finite(value: Any) -> float | None:
    if value is None:
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def rank_training_jobs(
    summaries: list[dict[str, Any]], described: dict[str, dict[str, Any]]
) -> list[dict[str, Any]]:
    """Every training job, best objective (lowest loss) first; jobs without one last."""

    def order(summary: dict[str, Any]) -> tuple[int, float, str]:
        value = _objective(summary)
        # Jobs without an objective are all equal in the second place (after the first one
        # set them apart), so the placeholder value cannot change the order.
        return (
            value is None,
            value if value is not None else 0.0,  # pragma: no mutate
            summary["TrainingJobName"],
        )

    ranked = []
    for position, summary in enumerate(sorted(summaries, key=order), start=1):
        details = described.get(summary["TrainingJobName"], {})
        ranked.append(
            {
                "rank": position,
                "name": summary["TrainingJobName"],
                "status": summary.get("TrainingJobStatus"),
                "objective": _objective(summary),
                "tuned_hyperparameters": summary.get("TunedHyperParameters", {}),
                "billable_seconds": details.get("BillableTimeInSeconds"),
                "training_seconds": details.get("TrainingTimeInSeconds"),
                "model_artifact_uri": (details.get("ModelArtifacts") or {}).get("S3ModelArtifacts"),
                "failure_reason": summary.get("FailureReason"),
                "started_at": _iso(summary.get("TrainingStartTime")),
                "ended_at": _iso(summary.get("TrainingEndTime")),
            }
        )
    return ranked


def summarize_tuning_job(
    *,
    state: dict[str, Any],
    tuning_job: dict[str, Any],
    best_training_job: dict[str, Any],
    ranked: list[dict[str, Any]],
    report_uri: str,
    topic_fields: dict[str, Any] | None = None,
) -> events.JobSucceededDetail:
    """The Succeeded detail for a completed tuning job; ``topic_fields`` are the best job's
    topics fields (see ``topic_report.event_fields``)."""
    best = tuning_job["BestTrainingJob"]
    metric = best.get("FinalHyperParameterTuningJobObjectiveMetric") or {}
    counters = tuning_job.get("TrainingJobStatusCounters", {})
    config = tuning_job.get("HyperParameterTuningJobConfig", {})
    tuned = {k: str(v) for k, v in (best.get("TunedHyperParameters") or {}).items()}
    final = best_training_job.get("HyperParameters") or {}
    static = {
        k: str(v)
        for k, v in (state.get("static_hyperparameters") or final).items()
        if k not in tuned and not k.startswith("_")
    }
    billable = sum(int(job.get("billable_seconds") or 0) for job in ranked)
    estimate = state.get("cost_estimate")
    cost = None
    if estimate:
        cost = events.Cost(
            estimated_max_usd=estimate["max_usd"],
            actual_usd=cost_usd(billable, estimate),
            billable_seconds=billable,
            instance_count=estimate["instance_count"],
            hourly_price_usd=estimate["hourly_price_usd"],
            prices_as_of=estimate["prices_as_of"],
        )
    metrics = {
        item.get("MetricName"): item.get("Value")
        for item in best_training_job.get("FinalMetricDataList") or []
    }
    quality = None
    if "topics:npmi" in metrics or "topics:uniqueness" in metrics:
        quality = events.TopicQuality(
            npmi=_finite(metrics.get("topics:npmi")),
            uniqueness=_finite(metrics.get("topics:uniqueness")),
        )
    warnings = [
        events.ModelWarning(code=code, message=message)  # type: ignore[arg-type]
        for code, message in events.MODEL_WARNINGS.items()
        if (metrics.get(events.WARNING_METRIC_PREFIX + code) or 0) >= 1
    ]
    return events.JobSucceededDetail(
        request_id=state["request_id"],
        request_name=state.get("request_name"),
        origin=state["origin"],
        tuning_job=events.TuningJobSummary(
            name=tuning_job["HyperParameterTuningJobName"],
            arn=tuning_job["HyperParameterTuningJobArn"],
            status=tuning_job["HyperParameterTuningJobStatus"],
            strategy=config.get("Strategy") or state.get("strategy") or "Bayesian",
            counters=events.TrainingJobCounters(
                completed=counters.get("Completed", 0),
                in_progress=counters.get("InProgress", 0),
                retryable_error=counters.get("RetryableError", 0),
                non_retryable_error=counters.get("NonRetryableError", 0),
                stopped=counters.get("Stopped", 0),
            ),
            started_at=_iso(tuning_job.get("CreationTime")),
            ended_at=_iso(tuning_job.get("HyperParameterTuningEndTime")),
        ),
        best_training_job=events.BestTrainingJob(
            name=best["TrainingJobName"],
            arn=best.get("TrainingJobArn") or best_training_job.get("TrainingJobArn", ""),
            objective=events.Objective(
                metric_name=metric.get("MetricName", OBJECTIVE_METRIC),
                value=float(metric["Value"]),
            ),
            tuned_hyperparameters=tuned,
            static_hyperparameters=static,
            model_artifact_uri=(best_training_job.get("ModelArtifacts") or {}).get(
                "S3ModelArtifacts"
            ),
            billable_seconds=best_training_job.get("BillableTimeInSeconds"),
            training_seconds=best_training_job.get("TrainingTimeInSeconds"),
            started_at=_iso(best.get("TrainingStartTime")),
            ended_at=_iso(best.get("TrainingEndTime")),
        ),
        vocabulary_uri=state.get("vocabulary_uri"),
        report_uri=report_uri,
        billable_seconds=billable,
        cost=cost,
        dataset=state.get("dataset"),
        topic_quality=quality,
        warnings=warnings,
        **(topic_fields or {}),
        started_at=_iso(tuning_job.get("CreationTime")),
        ended_at=_iso(tuning_job.get("HyperParameterTuningEndTime")),
    )
