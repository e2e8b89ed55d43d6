"""What runs offline is the definition synthesized from the CDK code, not a copy of it."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

import infra.workflow
from offline.runtime import OfflineWorkflow
from offline.scripted import Scenario
from offline.template import synthesize
from tests.workflow.conftest import encode, example_request

Open = Callable[..., OfflineWorkflow]


def state_machine_definition(template: dict[str, Any]) -> dict[str, Any]:
    (machine,) = (
        r for r in template["Resources"].values() if r["Type"] == "AWS::StepFunctions::StateMachine"
    )
    parts = machine["Properties"]["DefinitionString"]["Fn::Join"][1]
    return json.loads(
        "".join(p if isinstance(p, str) else '"ref"' for p in parts).replace('""ref""', '"ref"')
    )


def test_the_executed_definition_is_the_templates(workflow: Open, template: dict[str, Any]) -> None:
    wf = workflow()
    synthesized = state_machine_definition(template)
    assert wf.definition["StartAt"] == synthesized["StartAt"]
    assert wf.definition["States"].keys() == synthesized["States"].keys()
    for name, state in synthesized["States"].items():
        assert wf.definition["States"][name]["Type"] == state["Type"], name


def test_a_context_change_changes_what_runs(workflow: Open) -> None:
    wf = workflow(
        Scenario(describes_in_progress=1), stack=synthesize({"ntm:pollIntervalSeconds": "45"})
    )
    execution = wf.upload_request("requests/run.json", encode(example_request()))
    assert execution is not None
    assert wf.wait(execution).status == "SUCCEEDED"
    assert wf.clock.waits == [45.0, 45.0]


def test_a_code_change_changes_what_runs(workflow: Open, monkeypatch: pytest.MonkeyPatch) -> None:
    # The construct names the detail type of the success event; change it in the CDK code.
    monkeypatch.setattr(infra.workflow, "SUCCEEDED", "NTM Tuning Job Finished")
    wf = workflow(stack=synthesize())
    execution = wf.upload_request("requests/run.json", encode(example_request()))
    assert execution is not None
    result = wf.wait(execution)
    # The publish handler refuses a detail type it has no contract for: the run fails.
    assert result.status == "FAILED"
    assert "unknown detail type 'NTM Tuning Job Finished'" in (result.cause or "")
    # Nothing reached the bus from the workflow: the clean-up gives the request its one event.
    (event,) = wf.published()
    assert event["detail-type"] == "NTM Tuning Job Failed"
    assert event["detail"]["reason"]["code"] == "ExecutionFailed"
    assert "unknown detail type" in event["detail"]["reason"]["message"]
