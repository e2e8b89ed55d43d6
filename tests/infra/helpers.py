"""Reading the synthesized template: functions by handler, policies by role, the definition."""

from __future__ import annotations

import json
from typing import Any

from tests.infra.conftest import Synthesized

HANDLERS = {
    name: f"ntm_tuning.handlers.{name}.handler"
    for name in (
        "validate_request",
        "start_tuning_job",
        "describe_tuning_job",
        "summarize_results",
        "publish_outcome",
        "stop_tuning_job",
        "acquire_capacity",
        "release_capacity",
        "clean_up",
        "start_dataset_preparation",
        "describe_dataset_preparation",
        "build_tuning_job",
    )
}
# The functions the state machine invokes; `cleanup` is invoked by an EventBridge rule.
WORKFLOW_HANDLERS = tuple(name for name in HANDLERS if name != "clean_up")


def function_id(synthesized: Synthesized, name: str) -> str:
    return synthesized.logical_id("AWS::Lambda::Function", Handler=HANDLERS[name])


def environment(synthesized: Synthesized) -> dict[str, Any]:
    """The environment every function gets (the validate function's)."""
    function = synthesized.json["Resources"][function_id(synthesized, "validate_request")]
    variables: dict[str, Any] = function["Properties"]["Environment"]["Variables"]
    return variables


def role_from_environment(synthesized: Synthesized, variable: str) -> str:
    """The role whose ARN the handlers get in ``variable`` (e.g. SAGEMAKER_ROLE_ARN)."""
    arn = environment(synthesized)[variable]
    assert arn["Fn::GetAtt"][1] == "Arn", arn
    role_id = str(arn["Fn::GetAtt"][0])
    assert synthesized.json["Resources"][role_id]["Type"] == "AWS::IAM::Role"
    return role_id


def mapping_of(value: Any) -> str:
    """The CloudFormation mapping an image URI or repository ARN (a join) looks up."""
    (lookup,) = [part for part in value["Fn::Join"][1] if "Fn::FindInMap" in part]
    mapping, region, attribute = lookup["Fn::FindInMap"]
    assert region == {"Ref": "AWS::Region"} and attribute == "account"
    return str(mapping)


def role_id_of_function(synthesized: Synthesized, name: str) -> str:
    function = synthesized.json["Resources"][function_id(synthesized, name)]
    role_arn = function["Properties"]["Role"]
    assert role_arn["Fn::GetAtt"][1] == "Arn"
    return str(role_arn["Fn::GetAtt"][0])


def statements_of_role(synthesized: Synthesized, role_id: str) -> list[dict[str, Any]]:
    """Every statement of the identity policies attached to ``role_id``."""
    statements: list[dict[str, Any]] = []
    role = synthesized.json["Resources"][role_id]["Properties"]
    for inline in role.get("Policies", []):
        statements.extend(inline["PolicyDocument"]["Statement"])
    for policy in synthesized.resources("AWS::IAM::Policy").values():
        if {"Ref": role_id} in policy["Properties"].get("Roles", []):
            statements.extend(policy["Properties"]["PolicyDocument"]["Statement"])
    return statements


def actions(statement: dict[str, Any]) -> list[str]:
    action = statement.get("Action", [])
    return [action] if isinstance(action, str) else list(action)


def resources(statement: dict[str, Any]) -> list[Any]:
    resource = statement.get("Resource", [])
    return resource if isinstance(resource, list) else [resource]


def allowed_actions(statements: list[dict[str, Any]]) -> set[str]:
    return {a for s in statements if s["Effect"] == "Allow" for a in actions(s)}


def render(value: Any) -> str:
    """A readable string for an intrinsic: `${Logical.Arn}`, `${AWS::Region}`, joins flattened."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and len(value) == 1:
        ((fn, args),) = value.items()
        if fn == "Ref":
            return f"${{{args}}}"
        if fn == "Fn::GetAtt":
            return f"${{{args[0]}.{args[1]}}}"
        if fn == "Fn::Join":
            return str(args[0]).join(render(part) for part in args[1])
        if fn == "Fn::Sub" and isinstance(args, str):
            # Already `${...}` syntax.
            return args
        if fn == "Fn::FindInMap":
            return f"${{FindInMap:{args[0]}:{render(args[1])}:{args[2]}}}"
    return json.dumps(value, sort_keys=True)


def state_machine_definition(synthesized: Synthesized) -> dict[str, Any]:
    """The definition with each token replaced by its rendering (e.g. `${Fn.Arn}`)."""
    (state_machine,) = synthesized.resources("AWS::StepFunctions::StateMachine").values()
    definition = state_machine["Properties"]["DefinitionString"]
    if isinstance(definition, str):
        return json.loads(definition)
    separator, parts = definition["Fn::Join"]
    text = separator.join(part if isinstance(part, str) else render(part) for part in parts)
    return json.loads(text)
