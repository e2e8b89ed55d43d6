"""The state machine: states, transitions, retries, catches and settings, from the template."""

from __future__ import annotations

from typing import Any

import pytest
from aws_cdk import App
from aws_cdk.assertions import Template

from infra.config import load_config
from infra.pipeline import build_pipeline
from tests.infra.conftest import Synthesized
from tests.infra.helpers import (
    WORKFLOW_HANDLERS,
    function_id,
    render,
    state_machine_definition,
    statements_of_role,
)

LAMBDA_SERVICE_ERRORS = [
    "Lambda.ClientExecutionTimeoutException",
    "Lambda.ServiceException",
    "Lambda.AWSLambdaException",
    "Lambda.SdkClientException",
]
THROTTLE_RETRY = {
    "ErrorEquals": ["SageMakerThrottled"],
    "IntervalSeconds": 5,
    "BackoffRate": 2,
    "MaxAttempts": 6,
    "JitterStrategy": "FULL",
}
PUBLISH_RETRY = {
    "ErrorEquals": ["EventPublishFailed"],
    "IntervalSeconds": 1,
    "BackoffRate": 2,
    "MaxAttempts": 5,
    "JitterStrategy": "FULL",
}
CATCH_ALL = [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Publish failure"}]
LEDGER_RETRY = {
    "ErrorEquals": ["LedgerThrottled"],
    "IntervalSeconds": 2,
    "BackoffRate": 2,
    "MaxAttempts": 6,
    "JitterStrategy": "FULL",
}
REQUEST_BLOCK = {
    "request_id.$": "$.request_id",
    "request_name.$": "$.request_name",
    "origin.$": "$.origin",
}
# Publisher -> (detail type, what it is given of the state, next state). Every outcome but a
# rejection may hold a job slot; a failure is caught from every state, validation's included.
PUBLISHERS = {
    "Publish rejection": (
        "NTM Tuning Request Rejected",
        {"rejection.$": "$.rejection"},
        "Request rejected",
    ),
    "Publish success": (
        "NTM Tuning Job Succeeded",
        {"result.$": "$.result", "start.$": "$.start"},
        "Release capacity",
    ),
    "Publish failure": ("NTM Tuning Job Failed", "$", "Release capacity"),
    "Publish stopped": (
        "NTM Tuning Job Stopped",
        {
            **REQUEST_BLOCK,
            "tuning_job_name.$": "$.tuning_job_name",
            "start.$": "$.start",
            "job.$": "$.job",
        },
        "Release capacity",
    ),
}


@pytest.fixture(scope="module")
def states(synthesized: Synthesized) -> dict[str, dict[str, Any]]:
    definition = state_machine_definition(synthesized)
    assert definition["StartAt"] == "Validate request"
    result: dict[str, dict[str, Any]] = definition["States"]
    return result


def _invokes(synthesized: Synthesized, state: dict[str, Any], handler: str) -> None:
    assert state["Type"] == "Task"
    assert state["Resource"] == f"${{{function_id(synthesized, handler)}.Arn}}"


def _retries(state: dict[str, Any]) -> list[dict[str, Any]]:
    retries: list[dict[str, Any]] = state.get("Retry", [])
    # Default retry of transient Lambda service errors, on every Lambda task.
    assert retries[0]["ErrorEquals"] == LAMBDA_SERVICE_ERRORS
    return retries[1:]


def test_exact_set_of_states(states: dict[str, dict[str, Any]]) -> None:
    assert set(states) == {
        "Validate request",
        "Request accepted?",
        "Publish rejection",
        "Request rejected",
        "Not a tuning request",
        "Duplicate delivery",
        "Acquire capacity",
        "Capacity available?",
        "Wait for capacity",
        "Start tuning job",
        "Job started?",
        "Wait for tuning job",
        "Describe tuning job",
        "Tuning job status",
        "Stop tuning job",
        "Summarize results",
        "Publish success",
        "Publish failure",
        "Publish stopped",
        "Release capacity",
        "Outcome",
        "Tuning job succeeded",
        "Tuning job stopped",
        "Tuning failed",
        # Dataset preparation (corpus requests).
        "Start dataset preparation",
        "Wait for dataset preparation",
        "Describe dataset preparation",
        "Dataset preparation status",
        "Build tuning job",
        "Dataset usable?",
    }


def test_validate_request(synthesized: Synthesized, states: dict[str, dict[str, Any]]) -> None:
    state = states["Validate request"]
    _invokes(synthesized, state, "validate_request")
    assert state["Parameters"] == {"delivery.$": "$", "execution_id.$": "$$.Execution.Id"}
    assert state["ResultPath"] == "$"
    assert state["Catch"] == CATCH_ALL
    assert _retries(state) == [THROTTLE_RETRY]
    assert state["Next"] == "Request accepted?"


def test_request_accepted_choice(states: dict[str, dict[str, Any]]) -> None:
    state = states["Request accepted?"]
    assert state["Type"] == "Choice"
    assert state["Choices"] == [
        {"Variable": "$.outcome", "StringEquals": "rejected", "Next": "Publish rejection"},
        {"Variable": "$.outcome", "StringEquals": "ignored", "Next": "Not a tuning request"},
        {"Variable": "$.outcome", "StringEquals": "duplicate", "Next": "Duplicate delivery"},
        {"Variable": "$.outcome", "StringEquals": "prepare", "Next": "Start dataset preparation"},
    ]
    assert state["Default"] == "Acquire capacity"
    assert states["Not a tuning request"] == {"Type": "Succeed"}
    assert states["Duplicate delivery"] == {"Type": "Succeed"}


def test_acquire_capacity(synthesized: Synthesized, states: dict[str, dict[str, Any]]) -> None:
    state = states["Acquire capacity"]
    _invokes(synthesized, state, "acquire_capacity")
    assert state["Parameters"] == {
        "execution_id.$": "$$.Execution.Id",
        "request_id.$": "$.request_id",
        "tuning_job_name.$": "$.tuning_job_name",
    }
    assert state["ResultPath"] == "$.admission"
    assert _retries(state) == [LEDGER_RETRY]
    assert state["Catch"] == CATCH_ALL
    assert state["Next"] == "Capacity available?"


def test_start_dataset_preparation(
    synthesized: Synthesized, states: dict[str, dict[str, Any]]
) -> None:
    state = states["Start dataset preparation"]
    _invokes(synthesized, state, "start_dataset_preparation")
    assert state["Parameters"] == {
        "preparation.$": "$.preparation",
        "execution_id.$": "$$.Execution.Id",
        "request": REQUEST_BLOCK,
    }
    assert state["ResultPath"] == "$.preparation_job"
    assert _retries(state) == [THROTTLE_RETRY]
    assert state["Catch"] == CATCH_ALL
    assert state["Next"] == "Wait for dataset preparation"


def test_wait_for_dataset_preparation_uses_the_poll_interval(
    synthesized: Synthesized, states: dict[str, dict[str, Any]]
) -> None:
    assert states["Wait for dataset preparation"] == {
        "Type": "Wait",
        "Seconds": synthesized.config.poll_interval_seconds,
        "Next": "Describe dataset preparation",
    }


def test_describe_dataset_preparation(
    synthesized: Synthesized, states: dict[str, dict[str, Any]]
) -> None:
    state = states["Describe dataset preparation"]
    _invokes(synthesized, state, "describe_dataset_preparation")
    assert state["Parameters"] == {"processing_job_name.$": "$.preparation.processing_job_name"}
    assert state["ResultPath"] == "$.preparation_status"
    assert _retries(state) == [THROTTLE_RETRY]
    assert state["Catch"] == CATCH_ALL
    assert state["Next"] == "Dataset preparation status"


def test_dataset_preparation_status_choice(states: dict[str, dict[str, Any]]) -> None:
    state = states["Dataset preparation status"]
    assert state["Type"] == "Choice"
    status = "$.preparation_status.status"
    assert state["Choices"] == [
        {"Variable": status, "StringEquals": "Completed", "Next": "Build tuning job"},
        {"Variable": status, "StringEquals": "Failed", "Next": "Publish failure"},
        {"Variable": status, "StringEquals": "Stopped", "Next": "Publish failure"},
    ]
    # InProgress and Stopping: look again later.
    assert state["Default"] == "Wait for dataset preparation"


def test_build_tuning_job_replaces_the_state(
    synthesized: Synthesized, states: dict[str, dict[str, Any]]
) -> None:
    state = states["Build tuning job"]
    _invokes(synthesized, state, "build_tuning_job")
    assert state["Parameters"] == {
        "request": REQUEST_BLOCK,
        "preparation.$": "$.preparation",
        "execution_id.$": "$$.Execution.Id",
    }
    assert state["ResultPath"] == "$"
    assert _retries(state) == [THROTTLE_RETRY]
    assert state["Catch"] == CATCH_ALL
    assert state["Next"] == "Dataset usable?"


def test_dataset_usable_choice(states: dict[str, dict[str, Any]]) -> None:
    state = states["Dataset usable?"]
    assert state["Type"] == "Choice"
    assert state["Choices"] == [
        {"Variable": "$.outcome", "StringEquals": "rejected", "Next": "Publish rejection"}
    ]
    assert state["Default"] == "Acquire capacity"


def test_dataset_preparation_ends_in_tuning_rejection_or_failure(
    states: dict[str, dict[str, Any]],
) -> None:
    """Everything reachable from the preparation states before `Acquire capacity`: it holds
    no job slot yet, and every way out is the tuning path, a rejection or a failure."""
    stage = {
        "Start dataset preparation",
        "Wait for dataset preparation",
        "Describe dataset preparation",
        "Dataset preparation status",
        "Build tuning job",
        "Dataset usable?",
    }
    exits = set()
    for name in stage:
        state = states[name]
        targets = {c["Next"] for c in state.get("Choices", []) + state.get("Catch", [])}
        targets |= {state[k] for k in ("Next", "Default") if k in state}
        exits |= targets - stage
    assert exits == {"Acquire capacity", "Publish rejection", "Publish failure"}
    # Only the validation step leads into the stage.
    entries = {
        name
        for name, state in states.items()
        if name not in stage
        and any(
            target in stage
            for target in [c["Next"] for c in state.get("Choices", []) + state.get("Catch", [])]
            + [state[k] for k in ("Next", "Default") if k in state]
        )
    }
    assert entries == {"Request accepted?"}


def test_capacity_available_choice(states: dict[str, dict[str, Any]]) -> None:
    state = states["Capacity available?"]
    assert state["Type"] == "Choice"
    assert state["Choices"] == [
        {"Variable": "$.admission.admitted", "BooleanEquals": True, "Next": "Start tuning job"}
    ]
    assert state["Default"] == "Wait for capacity"


def test_wait_for_capacity_uses_the_configured_interval(
    synthesized: Synthesized, states: dict[str, dict[str, Any]]
) -> None:
    assert states["Wait for capacity"] == {
        "Type": "Wait",
        "Seconds": synthesized.config.capacity_wait_seconds,
        "Next": "Acquire capacity",
    }


def test_start_tuning_job(synthesized: Synthesized, states: dict[str, dict[str, Any]]) -> None:
    state = states["Start tuning job"]
    _invokes(synthesized, state, "start_tuning_job")
    assert state["Parameters"] == {
        "tuning_job_name.$": "$.tuning_job_name",
        "create_request.$": "$.create_request",
        "execution_id.$": "$$.Execution.Id",
        "request": REQUEST_BLOCK,
    }
    assert state["ResultPath"] == "$.start"
    assert _retries(state) == [THROTTLE_RETRY]
    assert state["Catch"] == CATCH_ALL
    assert state["Next"] == "Job started?"


def test_job_started_choice(states: dict[str, dict[str, Any]]) -> None:
    state = states["Job started?"]
    assert state["Type"] == "Choice"
    assert state["Choices"] == [
        {
            "Variable": "$.start.capacity_exhausted",
            "BooleanEquals": True,
            "Next": "Wait for capacity",
        },
        {"Variable": "$.start.duplicate", "BooleanEquals": True, "Next": "Release capacity"},
    ]
    assert state["Default"] == "Wait for tuning job"


def test_wait_uses_the_configured_poll_interval(
    synthesized: Synthesized, states: dict[str, dict[str, Any]]
) -> None:
    assert states["Wait for tuning job"] == {
        "Type": "Wait",
        "Seconds": synthesized.config.poll_interval_seconds,
        "Next": "Describe tuning job",
    }


def test_describe_tuning_job(synthesized: Synthesized, states: dict[str, dict[str, Any]]) -> None:
    state = states["Describe tuning job"]
    _invokes(synthesized, state, "describe_tuning_job")
    assert state["Parameters"] == {
        "tuning_job_name.$": "$.tuning_job_name",
        "watch_deadline.$": "$.watch_deadline",
        "execution_id.$": "$$.Execution.Id",
        "request": REQUEST_BLOCK,
        "cost_estimate.$": "$.cost_estimate",
    }
    assert state["ResultPath"] == "$.job"
    assert _retries(state) == [THROTTLE_RETRY]
    assert state["Catch"] == CATCH_ALL
    assert state["Next"] == "Tuning job status"


def test_tuning_job_status_choice(states: dict[str, dict[str, Any]]) -> None:
    state = states["Tuning job status"]
    assert state["Choices"] == [
        {"Variable": "$.job.status", "StringEquals": "Completed", "Next": "Summarize results"},
        {"Variable": "$.job.status", "StringEquals": "Failed", "Next": "Publish failure"},
        {"Variable": "$.job.status", "StringEquals": "Stopped", "Next": "Publish stopped"},
        {"Variable": "$.job.deadline_passed", "BooleanEquals": True, "Next": "Stop tuning job"},
    ]
    assert state["Default"] == "Wait for tuning job"


def test_stop_tuning_job(synthesized: Synthesized, states: dict[str, dict[str, Any]]) -> None:
    state = states["Stop tuning job"]
    _invokes(synthesized, state, "stop_tuning_job")
    assert state["Parameters"] == {"tuning_job_name.$": "$.tuning_job_name"}
    assert state["ResultPath"] == "$.stop"
    assert state["Catch"] == CATCH_ALL
    assert state["Next"] == "Publish failure"


def test_summarize_results_gets_what_the_summary_reads(
    synthesized: Synthesized, states: dict[str, dict[str, Any]]
) -> None:
    state = states["Summarize results"]
    _invokes(synthesized, state, "summarize_results")
    # The plan's fields the summary reads, not the tuning job's whole request.
    assert state["Parameters"] == {
        **REQUEST_BLOCK,
        "tuning_job_name.$": "$.tuning_job_name",
        "static_hyperparameters.$": "$.static_hyperparameters",
        "strategy.$": "$.strategy",
        "vocabulary_uri.$": "$.vocabulary_uri",
        "cost_estimate.$": "$.cost_estimate",
        "dataset.$": "$.dataset",
    }
    assert state.get("InputPath", "$") == "$"
    assert state["ResultPath"] == "$.result"
    assert state["Catch"] == CATCH_ALL
    assert state["Next"] == "Publish success"


@pytest.mark.parametrize("name", sorted(PUBLISHERS))
def test_publishers(synthesized: Synthesized, states: dict[str, dict[str, Any]], name: str) -> None:
    detail_type, given, next_state = PUBLISHERS[name]
    state = states[name]
    _invokes(synthesized, state, "publish_outcome")
    assert state["Parameters"] == {
        "detail_type": detail_type,
        **({"state.$": given} if given == "$" else {"state": given}),
        "execution_id.$": "$$.Execution.Id",
    }
    assert state["ResultPath"] == "$.published"
    assert _retries(state) == [PUBLISH_RETRY]
    # A publisher that still fails ends the execution as failed: the clean-up rule takes over.
    assert "Catch" not in state
    assert state["Next"] == next_state
    assert states["Request rejected"] == {"Type": "Succeed"}


def test_release_capacity(synthesized: Synthesized, states: dict[str, dict[str, Any]]) -> None:
    state = states["Release capacity"]
    _invokes(synthesized, state, "release_capacity")
    assert state["Parameters"] == {"execution_id.$": "$$.Execution.Id"}
    assert state["ResultPath"] == "$.release"
    assert _retries(state) == [LEDGER_RETRY]
    # A failed release does not change the outcome (the release function's alarm reports it).
    assert state["Catch"] == [
        {"ErrorEquals": ["States.ALL"], "ResultPath": "$.release_error", "Next": "Outcome"}
    ]
    assert state["Next"] == "Outcome"


def _guarded(path: str, test: dict[str, Any], next_state: str) -> dict[str, Any]:
    return {
        "And": [{"Variable": path, "IsPresent": True}, {"Variable": path, **test}],
        "Next": next_state,
    }


def test_outcome_choice_is_guarded_against_missing_paths(
    states: dict[str, dict[str, Any]],
) -> None:
    state = states["Outcome"]
    assert state["Type"] == "Choice"
    published = "$.published.detail_type"
    assert state["Choices"] == [
        _guarded("$.start.duplicate", {"BooleanEquals": True}, "Duplicate delivery"),
        _guarded(published, {"StringEquals": "NTM Tuning Job Succeeded"}, "Tuning job succeeded"),
        _guarded(published, {"StringEquals": "NTM Tuning Job Stopped"}, "Tuning job stopped"),
    ]
    assert state["Default"] == "Tuning failed"
    assert states["Tuning job succeeded"] == {"Type": "Succeed"}
    assert states["Tuning job stopped"] == {"Type": "Fail", "Error": "TuningJobStopped"}
    assert states["Tuning failed"] == {"Type": "Fail", "Error": "TuningFailed"}


def test_other_choices_read_only_what_their_step_returns(
    states: dict[str, dict[str, Any]],
) -> None:
    """Outside `Outcome`, choices read only what the step just before them always returns."""
    reads = {
        "Request accepted?": {"$.outcome"},
        "Capacity available?": {"$.admission.admitted"},
        "Job started?": {"$.start.capacity_exhausted", "$.start.duplicate"},
        "Tuning job status": {"$.job.status", "$.job.deadline_passed"},
        "Dataset preparation status": {"$.preparation_status.status"},
        # Build tuning job returns a whole state, as validation does.
        "Dataset usable?": {"$.outcome"},
    }
    for name, state in states.items():
        if state["Type"] != "Choice" or name == "Outcome":
            continue
        assert {c["Variable"] for c in state["Choices"]} == reads[name], name


def test_tasks_that_can_fail_publish_the_failure(states: dict[str, dict[str, Any]]) -> None:
    tasks = {
        name
        for name, state in states.items()
        if state["Type"] == "Task"
        and not name.startswith("Publish ")
        and name != "Release capacity"
    }
    assert tasks == {
        "Validate request",
        "Acquire capacity",
        "Start tuning job",
        "Describe tuning job",
        "Stop tuning job",
        "Summarize results",
        "Start dataset preparation",
        "Describe dataset preparation",
        "Build tuning job",
    }
    for name in tasks:
        assert states[name]["Catch"] == CATCH_ALL, name


def test_every_path_that_may_hold_a_slot_releases_it(states: dict[str, dict[str, Any]]) -> None:
    """From `Acquire capacity` on, every path to an end state passes `Release capacity`."""

    def successors(name: str) -> set[str]:
        state = states[name]
        found = {c["Next"] for c in state.get("Choices", [])} | {
            c["Next"] for c in state.get("Catch", [])
        }
        found |= {state[k] for k in ("Next", "Default") if k in state}
        return found

    seen: set[str] = set()
    frontier = ["Acquire capacity"]
    while frontier:
        name = frontier.pop()
        if name in seen or name == "Release capacity":
            continue
        seen.add(name)
        assert states[name]["Type"] not in ("Succeed", "Fail"), f"{name} ends holding a slot"
        frontier.extend(successors(name))
    assert "Publish rejection" not in seen


def test_no_state_machine_timeout(synthesized: Synthesized) -> None:
    assert "TimeoutSeconds" not in state_machine_definition(synthesized)


def test_standard_logged_and_traced(synthesized: Synthesized, template: Template) -> None:
    (state_machine,) = synthesized.resources("AWS::StepFunctions::StateMachine").values()
    props = state_machine["Properties"]
    assert props["StateMachineType"] == "STANDARD"
    assert props["TracingConfiguration"] == {"Enabled": True}
    logging = props["LoggingConfiguration"]
    assert logging["Level"] == "ALL"
    assert logging["IncludeExecutionData"] is True
    (destination,) = logging["Destinations"]
    group_id = destination["CloudWatchLogsLogGroup"]["LogGroupArn"]["Fn::GetAtt"][0]
    group = synthesized.json["Resources"][group_id]["Properties"]
    (key_id,) = synthesized.resources("AWS::KMS::Key")
    assert group["KmsKeyId"] == {"Fn::GetAtt": [key_id, "Arn"]}
    assert group["RetentionInDays"] == synthesized.config.log_retention_days


def test_state_machine_may_invoke_only_its_functions(synthesized: Synthesized) -> None:
    (state_machine,) = synthesized.resources("AWS::StepFunctions::StateMachine").values()
    role_id = state_machine["Properties"]["RoleArn"]["Fn::GetAtt"][0]
    invocable = {
        render(resource)
        for statement in statements_of_role(synthesized, role_id)
        if statement["Action"] == "lambda:InvokeFunction"
        for resource in statement["Resource"]
    }
    functions = [function_id(synthesized, name) for name in WORKFLOW_HANDLERS]
    assert invocable == {f"${{{f}.Arn}}" for f in functions} | {
        f"${{{f}.Arn}}:*" for f in functions
    }


def test_every_state_that_may_call_sagemaker_retries_its_throttling(
    synthesized: Synthesized, states: dict[str, dict[str, Any]]
) -> None:
    """Derived from IAM, not from a list: a function allowed any SageMaker action may be
    throttled by it, and its state then backs off and tries again instead of failing."""
    calling = set()
    for name, state in states.items():
        if state["Type"] != "Task":
            continue
        logical_id = state["Resource"].removeprefix("${").removesuffix(".Arn}")
        function = synthesized.json["Resources"][logical_id]["Properties"]
        role_id = function["Role"]["Fn::GetAtt"][0]
        actions = {
            action
            for statement in statements_of_role(synthesized, role_id)
            for action in (
                statement["Action"]
                if isinstance(statement["Action"], list)
                else [statement["Action"]]
            )
        }
        if any(action.startswith("sagemaker:") for action in actions):
            calling.add(name)
            assert THROTTLE_RETRY in _retries(state), name
    assert {
        "Start tuning job",
        "Describe tuning job",
        "Stop tuning job",
        "Summarize results",
        "Start dataset preparation",
        "Describe dataset preparation",
    } <= calling


@pytest.fixture(scope="module")
def distinct_waits(
    cdk_context: dict[str, Any], tmp_path_factory: pytest.TempPathFactory
) -> dict[str, dict[str, Any]]:
    """The states of a stack whose two intervals differ (both default to 60 s), as `-c` gives
    them: a Wait state that reads the wrong one shows."""
    context = {**cdk_context, "ntm:pollIntervalSeconds": "45", "ntm:capacityWaitSeconds": "90"}
    app = App(context=context, outdir=str(tmp_path_factory.mktemp("cdk.out")))
    stack = build_pipeline(app)
    assembly = app.synth()
    template = Template.from_json(assembly.get_stack_by_name(stack.stack_name).template)
    synthesized = Synthesized(app, stack, load_config(context), assembly, template)
    result: dict[str, dict[str, Any]] = state_machine_definition(synthesized)["States"]
    return result


def test_every_wait_state_waits_its_own_interval(
    distinct_waits: dict[str, dict[str, Any]],
) -> None:
    waits = {name: state for name, state in distinct_waits.items() if state["Type"] == "Wait"}
    assert waits == {
        "Wait for dataset preparation": {
            "Type": "Wait",
            "Seconds": 45,
            "Next": "Describe dataset preparation",
        },
        "Wait for tuning job": {"Type": "Wait", "Seconds": 45, "Next": "Describe tuning job"},
        "Wait for capacity": {"Type": "Wait", "Seconds": 90, "Next": "Acquire capacity"},
    }
