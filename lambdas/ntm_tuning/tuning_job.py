"""States "Start tuning job", "Describe tuning job" and "Stop tuning job": the tuning job's
lifecycle, started once however often its request arrives."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from .aws import SageMakerJobs, error_code
from .ledger import Ledger

if TYPE_CHECKING:
    from .progress import ProgressReport

# "Stop tuning job" needs none of the event contracts, tags and progress reports that starting
# and describing a job use: those are imported where they are used (and "Describe tuning job"
# loads the progress report, and with it the contracts, when it starts).


def start_tuning_job(
    tuning_job_name: str,
    create_request: dict[str, Any],
    execution_id: str,
    request: dict[str, Any],
    jobs: SageMakerJobs,
    ledger: Ledger,
    *,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Start the tuning job once.

    A job that already exists is this execution's own (a retried step) or another delivery's,
    told apart by the execution tag. When SageMaker is out of capacity (ResourceLimitExceeded),
    the execution gives its slot back and waits for capacity instead of failing.
    """
    now = now or datetime.now(UTC)
    result: dict[str, Any] = {
        "tuning_job_arn": None,
        "duplicate": False,
        "capacity_exhausted": False,
    }
    try:
        result["tuning_job_arn"] = jobs.create(create_request)
    except ClientError as error:
        code = error_code(error)
        if code == "ResourceLimitExceeded":
            ledger.release(execution_id)
            return {**result, "capacity_exhausted": True}
        if code != "ResourceInUse":
            raise
        from .tags import EXECUTION_TAG, tag_value

        existing = jobs.describe(tuning_job_name)
        result["tuning_job_arn"] = str(existing["HyperParameterTuningJobArn"])
        if jobs.tags(result["tuning_job_arn"]).get(EXECUTION_TAG) != tag_value(execution_id):
            return {**result, "duplicate": True}
    ledger.record_job(execution_id, request, now=now, tuning_job_name=tuning_job_name)
    return result


def describe_tuning_job(
    tuning_job_name: str,
    watch_deadline: str,
    jobs: SageMakerJobs,
    *,
    now: datetime | None = None,
    progress: ProgressReport | None = None,
) -> dict[str, Any]:
    """The tuning job's status, counters, and whether the workflow has waited long enough.

    With ``progress``, also publish a progress event when the counters or the best objective
    changed since the last one (``progress`` in the result says what happened).
    """
    from .events import TrainingJobCounters
    from .progress import report_progress

    job = jobs.describe(tuning_job_name)
    now = now or datetime.now(UTC)
    result = {
        "status": job["HyperParameterTuningJobStatus"],
        "counters": TrainingJobCounters.of(job).model_dump(),
        "failure_reason": job.get("FailureReason"),
        "deadline_passed": now >= datetime.fromisoformat(watch_deadline),
    }
    if progress is not None:
        result["progress"] = report_progress(job, jobs, progress, now=now)
    return result


def stop_tuning_job(tuning_job_name: str, jobs: SageMakerJobs) -> dict[str, Any]:
    """Stop a tuning job that is still running; stopping an ended job is a no-op."""
    status = jobs.describe(tuning_job_name)["HyperParameterTuningJobStatus"]
    if status == "InProgress":
        jobs.stop(tuning_job_name)
        return {"stopped": True, "status": "Stopping"}
    return {"stopped": False, "status": status}
