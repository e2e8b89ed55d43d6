"""Never lose a request, never start a job twice, never leave a job unwatched: the ledger,
the dead-letter queues, the retry policies and the clean-up of executions that end early."""

from __future__ import annotations

from typing import Any

import pytest

from tests.infra.conftest import Synthesized
from tests.infra.helpers import WORKFLOW_HANDLERS, function_id

FOURTEEN_DAYS = 14 * 24 * 3600


def _key_arn(synthesized: Synthesized) -> dict[str, Any]:
    (key,) = synthesized.resources("AWS::KMS::Key")
    return {"Fn::GetAtt": [key, "Arn"]}


def _cleanup_rule(synthesized: Synthesized) -> tuple[str, dict[str, Any]]:
    (found,) = [
        (k, r["Properties"])
        for k, r in synthesized.resources("AWS::Events::Rule").items()
        if r["Properties"]["EventPattern"].get("source") == ["aws.states"]
    ]
    return found


# -- the ledger ----------------------------------------------------------------------------------
def test_ledger_table(synthesized: Synthesized) -> None:
    ((table_id, table),) = synthesized.resources("AWS::DynamoDB::Table").items()
    props = table["Properties"]
    assert props["KeySchema"] == [{"AttributeName": "pk", "KeyType": "HASH"}]
    assert props["AttributeDefinitions"] == [{"AttributeName": "pk", "AttributeType": "S"}]
    assert props["BillingMode"] == "PAY_PER_REQUEST"
    assert props["SSESpecification"] == {
        "SSEEnabled": True,
        "SSEType": "KMS",
        "KMSMasterKeyId": _key_arn(synthesized),
    }
    assert props["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert props["TimeToLiveSpecification"] == {"AttributeName": "expires_at", "Enabled": True}
    assert not props.get("GlobalSecondaryIndexes")
    assert not props.get("StreamSpecification")
    # ntm:removalPolicy is `retain` in cdk.json.
    assert table["DeletionPolicy"] == table["UpdateReplacePolicy"] == "Retain"
    assert synthesized.json["Outputs"]["LedgerTableName"]["Value"] == {"Ref": table_id}


# -- dead-letter queues ------------------------------------------------------------------------------
def test_dead_letter_queues_are_encrypted_tls_only_and_keep_messages_14_days(
    synthesized: Synthesized,
) -> None:
    queues = synthesized.resources("AWS::SQS::Queue")
    assert len(queues) == 2
    policies = synthesized.resources("AWS::SQS::QueuePolicy").values()
    for queue_id, queue in queues.items():
        props = queue["Properties"]
        assert props["KmsMasterKeyId"] == _key_arn(synthesized)
        assert props["MessageRetentionPeriod"] == FOURTEEN_DAYS
        assert queue["DeletionPolicy"] == "Retain"
        (policy,) = [p for p in policies if p["Properties"]["Queues"] == [{"Ref": queue_id}]]
        assert {
            "Action": "sqs:*",
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            "Effect": "Deny",
            "Principal": {"AWS": "*"},
            "Resource": {"Fn::GetAtt": [queue_id, "Arn"]},
        } in policy["Properties"]["PolicyDocument"]["Statement"]


def test_every_rule_target_has_a_dead_letter_queue_and_a_retry_policy(
    synthesized: Synthesized,
) -> None:
    rules = synthesized.resources("AWS::Events::Rule")
    assert len(rules) == 3
    queues = synthesized.resources("AWS::SQS::Queue")
    policies = list(synthesized.resources("AWS::SQS::QueuePolicy").values())
    for rule_id, rule in rules.items():
        for target in rule["Properties"]["Targets"]:
            queue = target["DeadLetterConfig"]["Arn"]["Fn::GetAtt"][0]
            assert queue in queues
            assert target["RetryPolicy"]["MaximumEventAgeInSeconds"] == 86400
            assert target["RetryPolicy"]["MaximumRetryAttempts"] >= 1
            # EventBridge may write to the queue for this rule.
            (policy,) = [p for p in policies if p["Properties"]["Queues"] == [{"Ref": queue}]]
            assert {
                "Action": "sqs:SendMessage",
                "Condition": {"ArnEquals": {"aws:SourceArn": {"Fn::GetAtt": [rule_id, "Arn"]}}},
                "Effect": "Allow",
                "Principal": {"Service": "events.amazonaws.com"},
                "Resource": {"Fn::GetAtt": [queue, "Arn"]},
            } in [
                {k: v for k, v in s.items() if k != "Sid"}
                for s in policy["Properties"]["PolicyDocument"]["Statement"]
            ]


# -- clean-up of executions that ended early --------------------------------------------------------
def test_cleanup_rule_matches_this_state_machine_ending_early(synthesized: Synthesized) -> None:
    _, rule = _cleanup_rule(synthesized)
    state_machine = synthesized.logical_id("AWS::StepFunctions::StateMachine")
    assert "EventBusName" not in rule  # the default bus, where Step Functions reports
    assert rule["State"] == "ENABLED"
    assert rule["EventPattern"] == {
        "source": ["aws.states"],
        "detail-type": ["Step Functions Execution Status Change"],
        "detail": {
            "stateMachineArn": [{"Ref": state_machine}],
            "status": ["ABORTED", "TIMED_OUT", "FAILED"],
        },
    }


def test_cleanup_rule_hands_the_whole_event_to_the_cleanup_function(
    synthesized: Synthesized,
) -> None:
    _, rule = _cleanup_rule(synthesized)
    (target,) = rule["Targets"]
    assert target["Arn"] == {"Fn::GetAtt": [function_id(synthesized, "clean_up"), "Arn"]}
    for transformation in ("Input", "InputPath", "InputTransformer"):
        assert transformation not in target
    assert target["RetryPolicy"] == {"MaximumEventAgeInSeconds": 86400, "MaximumRetryAttempts": 10}
    queue = target["DeadLetterConfig"]["Arn"]["Fn::GetAtt"][0]
    assert synthesized.json["Outputs"]["CleanupDeadLetterQueueUrl"]["Value"] == {"Ref": queue}


def test_cleanup_function_failures_go_to_the_cleanup_dead_letter_queue(
    synthesized: Synthesized,
) -> None:
    _, rule = _cleanup_rule(synthesized)
    (target,) = rule["Targets"]
    ((config_id, config),) = synthesized.resources("AWS::Lambda::EventInvokeConfig").items()
    assert config["Properties"] == {
        "FunctionName": {"Ref": function_id(synthesized, "clean_up")},
        "Qualifier": "$LATEST",
        "MaximumRetryAttempts": 2,
        "MaximumEventAgeInSeconds": 6 * 3600,
        "DestinationConfig": {"OnFailure": {"Destination": target["DeadLetterConfig"]["Arn"]}},
    }
    # Lambda checks the role may send to the destination when the config is created.
    role_policies = {
        k
        for k, v in synthesized.resources("AWS::IAM::Policy").items()
        if v["Properties"]["Roles"][0]["Ref"]
        == synthesized.json["Resources"][function_id(synthesized, "clean_up")]["Properties"][
            "Role"
        ]["Fn::GetAtt"][0]
    }
    assert role_policies and role_policies <= set(
        synthesized.json["Resources"][config_id].get("DependsOn", [])
    )


@pytest.mark.parametrize("name", WORKFLOW_HANDLERS)
def test_workflow_functions_have_no_async_config(synthesized: Synthesized, name: str) -> None:
    """The state machine invokes them synchronously and handles their errors itself."""
    function = {"Ref": function_id(synthesized, name)}
    for config in synthesized.resources("AWS::Lambda::EventInvokeConfig").values():
        assert config["Properties"]["FunctionName"] != function
