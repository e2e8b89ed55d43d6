"""States "Publish success", "Publish failure", "Publish stopped" and "Publish rejection": the
request's one terminal event, built from the workflow state and checked against its contract."""

from __future__ import annotations

import json
from typing import Any

from . import events, naming
from .aws import EventPublisher
from .errors import RequestRejected
from .ledger import Ledger
from .state import Outcome, OutcomeState, Published, dump


def publish_outcome(
    detail_type: str,
    given: OutcomeState,
    publisher: EventPublisher,
    ledger: Ledger,
    execution_id: str,
    *,
    engine: str | None = None,
) -> Published:
    """Build the event's detail from what the publisher was given of the workflow state,
    check it against its contract, and send it: the request's one terminal event, reserved in
    the ledger first. ``engine``: set offline only, it marks the event with what played the
    tuning job."""
    # What was given, as given: the builders below read the state's own keys.
    state = given.model_dump(mode="json", exclude_unset=True)
    detail = build_detail(detail_type, state)
    request_id = detail.request_id
    if not ledger.reserve_outcome(request_id, execution_id, detail_type):
        return Published(event_id=None, detail_type=detail_type, already_published=True)
    resources = [arn for arn in [_tuning_job_arn(state)] if arn]
    event_id = publisher.publish(detail_type, published_detail(detail, engine), resources)
    ledger.record_outcome(request_id, event_id)
    return Published(event_id=event_id, detail_type=detail_type)


def published_detail(detail: events._Contract, engine: str | None) -> dict[str, Any]:
    """The detail as published: with the offline engine's name where one played the job,
    without the field on AWS (the workflow, the clean-up and the command line agree)."""
    if engine and isinstance(detail, events._EngineMarked):
        detail = type(detail).model_validate({**detail.model_dump(), "engine": engine})
    document = dump(detail)
    if "engine" in document and document["engine"] is None:
        del document["engine"]
    return document


def _tuning_job_arn(state: dict[str, Any]) -> str | None:
    start_result = state.get("start") or {}
    return start_result.get("tuning_job_arn")


def build_detail(detail_type: str, state: dict[str, Any]) -> events._RequestDetail:
    if detail_type == events.REJECTED:
        return events.RequestRejectedDetail.model_validate(state["rejection"])
    if detail_type == events.SUCCEEDED:
        return events.JobSucceededDetail.model_validate(state["result"]["detail"])
    if detail_type not in (events.FAILED, events.STOPPED):
        raise ValueError(f"unknown detail type {detail_type!r}")
    request = request_fields(state)
    job = state.get("job") or {}
    model = events.JobStoppedDetail if detail_type == events.STOPPED else events.JobFailedDetail
    return model(
        **request,
        tuning_job_name=state.get("tuning_job_name") if state.get("start") else None,
        tuning_job_arn=_tuning_job_arn(state),
        status=job.get("status"),
        counters=events.TrainingJobCounters(**job["counters"]) if job.get("counters") else None,
        reason=failure_reason(detail_type, state),
    )


def request_fields(state: dict[str, Any]) -> dict[str, Any]:
    """The request's id and origin; from the raw delivery when validation itself broke."""
    if "request_id" in state:
        return {
            "request_id": state["request_id"],
            "request_name": state.get("request_name"),
            "origin": state["origin"],
        }
    delivery = events.parse_delivery({k: v for k, v in state.items() if k != "error"})
    return {
        "request_id": naming.request_id(events.delivery_identity(delivery)),
        "origin": dump(events.origin_of(delivery)),
    }


SAGEMAKER_ERRORS = frozenset(
    {
        "ClientError",
        "ValidationException",
        "ResourceLimitExceeded",
        "ResourceNotFound",
        "SageMakerThrottled",
        "ResourceInUse",
    }
)


def failure_reason(detail_type: str, state: dict[str, Any]) -> events.FailureReason:
    error = state.get("error")
    job = state.get("job") or {}
    if error:
        name = str(error.get("Error", "Unknown"))
        message = error_message(error.get("Cause"))
        code: events.FailureCode = (
            "SageMakerError"
            if name in SAGEMAKER_ERRORS or "SageMaker" in message
            else "InternalError"
        )
        return events.FailureReason(code=code, message=message[:2000], error=name)
    preparation_job = state.get("preparation_status") or {}
    if preparation_job.get("status") in ("Failed", "Stopped"):
        # The Processing job that prepares a corpus request's dataset ended without one.
        name = (state.get("preparation") or {}).get("processing_job_name", "the processing job")
        reason = preparation_job.get("failure_reason") or "no reason given"
        return events.FailureReason(
            code="PreparationFailed",
            message=f"dataset preparation job {name} {preparation_job['status'].lower()}: {reason}"[
                :2000
            ],
        )
    if detail_type == events.STOPPED:
        return events.FailureReason(code="TuningJobStopped", message="the tuning job was stopped")
    if job.get("status") == "Failed":
        return events.FailureReason(
            code="TuningJobFailed",
            message=str(job.get("failure_reason") or "no reason given")[:2000],
        )
    if job.get("deadline_passed"):
        return events.FailureReason(
            code="WatchDeadlineExceeded",
            message=f"still {job.get('status')} at {state.get('watch_deadline')}; it was stopped",
        )
    return events.FailureReason(
        code="InternalError", message="the workflow failed without an error"
    )


def error_message(cause: Any) -> str:
    """Lambda errors arrive as a JSON Cause; show the message, not the envelope."""
    if isinstance(cause, str):
        try:
            parsed = json.loads(cause)
        except json.JSONDecodeError:
            return cause
        if isinstance(parsed, dict) and "errorMessage" in parsed:
            return f"{parsed.get('errorType', 'Error')}: {parsed['errorMessage']}"
        return cause
    return str(cause or "")


def rejection(base: dict[str, Any], rejected: RequestRejected) -> dict[str, Any]:
    found = rejected.violations
    detail = events.RequestRejectedDetail(
        **{key: base[key] for key in ("request_id", "request_name", "origin")},
        message=events.clip(f"{len(found)} problem(s): {rejected}", events.MAX_SUMMARY_CHARS),
        violations=[
            events.ViolationDetail(
                field=events.clip(v.field, events.MAX_FIELD_CHARS),
                rule=events.clip(v.rule, events.MAX_RULE_CHARS),
                message=events.clip(v.message, events.MAX_MESSAGE_CHARS),
            )
            for v in found[: events.MAX_VIOLATIONS]
        ],
        violation_count=len(found),
        cost_estimate=(
            events.CostEstimate.model_validate(rejected.cost_estimate)
            if rejected.cost_estimate
            else None
        ),
    )
    return {**base, "outcome": Outcome.REJECTED, "rejection": dump(detail)}
