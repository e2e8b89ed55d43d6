"""Progress events: what "Describe tuning job" publishes while the tuning job runs (best
effort: a progress event that cannot be sent never fails the workflow)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from . import events
from .aws import EventPublisher, SageMakerJobs
from .cost import cost_usd
from .errors import EventPublishFailed, LedgerThrottled, SageMakerThrottled
from .ledger import Ledger
from .ntm import OBJECTIVE_METRIC
from .state import dump


@dataclass(frozen=True)
class ProgressReport:
    """Where ``poll`` publishes progress: the execution, its request and the places involved."""

    execution_id: str
    request: dict[str, Any]
    cost_estimate: dict[str, Any] | None
    ledger: Ledger
    publisher: EventPublisher


def report_progress(
    job: dict[str, Any], jobs: SageMakerJobs, report: ProgressReport, *, now: datetime
) -> str:
    """Publish a progress event if the job moved since the last one; "published", "unchanged"
    or why it could not. Progress is best effort: its failures never fail the workflow."""
    counters = events.TrainingJobCounters.of(job)
    best = _best_so_far(job)
    try:
        previous = report.ledger.progress(report.execution_id)
        if previous is not None and _same_progress(previous, counters, best):
            return "unchanged"
        detail = events.JobProgressDetail(
            **report.request,
            tuning_job_name=job["HyperParameterTuningJobName"],
            tuning_job_arn=job.get("HyperParameterTuningJobArn"),
            status=job["HyperParameterTuningJobStatus"],
            counters=counters,
            max_jobs=(job.get("HyperParameterTuningJobConfig") or {})
            .get("ResourceLimits", {})
            .get("MaxNumberOfTrainingJobs"),
            best_training_job=best,
            billable_seconds=_billable_so_far(
                jobs.training_jobs(job["HyperParameterTuningJobName"]), now
            ),
            cost_usd=None,
            observed_at=now.isoformat(),
        )
        if report.cost_estimate:
            detail = detail.model_copy(
                update={"cost_usd": cost_usd(detail.billable_seconds, report.cost_estimate)}
            )
        document = dump(detail)
        resources = [arn for arn in [detail.tuning_job_arn] if arn]
        report.publisher.publish(events.PROGRESS, document, resources)
        report.ledger.record_progress(report.execution_id, document)
    except (
        ClientError,
        BotoCoreError,
        EventPublishFailed,
        LedgerThrottled,
        SageMakerThrottled,
    ) as error:
        return f"not published: {type(error).__name__}: {error}"[:500]
    return "published"


def _best_so_far(job: dict[str, Any]) -> events.BestSoFar | None:
    best = job.get("BestTrainingJob") or {}
    metric = best.get("FinalHyperParameterTuningJobObjectiveMetric") or {}
    if not best.get("TrainingJobName") or metric.get("Value") is None:
        return None
    return events.BestSoFar(
        name=best["TrainingJobName"],
        objective=events.Objective(
            metric_name=metric.get("MetricName") or OBJECTIVE_METRIC, value=float(metric["Value"])
        ),
    )


def _same_progress(
    previous: dict[str, Any], counters: events.TrainingJobCounters, best: events.BestSoFar | None
) -> bool:
    return previous.get("counters") == counters.model_dump() and previous.get(
        "best_training_job"
    ) == (dump(best) if best else None)


def _billable_so_far(summaries: list[dict[str, Any]], now: datetime) -> int:
    """Seconds from each training job's start to its end (or to now while it runs)."""
    total = 0.0
    for summary in summaries:
        started = _timestamp(summary.get("TrainingStartTime"))
        if started is None:
            continue
        ended = _timestamp(summary.get("TrainingEndTime")) or now
        total += max(0.0, (ended - started).total_seconds())
    return int(total)


def _timestamp(value: Any) -> datetime | None:
    if value is None:
        return None
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
