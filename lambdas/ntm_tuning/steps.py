"""What each state of the workflow does, with AWS access passed in.

The handlers are thin wrappers around these functions; the offline runtime and the tests
call the same code.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from pydantic import TypeAdapter, ValidationError

from . import events, naming, preparation, topic_report, warm_start
from .aws import DataStore, EventPublisher, ObjectTooLarge, TuningJobs, error_code
from .builder import (
    TAG_PREFIX,
    DataFacts,
    S3Location,
    build_tuning_job,
    resolve_channels,
    resolve_location,
    vocabulary_location,
)
from .errors import (
    EventPublishFailed,
    LedgerThrottled,
    RequestRejected,
    SageMakerThrottled,
    Violation,
)
from .ledger import Ledger
from .locations import split_uri
from .ntm import OBJECTIVE_METRIC
from .request import CORPUS_SETTING_ERROR, TuningRequest
from .settings import Settings
from .summary import cost_usd, rank_training_jobs, summarize_tuning_job
from .tags import tag_value
from .training_logs import TrainingLogs

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
            if part not in ("Integer", "Continuous", "Categorical", "[key]")
        ]
        if "[key]" in item["loc"]:  # a dict's key is wrong, not its value: say so
            item = {**item, "msg": f"the key: {item['msg']}"}
        if item["type"] == CORPUS_SETTING_ERROR:
            # A setting the preparation job refuses: name the setting and the job's rule.
            ctx = item.get("ctx") or {}
            found.append(
                Violation(
                    ".".join([*loc, str(ctx.get("field"))]), item["type"], str(ctx.get("message"))
                )
            )
            continue
        if not loc and "exactly one of data" in item["msg"]:
            found.append(
                Violation("data", "data_or_corpus", item["msg"].removeprefix("Value error, "))
            )
            continue
        found.append(Violation(".".join(loc) or "request", item["type"], item["msg"]))
    return found


def request_violations(body: Any) -> list[Violation]:
    """What is wrong with a request body by itself, before any data is looked at: the checks
    validation makes first (a client can run them before uploading anything)."""
    if not isinstance(body, dict):
        return [Violation("request", "json_object", "must be a JSON object")]
    try:
        TuningRequest.model_validate(body)
    except ValidationError as error:
        return _violations(error)
    return []


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
    except RecursionError as error:
        raise RequestRejected(
            [Violation("request", "json_depth", "nests arrays or objects too deeply")]
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
    ledger: Ledger,
    *,
    jobs: TuningJobs | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Check the request and claim it: the first execution for a request handles it (accepted,
    to prepare, or rejected), every other delivery of it is a ``duplicate`` and ends without an
    event.

    ``jobs`` describes the warm-start parents a request names."""
    now = now or datetime.now(UTC)
    result = assess(raw_delivery, execution_id, settings, store, jobs=jobs, now=now)
    if result["outcome"] in ("accepted", "rejected", "prepare"):
        request = {key: result[key] for key in ("request_id", "request_name", "origin")}
        if not ledger.claim(result["request_id"], execution_id, now=now):
            return request | {"outcome": "duplicate"}
        # From here on, the clean-up of this execution can name its request.
        ledger.record_job(execution_id, request, now=now)
        if result["outcome"] == "prepare":
            _store_preparation(result.pop("documents"), store)
    return result


def _store_preparation(documents: dict[str, Any], store: DataStore) -> None:
    """A corpus request's settings (its stop words may be most of its 256 KB) go to S3, and
    the state carries their URIs: no state may exceed Step Functions' 256 KiB."""
    for uri, document in documents.items():
        bucket, key = split_uri(uri)
        store.put_json(bucket, key, document)


