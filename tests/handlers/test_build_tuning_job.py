"""State "Build tuning job": the tuning job planned on what the preparation wrote."""

from __future__ import annotations

import json
from typing import Any

import pytest
from ntm_tuning.handlers import build_tuning_job, validate_request
from ntm_tuning.state import BuildInput

from tests.handlers.conftest import Aws, LambdaContext, handler_input
from tests.settings_factory import DATA_BUCKET

EXECUTION = "arn:aws:states:us-east-1:123456789012:execution:ntm:run-1"


def corpus_request() -> dict[str, Any]:
    return {
        "name": "raw",
        "corpus": {"prefix": "corpora/demo/", "max_vocabulary": 300, "train_shards": 1},
        "hyperparameters": {"num_topics": 4},
        "resource_limits": {"max_jobs": 2, "max_parallel_jobs": 1},
    }


def prepared(aws: Aws, context: LambdaContext, documents: dict[str, int]) -> dict[str, Any]:
    """Validate a corpus request, then lay out what its Processing job would have written."""
    aws.put("corpora/demo/a.txt", "some words about topics and models")
    state = validate_request.handler(
        {"delivery": aws.put_request(corpus_request()), "execution_id": EXECUTION}, context
    )
    assert state["outcome"] == "prepare", state
    dataset = state["preparation"]["dataset_uri"].removeprefix(f"s3://{DATA_BUCKET}/")
    for channel in ("train", "validation", "test"):
        if documents.get(channel):
            aws.put(f"{dataset}{channel}/part-0.pbr", b"\x0a\x0b" * 10)
    aws.put(f"{dataset}auxiliary/vocab.txt", "".join(f"word{i}\n" for i in range(120)))
    summary = {
        "documents": {**documents, "total": sum(documents.values())},
        "dropped": {"empty": 1},
        "vocabulary_size": 120,
    }
    aws.put(f"{dataset}dataset.json", json.dumps(summary))
    return state


def finish(state: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return build_tuning_job.handler(
        handler_input(BuildInput, state, execution_id=EXECUTION), context
    )


def test_a_prepared_dataset_is_planned_with_the_vocabulary_it_selected(
    aws: Aws, context: LambdaContext
) -> None:
    state = prepared(aws, context, {"train": 80, "validation": 12, "test": 8})
    result = finish(state, context)
    assert result["outcome"] == "accepted", result
    assert result["static_hyperparameters"]["feature_dim"] == "120"
    assert result["dataset"]["documents"] == {
        "train": 80,
        "validation": 12,
        "test": 8,
        "total": 100,
    }
    assert result["dataset"]["dropped"] == {"empty": 1}
    assert result["dataset"]["vocabulary_size"] == 120


@pytest.mark.parametrize(
    ("documents", "violation"),
    [
        (
            {"train": 80, "validation": 0, "test": 8},
            ("corpus.validation_ratio", "validation_documents"),
        ),
        ({"train": 0, "validation": 10, "test": 8}, ("corpus.prefix", "usable_documents")),
    ],
)
def test_a_dataset_missing_a_split_is_rejected_with_its_own_rule(
    aws: Aws, context: LambdaContext, documents: dict[str, int], violation: tuple[str, str]
) -> None:
    state = prepared(aws, context, documents)
    result = finish(state, context)
    assert result["outcome"] == "rejected"
    assert [(v["field"], v["rule"]) for v in result["rejection"]["violations"]] == [violation]
    assert result["dataset"]["documents"]["validation"] == documents["validation"]
