"""Least privilege: no action wildcards, no managed policies, scoped PassRole, exact grants."""

from __future__ import annotations

from typing import Any

import pytest

from tests.infra.conftest import Synthesized
from tests.infra.helpers import (
    actions,
    allowed_actions,
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
    for policy in synthesized.resources("AWS::S3::BucketPolicy").values():
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


def _expected_function_grants(synthesized: Synthesized) -> dict[str, dict[str, set[str]]]:
    outputs = synthesized.json["Outputs"]
    data = outputs["DataBucketName"]["Value"]["Ref"]
    artifacts = outputs["ArtifactsBucketName"]["Value"]["Ref"]
    (key,) = synthesized.resources("AWS::KMS::Key")
    bus = outputs["ResultsBusArn"]["Value"]["Fn::GetAtt"][0]
    describe = "sagemaker:DescribeHyperParameterTuningJob"
    return {
        "validate": {
            f"${{{data}.Arn}}/*": {"s3:GetObject", "s3:GetObjectVersion"},
            f"${{{data}.Arn}}": {"s3:ListBucket"},
            f"${{{key}.Arn}}": {"kms:Decrypt"},
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
    }


@pytest.mark.parametrize("name", ["validate", "start", "poll", "summarize", "publish", "stop"])
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


def test_rules_may_only_start_the_state_machine(synthesized: Synthesized) -> None:
    state_machine = synthesized.logical_id("AWS::StepFunctions::StateMachine")
    target_roles = {
        target["RoleArn"]["Fn::GetAtt"][0]
        for rule in synthesized.resources("AWS::Events::Rule").values()
        for target in rule["Properties"]["Targets"]
    }
    assert len(target_roles) == 1
    (role,) = target_roles
    assert _by_resource(statements_of_role(synthesized, role)) == {
        f"${{{state_machine}}}": {"states:StartExecution"}
    }
