"""Scoped grants for the handlers, with explicit actions where CDK's `grant_*` use wildcards.

`Bucket.grant_read`/`grant_put` and `Key.grant_encrypt` emit actions such as `s3:GetObject*`,
`s3:List*` or `kms:GenerateDataKey*`; this project allows no action wildcards, so these
helpers list the exact actions instead.
"""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import ArnFormat, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_s3 as s3
from ntm_tuning.naming import JOB_NAME_PREFIX
from ntm_tuning.training_logs import TRAINING_LOG_GROUP

from infra.nag import acknowledge, arn_ref


def grant_object_read(function: lambda_.Function, *, bucket: s3.IBucket, key: kms.IKey) -> None:
    """Read any object (and version) of ``bucket`` and list it."""
    function.add_to_role_policy(
        iam.PolicyStatement(
            actions=["s3:GetObject", "s3:GetObjectVersion"],
            resources=[bucket.arn_for_objects("*")],
        )
    )
    function.add_to_role_policy(
        iam.PolicyStatement(actions=["s3:ListBucket"], resources=[bucket.bucket_arn])
    )
    key.grant_decrypt(function)
    _acknowledge(
        function,
        reason=(
            "Reads request files and checks the datasets they name, which may be anywhere "
            "in the data bucket; the object wildcard is limited to that bucket."
        ),
        resources=[f"Resource::{arn_ref(bucket)}/*"],
    )


def grant_object_put(
    function: lambda_.Function,
    *,
    bucket: s3.IBucket,
    key: kms.IKey,
    key_prefix: str,
    reason: str | None = None,
) -> None:
    """Write new objects under ``key_prefix`` of ``bucket`` (SSE-KMS with ``key``)."""
    function.add_to_role_policy(
        iam.PolicyStatement(
            actions=["s3:PutObject"], resources=[bucket.arn_for_objects(f"{key_prefix}*")]
        )
    )
    function.add_to_role_policy(
        iam.PolicyStatement(actions=["kms:GenerateDataKey", "kms:Encrypt"], resources=[key.key_arn])
    )
    _acknowledge(
        function,
        reason=reason
        or f"Writes one report object per tuning job under the {key_prefix} prefix only.",
        resources=[f"Resource::{arn_ref(bucket)}/{key_prefix}*"],
    )


def grant_prefix_read(
    function: lambda_.Function,
    *,
    bucket: s3.IBucket,
    key: kms.IKey,
    key_prefix: str,
    reason: str,
) -> None:
    """Read objects under ``key_prefix`` of ``bucket`` (SSE-KMS with ``key``) and list it."""
    function.add_to_role_policy(
        iam.PolicyStatement(
            actions=["s3:GetObject"], resources=[bucket.arn_for_objects(f"{key_prefix}*")]
        )
    )
    function.add_to_role_policy(
        iam.PolicyStatement(actions=["s3:ListBucket"], resources=[bucket.bucket_arn])
    )
    key.grant_decrypt(function)
    _acknowledge(function, reason=reason, resources=[f"Resource::{arn_ref(bucket)}/{key_prefix}*"])


def grant_sagemaker(
    function: lambda_.Function,
    *,
    tuning_job_actions: Sequence[str] = (),
    training_job_actions: Sequence[str] = (),
    processing_job_actions: Sequence[str] = (),
) -> None:
    """SageMaker actions on this pipeline's jobs: its tuning jobs (and the training jobs they
    start) and its dataset preparation (processing) jobs."""
    stack = Stack.of(function)
    resources: list[tuple[str, Sequence[str]]] = [
        ("hyper-parameter-tuning-job", tuning_job_actions),
        ("training-job", training_job_actions),
        ("processing-job", processing_job_actions),
    ]
    applies_to = []
    for resource, actions in resources:
        if not actions:
            continue
        function.add_to_role_policy(
            iam.PolicyStatement(
                actions=list(actions),
                resources=[
                    stack.format_arn(
                        service="sagemaker",
                        resource=resource,
                        resource_name=f"{JOB_NAME_PREFIX}*",
                        arn_format=ArnFormat.SLASH_RESOURCE_NAME,
                    )
                ],
            )
        )
        applies_to.append(
            "Resource::arn:<AWS::Partition>:sagemaker:<AWS::Region>:<AWS::AccountId>:"
            f"{resource}/{JOB_NAME_PREFIX}*"
        )
    if not applies_to:
        raise ValueError("grant_sagemaker needs at least one action")
    _acknowledge(
        function,
        reason=(
            "Job names are generated per request; every tuning and processing job this "
            f"pipeline starts is named '{JOB_NAME_PREFIX}...', and SageMaker names its "
            "training jobs after the tuning job, so the wildcard covers exactly this "
            "pipeline's jobs."
        ),
        resources=applies_to,
    )


def grant_training_logs_read(function: lambda_.Function) -> None:
    """FilterLogEvents on SageMaker's training-job log group, and nothing else.

    FilterLogEvents authorizes against the log group only (its one resource type, in the
    Service Authorization Reference for CloudWatch Logs), and IAM evaluates a log group as
    ``...:log-group:<name>:*``, so the ARN ends with ``:*``; it names no other group.
    """
    stack = Stack.of(function)
    arn = stack.format_arn(
        service="logs",
        resource="log-group",
        resource_name=f"{TRAINING_LOG_GROUP}:*",
        arn_format=ArnFormat.COLON_RESOURCE_NAME,
    )
    function.add_to_role_policy(
        iam.PolicyStatement(actions=["logs:FilterLogEvents"], resources=[arn])
    )
    _acknowledge(
        function,
        reason=(
            f"Reads the training jobs' topics from their logs in {TRAINING_LOG_GROUP}; the "
            "trailing :* is how IAM names a log group's events (FilterLogEvents has no "
            "log-stream resource), and it covers that one group only."
        ),
        resources=[
            "Resource::arn:<AWS::Partition>:logs:<AWS::Region>:<AWS::AccountId>:"
            f"log-group:{TRAINING_LOG_GROUP}:*"
        ],
    )


def _acknowledge(function: lambda_.Function, *, reason: str, resources: list[str]) -> None:
    assert function.role is not None
    acknowledge(function.role, "AwsSolutions-IAM5", reason=reason, findings=resources)
