"""Corpus requests offline: raw documents are prepared by the Processing stage (the same
preparation code, run in-process), then tuned; a corpus with nothing usable is rejected."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any
from unittest import mock

import jsonschema
import pytest

from offline.runtime import Clock, OfflineWorkflow
from offline.scripted import Scenario, ScriptedSageMaker

ROOT = Path(__file__).resolve().parents[2]
SCHEMAS = ROOT / "schemas"
Open = Callable[..., OfflineWorkflow]


def corpus_request(**corpus: Any) -> bytes:
    body = json.loads((ROOT / "examples/requests/tune-corpus.json").read_text())
    body["corpus"].update(corpus)
    return json.dumps(body).encode()


def only_event(wf: OfflineWorkflow) -> dict[str, Any]:
    (event,) = wf.published()
    name = event["detail-type"].lower().replace(" ", "-")
    jsonschema.validate(event["detail"], json.loads((SCHEMAS / f"{name}.schema.json").read_text()))
    return event


def test_a_corpus_request_is_prepared_then_tuned(workflow: Open) -> None:
    wf = workflow(Scenario(training_jobs=2))
    wf.upload_folder(ROOT / "examples/corpus")
    execution = wf.upload_request("requests/corpus.json", corpus_request())
    assert execution is not None
    result = wf.wait(execution)
    assert result.status == "SUCCEEDED", result.cause
    for state in (
        "Start dataset preparation",
        "Describe dataset preparation",
        "Build tuning job",
        "Acquire capacity",
    ):
        assert state in result.states
    event = only_event(wf)
    assert event["detail-type"] == "NTM Tuning Job Succeeded"
    dataset = event["detail"]["dataset"]
    assert dataset["corpus_uri"].endswith("/corpora/demo/")
    assert dataset["documents"]["total"] == 400
    assert dataset["documents"]["validation"] > 0
    assert 0 < dataset["vocabulary_size"] <= 500
    static = event["detail"]["best_training_job"]["static_hyperparameters"]
    assert static["feature_dim"] == str(dataset["vocabulary_size"])
    prepared = set(wf.objects(wf.data_bucket, "datasets/prepared/"))
    assert any(key.endswith("/dataset/auxiliary/vocab.txt") for key in prepared)
    assert sum("/dataset/train/part-" in key for key in prepared) == 2
    engine = wf.engine
    assert isinstance(engine, ScriptedSageMaker)
    (job,) = engine.jobs.values()
    channels = {c["ChannelName"] for c in job.request["TrainingJobDefinition"]["InputDataConfig"]}
    assert channels == {"train", "validation", "test", "auxiliary"}


def test_a_corpus_with_no_usable_document_is_rejected(workflow: Open) -> None:
    wf = workflow()
    wf.put_object("corpora/broken/empty.txt", b"")
    wf.put_object("corpora/broken/binary.txt", b"\x00\x01\x02" * 100)
    wf.put_object("corpora/broken/numbers.jsonl", b'{"text": "1 2 3 4 5"}\n')
    execution = wf.upload_request("requests/broken.json", corpus_request(prefix="corpora/broken/"))
    assert execution is not None
    result = wf.wait(execution)
    assert result.status == "SUCCEEDED"  # handled
    assert "Build tuning job" in result.states
    event = only_event(wf)
    assert event["detail-type"] == "NTM Tuning Request Rejected"
    assert [(v["field"], v["rule"]) for v in event["detail"]["violations"]] == [
        ("corpus.prefix", "usable_documents")
    ]
    assert isinstance(wf.engine, ScriptedSageMaker) and wf.engine.jobs == {}


def test_a_missing_corpus_is_rejected_before_preparing(workflow: Open) -> None:
    wf = workflow()
    execution = wf.upload_request(
        "requests/missing.json", corpus_request(prefix="corpora/nothing-here/")
    )
    assert execution is not None
    result = wf.wait(execution)
    assert "Start dataset preparation" not in result.states
    event = only_event(wf)
    assert [(v["field"], v["rule"]) for v in event["detail"]["violations"]] == [
        ("corpus.prefix", "exists")
    ]
    assert wf.processing.jobs == {}


def test_an_execution_aborted_while_preparing_says_which_request_failed(
    template: dict[str, Any],
) -> None:
    # Every Wait lasts until the execution is stopped: the abort lands in the preparation's.
    wf = OfflineWorkflow(template, clock=Clock(hold=True)).__enter__()
    try:
        wf.upload_folder(ROOT / "examples/corpus")
        execution = wf.upload_request("requests/corpus.json", corpus_request())
        assert execution is not None
        wf.wait_for_state(execution, "Wait for dataset preparation")
        aborted = wf.abort(execution)
        assert aborted.status == "ABORTED"
        assert aborted.states[-1] == "Wait for dataset preparation"
        event = only_event(wf)
        assert event["detail-type"] == "NTM Tuning Job Failed"
        assert event["detail"]["reason"]["code"] == "ExecutionAborted"
        assert event["detail"]["request_name"] == "demo-raw-corpus"
        assert event["detail"]["origin"]["key"] == "requests/corpus.json"
    finally:
        wf.__exit__(None, None, None)


@pytest.mark.parametrize(
    ("settings", "field"),
    [
        ({"min_df": 1.0}, "corpus.min_df"),
        ({"min_df": 10, "max_df": 5}, "corpus.max_df"),
        ({"min_df": 0.5, "max_df": 0.2}, "corpus.max_df"),
    ],
)
def test_settings_the_preparation_job_would_refuse_are_rejected_before_it_starts(
    workflow: Open, settings: dict[str, Any], field: str
) -> None:
    wf = workflow()
    wf.upload_folder(ROOT / "examples/corpus")
    execution = wf.upload_request("requests/bad-df.json", corpus_request(**settings))
    assert execution is not None
    result = wf.wait(execution)
    assert result.status == "SUCCEEDED"  # handled
    assert "Start dataset preparation" not in result.states
    event = only_event(wf)
    assert event["detail-type"] == "NTM Tuning Request Rejected"
    assert [(v["field"], v["rule"]) for v in event["detail"]["violations"]] == [
        (field, "corpus_setting")
    ]
    assert wf.processing.jobs == {}


def test_a_failed_preparation_job_is_published_as_preparation_failed(workflow: Open) -> None:
    wf = workflow()
    wf.upload_folder(ROOT / "examples/corpus")
    crash = MemoryError("the corpus does not fit")
    with mock.patch("preparation.prepare.prepare", side_effect=crash):
        execution = wf.upload_request("requests/corpus.json", corpus_request())
        assert execution is not None
        result = wf.wait(execution)
    assert result.status == "FAILED"
    assert "Build tuning job" not in result.states
    event = only_event(wf)
    assert event["detail-type"] == "NTM Tuning Job Failed"
    (job,) = wf.processing.jobs.values()
    reason = event["detail"]["reason"]
    assert reason["code"] == "PreparationFailed"
    assert job.failure_reason == "MemoryError: the corpus does not fit"
    assert reason["message"].endswith(f"failed: {job.failure_reason}")
    assert job.request["ProcessingJobName"] in reason["message"]
    assert isinstance(wf.engine, ScriptedSageMaker) and wf.engine.jobs == {}
