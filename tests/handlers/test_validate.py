"""Handler "validate" against moto S3: accepted, rejected (field and rule named), ignored."""

from __future__ import annotations

import json
from typing import Any

import pytest
from ntm_tuning.handlers import validate_request

from tests.handlers.conftest import Aws, LambdaContext
from tests.settings_factory import example_request

EXECUTION = "arn:aws:states:us-east-1:123456789012:execution:ntm:run-1"


def run(delivery: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return validate_request.handler({"delivery": delivery, "execution_id": EXECUTION}, context)


def rules(result: dict[str, Any]) -> set[tuple[str, str]]:
    assert result["outcome"] == "rejected", result
    return {(v["field"], v["rule"]) for v in result["rejection"]["violations"]}


def test_upload_is_accepted_and_feature_dim_comes_from_vocab(
    aws: Aws, context: LambdaContext
) -> None:
    aws.put_dataset(vocabulary=321)
    result = run(aws.put_request(example_request()), context)
    assert result["outcome"] == "accepted"
    assert result["tuning_job_name"] == f"ntm-{result['request_id']}"
    assert len(result["tuning_job_name"]) <= 32
    static = result["create_request"]["TrainingJobDefinition"]["StaticHyperParameters"]
    assert static["feature_dim"] == "321"
    assert static["num_topics"] == "5"
    tags = {t["Key"]: t["Value"] for t in result["create_request"]["Tags"]}
    assert tags["ntm-tuning:execution"] == EXECUTION
    assert tags["ntm-tuning:request-id"] == result["request_id"]
    assert result["origin"]["type"] == "s3"
    json.dumps(result)  # the state machine carries it as JSON


def test_same_object_version_gives_the_same_job_name(aws: Aws, context: LambdaContext) -> None:
    aws.put_dataset()
    delivery = aws.put_request(example_request())
    first = run(delivery, context)
    again = run({**delivery, "event_id": "another-delivery"}, context)
    assert first["tuning_job_name"] == again["tuning_job_name"]
    newer = run(aws.put_request(example_request()), context)
    assert newer["tuning_job_name"] != first["tuning_job_name"]


def test_idempotency_key_names_the_job(aws: Aws, context: LambdaContext) -> None:
    aws.put_dataset()
    first = run(
        aws.put_request(example_request(idempotency_key="k-1"), key="requests/a.json"), context
    )
    second = run(
        aws.put_request(example_request(idempotency_key="k-1"), key="requests/b.json"), context
    )
    assert first["tuning_job_name"] == second["tuning_job_name"]


def test_event_request_is_accepted(aws: Aws, context: LambdaContext) -> None:
    aws.put_dataset()
    delivery = {
        "origin": "event",
        "event_id": "e-1",
        "event_time": "2026-11-27T12:00:00Z",
        "source": "com.example.corpus",
        "request": example_request(),
    }
    result = run(delivery, context)
    assert result["outcome"] == "accepted"
    assert result["origin"] == {"type": "event", "event_id": "e-1", "source": "com.example.corpus"}


@pytest.mark.parametrize(
    "key",
    ["other/run.json", "requests/run.txt", "requestsrun.json"],
    ids=["prefix", "suffix", "near-prefix"],
)
def test_objects_that_are_not_requests_are_ignored(
    aws: Aws, context: LambdaContext, key: str
) -> None:
    result = run(aws.put_request(example_request(), key=key), context)
    assert result["outcome"] == "ignored"


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b"\xff\xfe not utf-8", ("request", "utf8")),
        ("{not json", ("request", "json")),
        ("[1, 2]", ("request", "json_object")),
        ("{}", ("data", "data_or_corpus")),
        (json.dumps({"data": {"train": 5, "validation": "v/"}}), ("data.train", "string_type")),
        (json.dumps({**example_request(), "colour": "red"}), ("colour", "extra_forbidden")),
        (json.dumps(example_request(random_seed=-1)), ("random_seed", "greater_than_equal")),
        (
            json.dumps(
                example_request(
                    ranges={"learning_rate": {"type": "Continuous", "min": "a", "max": 1}}
                )
            ),
            ("ranges.learning_rate.min", "float_type"),
        ),
        (b" " * (256 * 1024 + 1), ("request", "max_size")),
    ],
    ids=[
        "non-utf8",
        "non-json",
        "array",
        "empty",
        "wrong-type",
        "unknown-key",
        "negative-seed",
        "range-type",
        "huge",
    ],
)
def test_bad_bodies_are_rejected_with_field_and_rule(
    aws: Aws, context: LambdaContext, body: str | bytes, expected: tuple[str, str]
) -> None:
    aws.put_dataset()
    assert expected in rules(run(aws.put_request(body), context))


