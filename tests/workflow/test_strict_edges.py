"""Requests at AWS's edges, through the synthesized state machine against the strict offline
AWS (``offline.strict``): each ends in exactly one terminal event of the right kind."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from offline.runtime import OfflineWorkflow
from offline.scripted import Scenario, ScriptedSageMaker
from tests.workflow.conftest import encode, example_request

ROOT = Path(__file__).resolve().parents[2]
SCHEMAS = ROOT / "schemas"
Open = Callable[..., OfflineWorkflow]
ODD_KEYS = ["requests/my request (1).json", "requests/a&b.json", "requests/bob's.json"]


def only_event(wf: OfflineWorkflow) -> dict[str, Any]:
    events = wf.published()
    assert len(events) == 1, [e["detail-type"] for e in events]
    (event,) = events
    name = event["detail-type"].lower().replace(" ", "-")
    jsonschema.validate(event["detail"], json.loads((SCHEMAS / f"{name}.schema.json").read_text()))
    return event


def corpus_request(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = json.loads((ROOT / "examples/requests/tune-corpus.json").read_text())
    body.update(changes)
    return body


@pytest.mark.parametrize("key", ODD_KEYS)
def test_odd_object_keys_end_succeeded_with_the_raw_key_in_the_event(
    workflow: Open, key: str
) -> None:
    wf = workflow()
    execution = wf.upload_request(key, encode(example_request()))
    assert execution is not None
    result = wf.wait(execution)
    assert result.status == "SUCCEEDED", result.cause
    event = only_event(wf)
    assert event["detail-type"] == "NTM Tuning Job Succeeded"
    assert event["detail"]["origin"]["key"] == key
    engine = wf.engine
    assert isinstance(engine, ScriptedSageMaker)
    (job,) = engine.jobs.values()
    tags = {tag["Key"]: tag["Value"] for tag in job.request["Tags"]}
    assert tags["ntm-tuning:origin"] == f"s3://{wf.data_bucket}/{key}".replace("(", "_").replace(
        ")", "_"
    ).replace("&", "_").replace("'", "_")


def test_an_odd_object_key_of_a_corpus_request_ends_succeeded(workflow: Open) -> None:
    wf = workflow(Scenario(training_jobs=2))
    wf.upload_folder(ROOT / "examples/corpus")
    key = "requests/corpus (copy) & bob's.json"
    execution = wf.upload_request(key, encode(corpus_request()))
    assert execution is not None
    result = wf.wait(execution)
    assert result.status == "SUCCEEDED", result.cause
    assert "Start dataset preparation" in result.states
    event = only_event(wf)
    assert event["detail-type"] == "NTM Tuning Job Succeeded"
    assert event["detail"]["origin"]["key"] == key


@pytest.mark.parametrize(
    ("tags", "field"),
    [
        ({"team": "data (science)"}, "tags.team"),
        ({"team": "tab\there"}, "tags.team"),
        ({"team": "two\nlines"}, "tags.team"),
        ({"bad\tkey": "v"}, "tags.bad\tkey"),
    ],
    ids=["parenthesis", "tab", "newline", "tab-in-key"],
)
def test_a_user_tag_sagemaker_would_refuse_is_rejected(
    workflow: Open, tags: dict[str, str], field: str
) -> None:
    wf = workflow()
    execution = wf.upload_request("requests/tags.json", encode(example_request(tags=tags)))
    assert execution is not None
    result = wf.wait(execution)
    assert result.status == "SUCCEEDED"  # handled
    event = only_event(wf)
    assert event["detail-type"] == "NTM Tuning Request Rejected"
    assert [(v["field"], v["rule"]) for v in event["detail"]["violations"]] == [
        (field, "tag_pattern")
    ]
    engine = wf.engine
    assert isinstance(engine, ScriptedSageMaker)
    assert engine.jobs == {}


# -- state and event size ------------------------------------------------------------------


def stop_words(count: int, width: int = 11) -> list[str]:
    return [f"w{i:0{width - 1}d}" for i in range(count)]


def padded_to(body: dict[str, Any], size: int) -> bytes:
    """``body`` as JSON of exactly ``size`` bytes (trailing whitespace is still JSON)."""
    raw = json.dumps(body).encode()
    assert len(raw) <= size, len(raw)
    return raw + b" " * (size - len(raw))


def largest_event(wf: OfflineWorkflow) -> tuple[dict[str, Any], int]:
    (event,) = wf.published()
    return event, len(json.dumps(event["detail"]).encode())


def test_a_corpus_request_with_12000_stop_words_ends_succeeded(workflow: Open) -> None:
    wf = workflow(Scenario(training_jobs=2))
    wf.upload_folder(ROOT / "examples/corpus")
    body = corpus_request()
    body["corpus"]["stop_words"] = stop_words(12_000)
    raw = json.dumps(body).encode()
    assert 150_000 < len(raw) < 256 * 1024
    execution = wf.upload_request("requests/stop-words.json", raw)
    assert execution is not None
    result = wf.wait(execution)
    assert result.status == "SUCCEEDED", (result.error, result.cause)
    assert only_event(wf)["detail-type"] == "NTM Tuning Job Succeeded"


def test_the_largest_request_the_validator_accepts_ends_succeeded(workflow: Open) -> None:
    """256 KiB of request, most of it stop words: carried by reference, never in a state."""
    wf = workflow(Scenario(training_jobs=2))
    wf.upload_folder(ROOT / "examples/corpus")
    body = corpus_request()
    body["corpus"]["stop_words"] = stop_words(17_400)
    raw = padded_to(body, 256 * 1024)
    execution = wf.upload_request("requests/largest.json", raw)
    assert execution is not None
    result = wf.wait(execution)
    assert result.status == "SUCCEEDED", (result.error, result.cause)
    assert only_event(wf)["detail-type"] == "NTM Tuning Job Succeeded"


def test_one_byte_more_is_rejected_on_its_size(workflow: Open) -> None:
    wf = workflow()
    raw = padded_to(corpus_request(), 256 * 1024 + 1)
    execution = wf.upload_request("requests/too-large.json", raw)
    assert execution is not None
    assert wf.wait(execution).status == "SUCCEEDED"  # handled
    event = only_event(wf)
    assert event["detail-type"] == "NTM Tuning Request Rejected"
    assert [(v["field"], v["rule"]) for v in event["detail"]["violations"]] == [
        ("request", "max_size")
    ]


def test_the_largest_rejection_fits_in_one_event(workflow: Open) -> None:
    """A request of 256 KiB that breaks a rule 20,000 times, and names an unknown field with
    a 100,000-character name: the event lists the first violations and counts them all."""
    wf = workflow()
    body = corpus_request()
    body["corpus"]["stop_words"] = [""] * 20_000
    body["x" * 100_000] = 1
    raw = padded_to(body, 256 * 1024)
    execution = wf.upload_request("requests/many-problems.json", raw)
    assert execution is not None
    result = wf.wait(execution)
    assert result.status == "SUCCEEDED", (result.error, result.cause)
    event = only_event(wf)
    assert event["detail-type"] == "NTM Tuning Request Rejected"
    detail = event["detail"]
    assert detail["violation_count"] == 20_001
    assert len(detail["violations"]) == 20
    assert {v["field"].split(".")[0] for v in detail["violations"]} <= {"corpus", "x" * 253 + "..."}
    assert any(v["field"].startswith("corpus.stop_words.") for v in detail["violations"])
    assert len(json.dumps(detail).encode()) < 64 * 1024


# -- exactly one terminal event, even when the workflow dies -----------------------------------


def test_a_state_over_256_kib_fails_the_execution_and_the_clean_up_says_so(
    workflow: Open, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ntm_tuning import results

    summarize = results.summarize_results

    def oversized(*args: Any, **kwargs: Any) -> Any:
        result = summarize(*args, **kwargs)
        # A summary whose result, at 300 KiB, is over the state's 256 KiB.
        return result.model_copy(update={"report_uri": result.report_uri + "p" * (300 * 1024)})

    monkeypatch.setattr(results, "summarize_results", oversized)
    wf = workflow()
    execution = wf.upload_request("requests/run.json", encode(example_request()))
    assert execution is not None
    result = wf.wait(execution)
    # The Catch on States.ALL of "Summarize results" does not catch it, as on AWS.
    assert (result.status, result.error) == ("FAILED", "States.DataLimitExceeded")
    assert "Publish failure" not in result.states
    event = only_event(wf)
    assert event["detail-type"] == "NTM Tuning Job Failed"
    reason = event["detail"]["reason"]
    assert (reason["code"], reason["error"]) == ("ExecutionFailed", "States.DataLimitExceeded")
    assert event["detail"]["tuning_job_name"].startswith("ntm-")
    assert wf.ledger_holders() == 0


def test_a_publisher_that_crashes_leaves_the_event_to_the_clean_up(
    workflow: Open, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ntm_tuning import outcomes

    def crash(*args: Any, **kwargs: Any) -> dict[str, Any]:
        raise RuntimeError("the publisher broke")

    monkeypatch.setattr(outcomes, "publish_outcome", crash)
    wf = workflow()
    execution = wf.upload_request("requests/run.json", encode(example_request()))
    assert execution is not None
    result = wf.wait(execution)
    assert result.status == "FAILED"
    event = only_event(wf)
    assert event["detail-type"] == "NTM Tuning Job Failed"
    assert event["detail"]["reason"]["code"] == "ExecutionFailed"
    assert "the publisher broke" in event["detail"]["reason"]["message"]


# -- the scripted stand-in says so -----------------------------------------------------------


@pytest.mark.parametrize(
    ("outcome", "detail_type"),
    [("Completed", "NTM Tuning Job Succeeded"), ("Failed", "NTM Tuning Job Failed")],
)
def test_the_scripted_stand_in_marks_its_events(
    workflow: Open, outcome: Any, detail_type: str
) -> None:
    wf = workflow(Scenario(outcome=outcome))
    execution = wf.upload_request("requests/run.json", encode(example_request()))
    assert execution is not None
    wf.wait(execution)
    event = only_event(wf)
    assert event["detail-type"] == detail_type
    assert event["detail"]["engine"] == "scripted"
    if outcome == "Completed":
        artifact = event["detail"]["best_training_job"]["model_artifact_uri"]
        assert artifact.endswith("/output/placeholder-model.tar.gz")


def test_a_rejection_names_no_engine(workflow: Open) -> None:
    wf = workflow()
    execution = wf.upload_request("requests/run.json", b"{}")
    assert execution is not None
    wf.wait(execution)
    assert "engine" not in only_event(wf)["detail"]