def assess(
    raw_delivery: dict[str, Any],
    execution_id: str,
    settings: Settings,
    store: DataStore,
    *,
    jobs: TuningJobs | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Read and check the request, and plan what it asks for.

    Returns ``outcome`` "accepted" (with ``create_request``), "prepare" (a corpus request:
    with the ``preparation`` job to run first), "rejected" (with the Rejected event's
    ``rejection`` detail) or "ignored" (the object is not a request).
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
    try:
        body = (
            _read_request(delivery, store)
            if isinstance(delivery, events.S3Delivery)
            else delivery.request
        )
        if isinstance(body, dict) and isinstance(body.get("name"), str):
            base["request_name"] = body["name"][:64]
        if violations := request_violations(body):
            raise RequestRejected(violations)
        request = TuningRequest.model_validate(body)
        base["request_name"] = request.name
        if request.idempotency_key:
            base["request_id"] = naming.request_id(naming.key_identity(request.idempotency_key))
        tags = _tags(base, request, execution_id)
        jobs = jobs or TuningJobs()
        if request.corpus is not None:
            return {**base, **_plan_preparation(request, base, tags, settings, store, jobs, now)}
        return {**base, **_plan_tuning(request, base, tags, settings, store, jobs, now)}
    except RequestRejected as rejected:
        return _rejected(base, rejected)


def _tags(base: dict[str, Any], request: TuningRequest, execution_id: str) -> dict[str, str]:
    origin = events.origin_of_dict(base["origin"])
    tags = {
        REQUEST_ID_TAG: base["request_id"],
        EXECUTION_TAG: execution_id,
        f"{TAG_PREFIX}origin": _origin_text(origin),
    }
    if request.name:
        tags[f"{TAG_PREFIX}name"] = request.name
    # Object keys and event sources may hold characters SageMaker refuses in a tag; the
    # events carry them untouched.
    return {key: tag_value(value) for key, value in tags.items()}


def _rejected(base: dict[str, Any], rejected: RequestRejected) -> dict[str, Any]:
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
    return {**base, "outcome": "rejected", "rejection": detail.model_dump(mode="json")}


def _plan_tuning(
    request: TuningRequest,
    base: dict[str, Any],
    tags: dict[str, str],
    settings: Settings,
    store: DataStore,
    jobs: TuningJobs,
    now: datetime | None,
) -> dict[str, Any]:
    job_name = naming.tuning_job_name(base["request_id"])
    facts, violations = _data_facts(request, settings, store)
    if violations:
        raise RequestRejected(violations)
    parents = _parents(request, jobs)
    try:
        plan = build_tuning_job(
            request, settings, facts, tuning_job_name=job_name, tags=tags, now=now
        )
    except RequestRejected as rejected:
        raise RequestRejected(
            rejected.violations + _parent_violations(request, parents, None),
            cost_estimate=rejected.cost_estimate,
        ) from rejected
    violations = _parent_violations(request, parents, plan.create_request)
    if violations:
        raise RequestRejected(
            violations,
            cost_estimate=plan.cost_estimate.model_dump(mode="json")
            if plan.cost_estimate
            else None,
        )
    return {
        "outcome": "accepted",
        "tuning_job_name": job_name,
        "create_request": plan.create_request,
        "static_hyperparameters": plan.static_hyperparameters,
        "strategy": plan.strategy,
        "max_jobs": plan.max_jobs,
        "vocabulary_uri": plan.vocabulary_uri,
        "watch_deadline": plan.watch_deadline.isoformat(),
        "cost_estimate": (
            plan.cost_estimate.model_dump(mode="json") if plan.cost_estimate else None
        ),
    }


def _plan_preparation(
    request: TuningRequest,
    base: dict[str, Any],
    tags: dict[str, str],
    settings: Settings,
    store: DataStore,
    jobs: TuningJobs,
    now: datetime | None,
) -> dict[str, Any]:
    """A corpus request: check what can be checked before preparing (everything but the
    vocabulary), and plan the Processing job."""
    assert request.corpus is not None
    violations: list[Violation] = []
    corpus = resolve_location("corpus.prefix", request.corpus.prefix, settings)
    if store.count_objects(corpus.bucket, corpus.key, up_to=1) == 0:
        violations.append(Violation("corpus.prefix", "exists", f"no documents under {corpus.uri}"))
    if "feature_dim" in request.hyperparameters:
        violations.append(
            Violation(
                "hyperparameters.feature_dim",
                "derived_from_corpus",
                "leave it out: it is the size of the vocabulary the preparation selects",
            )
        )
    dataset = preparation.dataset_location(base["request_id"], settings)
    parents = _parents(request, jobs)
    try:
        # A dry run with the largest vocabulary the preparation may select.
        dry_run = build_tuning_job(
            preparation.prepared_request(request, dataset),
            settings,
            DataFacts(
                vocabulary_size=request.corpus.max_vocabulary,
                train_objects=request.corpus.train_shards,
            ),
            tuning_job_name=naming.tuning_job_name(base["request_id"]),
            tags=tags,
            now=now,
        )
    except RequestRejected as rejected:
        violations.extend(rejected.violations)
        violations.extend(_parent_violations(request, parents, None))
        if violations:
            raise RequestRejected(violations, cost_estimate=rejected.cost_estimate) from rejected
    violations.extend(_parent_violations(request, parents, dry_run.create_request))
    if violations:
        raise RequestRejected(violations)
    config_uri = preparation.config_location(base["request_id"], settings).uri
    request_uri = preparation.request_location(base["request_id"], settings).uri
    return {
        "outcome": "prepare",
        "preparation": {
            "processing_job_name": preparation.processing_job_name(base["request_id"]),
            "create_request": preparation.build_processing_job(
                request_id=base["request_id"], corpus=corpus, settings=settings, tags=tags
            ),
            "config_uri": config_uri,
            "request_uri": request_uri,
            "dataset_uri": dataset.uri,
            "corpus_uri": corpus.uri,
        },
        # Written to S3 once the request is claimed (``validate``), never carried in the state.
        "documents": {
            config_uri: request.corpus.preparation_config(),
            request_uri: request.model_dump(mode="json", exclude_none=True),
        },
    }


def _parents(request: TuningRequest, jobs: TuningJobs) -> list[warm_start.ParentJob]:
    if request.warm_start is None:
        return []
    return warm_start.describe_parents(request.warm_start.parents, jobs)


def _parent_violations(
    request: TuningRequest,
    parents: list[warm_start.ParentJob],
    create_request: dict[str, Any] | None,
) -> list[Violation]:
    if request.warm_start is None:
        return []
    found = warm_start.violations(
        parents,
        create_request,
        request_id_tag=REQUEST_ID_TAG,
        warm_start_type=request.warm_start.type,
    )
    # Field paths count the parents as the request lists them.
    order = request.warm_start.parents
    names = [parent.name for parent in parents]
    return [
        Violation(
            f"warm_start.parents.{order.index(names[int(v.field.rsplit('.', 1)[1])])}",
            v.rule,
            v.message,
        )
        for v in found
    ]


@cache
def _deliveries() -> TypeAdapter[events.S3Delivery | events.EventDelivery]:
    return TypeAdapter(events.Delivery)


def _parse_delivery(raw: dict[str, Any]) -> events.S3Delivery | events.EventDelivery:
    return _deliveries().validate_python(raw)


def _is_request_object(delivery: events.S3Delivery, settings: Settings) -> bool:
    return (
        delivery.bucket == settings.data_bucket
        and delivery.key.startswith(settings.request_prefix)
        and delivery.key.endswith(".json")
    )


def _origin_text(origin: events.S3Origin | events.EventOrigin) -> str:
    if isinstance(origin, events.S3Origin):
        return f"s3://{origin.bucket}/{origin.key}"
    return f"event:{origin.source}:{origin.event_id}"


def start(
    tuning_job_name: str,
    create_request: dict[str, Any],
    execution_id: str,
    request: dict[str, Any],
    jobs: TuningJobs,
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
        existing = jobs.describe(tuning_job_name)
        result["tuning_job_arn"] = str(existing["HyperParameterTuningJobArn"])
        if jobs.tags(result["tuning_job_arn"]).get(EXECUTION_TAG) != tag_value(execution_id):
            return {**result, "duplicate": True}
    ledger.record_job(execution_id, request, now=now, tuning_job_name=tuning_job_name)
    return result


def admit(
    execution_id: str, ledger: Ledger, limit: int, *, now: datetime | None = None
) -> dict[str, Any]:
    """Take a slot among the configured concurrent tuning jobs, or report that none is free."""
    admitted, holders = ledger.acquire(execution_id, limit, now=now or datetime.now(UTC))
    return {"admitted": admitted, "in_flight": holders, "limit": limit}


def release(execution_id: str, ledger: Ledger) -> dict[str, Any]:
    released, holders = ledger.release(execution_id)
    return {"released": released, "in_flight": holders}


@dataclass(frozen=True)
class ProgressReport:
    """Where ``poll`` publishes progress: the execution, its request and the places involved."""

    execution_id: str
    request: dict[str, Any]
    cost_estimate: dict[str, Any] | None
    ledger: Ledger
    publisher: EventPublisher


def poll(
    tuning_job_name: str,
    watch_deadline: str,
    jobs: TuningJobs,
    *,
    now: datetime | None = None,
    progress: ProgressReport | None = None,
) -> dict[str, Any]:
    """The tuning job's status, counters, and whether the workflow has waited long enough.

    With ``progress``, also publish a progress event when the counters or the best objective
    changed since the last one (``progress`` in the result says what happened).
    """
    job = jobs.describe(tuning_job_name)
    now = now or datetime.now(UTC)
    result = {
        "status": job["HyperParameterTuningJobStatus"],
        "counters": _counters(job).model_dump(),
        "failure_reason": job.get("FailureReason"),
        "deadline_passed": now >= datetime.fromisoformat(watch_deadline),
    }
    if progress is not None:
        result["progress"] = report_progress(job, jobs, progress, now=now)
    return result


def report_progress(
    job: dict[str, Any], jobs: TuningJobs, report: ProgressReport, *, now: datetime
) -> str:
    """Publish a progress event if the job moved since the last one; "published", "unchanged"
    or why it could not. Progress is best effort: its failures never fail the workflow."""
    counters = _counters(job)
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
        document = detail.model_dump(mode="json")
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
    ) == (best.model_dump(mode="json") if best else None)


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
    state: dict[str, Any],
    settings: Settings,
    jobs: TuningJobs,
    store: DataStore,
    logs: TrainingLogs | None = None,
    *,
    seconds_left: float | None = None,
) -> dict[str, Any]:
    """Describe the best job, rank all of them, read their topics from their training logs,
    score them, write the report, and build the Succeeded detail.

    ``seconds_left``: the time this step may take; half of it goes to reading logs, and NPMI
    stops at 85% of it, so the report is always written."""
    started = time.monotonic()
    log_deadline = started + seconds_left * 0.5 if seconds_left else None
    npmi_deadline = started + seconds_left * 0.85 if seconds_left else None
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
    best_name = tuning_job["BestTrainingJob"]["TrainingJobName"]
    best_training_job = described.get(best_name) or jobs.describe_training_job(best_name)
    logs = logs or TrainingLogs()
    # The best job first, so that it is read whatever the time budget allows.
    order = sorted(ranked, key=lambda job: job["name"] != best_name)
    found = topic_report.read_all(order, logs, deadline=log_deadline)
    npmi = topic_report.score_npmi(
        found,
        best_training_job,
        vocabulary_uri=state.get("vocabulary_uri"),
        store=store,
        max_bytes=settings.tuning.npmi_max_channel_bytes,
        deadline=npmi_deadline,
    )
    pareto = topic_report.annotate(ranked, found, npmi)
    detail = summarize_tuning_job(
        state=state,
        tuning_job=tuning_job,
        best_training_job=best_training_job,
        ranked=ranked,
        report_uri=report_uri,
        topic_fields=topic_report.event_fields(best_name, found, npmi, logs.log_group),
    )
    store.put_json(
        settings.artifacts_bucket,
        report_key,
        {
            "summary": detail.model_dump(mode="json"),
            "training_jobs": ranked,
            "pareto_front": pareto,
            # What was searched, and on which scale: the report's plots follow it.
            "parameter_ranges": (tuning_job.get("HyperParameterTuningJobConfig") or {}).get(
                "ParameterRanges", {}
            ),
        },
    )
    return {"detail": detail.model_dump(mode="json"), "report_uri": report_uri}