def test_missing_channels_and_vocabulary_are_rejected(aws: Aws, context: LambdaContext) -> None:
    aws.put("datasets/demo/train/part-0.pbr", b"x")
    result = run(aws.put_request(example_request()), context)
    assert rules(result) >= {("data.validation", "exists"), ("data.auxiliary", "exists")}
    assert result["rejection"]["reason"] == "InvalidRequest"
    assert result["rejection"]["request_name"] == "demo"


def test_vocabulary_that_does_not_match_feature_dim_is_rejected(
    aws: Aws, context: LambdaContext
) -> None:
    aws.put_dataset(vocabulary=40)
    body = example_request(hyperparameters={"num_topics": 5, "feature_dim": 41})
    assert ("hyperparameters.feature_dim", "matches_vocabulary") in rules(
        run(aws.put_request(body), context)
    )


def test_data_outside_the_data_bucket_is_rejected(aws: Aws, context: LambdaContext) -> None:
    aws.put_dataset()
    body = example_request()
    body["data"]["train"] = "s3://someone-elses-bucket/train/"
    assert ("data.train", "inside_data_bucket") in rules(run(aws.put_request(body), context))


def test_instance_count_needs_as_many_train_shards(aws: Aws, context: LambdaContext) -> None:
    aws.put_dataset(shards=1)
    body = example_request(resources={"instance_count": 2})
    assert ("resources.instance_count", "sharded_train_objects") in rules(
        run(aws.put_request(body), context)
    )
    aws.put_dataset(shards=2)
    assert run(aws.put_request(body), context)["outcome"] == "accepted"


def test_request_deleted_before_it_was_read_is_rejected(aws: Aws, context: LambdaContext) -> None:
    delivery = aws.put_request(example_request())
    aws.s3.delete_object(
        Bucket=delivery["bucket"], Key=delivery["key"], VersionId=delivery["version_id"]
    )
    assert ("request", "exists") in rules(run(delivery, context))


def test_event_request_that_is_not_an_object_is_rejected(aws: Aws, context: LambdaContext) -> None:
    delivery = {"origin": "event", "event_id": "e-2", "source": "x", "request": "tune please"}
    assert ("request", "json_object") in rules(run(delivery, context))


def test_a_second_execution_for_the_same_request_is_a_duplicate(
    aws: Aws, context: LambdaContext
) -> None:
    aws.put_dataset()
    delivery = aws.put_request(example_request())
    assert run(delivery, context)["outcome"] == "accepted"
    again = validate_request.handler(
        {"delivery": delivery, "execution_id": "another-execution"}, context
    )
    assert again["outcome"] == "duplicate"
    assert again["request_id"] == run(delivery, context)["request_id"]


def test_duplicates_of_a_rejected_request_are_duplicates_too(
    aws: Aws, context: LambdaContext
) -> None:
    delivery = aws.put_request("{not json")
    assert run(delivery, context)["outcome"] == "rejected"
    again = validate_request.handler(
        {"delivery": delivery, "execution_id": "another-execution"}, context
    )
    assert again["outcome"] == "duplicate"


def test_duplicates_of_a_corpus_request_are_duplicates_too(
    aws: Aws, context: LambdaContext
) -> None:
    aws.put("corpora/notes/a.txt", "some words to prepare " * 10)
    body = {"name": "notes", "corpus": {"prefix": "corpora/notes/"}}
    delivery = aws.put_request(body)
    assert run(delivery, context)["outcome"] == "prepare"
    again = validate_request.handler(
        {"delivery": delivery, "execution_id": "another-execution"}, context
    )
    assert again["outcome"] == "duplicate"


def test_a_request_over_the_cost_budget_is_rejected_with_its_estimate(
    aws: Aws, context: LambdaContext
) -> None:
    aws.put_dataset()
    body = example_request(
        resources={"instance_type": "ml.p3.2xlarge"}, resource_limits={"max_jobs": 50}
    )
    result = run(aws.put_request(body), context)
    assert ("resource_limits.max_jobs", "cost_budget") in rules(result)
    assert result["rejection"]["cost_estimate"]["max_usd"] == pytest.approx(50 * 3.825)


def test_an_idempotency_key_does_not_collide_with_an_equal_event_id(
    aws: Aws, context: LambdaContext
) -> None:
    aws.put_dataset()

    def event(event_id: str, **request: Any) -> dict[str, Any]:
        return {
            "origin": "event",
            "event_id": event_id,
            "event_time": "2026-11-27T12:00:00Z",
            "source": "com.example.corpus",
            "request": example_request(**request),
        }

    by_event_id = run(event("x"), context)
    by_key = run(event("other", idempotency_key="x"), context)
    assert by_event_id["outcome"] == by_key["outcome"] == "accepted"
    assert by_event_id["tuning_job_name"] == "ntm-c16f378b13c991ba5ccdc5b1"
    assert by_key["tuning_job_name"] == "ntm-76b945435ce809f9293d182d"
