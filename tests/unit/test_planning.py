"""Planning against fakes: the data facts a request's plan rests on, the tuning job and the
preparation job planned from a request, and "Build tuning job" on a prepared dataset."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from ntm_tuning import naming, preparation
from ntm_tuning.errors import RequestRejected
from ntm_tuning.locations import S3Location
from ntm_tuning.planning import build_tuning_job, plan_preparation, plan_tuning
from ntm_tuning.request import TuningRequest
from ntm_tuning.state import PreparationPlan, RequestRef
from ntm_tuning.tags import REQUEST_ID_TAG, job_tags

from tests.settings_factory import DATA_BUCKET, make_settings
from tests.unit.step_fakes import FakeJobs, FakeStore

NOW = datetime(2026, 11, 27, 12, 30, tzinfo=UTC)
EXECUTION = "execution-1"
SETTINGS = make_settings()
REQUEST_ID = "0123456789abcdef01234567"
BASE = {
    "request_id": REQUEST_ID,
    "request_name": "demo",
    "origin": {"type": "event", "event_id": "e-1", "source": "tests"},
}
TAGS = job_tags(BASE, EXECUTION)
DATA = {
    "train": "datasets/demo/train/",
    "validation": "datasets/demo/validation/",
    "auxiliary": "datasets/demo/auxiliary/",
}


def request(**overrides: Any) -> TuningRequest:
    body: dict[str, Any] = {
        "name": "demo",
        "data": DATA,
        "hyperparameters": {"num_topics": 5},
        "resource_limits": {"max_jobs": 4, "max_parallel_jobs": 2},
    }
    body.update(overrides)
    return TuningRequest.model_validate(body)


def store(*, shards: int = 1, vocabulary: int | None = 3, **extra: bytes) -> FakeStore:
    objects = {(DATA_BUCKET, f"datasets/demo/train/part-{i}"): b"x" for i in range(shards)} | {
        (DATA_BUCKET, "datasets/demo/validation/part-0"): b"x"
    }
    if vocabulary is not None:
        objects[(DATA_BUCKET, "datasets/demo/auxiliary/vocab.txt")] = b"w\n" * vocabulary
    objects |= {(DATA_BUCKET, key): data for key, data in extra.items()}
    return FakeStore(objects)


def tuning(
    given: TuningRequest, data: FakeStore, jobs: FakeJobs | None = None, **settings: Any
) -> dict[str, Any]:
    chosen = make_settings(**settings) if settings else SETTINGS
    return plan_tuning(given, BASE, TAGS, chosen, data, jobs or FakeJobs(), NOW)


def rejected(call: Any) -> RequestRejected:
    with pytest.raises(RequestRejected) as raised:
        call()
    return raised.value


def rules(error: RequestRejected) -> list[tuple[str, str, str]]:
    return [(v.field, v.rule, v.message) for v in error.violations]


def test_a_tuning_plan_holds_what_the_workflow_needs() -> None:
    plan = tuning(request(), store(vocabulary=7))
    assert plan["outcome"] == "accepted"
    assert plan["tuning_job_name"] == naming.tuning_job_name(REQUEST_ID)
    assert plan["create_request"]["HyperParameterTuningJobName"] == plan["tuning_job_name"]
    assert plan["static_hyperparameters"]["feature_dim"] == "7"
    assert (
        plan["static_hyperparameters"]
        == (plan["create_request"]["TrainingJobDefinition"]["StaticHyperParameters"])
    )
    assert plan["strategy"] == "Bayesian"
    assert plan["max_jobs"] == 4
    assert plan["vocabulary_uri"] == f"s3://{DATA_BUCKET}/datasets/demo/auxiliary/vocab.txt"
    # Two waves of two jobs, an hour each at most, and an hour of slack.
    assert datetime.fromisoformat(plan["watch_deadline"]) == NOW + timedelta(hours=3)
    assert plan["cost_estimate"]["max_jobs"] == 4
    assert plan["cost_estimate"]["instance_count"] == 1


def test_each_channel_is_counted_only_as_far_as_its_instances_need() -> None:
    data = store(shards=5)
    tuning(request(), data)
    assert data.counted == [
        (DATA_BUCKET, "datasets/demo/train/", 1),
        (DATA_BUCKET, "datasets/demo/validation/", 1),
    ]
    data = store(shards=5)
    tuning(request(resources={"instance_count": 3}), data)
    assert [up_to for _, _, up_to in data.counted] == [3, 3]


def test_each_missing_channel_and_the_vocabulary_are_named() -> None:
    given = request(data={**DATA, "test": "datasets/demo/test/"})
    error = rejected(lambda: tuning(given, store(shards=0, vocabulary=None)))
    assert rules(error) == [
        ("data.train", "exists", f"no data under s3://{DATA_BUCKET}/datasets/demo/train/"),
        ("data.test", "exists", f"no data under s3://{DATA_BUCKET}/datasets/demo/test/"),
        (
            "data.auxiliary",
            "exists",
            f"no vocabulary at s3://{DATA_BUCKET}/datasets/demo/auxiliary/vocab.txt",
        ),
    ]


def test_the_auxiliary_channel_needs_its_vocabulary_not_other_objects() -> None:
    # Only vocab.txt under auxiliary/: not counted as a data channel.
    assert tuning(request(), store())["outcome"] == "accepted"
    without_auxiliary = request(
        data={k: v for k, v in DATA.items() if k != "auxiliary"},
        hyperparameters={"num_topics": 5, "feature_dim": 50},
    )
    plan = tuning(without_auxiliary, store(vocabulary=None))
    assert plan["vocabulary_uri"] is None
    assert plan["static_hyperparameters"]["feature_dim"] == "50"


@pytest.mark.parametrize(("shards", "accepted"), [(2, False), (3, True), (4, True)])
def test_instances_need_as_many_train_objects_to_shard(shards: int, accepted: bool) -> None:
    given = request(resources={"instance_count": 3})
    if accepted:
        assert tuning(given, store(shards=shards))["cost_estimate"]["instance_count"] == 3
        return
    assert rules(rejected(lambda: tuning(given, store(shards=shards)))) == [
        (
            "resources.instance_count",
            "sharded_train_objects",
            "3 instances need at least 3 objects under data.train to shard; found 2",
        )
    ]


def test_the_deployments_instance_count_applies_when_the_request_names_none() -> None:
    error = rejected(lambda: tuning(request(), store(shards=1), instance_count=2))
    assert [v.rule for v in error.violations] == ["sharded_train_objects"]
    assert tuning(request(), store(shards=2), instance_count=2)["outcome"] == "accepted"


def test_data_outside_the_bucket_is_named_before_anything_is_counted() -> None:
    given = request(data={**DATA, "train": "s3://elsewhere/train/"})
    data = store()
    error = rejected(lambda: tuning(given, data))
    assert [(v.field, v.rule) for v in error.violations] == [("data.train", "inside_data_bucket")]


def test_a_request_over_the_budget_is_rejected_with_its_estimate() -> None:
    given = request(resource_limits={"max_jobs": 100, "max_parallel_jobs": 2})
    error = rejected(lambda: tuning(given, store()))
    assert [v.rule for v in error.violations] == ["cost_budget"]
    assert error.cost_estimate is not None
    assert error.cost_estimate["max_jobs"] == 100


PARENT = "ntm-00000000000000000000000a"


def parent_jobs(plan: dict[str, Any], status: str = "Completed", tag: str = "x") -> FakeJobs:
    jobs = FakeJobs()
    arn = f"arn:aws:sagemaker:us-east-1:1:hyper-parameter-tuning-job/{PARENT}"
    jobs.tuning[PARENT] = {
        "HyperParameterTuningJobName": PARENT,
        "HyperParameterTuningJobArn": arn,
        "HyperParameterTuningJobStatus": status,
        "HyperParameterTuningJobConfig": plan["create_request"]["HyperParameterTuningJobConfig"],
        "TrainingJobDefinition": plan["create_request"]["TrainingJobDefinition"],
    }
    jobs.tag_sets[arn] = {REQUEST_ID_TAG: tag}
    return jobs


def warm(*parents: str, **overrides: Any) -> TuningRequest:
    return request(warm_start={"parents": list(parents), "type": "TransferLearning"}, **overrides)


def test_a_warm_start_from_a_compatible_parent_is_planned() -> None:
    jobs = parent_jobs(tuning(request(), store()))
    plan = tuning(warm(PARENT), store(), jobs)
    assert plan["outcome"] == "accepted"
    assert jobs.names() == ["describe", "tags"]


def test_a_parent_on_another_set_of_hyperparameters_is_refused() -> None:
    jobs = parent_jobs(
        tuning(request(hyperparameters={"num_topics": 5, "batch_norm": True}), store())
    )
    error = rejected(lambda: tuning(warm(PARENT), store(), jobs))
    assert [(v.field, v.rule) for v in error.violations] == [
        ("warm_start.parents.0", "same_hyperparameters")
    ]


def test_a_running_parent_is_named_by_its_place_in_the_request() -> None:
    jobs = parent_jobs(tuning(request(), store()), status="InProgress")
    error = rejected(lambda: tuning(warm("elsewhere", PARENT), store(), jobs))
    assert [(v.field, v.rule) for v in error.violations] == [
        ("warm_start.parents", "pipeline_jobs_only"),
        ("warm_start.parents.1", "terminal_parent"),
    ]
    assert error.violations[1].message == (
        f"{PARENT} is InProgress; a parent must have ended (Completed, Stopped, Failed)"
    )


def test_a_parent_on_another_image_is_refused_for_identical_data_and_algorithm() -> None:
    jobs = parent_jobs(tuning(request(), store()))
    definition = jobs.tuning[PARENT]["TrainingJobDefinition"]
    definition["AlgorithmSpecification"] = {
        **definition["AlgorithmSpecification"],
        "TrainingImage": "174872318107.dkr.ecr.us-west-2.amazonaws.com/ntm:1",
    }
    identical = request(warm_start={"parents": [PARENT], "type": "IdenticalDataAndAlgorithm"})
    error = rejected(lambda: tuning(identical, store(), jobs))
    assert [(v.field, v.rule) for v in error.violations] == [
        ("warm_start.parents.0", "same_algorithm")
    ]
    # Transfer learning may change the image.
    assert tuning(warm(PARENT), store(), jobs)["outcome"] == "accepted"


def test_parent_problems_join_the_plans_own_and_keep_its_estimate() -> None:
    jobs = parent_jobs(tuning(request(), store()), status="InProgress")
    error = rejected(
        lambda: tuning(
            warm(PARENT, resource_limits={"max_jobs": 100, "max_parallel_jobs": 2}),
            store(),
            jobs,
        )
    )
    assert [(v.field, v.rule) for v in error.violations] == [
        ("resource_limits.max_jobs", "cost_budget"),
        ("warm_start.parents.0", "terminal_parent"),
    ]
    assert error.cost_estimate is not None and error.cost_estimate["max_jobs"] == 100


def test_a_parent_problem_alone_keeps_the_plans_estimate() -> None:
    jobs = parent_jobs(tuning(request(), store()), status="Stopping")
    error = rejected(lambda: tuning(warm(PARENT), store(), jobs))
    assert [v.rule for v in error.violations] == ["terminal_parent"]
    assert error.cost_estimate is not None and error.cost_estimate["max_jobs"] == 4


# -- corpus requests ---------------------------------------------------------------------
CORPUS = "corpora/demo/"


def corpus_request(**overrides: Any) -> TuningRequest:
    body: dict[str, Any] = {
        "name": "raw",
        "corpus": {"prefix": CORPUS, "max_vocabulary": 300, "train_shards": 2},
        "hyperparameters": {"num_topics": 4},
        "resource_limits": {"max_jobs": 2, "max_parallel_jobs": 1},
    }
    body.update(overrides)
    return TuningRequest.model_validate(body)


def corpus_store() -> FakeStore:
    return FakeStore({(DATA_BUCKET, f"{CORPUS}a.txt"): b"some words"})


def preparing(given: TuningRequest, data: FakeStore, jobs: FakeJobs | None = None) -> Any:
    return plan_preparation(given, BASE, TAGS, SETTINGS, data, jobs or FakeJobs())


def test_a_corpus_request_plans_its_preparation_job() -> None:
    given = corpus_request()
    plan = preparing(given, corpus_store())
    prefix = f"s3://{DATA_BUCKET}/{SETTINGS.prepared_prefix}{REQUEST_ID}"
    assert plan["outcome"] == "prepare"
    assert plan["preparation"] == {
        "processing_job_name": naming.processing_job_name(REQUEST_ID),
        "create_request": preparation.build_processing_job(
            request_id=REQUEST_ID,
            corpus=S3Location(DATA_BUCKET, CORPUS),
            settings=SETTINGS,
            tags=TAGS,
        ),
        "config_uri": f"{prefix}/config.json",
        "request_uri": f"{prefix}/request.json",
        "dataset_uri": f"{prefix}/dataset/",
        "corpus_uri": f"s3://{DATA_BUCKET}/{CORPUS}",
    }
    assert given.corpus is not None
    assert plan["documents"] == {
        f"{prefix}/config.json": given.corpus.preparation_config(),
        f"{prefix}/request.json": given.model_dump(mode="json", exclude_none=True),
    }


def test_a_corpus_is_looked_for_inside_the_data_bucket_and_one_document_is_enough() -> None:
    data = corpus_store()
    preparing(corpus_request(), data)
    # Counting stops at the first document: a corpus may hold millions.
    assert data.counted == [(DATA_BUCKET, CORPUS, 1)]
    elsewhere = corpus_request(corpus={"prefix": "s3://elsewhere/corpora/demo/"})
    error = rejected(lambda: preparing(elsewhere, corpus_store()))
    assert [(v.field, v.rule) for v in error.violations] == [
        ("corpus.prefix", "inside_data_bucket")
    ]


def test_a_corpus_request_without_documents_or_with_a_feature_dim_is_rejected() -> None:
    given = corpus_request(hyperparameters={"num_topics": 4, "feature_dim": 10})
    error = rejected(lambda: preparing(given, FakeStore()))
    assert rules(error) == [
        ("corpus.prefix", "exists", f"no documents under s3://{DATA_BUCKET}/{CORPUS}"),
        (
            "hyperparameters.feature_dim",
            "derived_from_corpus",
            "leave it out: it is the size of the vocabulary the preparation selects",
        ),
        # The dry run plans on the largest vocabulary the preparation may select.
        ("hyperparameters.feature_dim", "matches_vocabulary", "is 10 but vocab.txt has 300 lines"),
    ]


def test_the_dry_run_plans_on_the_train_shards_asked_for() -> None:
    # Two instances need two train shards: the corpus asks for them.
    sharded = corpus_request(resources={"instance_count": 2})
    assert preparing(sharded, corpus_store())["outcome"] == "prepare"
    one_shard = corpus_request(
        corpus={"prefix": CORPUS, "train_shards": 1}, resources={"instance_count": 2}
    )
    assert rules(rejected(lambda: preparing(one_shard, corpus_store()))) == [
        (
            "resources.instance_count",
            "sharded_train_objects",
            "2 instances need at least 2 objects under data.train to shard; found 1",
        )
    ]


def test_a_corpus_requests_problems_are_listed_together_with_the_estimate() -> None:
    given = corpus_request(resource_limits={"max_jobs": 100, "max_parallel_jobs": 1})
    error = rejected(lambda: preparing(given, FakeStore()))
    assert [(v.field, v.rule) for v in error.violations] == [
        ("corpus.prefix", "exists"),
        ("resource_limits.max_jobs", "cost_budget"),
    ]
    assert error.cost_estimate is not None and error.cost_estimate["max_jobs"] == 100


def test_a_corpus_request_checks_its_warm_start_parents() -> None:
    jobs = parent_jobs(tuning(request(), store()), status="InProgress")
    given = corpus_request(warm_start={"parents": [PARENT], "type": "TransferLearning"})
    error = rejected(lambda: preparing(given, corpus_store(), jobs))
    assert [(v.field, v.rule) for v in error.violations] == [
        ("warm_start.parents.0", "terminal_parent")
    ]
    # A parent on another set of hyperparameters than the dry run's plan.
    other_set = parent_jobs(
        tuning(request(hyperparameters={"num_topics": 5, "batch_norm": True}), store())
    )
    error = rejected(lambda: preparing(given, corpus_store(), other_set))
    assert [(v.field, v.rule) for v in error.violations] == [
        ("warm_start.parents.0", "same_hyperparameters")
    ]
    over = corpus_request(
        warm_start={"parents": [PARENT], "type": "TransferLearning"},
        resource_limits={"max_jobs": 100, "max_parallel_jobs": 1},
    )
    error = rejected(lambda: preparing(over, corpus_store(), jobs))
    assert [v.rule for v in error.violations] == ["cost_budget", "terminal_parent"]


# -- "Build tuning job" ------------------------------------------------------------------
PREFIX = f"{SETTINGS.prepared_prefix}{REQUEST_ID}"
PLAN = PreparationPlan(
    processing_job_name=naming.processing_job_name(REQUEST_ID),
    create_request={},
    config_uri=f"s3://{DATA_BUCKET}/{PREFIX}/config.json",
    request_uri=f"s3://{DATA_BUCKET}/{PREFIX}/request.json",
    dataset_uri=f"s3://{DATA_BUCKET}/{PREFIX}/dataset/",
    corpus_uri=f"s3://{DATA_BUCKET}/{CORPUS}",
)


def prepared_store(summary: dict[str, Any] | None, *, saved: bool = True) -> FakeStore:
    data = FakeStore()
    dataset = f"{PREFIX}/dataset/"
    for channel in ("train/part-0", "train/part-1", "validation/part-0", "test/part-0"):
        data.objects[(DATA_BUCKET, f"{dataset}{channel}")] = b"x"
    data.objects[(DATA_BUCKET, f"{dataset}auxiliary/vocab.txt")] = b"w\n" * 120
    if summary is not None:
        data.objects[(DATA_BUCKET, f"{dataset}dataset.json")] = json.dumps(summary).encode()
    if saved:
        body = corpus_request().model_dump(mode="json", exclude_none=True)
        data.objects[(DATA_BUCKET, f"{PREFIX}/request.json")] = json.dumps(body).encode()
    return data


def build(data: FakeStore) -> dict[str, Any]:
    ref = RequestRef.model_validate(BASE)
    built = build_tuning_job(ref, PLAN, EXECUTION, SETTINGS, data, jobs=FakeJobs(), now=NOW)
    return built.model_dump(mode="json")


SUMMARY = {
    "documents": {"train": 80, "validation": 12, "test": 8, "total": 100},
    "dropped": {"empty": 1, "too_long": 2},
    "vocabulary_size": 120,
}


def test_a_prepared_dataset_is_planned_and_described() -> None:
    data = prepared_store(SUMMARY)
    result = build(data)
    assert result["outcome"] == "accepted"
    assert result["request_id"] == REQUEST_ID
    assert result["static_hyperparameters"]["feature_dim"] == "120"
    tags = {t["Key"]: t["Value"] for t in result["create_request"]["Tags"]}
    assert tags == TAGS
    channels = result["create_request"]["TrainingJobDefinition"]["InputDataConfig"]
    assert {c["ChannelName"] for c in channels} == {"train", "validation", "test", "auxiliary"}
    assert result["dataset"] == {
        "uri": PLAN.dataset_uri,
        "summary_uri": f"{PLAN.dataset_uri}dataset.json",
        "corpus_uri": PLAN.corpus_uri,
        "documents": {"train": 80, "validation": 12, "test": 8, "total": 100},
        "dropped": {"empty": 1, "too_long": 2},
        "vocabulary_size": 120,
    }
    assert (DATA_BUCKET, f"{PREFIX}/dataset/dataset.json", None, 16 << 20) in data.reads
    assert (DATA_BUCKET, f"{PREFIX}/request.json", None, 16 << 20) in data.reads


def test_a_dataset_without_a_test_split_gets_no_test_channel() -> None:
    summary = {**SUMMARY, "documents": {"train": 80, "validation": 12, "test": 0}}
    result = build(prepared_store(summary))
    channels = result["create_request"]["TrainingJobDefinition"]["InputDataConfig"]
    assert "test" not in {c["ChannelName"] for c in channels}


@pytest.mark.parametrize(
    ("summary", "violation"),
    [
        (
            {"error": "every document was empty", "dropped": {"empty": 9}},
            (
                "corpus.prefix",
                "usable_documents",
                "no usable document: every document was empty; dropped: {'empty': 9}",
            ),
        ),
        (
            # An error outranks whatever documents the summary counts.
            {"error": "the corpus is not UTF-8", "documents": {"train": 5, "validation": 3}},
            (
                "corpus.prefix",
                "usable_documents",
                "no usable document: the corpus is not UTF-8; dropped: {}",
            ),
        ),
        (
            {"documents": {"train": 0, "validation": 3}},
            (
                "corpus.prefix",
                "usable_documents",
                "no usable document: no training documents; dropped: {}",
            ),
        ),
        (
            {"documents": {"train": 5}, "dropped": {"short": 1}},
            (
                "corpus.validation_ratio",
                "validation_documents",
                "no document landed in the validation split; raise validation_ratio",
            ),
        ),
        (
            {"documents": {"train": 5, "validation": 0, "test": 2}},
            (
                "corpus.validation_ratio",
                "validation_documents",
                "no document landed in the validation split; raise validation_ratio",
            ),
        ),
    ],
)
def test_a_dataset_without_training_or_validation_documents_is_rejected(
    summary: dict[str, Any], violation: tuple[str, str, str]
) -> None:
    result = build(prepared_store(summary))
    assert result["outcome"] == "rejected"
    assert result["request_id"] == REQUEST_ID
    assert [(v["field"], v["rule"], v["message"]) for v in result["rejection"]["violations"]] == [
        violation
    ]
    assert result["dataset"]["dropped"] == summary.get("dropped", {})
    assert result["dataset"]["documents"] == summary.get("documents", {})
    assert result["dataset"]["vocabulary_size"] == 0


def test_a_dataset_without_its_summary_or_request_fails_the_step() -> None:
    with pytest.raises(
        RuntimeError, match=rf"^the preparation job wrote no {PLAN.dataset_uri}dataset.json$"
    ):
        build(prepared_store(None))
    with pytest.raises(
        RuntimeError, match=rf"^the request's settings are gone from {PLAN.request_uri}$"
    ):
        build(prepared_store(SUMMARY, saved=False))


def test_a_prepared_dataset_is_planned_at_the_time_given() -> None:
    result = build(prepared_store(SUMMARY))
    # Two jobs one after the other, an hour each at most, and an hour of slack.
    assert datetime.fromisoformat(result["watch_deadline"]) == NOW + timedelta(hours=3)


def test_a_prepared_requests_warm_start_parents_are_described_with_the_jobs_given() -> None:
    data = prepared_store(SUMMARY)
    given = corpus_request(warm_start={"parents": [PARENT], "type": "TransferLearning"})
    body = given.model_dump(mode="json", exclude_none=True)
    data.objects[(DATA_BUCKET, f"{PREFIX}/request.json")] = json.dumps(body).encode()
    jobs = parent_jobs(tuning(request(), store()), status="InProgress")
    ref = RequestRef.model_validate(BASE)
    built = build_tuning_job(ref, PLAN, EXECUTION, SETTINGS, data, jobs=jobs, now=NOW)
    assert built.outcome == "rejected"
    assert jobs.names() == ["describe", "tags"]
    assert [(v.field, v.rule) for v in built.rejection.violations] == [  # type: ignore[union-attr]
        ("warm_start.parents.0", "terminal_parent")
    ]


def test_a_dataset_outside_the_data_bucket_fails_the_step_naming_the_corpus() -> None:
    # The deployment moved its data bucket while the corpus was being prepared.
    for moved in (
        PLAN.model_copy(update={"dataset_uri": "s3://elsewhere/prepared/dataset/"}),
        PLAN.model_copy(update={"request_uri": "s3://elsewhere/prepared/request.json"}),
    ):
        ref = RequestRef.model_validate(BASE)
        data = prepared_store(SUMMARY)
        error = rejected(
            lambda plan=moved, data=data, ref=ref: build_tuning_job(
                ref, plan, EXECUTION, SETTINGS, data, jobs=FakeJobs(), now=NOW
            )
        )
        assert [(v.field, v.rule) for v in error.violations] == [
            ("corpus.prefix", "inside_data_bucket")
        ]
