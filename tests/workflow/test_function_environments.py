"""Each Lambda invocation offline gets exactly its function's Environment.Variables from the
template, as Lambda gives each function its own, even with other functions running beside it
in other threads."""

from __future__ import annotations

import copy
import json
import os
import time
import uuid
from collections.abc import Callable
from typing import Any

from ntm_tuning.environment import variables
from ntm_tuning.settings import load_settings

from offline.runtime import ACCOUNT, REGION, Function, OfflineWorkflow
from tests.workflow.conftest import encode, example_request

Open = Callable[..., OfflineWorkflow]


def probe(event: dict[str, Any], _context: Any) -> dict[str, Any]:
    """What an invocation sees: its variables and settings, before and after a pause that
    lets the other invocations run."""
    before = variables().get("PROBE")
    bucket = load_settings().data_bucket
    time.sleep(0.05)
    return {
        "names": sorted(variables()),
        "probe": [before, variables().get("PROBE")],
        "data_bucket": [bucket, load_settings().data_bucket],
    }


def test_concurrent_invocations_each_see_only_their_own_functions_variables(
    workflow: Open,
) -> None:
    wf = workflow()
    stack = wf.environment_of("validate_request")
    environments = {
        "probe-a": {**stack, "PROBE": "a", "ONLY_IN_A": "1", "DATA_BUCKET": "bucket-of-a"},
        "probe-b": {**stack, "PROBE": "b", "ONLY_IN_B": "1", "DATA_BUCKET": "bucket-of-b"},
    }
    for name, environment in environments.items():
        wf.functions[name] = Function(name, f"{__name__}.probe", environment)

    def task(function: str) -> dict[str, Any]:
        arn = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{function}"
        return {
            "StartAt": "Probe",
            "States": {"Probe": {"Type": "Task", "Resource": arn, "End": True}},
        }

    order = ["probe-a", "probe-b", "probe-a", "probe-b"]
    machine = wf.sfn.create_state_machine(
        name="environments",
        definition=json.dumps(
            {
                "StartAt": "Both",
                "States": {
                    "Both": {
                        "Type": "Parallel",
                        "Branches": [task(function) for function in order],
                        "End": True,
                    }
                },
            }
        ),
        roleArn=f"arn:aws:iam::{ACCOUNT}:role/offline",
    )["stateMachineArn"]
    executions = [
        wf.sfn.start_execution(stateMachineArn=machine, name=str(uuid.uuid4()), input="{}")[
            "executionArn"
        ]
        for _ in range(3)
    ]
    for arn in executions:
        result = wf.wait(arn)
        assert result.status == "SUCCEEDED", result
        assert result.output is not None
        for function, seen in zip(order, result.output, strict=True):
            environment = environments[function]
            assert seen == {
                "names": sorted(environment),
                "probe": [environment["PROBE"]] * 2,
                "data_bucket": [environment["DATA_BUCKET"]] * 2,
            }
    # The process itself holds none of the stack's variables.
    assert not {"DATA_BUCKET", "LEDGER_TABLE", "TUNING_DEFAULTS"} & set(os.environ)


def test_a_handler_reads_its_own_functions_variable_from_the_template(
    workflow: Open, template: dict[str, Any]
) -> None:
    """Only the Summarize results function gets another report prefix: the report lands
    there, which it could not if any other function's variables reached the handler."""
    stack = copy.deepcopy(template)
    summarizers = [
        resource
        for resource in stack["Resources"].values()
        if resource["Type"] == "AWS::Lambda::Function"
        and resource["Properties"]["Handler"].endswith(".summarize_results.handler")
    ]
    assert len(summarizers) == 1
    summarizers[0]["Properties"]["Environment"]["Variables"]["REPORT_PREFIX"] = "summaries/"
    wf = workflow(stack=stack)
    assert wf.environment_of("summarize_results")["REPORT_PREFIX"] == "summaries/"
    assert wf.environment_of("validate_request")["REPORT_PREFIX"] == "reports/"
    execution = wf.upload_request("requests/run.json", encode(example_request()))
    assert execution is not None
    assert wf.wait(execution).status == "SUCCEEDED"
    reports = list(wf.objects(wf.artifacts_bucket, "summaries/"))
    assert len(reports) == 1 and reports[0].endswith(".json")
    assert list(wf.objects(wf.artifacts_bucket, "reports/")) == []
