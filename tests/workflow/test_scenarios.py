"""The synthesized state machine, executed offline end to end: each scenario checks the event
a consumer receives (against the committed schema) and the side effects."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jsonschema

from offline.runtime import OfflineWorkflow
from offline.scripted import Scenario, ScriptedSageMaker
from tests.workflow.conftest import encode, example_request

SCHEMAS = Path(__file__).resolve().parents[2] / "schemas"
Open = Callable[..., OfflineWorkflow]


def only_event(wf: OfflineWorkflow, detail_type: str) -> dict[str, Any]:
    events = wf.published()
    assert [e["detail-type"] for e in events] == [detail_type], events
    detail = events[0]["detail"]
    schema = json.loads(
        (SCHEMAS / f"{detail_type.lower().replace(' ', '-')}.schema.json").read_text()
    )
    jsonschema.validate(detail, schema)
    return detail


def engine(wf: OfflineWorkflow) -> ScriptedSageMaker:
    assert isinstance(wf.engine, ScriptedSageMaker)
    return wf.engine


def run_upload(wf: OfflineWorkflow, body: bytes, key: str = "requests/run.json") -> Any:
    execution = wf.upload_request(key, body)
    assert execution is not None, "the S3 rule did not match"
    return wf.wait(execution)


def test_happy_path(workflow: Open) -> None:
    wf = workflow()
    result = run_upload(wf, encode(example_request()))
    assert result.status == "SUCCEEDED"
    assert result.states[-4:] == [
        "Publish success",
        "Release capacity",
        "Outcome",
        "Tuning job succeeded",
    ]
    detail = only_event(wf, "NTM Tuning Job Succeeded")
    assert detail["request_name"] == "demo-corpus"
    assert detail["tuning_job"]["status"] == "Completed"
    assert detail["tuning_job"]["counters"]["completed"] == 8
    best = detail["best_training_job"]
    assert best["objective"]["metric_name"] == "validation:total_loss"
    assert best["static_hyperparameters"] == {
        "epochs": "20",
        "feature_dim": "130",
        "num_topics": "10",
    }
    assert set(best["tuned_hyperparameters"]) == {
        "encoder_layers_activation",
        "learning_rate",
        "mini_batch_size",
        "optimizer",
        "rescale_gradient",
        "weight_decay",
    }
    bucket, _, key = best["model_artifact_uri"].removeprefix("s3://").partition("/")
    assert wf.s3.head_object(Bucket=bucket, Key=key)["ContentLength"] > 0
    bucket, _, key = detail["report_uri"].removeprefix("s3://").partition("/")
    report = json.loads(wf.s3.get_object(Bucket=bucket, Key=key)["Body"].read())
    assert len(report["training_jobs"]) == 8
    assert report["training_jobs"][0]["name"] == best["name"]
    # The stand-in trains nothing: its jobs log, where SageMaker would, but no topics block.
    assert detail["topics_unavailable"]["reason"] == "no_topics_block"
    assert detail["topics"] is None and detail["tu"] is None
    assert {j["topics_unavailable"]["reason"] for j in report["training_jobs"]} == {
        "no_topics_block"
    }
    assert list(engine(wf).jobs) == [detail["tuning_job"]["name"]]
    # The job's request went through the stand-in's botocore shape check.
    request = engine(wf).jobs[detail["tuning_job"]["name"]].request
    assert (
        request["HyperParameterTuningJobConfig"]["HyperParameterTuningJobObjective"]["MetricName"]
        == "validation:total_loss"
    )


def test_event_request_runs_the_same_workflow(workflow: Open) -> None:
    wf = workflow()
    execution = wf.put_request_event(example_request(), source="com.example.corpus")
    assert execution is not None
    assert wf.wait(execution).status == "SUCCEEDED"
    detail = only_event(wf, "NTM Tuning Job Succeeded")
    assert detail["origin"]["type"] == "event"
    assert detail["origin"]["source"] == "com.example.corpus"


def test_job_failed(workflow: Open) -> None:
    wf = workflow(Scenario(outcome="Failed", failure_reason="AlgorithmError: bad record"))
    result = run_upload(wf, encode(example_request()))
    assert result.status == "FAILED"
    detail = only_event(wf, "NTM Tuning Job Failed")
    assert detail["reason"]["code"] == "TuningJobFailed"
    assert detail["reason"]["message"] == "AlgorithmError: bad record"
    assert detail["status"] == "Failed"
    assert len(engine(wf).jobs) == 1
    assert not list(wf.objects(wf.artifacts_bucket, "reports/"))


def test_job_stopped(workflow: Open) -> None:
    wf = workflow(Scenario(outcome="Stopped"))
    result = run_upload(wf, encode(example_request()))
    assert result.status == "FAILED"
    assert result.error == "TuningJobStopped"
    detail = only_event(wf, "NTM Tuning Job Stopped")
    assert detail["reason"]["code"] == "TuningJobStopped"
    assert detail["tuning_job_name"] in engine(wf).jobs


def test_invalid_request_is_rejected_and_starts_nothing(workflow: Open) -> None:
    wf = workflow()
    body = example_request(hyperparameters={"num_topics": 1, "optimizer": "lbfgs"})
    result = run_upload(wf, encode(body))
    assert result.status == "SUCCEEDED"  # handled: a rejection is not a failure
    assert result.states[-1] == "Request rejected"
    detail = only_event(wf, "NTM Tuning Request Rejected")
    assert {(v["field"], v["rule"]) for v in detail["violations"]} == {
        ("hyperparameters.num_topics", "ntm_value"),
        ("hyperparameters.optimizer", "ntm_value"),
    }
    assert engine(wf).create_calls == 0
    assert engine(wf).jobs == {}


def test_missing_data_channel_is_rejected(workflow: Open) -> None:
    wf = workflow()
    body = example_request()
    body["data"]["validation"] = "datasets/missing/validation/"
    run_upload(wf, encode(body))
    detail = only_event(wf, "NTM Tuning Request Rejected")
    assert [(v["field"], v["rule"]) for v in detail["violations"]] == [
        ("data.validation", "exists")
    ]
    assert engine(wf).jobs == {}


def test_same_request_delivered_twice_starts_one_job(workflow: Open) -> None:
    wf = workflow()
    event = wf.object_created("requests/run.json", encode(example_request()))
    first = wf.deliver(event, bus="default")
    second = wf.deliver(event, bus="default")  # EventBridge delivers at least once
    assert first and second and first != second
    results = [wf.wait(first), wf.wait(second)]
    assert sorted(r.states[-1] for r in results) == ["Duplicate delivery", "Tuning job succeeded"]
    assert len(engine(wf).jobs) == 1
    only_event(wf, "NTM Tuning Job Succeeded")


def test_throttled_create_is_retried_then_succeeds(workflow: Open) -> None:
    wf = workflow(Scenario(throttle_creates=2))
    result = run_upload(wf, encode(example_request()))
    assert result.status == "SUCCEEDED"
    assert engine(wf).create_calls == 3
    assert len(engine(wf).jobs) == 1
    assert len(wf.clock.retries) == 2  # two back-offs, taken by the state machine's Retry
    only_event(wf, "NTM Tuning Job Succeeded")


def test_failed_put_events_entry_is_retried(workflow: Open) -> None:
    wf = workflow()
    wf.faults.failed_put_events = 2
    wf.faults.failing_detail_type = "NTM Tuning Job Succeeded"
    result = run_upload(wf, encode(example_request()))
    assert result.status == "SUCCEEDED"
    assert wf.faults.put_events_calls_by_type["NTM Tuning Job Succeeded"] == 3
    assert len(wf.clock.retries) == 2
    only_event(wf, "NTM Tuning Job Succeeded")


def test_objects_that_are_not_requests_start_nothing(workflow: Open) -> None:
    wf = workflow()
    assert wf.upload_request("datasets/notes.json", b"{}") is None
    assert wf.upload_request("requests/readme.txt", b"{}") is None
    assert wf.put_request_event(example_request(), source="ntm.tuning") is None  # our own events
    assert wf.published() == []


def test_waits_follow_the_configured_poll_interval(workflow: Open) -> None:
    wf = workflow(Scenario(describes_in_progress=3))
    run_upload(wf, encode(example_request()))
    assert wf.clock.waits == [60.0] * 4
