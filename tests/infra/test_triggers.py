"""The two rules that start the workflow, what they hand it, and what happens to a request
they cannot deliver."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from aws_cdk.assertions import Match, Template

from tests.infra.conftest import Synthesized


def _request_rules(synthesized: Synthesized) -> dict[str, dict[str, Any]]:
    """The rules whose target is the state machine."""
    state_machine = synthesized.logical_id("AWS::StepFunctions::StateMachine")
    return {
        k: r["Properties"]
        for k, r in synthesized.resources("AWS::Events::Rule").items()
        if any(t["Arn"] == {"Ref": state_machine} for t in r["Properties"]["Targets"])
    }


def _rule(synthesized: Synthesized, *, on_results_bus: bool) -> dict[str, Any]:
    (rule,) = [
        r for r in _request_rules(synthesized).values() if ("EventBusName" in r) == on_results_bus
    ]
    return rule


def _render_input(transformer: dict[str, Any], event: dict[str, Any]) -> Any:
    """What EventBridge delivers: each <placeholder> replaced by the JSON of its path's value."""

    def lookup(path: str) -> Any:
        value: Any = event
        for part in path.removeprefix("$.").split("."):
            value = value[part]
        return value

    def substitute(match: re.Match[str]) -> str:
        return json.dumps(lookup(transformer["InputPathsMap"][match.group(1)]))

    return json.loads(re.sub(r"<([^<>]+)>", substitute, transformer["InputTemplate"]))


def test_two_rules_start_the_workflow(synthesized: Synthesized) -> None:
    assert len(_request_rules(synthesized)) == 2


@pytest.mark.parametrize("on_results_bus", [False, True])
def test_undeliverable_requests_go_to_the_request_dead_letter_queue(
    synthesized: Synthesized, on_results_bus: bool
) -> None:
    """EventBridge retries for a day (its maximum number of attempts), then keeps the event."""
    (target,) = _rule(synthesized, on_results_bus=on_results_bus)["Targets"]
    assert target["RetryPolicy"] == {"MaximumEventAgeInSeconds": 86400, "MaximumRetryAttempts": 185}
    queue = target["DeadLetterConfig"]["Arn"]["Fn::GetAtt"][0]
    assert synthesized.json["Resources"][queue]["Type"] == "AWS::SQS::Queue"
    assert synthesized.json["Outputs"]["RequestDeadLetterQueueUrl"]["Value"] == {"Ref": queue}


def test_s3_rule_matches_request_files_in_the_data_bucket(synthesized: Synthesized) -> None:
    rule = _rule(synthesized, on_results_bus=False)
    data_bucket = synthesized.json["Outputs"]["DataBucketName"]["Value"]
    assert rule["EventPattern"] == {
        "source": ["aws.s3"],
        "detail-type": ["Object Created"],
        "detail": {
            "bucket": {"name": [data_bucket]},
            "object": {"key": [{"wildcard": f"{synthesized.config.request_prefix}*.json"}]},
        },
    }


def test_s3_rule_input(synthesized: Synthesized) -> None:
    rule = _rule(synthesized, on_results_bus=False)
    state_machine = synthesized.logical_id("AWS::StepFunctions::StateMachine")
    (target,) = rule["Targets"]
    assert target["Arn"] == {"Ref": state_machine}
    event = {
        "id": "e-1",
        "time": "2024-01-01T00:00:00Z",
        "source": "aws.s3",
        "detail": {
            "bucket": {"name": "data"},
            "object": {"key": "requests/a.json", "version-id": "v1", "etag": "abc", "size": 10},
        },
    }
    assert _render_input(target["InputTransformer"], event) == {
        "origin": "s3",
        "event_id": "e-1",
        "event_time": "2024-01-01T00:00:00Z",
        "bucket": "data",
        "key": "requests/a.json",
        "version_id": "v1",
        "etag": "abc",
    }


def test_request_event_rule_ignores_our_own_events(synthesized: Synthesized) -> None:
    rule = _rule(synthesized, on_results_bus=True)
    bus = synthesized.logical_id("AWS::Events::EventBus")
    assert rule["EventBusName"] == {"Ref": bus}
    assert rule["EventPattern"] == {
        "detail-type": ["NTM Tuning Requested"],
        "source": [{"anything-but": [synthesized.config.event_source]}],
    }


def test_request_event_rule_input_keeps_the_detail_as_json(synthesized: Synthesized) -> None:
    rule = _rule(synthesized, on_results_bus=True)
    state_machine = synthesized.logical_id("AWS::StepFunctions::StateMachine")
    (target,) = rule["Targets"]
    assert target["Arn"] == {"Ref": state_machine}
    transformer = target["InputTransformer"]
    # Unquoted, so EventBridge inserts the detail object itself, not a string.
    detail_var = next(k for k, v in transformer["InputPathsMap"].items() if v == "$.detail")
    assert f'"request":<{detail_var}>' in transformer["InputTemplate"]
    event = {
        "id": "e-2",
        "time": "2024-01-02T00:00:00Z",
        "source": "my.app",
        "detail": {"dataset": {"train": "s3://b/train/"}, "num_topics": 5},
    }
    assert _render_input(transformer, event) == {
        "origin": "event",
        "event_id": "e-2",
        "event_time": "2024-01-02T00:00:00Z",
        "source": "my.app",
        "request": {"dataset": {"train": "s3://b/train/"}, "num_topics": 5},
    }


def test_rules_are_enabled(template: Template) -> None:
    template.all_resources_properties("AWS::Events::Rule", {"State": "ENABLED"})
    template.has_resource_properties(
        "AWS::Events::Rule", {"Targets": [Match.object_like({"RoleArn": Match.any_value()})]}
    )
