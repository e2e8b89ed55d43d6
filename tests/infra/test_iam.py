"""Least privilege: no action wildcards, no managed policies, scoped PassRole, exact grants."""

from __future__ import annotations

from typing import Any

import pytest

from tests.infra.conftest import Synthesized
from tests.infra.helpers import (
    HANDLERS,
    actions,
    allowed_actions,
    function_id,
    render,
    resources,
    role_id_of_function,
    statements_of_role,
)

PASSED_TO_SAGEMAKER = {"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}}
TUNING_JOBS = (
    "arn:${AWS::Partition}:sagemaker:${AWS::Region}:${AWS::AccountId}:"
    "hyper-parameter-tuning-job/ntm-*"
)
TRAINING_JOBS = (
    "arn:${AWS::Partition}:sagemaker:${AWS::Region}:${AWS::AccountId}:training-job/ntm-*"
)


def _identity_statements(synthesized: Synthesized) -> list[dict[str, Any]]:
    statements: list[dict[str, Any]] = []
    for policy in synthesized.resources("AWS::IAM::Policy").values():
        statements.extend(policy["Properties"]["PolicyDocument"]["Statement"])
    for role in synthesized.resources("AWS::IAM::Role").values():
        for inline in role["Properties"].get("Policies", []):
            statements.extend(inline["PolicyDocument"]["Statement"])
    assert statements
    return statements


def _sagemaker_role(synthesized: Synthesized) -> str:
    (role,) = [
        k
        for k, v in synthesized.resources("AWS::IAM::Role").items()
        if v["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]["Principal"]
        == {"Service": "sagemaker.amazonaws.com"}
    ]
    return role


def _by_resource(statements: list[dict[str, Any]]) -> dict[str, set[str]]:
    """Allowed actions per rendered resource."""
    granted: dict[str, set[str]] = {}
    for statement in statements:
        if statement["Effect"] != "Allow":
            continue
        for resource in resources(statement):
            granted.setdefault(render(resource), set()).update(actions(statement))
    return granted


def test_no_identity_policy_uses_an_action_wildcard(synthesized: Synthesized) -> None:
    for statement in _identity_statements(synthesized):
        for action in actions(statement):
            assert "*" not in action, statement


def test_resource_policies_use_action_wildcards_only_where_expected(
    synthesized: Synthesized,
) -> None:
    for type_ in ("AWS::S3::BucketPolicy", "AWS::SQS::QueuePolicy", "AWS::SNS::TopicPolicy"):
        policies = synthesized.resources(type_)
        assert policies, type_
        for policy in policies.values():
            for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
                if any("*" in a for a in actions(statement)):
                    # The TLS-only deny.
                    assert statement["Effect"] == "Deny", statement
    (key,) = synthesized.resources("AWS::KMS::Key").values()
    for statement in key["Properties"]["KeyPolicy"]["Statement"]:
        if any("*" in a for a in actions(statement)):
            # The default key policy: the account administers its key through IAM.
            assert render(statement["Principal"]["AWS"]) == (
                "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"
            ), statement


def test_no_managed_policies(synthesized: Synthesized) -> None:
    assert not synthesized.resources("AWS::IAM::ManagedPolicy")
    for role_id, role in synthesized.resources("AWS::IAM::Role").items():
        assert not role["Properties"].get("ManagedPolicyArns"), role_id


def test_pass_role_only_on_the_sagemaker_role_only_to_sagemaker(
    synthesized: Synthesized,
) -> None:
    sagemaker_role = {"Fn::GetAtt": [_sagemaker_role(synthesized), "Arn"]}
    pass_role = [s for s in _identity_statements(synthesized) if "iam:PassRole" in actions(s)]
    assert pass_role
    for statement in pass_role:
        assert actions(statement) == ["iam:PassRole"]
        assert resources(statement) == [sagemaker_role]
        assert statement["Condition"] == PASSED_TO_SAGEMAKER
    start_role = role_id_of_function(synthesized, "start")
    holders = [
        role_id
        for role_id in synthesized.resources("AWS::IAM::Role")
        if "iam:PassRole" in allowed_actions(statements_of_role(synthesized, role_id))
    ]
    assert holders == [start_role]


def test_sagemaker_role_trust(synthesized: Synthesized) -> None:
    role = synthesized.json["Resources"][_sagemaker_role(synthesized)]["Properties"]
    (trust,) = role["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Action"] == "sts:AssumeRole"
    assert trust["Condition"] == {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}}


def test_sagemaker_role_permissions(synthesized: Synthesized) -> None:
    buckets = synthesized.json["Outputs"]
    data = buckets["DataBucketName"]["Value"]["Ref"]
    artifacts = buckets["ArtifactsBucketName"]["Value"]["Ref"]
    (key,) = synthesized.resources("AWS::KMS::Key")
    (mapping,) = synthesized.json["Mappings"]
    statements = statements_of_role(synthesized, _sagemaker_role(synthesized))
    granted = _by_resource(statements)
    assert granted == {
        f"${{{data}.Arn}}/*": {"s3:GetObject"},
        f"${{{data}.Arn}}": {"s3:ListBucket"},
        f"${{{artifacts}.Arn}}/tuning-jobs/*": {"s3:PutObject", "s3:AbortMultipartUpload"},
        f"${{{key}.Arn}}": {
            "kms:Decrypt",
            "kms:GenerateDataKey",
            "kms:Encrypt",
            "kms:DescribeKey",
            "kms:CreateGrant",
        },
        "arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:"
        "log-group:/aws/sagemaker/TrainingJobs*": {
            "logs:CreateLogGroup",
            "logs:CreateLogStream",
            "logs:PutLogEvents",
            "logs:DescribeLogStreams",
        },
        "*": {"cloudwatch:PutMetricData", "ecr:GetAuthorizationToken"},
        f"arn:${{AWS::Partition}}:ecr:${{AWS::Region}}:"
        f"${{FindInMap:{mapping}:${{AWS::Region}}:account}}:repository/ntm": {
            "ecr:BatchGetImage",
            "ecr:GetDownloadUrlForLayer",
            "ecr:BatchCheckLayerAvailability",
        },
    }
    conditions = {
        a: s.get("Condition") for s in statements for a in actions(s) if s["Effect"] == "Allow"
    }
    assert conditions["kms:CreateGrant"] == {"Bool": {"kms:GrantIsForAWSResource": "true"}}
    assert conditions["cloudwatch:PutMetricData"] == {
        "StringLike": {"cloudwatch:namespace": "/aws/sagemaker/*"}
    }
    assert conditions["ecr:GetAuthorizationToken"] is None


# What DynamoDB needs of a caller to use a table encrypted with the customer managed key.
TABLE_KEY = {"kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:DescribeKey"}
# What a sender needs of an SQS queue encrypted with the customer managed key.
QUEUE_KEY = {"kms:GenerateDataKey", "kms:Decrypt"}
VIA_DYNAMODB = {"StringEquals": {"kms:ViaService": "dynamodb.${AWS::Region}.${AWS::URLSuffix}"}}
VIA_SQS = {"StringEquals": {"kms:ViaService": "sqs.${AWS::Region}.${AWS::URLSuffix}"}}


def _cleanup_queue(synthesized: Synthesized) -> str:
    """The dead-letter queue of the clean-up rule (and the clean-up function's async failures)."""
    (config,) = synthesized.resources("AWS::Lambda::EventInvokeConfig").values()
    queue: str = config["Properties"]["DestinationConfig"]["OnFailure"]["Destination"][
        "Fn::GetAtt"
    ][0]
    return queue


def _expected_function_grants(synthesized: Synthesized) -> dict[str, dict[str, set[str]]]:
    outputs = synthesized.json["Outputs"]
    data = outputs["DataBucketName"]["Value"]["Ref"]
    artifacts = outputs["ArtifactsBucketName"]["Value"]["Ref"]
    (key,) = synthesized.resources("AWS::KMS::Key")
    bus = outputs["ResultsBusArn"]["Value"]["Fn::GetAtt"][0]
    table = f"${{{outputs['LedgerTableName']['Value']['Ref']}.Arn}}"
    describe = "sagemaker:DescribeHyperParameterTuningJob"
    get, put, update = "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"
    return {
        "validate": {
            f"${{{data}.Arn}}/*": {"s3:GetObject", "s3:GetObjectVersion"},
            f"${{{data}.Arn}}": {"s3:ListBucket"},
            f"${{{key}.Arn}}": {"kms:Decrypt"} | TABLE_KEY,
            table: {get, put},
        },
        "start": {
            TUNING_JOBS: {
                "sagemaker:CreateHyperParameterTuningJob",
                describe,
                "sagemaker:AddTags",
                "sagemaker:ListTags",
            },
            TRAINING_JOBS: {"sagemaker:AddTags"},
            f"${{{_sagemaker_role(synthesized)}.Arn}}": {"iam:PassRole"},
            table: {get, put, update},
            f"${{{key}.Arn}}": TABLE_KEY,
        },
        "poll": {TUNING_JOBS: {describe}},
        "summarize": {
            TUNING_JOBS: {describe, "sagemaker:ListTrainingJobsForHyperParameterTuningJob"},
            TRAINING_JOBS: {"sagemaker:DescribeTrainingJob"},
            f"${{{artifacts}.Arn}}/reports/*": {"s3:PutObject"},
            f"${{{key}.Arn}}": {"kms:GenerateDataKey", "kms:Encrypt"},
        },
        "publish": {f"${{{bus}.Arn}}": {"events:PutEvents"}},
        "stop": {TUNING_JOBS: {"sagemaker:StopHyperParameterTuningJob", describe}},
        # PutItem: the first acquisition creates the capacity item (a conditional put).
        "admit": {table: {get, put, update}, f"${{{key}.Arn}}": TABLE_KEY},
        "release": {table: {get, update}, f"${{{key}.Arn}}": TABLE_KEY},
        "cleanup": {
            TUNING_JOBS: {describe, "sagemaker:StopHyperParameterTuningJob"},
            f"${{{bus}.Arn}}": {"events:PutEvents"},
            table: {get, update, "dynamodb:DeleteItem"},
            # Its asynchronous failures go to the clean-up dead-letter queue.
            f"${{{_cleanup_queue(synthesized)}.Arn}}": {"sqs:SendMessage"},
            f"${{{key}.Arn}}": TABLE_KEY | QUEUE_KEY,
        },
    }


@pytest.mark.parametrize("name", sorted(HANDLERS))
def test_function_permissions(synthesized: Synthesized, name: str) -> None:
    role_id = role_id_of_function(synthesized, name)
    granted = _by_resource(statements_of_role(synthesized, role_id))
    function = synthesized.json["Resources"][
        synthesized.logical_id(
            "AWS::Lambda::Function", Handler=f"ntm_tuning.handlers.{name}.handler"
        )
    ]
    log_group = function["Properties"]["LoggingConfig"]["LogGroup"]["Ref"]
    expected = {
        **_expected_function_grants(synthesized)[name],
        # Its own log group only, and X-Ray (which has no resource-level permissions).
        f"${{{log_group}.Arn}}": {"logs:CreateLogStream", "logs:PutLogEvents"},
        "*": {"xray:PutTraceSegments", "xray:PutTelemetryRecords"},
    }
    assert granted == expected


def test_ledger_and_queue_key_use_only_through_the_service(synthesized: Synthesized) -> None:
    """The table-key and queue-key grants hold only for calls DynamoDB or SQS make."""
    (key,) = synthesized.resources("AWS::KMS::Key")
    for name in HANDLERS:
        for statement in statements_of_role(synthesized, role_id_of_function(synthesized, name)):
            granted = set(actions(statement))
            if resources(statement) != [{"Fn::GetAtt": [key, "Arn"]}]:
                continue
            condition = statement.get("Condition")
            if granted == TABLE_KEY:
                assert render_condition(condition) == VIA_DYNAMODB, name
            elif granted == QUEUE_KEY and name == "cleanup":
                assert render_condition(condition) == VIA_SQS, name
            else:
                # The S3 grants (validate, summarize) predate the ledger and stay unconditioned.
                assert name in ("validate", "summarize") and condition is None, (name, statement)


def render_condition(condition: Any) -> Any:
    return {op: {k: render(v) for k, v in body.items()} for op, body in condition.items()}


def test_rule_targets_may_do_only_their_job(synthesized: Synthesized) -> None:
    """The rules that start the workflow share a role that may only start it; the clean-up
    rule invokes its function through a Lambda permission scoped to that rule."""
    state_machine = synthesized.logical_id("AWS::StepFunctions::StateMachine")
    cleanup = function_id(synthesized, "cleanup")
    roles, cleanup_rules = set(), []
    for rule_id, rule in synthesized.resources("AWS::Events::Rule").items():
        for target in rule["Properties"]["Targets"]:
            if target["Arn"] == {"Ref": state_machine}:
                roles.add(target["RoleArn"]["Fn::GetAtt"][0])
            else:
                assert target["Arn"] == {"Fn::GetAtt": [cleanup, "Arn"]}, rule_id
                assert "RoleArn" not in target
                cleanup_rules.append(rule_id)
    (role,) = roles
    assert _by_resource(statements_of_role(synthesized, role)) == {
        f"${{{state_machine}}}": {"states:StartExecution"}
    }
    (rule_id,) = cleanup_rules
    (permission,) = synthesized.resources("AWS::Lambda::Permission").values()
    assert permission["Properties"] == {
        "Action": "lambda:InvokeFunction",
        "FunctionName": {"Fn::GetAtt": [cleanup, "Arn"]},
        "Principal": "events.amazonaws.com",
        "SourceArn": {"Fn::GetAtt": [rule_id, "Arn"]},
    }


def test_key_policy_admits_services_only_for_this_account(synthesized: Synthesized) -> None:
    """EventBridge (dead-letter queues) and CloudWatch (the alarm topic) may use the key for
    this account's rules and alarms only."""
    (key,) = synthesized.resources("AWS::KMS::Key").values()
    by_service = {
        statement["Principal"]["Service"]: statement
        for statement in key["Properties"]["KeyPolicy"]["Statement"]
        if isinstance(statement["Principal"].get("Service"), str)
    }
    here = "${AWS::Region}:${AWS::AccountId}"
    events = by_service["events.amazonaws.com"]
    assert set(actions(events)) == QUEUE_KEY
    assert render_condition(events["Condition"]) == {
        "StringEquals": {"aws:SourceAccount": "${AWS::AccountId}"},
        "ArnLike": {"aws:SourceArn": f"arn:${{AWS::Partition}}:events:{here}:rule/*"},
    }
    cloudwatch = by_service["cloudwatch.amazonaws.com"]
    assert set(actions(cloudwatch)) == {"kms:GenerateDataKey", "kms:Decrypt"}
    assert render_condition(cloudwatch["Condition"]) == {
        "ArnLike": {"aws:SourceArn": f"arn:${{AWS::Partition}}:cloudwatch:{here}:alarm:*"}
    }
