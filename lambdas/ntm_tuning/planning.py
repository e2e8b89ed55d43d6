"""Planning: from a checked request to the job the workflow runs next, either the tuning job
(a request naming its data) or the dataset preparation job (a corpus request); and state
"Build tuning job", which plans the tuning job on the dataset the preparation wrote."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from . import naming, outcomes, preparation, warm_start
from .aws import DataStore, SageMakerJobs
from .errors import RequestRejected, Violation
from .job_definition import DataFacts, define_tuning_job
from .locations import S3Location, resolve_channels, resolve_location, vocabulary_location
from .request import TuningRequest
from .settings import Settings
from .state import Accepted, Outcome, PreparationPlan, Rejected, RequestRef, assessment, dump
from .tags import REQUEST_ID_TAG, job_tags


def _data_facts(
    request: TuningRequest, settings: Settings, store: DataStore
) -> tuple[DataFacts, list[Violation]]:
    violations: list[Violation] = []
    try:
        locations = resolve_channels(request, settings)
    except RequestRejected as rejected:
        return DataFacts(), rejected.violations
    wanted = request.resources.instance_count or settings.tuning.instance_count
    # The data channels (vocab.txt is checked below), each counted as far as sharding needs.
    found = {
        channel: store.count_objects(location.bucket, location.key, up_to=max(wanted, 1))
        for channel, location in locations.items()
        if channel != "auxiliary"
    }
    for channel, count in found.items():
        if count == 0:
            violations.append(
                Violation(f"data.{channel}", "exists", f"no data under {locations[channel].uri}")
            )
    vocabulary_size = None
    if "auxiliary" in locations:
        vocabulary: S3Location = vocabulary_location(locations["auxiliary"])
        vocabulary_size = store.count_lines(vocabulary.bucket, vocabulary.key)
        if vocabulary_size is None:
            violations.append(
                Violation("data.auxiliary", "exists", f"no vocabulary at {vocabulary.uri}")
            )
    return DataFacts(vocabulary_size=vocabulary_size, train_objects=found["train"]), violations


def plan_tuning(
    request: TuningRequest,
    base: dict[str, Any],
    tags: dict[str, str],
    settings: Settings,
    store: DataStore,
    jobs: SageMakerJobs,
    now: datetime | None,
) -> dict[str, Any]:
    job_name = naming.tuning_job_name(base["request_id"])
    facts, violations = _data_facts(request, settings, store)
    if violations:
        raise RequestRejected(violations)
    parents = _parents(request, jobs)
    try:
        plan = define_tuning_job(
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
            cost_estimate=dump(plan.cost_estimate) if plan.cost_estimate else None,
        )
    return {
        "outcome": Outcome.ACCEPTED,
        "tuning_job_name": job_name,
        "create_request": plan.create_request,
        "static_hyperparameters": plan.static_hyperparameters,
        "strategy": plan.strategy,
        "max_jobs": plan.max_jobs,
        "vocabulary_uri": plan.vocabulary_uri,
        "watch_deadline": plan.watch_deadline.isoformat(),
        "cost_estimate": (dump(plan.cost_estimate) if plan.cost_estimate else None),
    }


def plan_preparation(
    request: TuningRequest,
    base: dict[str, Any],
    tags: dict[str, str],
    settings: Settings,
    store: DataStore,
    jobs: SageMakerJobs,
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
        # A dry run with the largest vocabulary the preparation may select (its deadline is
        # never read: "Build tuning job" plans the job again on the prepared dataset).
        dry_run = define_tuning_job(
            preparation.prepared_request(request, dataset),
            settings,
            DataFacts(
                vocabulary_size=request.corpus.max_vocabulary,
                train_objects=request.corpus.train_shards,
            ),
            tuning_job_name=naming.tuning_job_name(base["request_id"]),
            tags=tags,
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
        "outcome": Outcome.PREPARE,
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


def _parents(request: TuningRequest, jobs: SageMakerJobs) -> list[warm_start.ParentJob]:
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


def build_tuning_job(
    request_ref: RequestRef,
    plan: PreparationPlan,
    execution_id: str,
    settings: Settings,
    store: DataStore,
    *,
    jobs: SageMakerJobs | None = None,
    now: datetime | None = None,
) -> Accepted | Rejected:
    """The dataset is ready: plan the tuning job on it, or reject a corpus that gave none."""
    base = dump(request_ref)
    dataset = resolve_location("corpus.prefix", plan.dataset_uri, settings)
    raw = store.read(dataset.bucket, f"{dataset.key}dataset.json", None, limit=16 << 20)
    if raw is None:
        raise RuntimeError(f"the preparation job wrote no {dataset.uri}dataset.json")
    summary = json.loads(raw)
    documents = summary.get("documents") or {}
    saved = resolve_location("corpus.prefix", plan.request_uri, settings)
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
        tags = job_tags(base, execution_id)
        result = {
            **base,
            **plan_tuning(prepared, base, tags, settings, store, jobs or SageMakerJobs(), now),
        }
    except RequestRejected as rejected:
        result = outcomes.rejection(base, rejected)
    result["dataset"] = {
        "uri": dataset.uri,
        "summary_uri": f"{dataset.uri}dataset.json",
        "corpus_uri": plan.corpus_uri,
        "documents": {k: int(v) for k, v in documents.items()},
        "dropped": {k: int(v) for k, v in (summary.get("dropped") or {}).items()},
        "vocabulary_size": int(summary.get("vocabulary_size") or 0),
    }
    built = assessment(result)
    assert isinstance(built, Accepted | Rejected), built.outcome
    return built
