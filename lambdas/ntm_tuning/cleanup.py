"""The clean-up of executions that ended early (the orphan rule's target, outside the state
machine): no job is left running unwatched, no slot stays taken, and the request still gets
its one terminal event."""

from __future__ import annotations

import json
from typing import Any

from . import events
from .aws import EventPublisher, SageMakerJobs
from .ledger import Ledger
from .outcomes import error_message, published_detail, request_fields

ENDED_EARLY = {
    "ABORTED": "ExecutionAborted",
    "TIMED_OUT": "ExecutionTimedOut",
    "FAILED": "ExecutionFailed",
}


def clean_up(
    event: dict[str, Any],
    jobs: SageMakerJobs,
    ledger: Ledger,
    publisher: EventPublisher,
    *,
    engine: str | None = None,
) -> dict[str, Any]:
    """After an execution ended without finishing its work (aborted, timed out or failed):
    stop its tuning job if one is still running, free its capacity slot, and, when its
    request got no terminal event (the workflow had no chance to publish, or died trying),
    publish one. The ledger's reservation makes it the request's only one."""
    detail = event["detail"]
    execution_id, status = detail["executionArn"], detail["status"]
    recorded = ledger.job_of(execution_id)
    result: dict[str, Any] = {"execution_id": execution_id, "status": status, "stopped": False}
    job: dict[str, Any] = {}
    if recorded and recorded["tuning_job_name"]:
        result["tuning_job_name"] = recorded["tuning_job_name"]
        job = jobs.describe(recorded["tuning_job_name"])
        if job["HyperParameterTuningJobStatus"] == "InProgress":
            jobs.stop(recorded["tuning_job_name"])
            result["stopped"] = True
    elif recorded and recorded["processing_job_name"]:
        result["processing_job_name"] = recorded["processing_job_name"]
        processing = jobs.describe_processing(recorded["processing_job_name"])
        if processing["ProcessingJobStatus"] == "InProgress":
            jobs.stop_processing(recorded["processing_job_name"])
            result["stopped"] = True
    result["released"], _ = ledger.release(execution_id)
    if status not in ENDED_EARLY:
        return result
    request = (
        recorded["request"]
        if recorded and recorded["request"].get("request_id")
        else _delivered_request(detail.get("input"))
    )
    if request is None or ledger.claimant(request["request_id"]) not in (None, execution_id):
        return result  # not a request, or a duplicate delivery that owned nothing
    started_tuning = bool(recorded and recorded["tuning_job_name"])
    # An aborted or timed-out execution's job was stopped on purpose: Stopped. A failed
    # execution is a failure whatever it had started.
    stopped = started_tuning and status != "FAILED"
    detail_type = events.STOPPED if stopped else events.FAILED
    if not ledger.reserve_outcome(request["request_id"], execution_id, detail_type, take_over=True):
        result["already_published"] = True
        return result
    model = events.JobStoppedDetail if stopped else events.JobFailedDetail
    outcome = model(
        **request,
        tuning_job_name=recorded["tuning_job_name"] if recorded else None,
        tuning_job_arn=job.get("HyperParameterTuningJobArn"),
        status="Stopping" if result["stopped"] else job.get("HyperParameterTuningJobStatus"),
        counters=events.TrainingJobCounters.of(job) if job else None,
        reason=_ended_reason(status, detail, stopped=result["stopped"]),
    )
    resources = [job["HyperParameterTuningJobArn"]] if job else []
    result["event_id"] = publisher.publish(
        detail_type, published_detail(outcome, engine), resources
    )
    ledger.record_outcome(request["request_id"], result["event_id"])
    result["published"] = detail_type
    return result


def _ended_reason(status: str, detail: dict[str, Any], *, stopped: bool) -> events.FailureReason:
    message = f"the workflow execution was {status.lower().replace('_', ' ')}"
    if status == "FAILED":
        message = "the workflow execution failed before it could publish an outcome"
        if detail.get("error"):
            message += f": {detail['error']}"
        if detail.get("cause"):
            message += f": {error_message(detail['cause'])}"
    if stopped:
        message += "; its tuning job was stopped"
    return events.FailureReason(
        code=ENDED_EARLY[status],  # type: ignore[arg-type]
        message=message[:2000],
        error=str(detail["error"])[:256] if detail.get("error") else None,
    )


def _delivered_request(raw_input: Any) -> dict[str, Any] | None:
    """The request id and origin of an execution's input (a trigger's delivery)."""
    try:
        delivery = json.loads(raw_input) if isinstance(raw_input, str) else raw_input
        if not isinstance(delivery, dict):  # an execution may be started with any JSON
            return None
        return request_fields(delivery)
    except (ValueError, KeyError):  # not JSON, not a delivery, a request id without origin
        return None
