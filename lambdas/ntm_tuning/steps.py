"""What each state of the workflow does, with AWS access passed in.

The handlers are thin wrappers around these functions; the offline runtime and the tests
call the same code.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError

from . import events, naming
from .aws import DataStore, EventPublisher, ObjectTooLarge, TuningJobs
from .builder import (
    TAG_PREFIX,
    DataFacts,
    S3Location,
    build_tuning_job,
    resolve_channels,
    vocabulary_location,
)
from .errors import RequestRejected, Violation
from .request import TuningRequest
from .settings import Settings
from .summary import rank_training_jobs, summarize_tuning_job

MAX_REQUEST_BYTES = 256 * 1024
EXECUTION_TAG = f"{TAG_PREFIX}execution"
REQUEST_ID_TAG = f"{TAG_PREFIX}request-id"


def _violations(error: ValidationError) -> list[Violation]:
    found = []
    for item in error.errors():
        # Tagged unions add the tag to the path; users know the field, not the tag.
        loc = [
            str(part)
            for part in item["loc"]
            if part not in ("Integer", "Continuous", "Categorical")
        ]
        found.append(Violation(".".join(loc) or "request", item["type"], item["msg"]))
    return found


def _read_request(delivery: events.S3Delivery, store: DataStore) -> Any:
    try:
        data = store.read(
            delivery.bucket, delivery.key, delivery.version_id, limit=MAX_REQUEST_BYTES
        )
    except ObjectTooLarge as error:
        raise RequestRejected(
            [
                Violation(
                    "request",
                    "max_size",
                    f"is {error.size} bytes; at most {MAX_REQUEST_BYTES}",
                )
            ]
        ) from error
    if data is None:
        raise RequestRejected(
            [
                Violation(
                    "request",
                    "exists",
                    f"s3://{delivery.bucket}/{delivery.key} is gone",
                )
            ]
        )
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise RequestRejected(
            [Violation("request", "utf8", f"is not UTF-8 text (byte {error.start})")]
        ) from error
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise RequestRejected(
            [
                Violation(
                    "request",
                    "json",
                    f"is not JSON: {error.msg} at line {error.lineno}",
                )
            ]
        ) from error


def _data_facts(
    request: TuningRequest, settings: Settings, store: DataStore
) -> tuple[DataFacts, list[Violation]]:
    violations: list[Violation] = []
    try:
        locations = resolve_channels(request, settings)
    except RequestRejected as rejected:
        return DataFacts(), rejected.violations
    wanted = request.resources.instance_count or settings.tuning.instance_count
    train_objects = 1
    for channel, location in locations.items():
        if channel == "auxiliary":
            continue
        found = store.count_objects(location.bucket, location.key, up_to=max(wanted, 1))
        if found == 0:
            violations.append(
                Violation(f"data.{channel}", "exists", f"no data under {location.uri}")
            )
        if channel == "train":
            train_objects = found
    vocabulary_size = None
    if "auxiliary" in locations:
        vocabulary: S3Location = vocabulary_location(locations["auxiliary"])
        vocabulary_size = store.count_lines(vocabulary.bucket, vocabulary.key)
        if vocabulary_size is None:
            violations.append(
                Violation("data.auxiliary", "exists", f"no vocabulary at {vocabulary.uri}")
            )
    return DataFacts(vocabulary_size=vocabulary_size, train_objects=train_objects), violations


def validate(
    raw_delivery: dict[str, Any],
    execution_id: str,
    settings: Settings,
    store: DataStore,
    *,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Read and check the request, and build the tuning job it asks for.

    Returns ``outcome`` "accepted" (with ``create_request``), "rejected" (with the
    Rejected event's ``rejection`` detail) or "ignored" (the object is not a request).
    """
    delivery = _parse_delivery(raw_delivery)
    origin = events.origin_of(delivery)
    base: dict[str, Any] = {
        "request_id": naming.request_id(events.delivery_identity(delivery)),
        "request_name": None,
        "origin": origin.model_dump(mode="json"),
    }
    if isinstance(delivery, events.S3Delivery) and not _is_request_object(delivery, settings):
        return {**base, "outcome": "ignored"}

    request: TuningRequest | None = None
    try:
        body = (
            _read_request(delivery, store)
            if isinstance(delivery, events.S3Delivery)
            else delivery.request
        )
        if not isinstance(body, dict):
            raise RequestRejected([Violation("request", "json_object", "must be a JSON object")])
        if isinstance(body.get("name"), str):
            base["request_name"] = body["name"][:64]
        try:
            request = TuningRequest.model_validate(body)
        except ValidationError as error:
            raise RequestRejected(_violations(error)) from error
        base["request_name"] = request.name
        if request.idempotency_key:
            base["request_id"] = naming.request_id(naming.key_identity(request.idempotency_key))
        job_name = naming.tuning_job_name(base["request_id"])
        facts, violations = _data_facts(request, settings, store)
        if violations:
            raise RequestRejected(violations)
        tags = {
            REQUEST_ID_TAG: base["request_id"],
            EXECUTION_TAG: execution_id,
            f"{TAG_PREFIX}origin": _origin_tag(origin),
        }
        if request.name:
            tags[f"{TAG_PREFIX}name"] = request.name
        plan = build_tuning_job(
            request, settings, facts, tuning_job_name=job_name, tags=tags, now=now
        )
    except RequestRejected as rejected:
        detail = events.RequestRejectedDetail(
            **base,
            message=f"{len(rejected.violations)} problem(s): {rejected}"[:1000],
            violations=[events.ViolationDetail(**v.to_dict()) for v in rejected.violations],
        )
        return {
            **base,
            "outcome": "rejected",
            "rejection": detail.model_dump(mode="json"),
        }

    return {
        **base,
        "outcome": "accepted",
        "tuning_job_name": job_name,
        "create_request": plan.create_request,
        "static_hyperparameters": plan.static_hyperparameters,
        "strategy": plan.strategy,
        "max_jobs": plan.max_jobs,
        "vocabulary_uri": plan.vocabulary_uri,
        "watch_deadline": plan.watch_deadline.isoformat(),
    }


