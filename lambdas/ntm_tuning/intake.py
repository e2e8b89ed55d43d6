"""State "Validate request": read the delivered request, check it, plan what it asks for, and
claim it, so that each request is handled by one execution only."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError

from . import events, naming, outcomes, planning
from .aws import DataStore, ObjectTooLarge, SageMakerJobs
from .errors import RequestRejected, Violation
from .ledger import Ledger
from .locations import split_uri
from .request import CORPUS_SETTING_ERROR, TuningRequest
from .settings import Settings
from .state import REQUEST_FIELDS, Assessment, Outcome, assessment, dump
from .tags import job_tags

MAX_REQUEST_BYTES = 256 * 1024


# The tags of a range's type: pydantic puts the tag after the range's name in an error's path.
RANGE_TYPES = ("Integer", "Continuous", "Categorical")


def violations_of(error: ValidationError) -> list[Violation]:
    found = []
    for item in error.errors():
        path = list(item["loc"])
        # A dict's key is wrong, not its value: pydantic ends the path with the dict's field,
        # the key, then "[key]". Say so (a key the user named "[key]" is a key like another).
        if len(path) >= 3 and path[-1] == "[key]" and path[-2] == item.get("input"):
            path.pop()
            item = {**item, "msg": f"the key: {item['msg']}"}
        # Users know the field, not the tag (a hyperparameter may be named like a tag).
        if len(path) > 2 and path[0] == "ranges" and path[2] in RANGE_TYPES:
            del path[2]
        loc = [str(part) for part in path]
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
        return violations_of(error)
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
        text = data.decode()  # UTF-8
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


def validate_request(
    raw_delivery: dict[str, Any],
    execution_id: str,
    settings: Settings,
    store: DataStore,
    ledger: Ledger,
    *,
    jobs: SageMakerJobs | None = None,
    now: datetime | None = None,
) -> Assessment:
    """Check the request and claim it: the first execution for a request handles it (accepted,
    to prepare, or rejected), every other delivery of it is a ``duplicate`` and ends without an
    event.

    ``jobs`` describes the warm-start parents a request names."""
    now = now or datetime.now(UTC)
    result = assess(raw_delivery, execution_id, settings, store, jobs=jobs, now=now)
    if result["outcome"] in (Outcome.ACCEPTED, Outcome.REJECTED, Outcome.PREPARE):
        request = {key: result[key] for key in REQUEST_FIELDS}
        if not ledger.claim(result["request_id"], execution_id, now=now):
            return assessment(request | {"outcome": Outcome.DUPLICATE})
        # From here on, the clean-up of this execution can name its request.
        ledger.record_job(execution_id, request, now=now)
        if result["outcome"] == Outcome.PREPARE:
            _store_preparation(result.pop("documents"), store)
    return assessment(result)


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
    jobs: SageMakerJobs | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Read and check the request, and plan what it asks for.

    Returns ``outcome`` "accepted" (with ``create_request``), "prepare" (a corpus request:
    with the ``preparation`` job to run first), "rejected" (with the Rejected event's
    ``rejection`` detail) or "ignored" (the object is not a request).
    """
    delivery = events.parse_delivery(raw_delivery)
    origin = events.origin_of(delivery)
    base: dict[str, Any] = {
        "request_id": naming.request_id(events.delivery_identity(delivery)),
        "request_name": None,
        "origin": dump(origin),
    }
    if isinstance(delivery, events.S3Delivery) and not _is_request_object(delivery, settings):
        return {**base, "outcome": Outcome.IGNORED}
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
        tags = job_tags(base, execution_id)
        jobs = jobs or SageMakerJobs()
        if request.corpus is not None:
            return {
                **base,
                **planning.plan_preparation(request, base, tags, settings, store, jobs),
            }
        return {**base, **planning.plan_tuning(request, base, tags, settings, store, jobs, now)}
    except RequestRejected as rejected:
        return outcomes.rejection(base, rejected)


def _is_request_object(delivery: events.S3Delivery, settings: Settings) -> bool:
    return (
        delivery.bucket == settings.data_bucket
        and delivery.key.startswith(settings.request_prefix)
        and delivery.key.endswith(".json")
    )
