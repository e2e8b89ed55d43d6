"""Requests at AWS's documented edges, through the synthesized state machine offline: each ends
in exactly one terminal event of the right kind."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import ntm_tuning.job_definition
import pytest

from offline.runtime import OfflineWorkflow
from offline.scripted import Scenario
from tests.workflow.conftest import encode, example_request
from tests.workflow.test_corpus import ROOT, corpus_request
from tests.workflow.test_scenarios import engine, only_event, run_upload

Open = Callable[..., OfflineWorkflow]


def test_a_volume_larger_than_the_local_nvme_storage_is_rejected(workflow: Open) -> None:
    wf = workflow()
    body = example_request(resources={"instance_type": "ml.g4dn.xlarge", "volume_size_gb": 500})
    result = run_upload(wf, encode(body))
    assert result.status == "SUCCEEDED"  # handled
    detail = only_event(wf, "NTM Tuning Request Rejected")
    (violation,) = detail["violations"]
    assert (violation["field"], violation["rule"]) == (
        "resources.volume_size_gb",
        "instance_storage",
    )
    assert "at most 125" in violation["message"]
    assert engine(wf).jobs == {}


@pytest.mark.parametrize("volume", [125, 124])
def test_a_volume_that_fits_the_local_storage_is_tuned(workflow: Open, volume: int) -> None:
    wf = workflow()
    body = example_request(resources={"instance_type": "ml.g4dn.xlarge", "volume_size_gb": volume})
    result = run_upload(wf, encode(body))
    assert result.status == "SUCCEEDED", result.cause
    only_event(wf, "NTM Tuning Job Succeeded")
    (job,) = engine(wf).jobs.values()
    config: dict[str, Any] = job.request["TrainingJobDefinition"]["ResourceConfig"]
    assert (config["InstanceType"], config["VolumeSizeInGB"]) == ("ml.g4dn.xlarge", volume)


SUMMARY_CALLS = {
    "create_hyper_parameter_tuning_job": 1,  # Start tuning job
    "describe_hyper_parameter_tuning_job": 1,  # Describe tuning job
    # The poll's progress report (best effort: skipped, no back-off), then Summarize results.
    "list_training_jobs_for_hyper_parameter_tuning_job": 2,
    "describe_training_job": 2,  # Summarize results
}


def test_throttling_of_every_sagemaker_call_on_the_way_to_success_is_retried(
    workflow: Open,
) -> None:
    # One poll: the job has completed when it is first described.
    wf = workflow(Scenario(training_jobs=2, describes_in_progress=0))
    wf.faults.throttled_sagemaker = dict(SUMMARY_CALLS)
    result = run_upload(wf, encode(example_request()))
    assert result.status == "SUCCEEDED", result.cause
    assert sorted(set(wf.faults.throttled_calls)) == sorted(SUMMARY_CALLS)
    assert len(wf.faults.throttled_calls) == sum(SUMMARY_CALLS.values())
    # Each one a back-off, but the progress report's: it is skipped, and the workflow goes on.
    assert len(wf.clock.retries) == sum(SUMMARY_CALLS.values()) - 1
    assert wf.progress() == []
    assert len(engine(wf).jobs) == 1
    only_event(wf, "NTM Tuning Job Succeeded")


def test_a_throttled_stop_is_retried_and_the_job_stopped(
    workflow: Open, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ntm_tuning.job_definition, "WATCH_SLACK", -timedelta(days=365))
    wf = workflow(Scenario(describes_in_progress=10**6))
    wf.faults.throttled_sagemaker = {"stop_hyper_parameter_tuning_job": 2}
    result = run_upload(wf, encode(example_request()))
    assert "Stop tuning job" in result.states
    assert len(wf.clock.retries) == 2  # the state backed off twice
    assert wf.faults.throttled_calls == ["stop_hyper_parameter_tuning_job"] * 2
    (job,) = engine(wf).jobs.values()
    assert job.status in ("Stopping", "Stopped")
    detail = only_event(wf, "NTM Tuning Job Failed")
    assert detail["reason"]["code"] == "WatchDeadlineExceeded"


def test_throttled_preparation_calls_are_retried(workflow: Open) -> None:
    wf = workflow(Scenario(training_jobs=2))
    wf.upload_folder(ROOT / "examples/corpus")
    wf.faults.throttled_sagemaker = {"create_processing_job": 1, "describe_processing_job": 2}
    execution = wf.upload_request("requests/corpus.json", corpus_request())
    assert execution is not None
    result = wf.wait(execution)
    assert result.status == "SUCCEEDED", result.cause
    assert sorted(wf.faults.throttled_calls) == [
        "create_processing_job",
        "describe_processing_job",
        "describe_processing_job",
    ]
    assert len(wf.processing.jobs) == 1
    only_event(wf, "NTM Tuning Job Succeeded")


def test_warm_start_parents_are_checked_before_the_job_starts(workflow: Open) -> None:
    wf = workflow(Scenario(training_jobs=2))
    assert run_upload(wf, encode(example_request()), "requests/parent.json").status == "SUCCEEDED"
    (parent,) = wf.published()
    parent_job = parent["detail"]["tuning_job"]["name"]
    missing = "ntm-0000000000000000000000ff"
    cases = {
        "requests/child.json": {"parents": [parent_job]},
        "requests/missing.json": {"parents": [parent_job, missing]},
    }
    for key, warm in cases.items():
        run_upload(wf, encode(example_request(warm_start=warm)), key)
    # Adds a static hyperparameter the parent did not have.
    different = example_request(warm_start={"parents": [parent_job]})
    different["hyperparameters"] = {**different["hyperparameters"], "batch_norm": True}
    run_upload(wf, encode(different), "requests/different.json")

    published = wf.published()  # (reading the results takes them)
    by_key = {e["detail"]["origin"]["key"]: e for e in published}
    assert len(by_key) == len(published) == 3  # one event per request
    child = by_key["requests/child.json"]
    assert child["detail-type"] == "NTM Tuning Job Succeeded"
    (started,) = [
        j for j in engine(wf).jobs.values() if j.request.get("WarmStartConfig") is not None
    ]
    assert started.request["WarmStartConfig"] == {
        "ParentHyperParameterTuningJobs": [{"HyperParameterTuningJobName": parent_job}],
        "WarmStartType": "IdenticalDataAndAlgorithm",
    }
    rejected = by_key["requests/missing.json"]
    assert rejected["detail-type"] == "NTM Tuning Request Rejected"
    assert [(v["field"], v["rule"]) for v in rejected["detail"]["violations"]] == [
        ("warm_start.parents.1", "exists")
    ]
    assert missing in rejected["detail"]["violations"][0]["message"]
    other = by_key["requests/different.json"]
    assert other["detail-type"] == "NTM Tuning Request Rejected"
    assert [(v["field"], v["rule"]) for v in other["detail"]["violations"]] == [
        ("warm_start.parents.0", "same_hyperparameters")
    ]
    assert "added: batch_norm" in other["detail"]["violations"][0]["message"]
    assert len(engine(wf).jobs) == 2  # the parent and the compatible child only


def test_a_throttled_parent_description_is_retried(workflow: Open) -> None:
    wf = workflow(Scenario(training_jobs=2))
    assert run_upload(wf, encode(example_request()), "requests/parent.json").status == "SUCCEEDED"
    (parent,) = wf.published()
    wf.faults.throttled_sagemaker = {"describe_hyper_parameter_tuning_job": 1}
    body = example_request(warm_start={"parents": [parent["detail"]["tuning_job"]["name"]]})
    result = run_upload(wf, encode(body), "requests/child.json")
    assert result.status == "SUCCEEDED", result.cause
    assert wf.faults.throttled_calls == ["describe_hyper_parameter_tuning_job"]
    assert result.states[0] == "Validate request" and len(wf.clock.retries) == 1
    assert [e["detail-type"] for e in wf.published()] == ["NTM Tuning Job Succeeded"]


def test_a_throttled_parent_description_while_building_the_tuning_job_is_retried(
    workflow: Open,
) -> None:
    """A corpus request describes its warm-start parents at validation and again once its
    dataset is ready (`Build tuning job`): the second one is throttled here."""
    wf = workflow(Scenario(training_jobs=2))
    assert run_upload(wf, encode(example_request()), "requests/parent.json").status == "SUCCEEDED"
    (parent,) = wf.published()
    wf.upload_folder(ROOT / "examples/corpus")
    body = json.loads(corpus_request())
    body["warm_start"] = {"parents": [parent["detail"]["tuning_job"]["name"]]}
    wf.faults.unthrottled_first = {"describe_hyper_parameter_tuning_job": 1}  # validation's
    wf.faults.throttled_sagemaker = {"describe_hyper_parameter_tuning_job": 1}
    result = run_upload(wf, json.dumps(body).encode(), "requests/corpus-child.json")
    assert result.status == "SUCCEEDED", result.cause
    assert "Build tuning job" in result.states
    assert wf.faults.throttled_calls == ["describe_hyper_parameter_tuning_job"]
    assert len(wf.clock.retries) == 1
    (event,) = wf.published()
    assert event["detail-type"] == "NTM Tuning Job Succeeded"
    (child,) = [j for j in engine(wf).jobs.values() if j.request.get("WarmStartConfig")]
    assert child.request["WarmStartConfig"]["ParentHyperParameterTuningJobs"] == [
        {"HyperParameterTuningJobName": parent["detail"]["tuning_job"]["name"]}
    ]
