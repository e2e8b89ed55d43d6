"""Least privilege: no action wildcards, no managed policies, scoped PassRole, exact grants."""

from __future__ import annotations

import json
from fnmatch import fnmatchcase
from typing import Any

import pytest
from ntm_tuning import naming

from tests.infra.conftest import Synthesized
from tests.infra.helpers import (
    HANDLERS,
    actions,
    allowed_actions,
    environment,
    function_id,
    mapping_of,
    render,
    resources,
    role_from_environment,
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
PROCESSING_JOBS = (
    "arn:${AWS::Partition}:sagemaker:${AWS::Region}:${AWS::AccountId}:processing-job/ntm-*"
)
TRAINING_LOGS = (
    "arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:"
    "log-group:/aws/sagemaker/TrainingJobs:*"
)
ASSETS_BUCKET = "arn:${AWS::Partition}:s3:::cdk-hnb659fds-assets-${AWS::AccountId}-${AWS::Region}"


def test_the_jobs_the_handlers_name_are_inside_the_scoped_resources() -> None:
    """The resources above are the template's (test_function_permissions); the handlers'
    job names must fall inside them, or every start and describe would be denied."""
    request = naming.request_id(naming.key_identity("x"))
    prefix = "arn:${AWS::Partition}:sagemaker:${AWS::Region}:${AWS::AccountId}:"
    tuning = naming.tuning_job_name(request)
    assert fnmatchcase(f"{prefix}hyper-parameter-tuning-job/{tuning}", TUNING_JOBS)
    # SageMaker names a tuning job's training jobs `<tuning job>-<nnn>-<hash>`.
    assert fnmatchcase(f"{prefix}training-job/{tuning}-001-0a1b2c3d", TRAINING_JOBS)
    processing = naming.processing_job_name(request)
    assert fnmatchcase(f"{prefix}processing-job/{processing}", PROCESSING_JOBS)
    assert not fnmatchcase(f"{prefix}processing-job/other-{request}", PROCESSING_JOBS)


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
    """The role the training jobs run with."""
    return role_from_environment(synthesized, "SAGEMAKER_ROLE_ARN")


def _processing_role(synthesized: Synthesized) -> str:
    """The role the dataset preparation (processing) jobs run with."""
    return role_from_environment(synthesized, "PROCESSING_ROLE_ARN")


def test_sagemaker_may_assume_only_the_training_and_processing_roles(
    synthesized: Synthesized,
) -> None:
    trusting_sagemaker = {
        k
        for k, v in synthesized.resources("AWS::IAM::Role").items()
        if v["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]["Principal"]
        == {"Service": "sagemaker.amazonaws.com"}
    }
    assert trusting_sagemaker == {_sagemaker_role(synthesized), _processing_role(synthesized)}
    assert _sagemaker_role(synthesized) != _processing_role(synthesized)


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


def test_pass_role_only_on_the_sagemaker_roles_only_to_sagemaker(
    synthesized: Synthesized,
) -> None:
    """`start` may pass the training role, `prepare_start` the processing role; nobody else
    may pass any role, and only to SageMaker."""
    passes = {
        "start_tuning_job": {"Fn::GetAtt": [_sagemaker_role(synthesized), "Arn"]},
        "start_dataset_preparation": {"Fn::GetAtt": [_processing_role(synthesized), "Arn"]},
    }
    for name, role_arn in passes.items():
        pass_role = [
            s
            for s in statements_of_role(synthesized, role_id_of_function(synthesized, name))
            if "iam:PassRole" in actions(s)
        ]
        assert len(pass_role) == 1, name
        (statement,) = pass_role
        assert statement["Effect"] == "Allow"
        assert actions(statement) == ["iam:PassRole"]
        assert resources(statement) == [role_arn], name
        assert statement["Condition"] == PASSED_TO_SAGEMAKER, name
    holders = {
        role_id
        for role_id in synthesized.resources("AWS::IAM::Role")
        if "iam:PassRole" in allowed_actions(statements_of_role(synthesized, role_id))
    }
    assert holders == {role_id_of_function(synthesized, name) for name in passes}
    for statement in _identity_statements(synthesized):
        if "iam:PassRole" in actions(statement):
            assert statement["Condition"] == PASSED_TO_SAGEMAKER, statement


@pytest.mark.parametrize("variable", ["SAGEMAKER_ROLE_ARN", "PROCESSING_ROLE_ARN"])
def test_sagemaker_role_trust(synthesized: Synthesized, variable: str) -> None:
    role_id = role_from_environment(synthesized, variable)
    role = synthesized.json["Resources"][role_id]["Properties"]
    (trust,) = role["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Action"] == "sts:AssumeRole"
    assert trust["Principal"] == {"Service": "sagemaker.amazonaws.com"}
    assert trust["Condition"] == {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}}


def test_sagemaker_role_permissions(synthesized: Synthesized) -> None:
    buckets = synthesized.json["Outputs"]
    data = buckets["DataBucketName"]["Value"]["Ref"]
    artifacts = buckets["ArtifactsBucketName"]["Value"]["Ref"]
    (key,) = synthesized.resources("AWS::KMS::Key")
    mapping = mapping_of(environment(synthesized)["TRAINING_IMAGE"])
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


def code_object_key(synthesized: Synthesized) -> str:
    """The key of the preparation code zip in the bootstrap bucket, from PREPARATION_CODE_URI."""
    uri = environment(synthesized)["PREPARATION_CODE_URI"]["Fn::Sub"]
    prefix = "s3://cdk-hnb659fds-assets-${AWS::AccountId}-${AWS::Region}/"
    assert uri.startswith(prefix), uri
    key: str = uri.removeprefix(prefix)
    assert "/" not in key and key.endswith(".zip"), key
    return key


def _grants(statements: list[dict[str, Any]]) -> set[tuple[str, frozenset[str], str | None]]:
    """(rendered resource, actions, rendered condition) per Allow statement and resource."""
    found = set()
    for statement in statements:
        assert statement["Effect"] == "Allow", statement
        condition = statement.get("Condition")
        for resource in resources(statement):
            found.add(
                (
                    render(resource),
                    frozenset(actions(statement)),
                    None if condition is None else json.dumps(condition, sort_keys=True),
                )
            )
    return found


def test_processing_role_permissions(synthesized: Synthesized) -> None:
    """Reads the corpus anywhere in the data bucket, writes only under the prepared prefix,
    reads only its own code object in the bootstrap bucket; nothing more."""
    data = synthesized.json["Outputs"]["DataBucketName"]["Value"]["Ref"]
    (key,) = synthesized.resources("AWS::KMS::Key")
    mapping = mapping_of(environment(synthesized)["PROCESSING_IMAGE"])
    code = code_object_key(synthesized)
    prepared = synthesized.config.prepared_prefix
    statements = statements_of_role(synthesized, _processing_role(synthesized))

    def condition(value: dict[str, Any]) -> str:
        return json.dumps(value, sort_keys=True)

    assert _grants(statements) == {
        (f"${{{data}.Arn}}/*", frozenset({"s3:GetObject"}), None),
        (f"${{{data}.Arn}}", frozenset({"s3:ListBucket"}), None),
        (
            f"${{{data}.Arn}}/{prepared}*",
            frozenset({"s3:PutObject", "s3:AbortMultipartUpload"}),
            None,
        ),
        (f"{ASSETS_BUCKET}/{code}", frozenset({"s3:GetObject"}), None),
        (
            ASSETS_BUCKET,
            frozenset({"s3:ListBucket"}),
            condition({"StringEquals": {"s3:prefix": code}}),
        ),
        (
            f"${{{key}.Arn}}",
            frozenset({"kms:Decrypt", "kms:GenerateDataKey", "kms:Encrypt", "kms:DescribeKey"}),
            None,
        ),
        (
            f"${{{key}.Arn}}",
            frozenset({"kms:CreateGrant"}),
            condition({"Bool": {"kms:GrantIsForAWSResource": "true"}}),
        ),
        (
            "arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:"
            "log-group:/aws/sagemaker/ProcessingJobs*",
            frozenset(
                {
                    "logs:CreateLogGroup",
                    "logs:CreateLogStream",
                    "logs:PutLogEvents",
                    "logs:DescribeLogStreams",
                }
            ),
            None,
        ),
        (
            "*",
            frozenset({"cloudwatch:PutMetricData"}),
            condition({"StringLike": {"cloudwatch:namespace": "/aws/sagemaker/*"}}),
        ),
        ("*", frozenset({"ecr:GetAuthorizationToken"}), None),
        (
            f"arn:${{AWS::Partition}}:ecr:${{AWS::Region}}:"
            f"${{FindInMap:{mapping}:${{AWS::Region}}:account}}:repository/sagemaker-scikit-learn",
            frozenset(
                {
                    "ecr:BatchGetImage",
                    "ecr:GetDownloadUrlForLayer",
                    "ecr:BatchCheckLayerAvailability",
                }
            ),
            None,
        ),
    }


def test_processing_role_writes_nowhere_else(synthesized: Synthesized) -> None:
    data = synthesized.json["Outputs"]["DataBucketName"]["Value"]["Ref"]
    writes = {"s3:PutObject", "s3:AbortMultipartUpload", "s3:DeleteObject"}
    written = {
        render(resource)
        for statement in statements_of_role(synthesized, _processing_role(synthesized))
        if writes & set(actions(statement))
        for resource in resources(statement)
    }
    assert written == {f"${{{data}.Arn}}/datasets/prepared/*"}


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
    prepared = synthesized.config.prepared_prefix
    get, put, update = "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"
    return {
        # Writes a corpus request's settings under the prepared prefix once it is claimed.
        "validate_request": {
            f"${{{data}.Arn}}/*": {"s3:GetObject", "s3:GetObjectVersion"},
            f"${{{data}.Arn}}/{prepared}*": {"s3:PutObject"},
            f"${{{data}.Arn}}": {"s3:ListBucket"},
            f"${{{key}.Arn}}": {"kms:Decrypt", "kms:GenerateDataKey", "kms:Encrypt"} | TABLE_KEY,
            table: {get, put},
            # Warm-start parents: their status, hyperparameters and tags.
            TUNING_JOBS: {describe, "sagemaker:ListTags"},
        },
        "start_tuning_job": {
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
        # Progress events: the last one is kept in the ledger; billable time from the jobs.
        "describe_tuning_job": {
            TUNING_JOBS: {describe, "sagemaker:ListTrainingJobsForHyperParameterTuningJob"},
            f"${{{bus}.Arn}}": {"events:PutEvents"},
            table: {get, update},
            f"${{{key}.Arn}}": TABLE_KEY,
        },
        "summarize_results": {
            TUNING_JOBS: {describe, "sagemaker:ListTrainingJobsForHyperParameterTuningJob"},
            TRAINING_JOBS: {"sagemaker:DescribeTrainingJob"},
            f"${{{artifacts}.Arn}}/reports/*": {"s3:PutObject"},
            # Topics: the training jobs' logs; NPMI: the held-out channel and vocab.txt.
            TRAINING_LOGS: {"logs:FilterLogEvents"},
            f"${{{data}.Arn}}/*": {"s3:GetObject"},
            f"${{{data}.Arn}}": {"s3:ListBucket"},
            f"${{{key}.Arn}}": {"kms:GenerateDataKey", "kms:Encrypt", "kms:Decrypt"},
        },
        # Reserves and records the request's one terminal event in the ledger.
        "publish_outcome": {
            f"${{{bus}.Arn}}": {"events:PutEvents"},
            table: {update},
            f"${{{key}.Arn}}": TABLE_KEY,
        },
        "stop_tuning_job": {TUNING_JOBS: {"sagemaker:StopHyperParameterTuningJob", describe}},
        # PutItem: the first acquisition creates the capacity item (a conditional put).
        "acquire_capacity": {table: {get, put, update}, f"${{{key}.Arn}}": TABLE_KEY},
        "release_capacity": {table: {get, update}, f"${{{key}.Arn}}": TABLE_KEY},
        "clean_up": {
            TUNING_JOBS: {describe, "sagemaker:StopHyperParameterTuningJob"},
            # An aborted execution's dataset preparation job is stopped too.
            PROCESSING_JOBS: {"sagemaker:DescribeProcessingJob", "sagemaker:StopProcessingJob"},
            f"${{{bus}.Arn}}": {"events:PutEvents"},
            table: {get, update, "dynamodb:DeleteItem"},
            # Its asynchronous failures go to the clean-up dead-letter queue.
            f"${{{_cleanup_queue(synthesized)}.Arn}}": {"sqs:SendMessage"},
            f"${{{key}.Arn}}": TABLE_KEY | QUEUE_KEY,
        },
        # Starts the processing job (validation wrote its config file).
        "start_dataset_preparation": {
            PROCESSING_JOBS: {
                "sagemaker:CreateProcessingJob",
                "sagemaker:DescribeProcessingJob",
                "sagemaker:AddTags",
            },
            f"${{{key}.Arn}}": TABLE_KEY,
            f"${{{_processing_role(synthesized)}.Arn}}": {"iam:PassRole"},
            # Records the job for the clean-up of an execution that ends early.
            table: {put},
        },
        "describe_dataset_preparation": {PROCESSING_JOBS: {"sagemaker:DescribeProcessingJob"}},
        # Reads dataset.json and vocab.txt, lists the shards.
        "build_tuning_job": {
            f"${{{data}.Arn}}/{prepared}*": {"s3:GetObject"},
            f"${{{data}.Arn}}": {"s3:ListBucket"},
            f"${{{key}.Arn}}": {"kms:Decrypt"},
            TUNING_JOBS: {describe, "sagemaker:ListTags"},
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


def test_only_the_summary_reads_training_logs_and_only_the_training_job_group(
    synthesized: Synthesized,
) -> None:
    """FilterLogEvents on /aws/sagemaker/TrainingJobs alone, for the summary alone; no other
    CloudWatch Logs read anywhere."""
    reads = {"logs:FilterLogEvents", "logs:GetLogEvents", "logs:StartQuery", "logs:GetQueryResults"}
    readers = {}
    for name in HANDLERS:
        for statement in statements_of_role(synthesized, role_id_of_function(synthesized, name)):
            granted = reads & set(actions(statement))
            if granted and statement["Effect"] == "Allow":
                readers[name] = (granted, [render(r) for r in resources(statement)])
    assert readers == {"summarize_results": ({"logs:FilterLogEvents"}, [TRAINING_LOGS])}


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
            elif granted == QUEUE_KEY and name == "clean_up":
                assert render_condition(condition) == VIA_SQS, name
            else:
                # The S3 object grants are used by S3 on the caller's behalf, unconditioned.
                assert name in ("validate_request", "summarize_results", "build_tuning_job"), (
                    name,
                    statement,
                )
                assert condition is None, (name, statement)


def render_condition(condition: Any) -> Any:
    return {op: {k: render(v) for k, v in body.items()} for op, body in condition.items()}


def test_rule_targets_may_do_only_their_job(synthesized: Synthesized) -> None:
    """The rules that start the workflow share a role that may only start it; the clean-up
    rule invokes its function through a Lambda permission scoped to that rule."""
    state_machine = synthesized.logical_id("AWS::StepFunctions::StateMachine")
    cleanup = function_id(synthesized, "clean_up")
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
