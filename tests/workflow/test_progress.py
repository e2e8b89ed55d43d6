"""Progress events, as a consumer of the results bus sees them from a whole offline run."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import jsonschema
import pytest

from offline.runtime import OfflineWorkflow
from offline.scripted import Scenario
from tests.workflow.conftest import encode, example_request

SCHEMA = json.loads(
    (
        Path(__file__).resolve().parents[2] / "schemas" / "ntm-tuning-job-progress.schema.json"
    ).read_text()
)
Open = Callable[..., OfflineWorkflow]


@pytest.mark.parametrize("polls_in_progress", [1, 4])
def test_progress_is_published_only_when_it_changes(workflow: Open, polls_in_progress: int) -> None:
    # The stand-in shows the same counters for every poll while the job runs, then completes.
    wf = workflow(Scenario(describes_in_progress=polls_in_progress, training_jobs=6))
    execution = wf.upload_request("requests/run.json", encode(example_request()))
    assert execution is not None
    result = wf.wait(execution)
    assert result.status == "SUCCEEDED"
    assert result.states.count("Describe tuning job") == polls_in_progress + 1
    progress = wf.progress()
    # However many polls saw the job running unchanged: one event for it, one when it ended.
    assert [e["detail"]["status"] for e in progress] == ["InProgress", "Completed"]
    running, ended = (e["detail"] for e in progress)
    for event in progress:
        assert event["detail-type"] == "NTM Tuning Job Progress"
        jsonschema.validate(event["detail"], SCHEMA)
    assert running["counters"] == {
        "completed": 0,
        "in_progress": 2,
        "retryable_error": 0,
        "non_retryable_error": 0,
        "stopped": 0,
    }
    assert running["best_training_job"] is None
    assert running["billable_seconds"] == 0
    assert ended["counters"]["completed"] == 6
    assert ended["max_jobs"] == 8
    # The outcome agrees with the last progress event.
    (succeeded,) = wf.published()
    detail = succeeded["detail"]
    assert ended["best_training_job"] == {
        "name": detail["best_training_job"]["name"],
        "objective": detail["best_training_job"]["objective"],
    }
    assert ended["billable_seconds"] == detail["billable_seconds"]
    assert ended["cost_usd"] == detail["cost"]["actual_usd"]
    assert ended["request_id"] == detail["request_id"]
    assert ended["tuning_job_arn"] == detail["tuning_job"]["arn"]
    assert progress[0]["resources"] == [detail["tuning_job"]["arn"]]


def test_a_rejected_request_publishes_no_progress(workflow: Open) -> None:
    wf = workflow()
    execution = wf.upload_request("requests/run.json", encode(example_request(strategy="Nope")))
    assert execution is not None
    wf.wait(execution)
    assert [e["detail-type"] for e in wf.published()] == ["NTM Tuning Request Rejected"]
    assert wf.progress() == []
