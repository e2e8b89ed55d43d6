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
    from .state import JobStatus, StartResult

# "Stop tuning job" needs none of the event contracts, state models, tags and progress reports
# that starting and describing a job use: those are imported where they are used (and
# "Describe tuning job" loads the progress report, and with it the contracts, when it starts).
# Its input and result are ``state.StopInput`` and ``state.StopResult``: the definition's
# paths are built from them and the tests hold the handler to them, without pydantic loaded.


def start_tuning_job(
    tuning_job_name: str,
    create_request: dict[str, Any],
    execution_id: str,
    request: dict[str, Any],
    jobs: SageMakerJobs,
    ledger: Ledger,
    *,
    now: datetime | None = None,
) -> StartResult:
    """Start the tuning job once.

    A job that already exists is this execution's own (a retried step) or another delivery's,
    told apart by the execution tag. When SageMaker is out of capacity (ResourceLimitExceeded),
    the execution gives its slot back and waits for capacity instead of failing.
    """
    from .state import StartResult

    now = now or datetime.now(UTC)
    try:
        arn = jobs.create(create_request)
    except ClientError as error:
        code = error_code(error)
        if code == "ResourceLimitExceeded":
            ledger.release(execution_id)
            return StartResult(tuning_job_arn=None, duplicate=False, capacity_exhausted=True)
        if code != "ResourceInUse":
            raise
        from .tags import EXECUTION_TAG, tag_value

        arn = str(jobs.describe(tuning_job_name)["HyperParameterTuningJobArn"])
        if jobs.tags(arn).get(EXECUTION_TAG) != tag_value(execution_id):
            return StartResult(tuning_job_arn=arn, duplicate=True, capacity_exhausted=False)
    ledger.record_job(execution_id, request, now=now, tuning_job_name=tuning_job_name)
    return StartResult(tuning_job_arn=arn, duplicate=False, capacity_exhausted=False)


def describe_tuning_job(
    tuning_job_name: str,
    watch_deadline: str,
    jobs: SageMakerJobs,
    *,
    now: datetime | None = None,
    progress: ProgressReport | None = None,
) -> JobStatus:
    """The tuning job's status, counters, and whether the workflow has waited long enough.

    With ``progress``, also publish a progress event when the counters or the best objective
    changed since the last one (``progress`` in the result says what happened).
    """
    from .events import TrainingJobCounters
    from .progress import report_progress
    from .state import JobStatus

    job = jobs.describe(tuning_job_name)
    now = now or datetime.now(UTC)
    return JobStatus(
        status=job["HyperParameterTuningJobStatus"],
        counters=TrainingJobCounters.of(job),
        failure_reason=job.get("FailureReason"),
        deadline_passed=now >= datetime.fromisoformat(watch_deadline),
        progress=report_progress(job, jobs, progress, now=now) if progress is not None else None,
    )


def stop_tuning_job(tuning_job_name: str, jobs: SageMakerJobs) -> dict[str, Any]:
    """Stop a tuning job that is still running; stopping an ended job is a no-op."""
    status = jobs.describe(tuning_job_name)["HyperParameterTuningJobStatus"]
    if status == "InProgress":
        jobs.stop(tuning_job_name)
        return {"stopped": True, "status": "Stopping"}
    return {"stopped": False, "status": status}