def publish(
    detail_type: str,
    state: dict[str, Any],
    publisher: EventPublisher,
    ledger: Ledger,
    execution_id: str,
    *,
    engine: str | None = None,
) -> dict[str, Any]:
    """Build the event's detail from the workflow state, check it against its contract, and
    send it: the request's one terminal event, reserved in the ledger first. ``engine``: set
    offline only, it marks the event with what played the tuning job."""
    detail = build_detail(detail_type, state)
    request_id = detail.request_id
    if not ledger.reserve_outcome(request_id, execution_id, detail_type):
        return {"event_id": None, "detail_type": detail_type, "already_published": True}
    resources = [arn for arn in [_tuning_job_arn(state)] if arn]
    event_id = publisher.publish(detail_type, published_detail(detail, engine), resources)
    ledger.record_outcome(request_id, event_id)
    return {"event_id": event_id, "detail_type": detail_type}


def published_detail(detail: events._Contract, engine: str | None) -> dict[str, Any]:
    """The detail as published: with the offline engine's name where one played the job,
    without the field on AWS (the workflow, the clean-up and the command line agree)."""
    if engine and isinstance(detail, events._EngineMarked):
        detail = type(detail).model_validate({**detail.model_dump(), "engine": engine})
    document = detail.model_dump(mode="json")
    if document.get("engine", "") is None:
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