def _parse_delivery(raw: dict[str, Any]) -> events.S3Delivery | events.EventDelivery:
    if raw.get("origin") == "s3":
        return events.S3Delivery.model_validate(raw)
    return events.EventDelivery.model_validate(raw)


def _is_request_object(delivery: events.S3Delivery, settings: Settings) -> bool:
    return (
        delivery.bucket == settings.data_bucket
        and delivery.key.startswith(settings.request_prefix)
        and delivery.key.endswith(".json")
    )


def _origin_tag(origin: events.S3Origin | events.EventOrigin) -> str:
    text = (
        f"s3://{origin.bucket}/{origin.key}"
        if isinstance(origin, events.S3Origin)
        else f"event:{origin.source}:{origin.event_id}"
    )
    return text if len(text) <= 256 else text[:253] + "..."


def start(
    tuning_job_name: str,
    create_request: dict[str, Any],
    execution_id: str,
    jobs: TuningJobs,
) -> dict[str, Any]:
    """Start the tuning job once: a job that already exists is this execution's own (a
    retried step) or another delivery's, told apart by the execution tag."""
    from botocore.exceptions import ClientError

    from .aws import error_code

    try:
        return {"tuning_job_arn": jobs.create(create_request), "duplicate": False}
    except ClientError as error:
        if error_code(error) != "ResourceInUse":
            raise
    existing = jobs.describe(tuning_job_name)
    arn = str(existing["HyperParameterTuningJobArn"])
    owner = jobs.tags(arn).get(EXECUTION_TAG)
    return {"tuning_job_arn": arn, "duplicate": owner != execution_id}


def poll(
    tuning_job_name: str,
    watch_deadline: str,
    jobs: TuningJobs,
    *,
    now: datetime | None = None,
) -> dict[str, Any]:
    """The tuning job's status, counters, and whether the workflow has waited long enough."""
    job = jobs.describe(tuning_job_name)
    now = now or datetime.now(UTC)
    return {
        "status": job["HyperParameterTuningJobStatus"],
        "counters": _counters(job).model_dump(),
        "failure_reason": job.get("FailureReason"),
        "deadline_passed": now >= datetime.fromisoformat(watch_deadline),
    }


