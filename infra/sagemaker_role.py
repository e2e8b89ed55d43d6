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
        self.role = sagemaker_job_role(
            self, "Role", description="Runs the NTM training jobs of the tuning pipeline"
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
            *job_runtime_statements(
                self,
                job="Training",
                key=key,
                image="Ntm",
                image_repository_arn=image_repository_arn,
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
        acknowledge_job_runtime(self.policy, job="Training")

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


def sagemaker_job_role(scope: Construct, id: str, *, description: str) -> iam.Role:
    """A role only SageMaker, acting for this account, may assume (confused-deputy guard)."""
    return iam.Role(
        scope,
        id,
        description=description,
        assumed_by=iam.ServicePrincipal(
            SAGEMAKER_SERVICE,
            conditions={"StringEquals": {"aws:SourceAccount": Aws.ACCOUNT_ID}},
        ),
    )


def job_runtime_statements(
    scope: Construct, *, job: str, key: kms.IKey, image: str, image_repository_arn: str
) -> list[iam.PolicyStatement]:
    """What any SageMaker job needs to run: the key (S3 objects and volumes), its log group
    (``/aws/sagemaker/<job>Jobs``), metrics, and pulling its image."""
    logs = Stack.of(scope).format_arn(
        service="logs",
        resource="log-group",
        resource_name=f"/aws/sagemaker/{job}Jobs*",
        arn_format=ArnFormat.COLON_RESOURCE_NAME,
    )
    return [
        iam.PolicyStatement(
            sid="UseKey",
            actions=["kms:Decrypt", "kms:GenerateDataKey", "kms:Encrypt", "kms:DescribeKey"],
            resources=[key.key_arn],
        ),
        iam.PolicyStatement(
            sid=f"Encrypt{job}Volumes",
            actions=["kms:CreateGrant"],
            resources=[key.key_arn],
            conditions={"Bool": {"kms:GrantIsForAWSResource": "true"}},
        ),
        iam.PolicyStatement(
            sid=f"Write{job}Logs",
            actions=[
                "logs:CreateLogGroup",
                "logs:CreateLogStream",
                "logs:PutLogEvents",
                "logs:DescribeLogStreams",
            ],
            resources=[logs],
        ),
        iam.PolicyStatement(
            sid=f"Publish{job}Metrics",
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
            sid=f"Pull{image}Image",
            actions=[
                "ecr:BatchGetImage",
                "ecr:GetDownloadUrlForLayer",
                "ecr:BatchCheckLayerAvailability",
            ],
            resources=[image_repository_arn],
        ),
    ]


def acknowledge_job_runtime(policy: iam.Policy, *, job: str) -> None:
    """The wildcards of ``job_runtime_statements``, and why they fit."""
    acknowledge(
        policy,
        "AwsSolutions-IAM5",
        reason=(
            f"SageMaker writes {job.lower()} logs to the /aws/sagemaker/{job}Jobs log group, "
            "one stream per job; the wildcard covers that group and its streams only."
        ),
        findings=[
            "Resource::arn:<AWS::Partition>:logs:<AWS::Region>:<AWS::AccountId>:"
            f"log-group:/aws/sagemaker/{job}Jobs*"
        ],
    )
    acknowledge(
        policy,
        "AwsSolutions-IAM5",
        reason=(
            "cloudwatch:PutMetricData and ecr:GetAuthorizationToken support no "
            "resource-level permissions, so their resource must be '*'; metrics are "
            "limited to SageMaker namespaces by the cloudwatch:namespace condition."
        ),
        findings=["Resource::*"],
    )
