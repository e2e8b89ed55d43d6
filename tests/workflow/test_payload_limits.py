"""Step Functions' payload quota, offline as on AWS: a state's output, a task's result or a
task's input after Parameters over 256 KiB fails the execution with
``States.DataLimitExceeded``, and a Catch on ``States.ALL`` does not catch it."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from typing import Any

import pytest

from offline.runtime import ACCOUNT, REGION, Function, OfflineWorkflow

Open = Callable[..., OfflineWorkflow]
KIB = 1024


def sized(event: dict[str, Any], _context: Any) -> Any:
    """A task that returns a payload of the size it is asked for, or fails when asked to."""
    if event.get("fail"):
        raise RuntimeError("an ordinary task failure")
    return {"blob": "x" * int(event["bytes"])}


def _machine(wf: OfflineWorkflow, task: dict[str, Any], name: str) -> str:
    function = f"sized-{name}"
    wf.functions[function] = Function(function, f"{__name__}.sized", {})
    definition = {
        "StartAt": "Task",
        "States": {
            "Task": {
                "Type": "Task",
                "Resource": f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{function}",
                **task,
                "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Caught"}],
                "End": True,
            },
            "Caught": {"Type": "Pass", "Result": {"caught": True}, "End": True},
        },
    }
    return str(
        wf.sfn.create_state_machine(
            name=f"limits-{name}",
            definition=json.dumps(definition),
            roleArn=f"arn:aws:iam::{ACCOUNT}:role/offline",
        )["stateMachineArn"]
    )


def _run(wf: OfflineWorkflow, machine: str, payload: dict[str, Any]) -> Any:
    arn = wf.sfn.start_execution(
        stateMachineArn=machine, name=str(uuid.uuid4()), input=json.dumps(payload)
    )["executionArn"]
    return wf.wait(arn)


@pytest.mark.parametrize(
    ("size", "status", "error"),
    [
        (200 * KIB, "SUCCEEDED", None),
        (300 * KIB, "FAILED", "States.DataLimitExceeded"),
    ],
)
def test_a_task_result_over_256_kib_is_a_terminal_error(
    workflow: Open, size: int, status: str, error: str | None
) -> None:
    wf = workflow()
    result = _run(wf, _machine(wf, {}, f"result-{size}"), {"bytes": size})
    assert (result.status, result.error) == (status, error)
    assert "Caught" not in result.states


def test_an_ordinary_failure_is_still_caught(workflow: Open) -> None:
    wf = workflow()
    result = _run(wf, _machine(wf, {}, "ordinary"), {"bytes": 1, "fail": True})
    assert result.status == "SUCCEEDED"
    assert result.output == {"caught": True}


def test_a_task_input_over_256_kib_after_parameters_is_a_terminal_error(workflow: Open) -> None:
    wf = workflow()
    # Each half fits; Parameters puts both into the task's input.
    doubled = {"Parameters": {"bytes": 1, "a.$": "$.half", "b.$": "$.half"}}
    machine = _machine(wf, doubled, "parameters")
    result = _run(wf, machine, {"half": "y" * (150 * KIB)})
    assert (result.status, result.error) == ("FAILED", "States.DataLimitExceeded")
    small = _run(wf, machine, {"half": "y" * (100 * KIB)})
    assert small.status == "SUCCEEDED"
