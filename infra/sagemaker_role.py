"""The role SageMaker assumes to run the tuning job's training jobs."""

from __future__ import annotations

from aws_cdk import ArnFormat, Aws, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from infra.nag import acknowledge, arn_ref

SAGEMAKER_SERVICE = "sagemaker.amazonaws.com"


class SageMakerExecutionRole(Construct):
    """Least-privilege execution role for NTM training jobs.

    Reads the data bucket, writes model output under ``output_prefix`` of the artifacts
    bucket, uses the key for S3 objects and training volumes, logs and publishes metrics,
    and pulls the NTM image. Nothing else; no managed policies.

    Attributes: ``role``.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        data_bucket: s3.IBucket,
        artifacts_bucket: s3.IBucket,
        output_prefix: str,
        key: kms.IKey,
        image_repository_arn: str,
    ) -> None:
        super().__init__(scope, id)
        stack = Stack.of(self)
        self.role = iam.Role(
            self,
            "Role",
            description="Runs the NTM training jobs of the tuning pipeline",
            # Confused-deputy guard: only SageMaker acting for this account may assume it.
            assumed_by=iam.ServicePrincipal(
                SAGEMAKER_SERVICE,
                conditions={"StringEquals": {"aws:SourceAccount": Aws.ACCOUNT_ID}},
            ),
        )
        training_logs = stack.format_arn(
            service="logs",
            resource="log-group",
            resource_name="/aws/sagemaker/TrainingJobs*",
            arn_format=ArnFormat.COLON_RESOURCE_NAME,
        )
        output_objects = artifacts_bucket.arn_for_objects(f"{output_prefix}*")
        statements = [
            iam.PolicyStatement(
                sid="ReadTrainingData",
                actions=["s3:GetObject"],
                resources=[data_bucket.arn_for_objects("*")],
            ),
            iam.PolicyStatement(
                sid="ListTrainingData",
                actions=["s3:ListBucket"],
                resources=[data_bucket.bucket_arn],
            ),
            iam.PolicyStatement(
                sid="WriteModelOutput",
                actions=["s3:PutObject", "s3:AbortMultipartUpload"],
                resources=[output_objects],
            ),
            iam.PolicyStatement(
                sid="UseKey",
                actions=["kms:Decrypt", "kms:GenerateDataKey", "kms:Encrypt", "kms:DescribeKey"],
                resources=[key.key_arn],
            ),
            iam.PolicyStatement(
                sid="EncryptTrainingVolumes",
                actions=["kms:CreateGrant"],
                resources=[key.key_arn],
                conditions={"Bool": {"kms:GrantIsForAWSResource": "true"}},
            ),
            iam.PolicyStatement(
                sid="WriteTrainingLogs",
                actions=[
                    "logs:CreateLogGroup",
                    "logs:CreateLogStream",
                    "logs:PutLogEvents",
                    "logs:DescribeLogStreams",
                ],
                resources=[training_logs],
            ),
            iam.PolicyStatement(
                sid="PublishTrainingMetrics",
                actions=["cloudwatch:PutMetricData"],
                resources=["*"],
                conditions={"StringLike": {"cloudwatch:namespace": "/aws/sagemaker/*"}},
            ),
            iam.PolicyStatement(
                sid="AuthenticateToEcr",
                actions=["ecr:GetAuthorizationToken"],
                resources=["*"],
            ),
            iam.PolicyStatement(
                sid="PullNtmImage",
                actions=[
                    "ecr:BatchGetImage",
                    "ecr:GetDownloadUrlForLayer",
                    "ecr:BatchCheckLayerAvailability",
                ],
                resources=[image_repository_arn],
            ),
        ]
        self.policy = iam.Policy(self, "Policy", statements=statements)
        self.policy.attach_to_role(self.role)

        acknowledge(
            self.policy,
            "AwsSolutions-IAM5",
            reason=(
                "Training jobs read the dataset objects their request names, which may be "
                "anywhere in the data bucket; the wildcard is limited to that bucket."
            ),
            findings=[f"Resource::{arn_ref(data_bucket)}/*"],
        )
        acknowledge(
            self.policy,
            "AwsSolutions-IAM5",
            reason=(
                f"SageMaker writes model output under {output_prefix}<tuning job>/<training "
                "job>/..., names it only knows at run time; writes are limited to that prefix."
            ),
            findings=[f"Resource::{arn_ref(artifacts_bucket)}/{output_prefix}*"],
        )
        acknowledge(
            self.policy,
            "AwsSolutions-IAM5",
            reason=(
                "SageMaker writes training logs to the /aws/sagemaker/TrainingJobs log group, "
                "one stream per job; the wildcard covers that group and its streams only."
            ),
            findings=[
                "Resource::arn:<AWS::Partition>:logs:<AWS::Region>:<AWS::AccountId>:"
                "log-group:/aws/sagemaker/TrainingJobs*"
            ],
        )
        acknowledge(
            self.policy,
            "AwsSolutions-IAM5",
            reason=(
                "cloudwatch:PutMetricData and ecr:GetAuthorizationToken support no "
                "resource-level permissions, so their resource must be '*'; metrics are "
                "limited to SageMaker namespaces by the cloudwatch:namespace condition."
            ),
            findings=["Resource::*"],
        )

    def grant_pass_to_sagemaker(self, grantee: iam.IGrantable) -> None:
        """Let ``grantee`` hand this role to SageMaker, and to no other service."""
        grant_pass_to_sagemaker(grantee, self.role)


def grant_pass_to_sagemaker(grantee: iam.IGrantable, role: iam.IRole) -> None:
    """Let ``grantee`` hand ``role`` (and no other role) to SageMaker (and no other service)."""
    grantee.grant_principal.add_to_principal_policy(
        iam.PolicyStatement(
            actions=["iam:PassRole"],
            resources=[role.role_arn],
            conditions={"StringEquals": {"iam:PassedToService": SAGEMAKER_SERVICE}},
        )
    )