def _counters(job: dict[str, Any]) -> events.TrainingJobCounters:
    raw = job.get("TrainingJobStatusCounters", {})
    return events.TrainingJobCounters(
        completed=raw.get("Completed", 0),
        in_progress=raw.get("InProgress", 0),
        retryable_error=raw.get("RetryableError", 0),
        non_retryable_error=raw.get("NonRetryableError", 0),
        stopped=raw.get("Stopped", 0),
    )


def stop(tuning_job_name: str, jobs: TuningJobs) -> dict[str, Any]:
    """Stop a tuning job that is still running; stopping an ended job is a no-op."""
    status = jobs.describe(tuning_job_name)["HyperParameterTuningJobStatus"]
    if status == "InProgress":
        jobs.stop(tuning_job_name)
        return {"stopped": True, "status": "Stopping"}
    return {"stopped": False, "status": status}


def summarize(
    state: dict[str, Any], settings: Settings, jobs: TuningJobs, store: DataStore
) -> dict[str, Any]:
    """Describe the best job, rank all of them, write the report, and build the Succeeded detail."""
    name = state["tuning_job_name"]
    tuning_job = jobs.describe(name)
    summaries = jobs.training_jobs(name)
    described = {
        summary["TrainingJobName"]: jobs.describe_training_job(summary["TrainingJobName"])
        for summary in summaries
        if summary.get("TrainingJobStatus") in ("Completed", "Stopped", "Failed")
    }
    ranked = rank_training_jobs(summaries, described)
    report_key = f"{settings.report_prefix}{name}.json"
    report_uri = f"s3://{settings.artifacts_bucket}/{report_key}"
    detail = summarize_tuning_job(
        state=state,
        tuning_job=tuning_job,
        best_training_job=described.get(tuning_job["BestTrainingJob"]["TrainingJobName"])
        or jobs.describe_training_job(tuning_job["BestTrainingJob"]["TrainingJobName"]),
        ranked=ranked,
        report_uri=report_uri,
    )
    store.put_json(
        settings.artifacts_bucket,
        report_key,
        {"summary": detail.model_dump(mode="json"), "training_jobs": ranked},
    )
    return {"detail": detail.model_dump(mode="json"), "report_uri": report_uri}


def publish(detail_type: str, state: dict[str, Any], publisher: EventPublisher) -> dict[str, Any]:
    """Build the event's detail from the workflow state, check it against its contract, send it."""
    detail = build_detail(detail_type, state)
    resources = [arn for arn in [_tuning_job_arn(state)] if arn]
    event_id = publisher.publish(detail_type, detail.model_dump(mode="json"), resources)
    return {"event_id": event_id, "detail_type": detail_type}


def _tuning_job_arn(state: dict[str, Any]) -> str | None:
    start_result = state.get("start") or {}
    return start_result.get("tuning_job_arn")


def build_detail(detail_type: str, state: dict[str, Any]) -> events._Contract:
    if detail_type == events.REJECTED:
        return events.RequestRejectedDetail.model_validate(state["rejection"])
    if detail_type == events.SUCCEEDED:
        return events.JobSucceededDetail.model_validate(state["result"]["detail"])
    if detail_type not in (events.FAILED, events.STOPPED):
        raise ValueError(f"unknown detail type {detail_type!r}")
    request = _request_fields(state)
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


def _request_fields(state: dict[str, Any]) -> dict[str, Any]:
    """The request's id and origin; from the raw delivery when validation itself broke."""
    if "request_id" in state:
        return {
            "request_id": state["request_id"],
            "request_name": state.get("request_name"),
            "origin": state["origin"],
        }
    delivery = _parse_delivery({k: v for k, v in state.items() if k != "error"})
    return {
        "request_id": naming.request_id(events.delivery_identity(delivery)),
        "origin": events.origin_of(delivery).model_dump(mode="json"),
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
        message = _error_message(error.get("Cause"))
        code: events.FailureCode = (
            "SageMakerError"
            if name in SAGEMAKER_ERRORS or "SageMaker" in message
            else "InternalError"
        )
        return events.FailureReason(code=code, message=message[:2000], error=name)
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


def _error_message(cause: Any) -> str:
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