ENDED_EARLY = {
    "ABORTED": "ExecutionAborted",
    "TIMED_OUT": "ExecutionTimedOut",
    "FAILED": "ExecutionFailed",
}


def clean_up(
    event: dict[str, Any],
    jobs: TuningJobs,
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
        counters=_counters(job) if job else None,
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
            message += f": {_error_message(detail['cause'])}"
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
        return _request_fields(delivery)
    except (ValueError, TypeError, KeyError):
        return None


def prepare_start(
    plan: dict[str, Any],
    execution_id: str,
    request: dict[str, Any],
    jobs: TuningJobs,
    ledger: Ledger,
    *,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Start the preparation job once (its settings are in S3 since validation)."""
    try:
        arn = jobs.create_processing(plan["create_request"])
    except ClientError as error:
        if error_code(error) != "ResourceInUse":
            raise
        arn = str(jobs.describe_processing(plan["processing_job_name"])["ProcessingJobArn"])
    ledger.record_job(
        execution_id,
        request,
        now=now or datetime.now(UTC),
        processing_job_name=plan["processing_job_name"],
    )
    return {"processing_job_arn": arn}


def prepare_poll(processing_job_name: str, jobs: TuningJobs) -> dict[str, Any]:
    job = jobs.describe_processing(processing_job_name)
    return {
        "status": job["ProcessingJobStatus"],
        "failure_reason": job.get("FailureReason"),
        "exit_message": job.get("ExitMessage"),
    }


def prepare_finish(
    state: dict[str, Any],
    execution_id: str,
    settings: Settings,
    store: DataStore,
    *,
    jobs: TuningJobs | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """The dataset is ready: plan the tuning job on it, or reject a corpus that gave none."""
    base = {key: state[key] for key in ("request_id", "request_name", "origin")}
    plan = state["preparation"]
    dataset = resolve_location("corpus.prefix", plan["dataset_uri"], settings)
    raw = store.read(dataset.bucket, f"{dataset.key}dataset.json", None, limit=16 << 20)
    if raw is None:
        raise RuntimeError(f"the preparation job wrote no {dataset.uri}dataset.json")
    summary = json.loads(raw)
    documents = summary.get("documents") or {}
    saved = resolve_location("corpus.prefix", plan["request_uri"], settings)
    body = store.read(saved.bucket, saved.key, None, limit=16 << 20)
    if body is None:
        raise RuntimeError(f"the request's settings are gone from {saved.uri}")
    request = TuningRequest.model_validate(json.loads(body))
    try:
        if summary.get("error") or not documents.get("train"):
            raise RequestRejected(
                [
                    Violation(
                        "corpus.prefix",
                        "usable_documents",
                        f"no usable document: {summary.get('error') or 'no training documents'}; "
                        f"dropped: {summary.get('dropped') or {}}",
                    )
                ]
            )
        if not documents.get("validation"):
            raise RequestRejected(
                [
                    Violation(
                        "corpus.validation_ratio",
                        "validation_documents",
                        "no document landed in the validation split; raise validation_ratio",
                    )
                ]
            )
        prepared = preparation.prepared_request(request, dataset, summary)
        tags = _tags(base, request, execution_id)
        result = {
            **base,
            **_plan_tuning(prepared, base, tags, settings, store, jobs or TuningJobs(), now),
        }
    except RequestRejected as rejected:
        result = _rejected(base, rejected)
    result["dataset"] = {
        "uri": dataset.uri,
        "summary_uri": f"{dataset.uri}dataset.json",
        "corpus_uri": plan["corpus_uri"],
        "documents": {k: int(v) for k, v in documents.items()},
        "dropped": {k: int(v) for k, v in (summary.get("dropped") or {}).items()},
        "vocabulary_size": int(summary.get("vocabulary_size") or 0),
    }
    return result
