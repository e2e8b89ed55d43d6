"""Encrypted storage: the customer-managed key and the data, artifacts and access-log buckets."""

from __future__ import annotations

from typing import cast

from aws_cdk import Aws, Duration, Fn, RemovalPolicy
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct


class Storage(Construct):
    """One KMS key encrypting everything, a data bucket and an artifacts bucket.

    Attributes: ``key``, ``data_bucket`` (requests and datasets; emits S3 events to
    EventBridge), ``artifacts_bucket`` (model output and reports), ``access_logs_bucket``.
    """

    def __init__(self, scope: Construct, id: str, *, removal_policy: RemovalPolicy) -> None:
        super().__init__(scope, id)
        self._removal_policy = removal_policy

        self.key = kms.Key(
            self,
            "Key",
            description="Encrypts the NTM tuning pipeline's buckets, logs and training volumes",
            enable_key_rotation=True,
            removal_policy=removal_policy,
        )
        # Encrypted log groups make CloudWatch Logs use the key on its own behalf; the context
        # condition keeps that to log groups in this account and region.
        self.key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AllowCloudWatchLogsInThisAccount",
                principals=[iam.ServicePrincipal(Fn.sub("logs.${AWS::Region}.${AWS::URLSuffix}"))],
                actions=[
                    "kms:Encrypt",
                    "kms:Decrypt",
                    "kms:ReEncryptFrom",
                    "kms:ReEncryptTo",
                    "kms:GenerateDataKey",
                    "kms:GenerateDataKeyWithoutPlaintext",
                    "kms:DescribeKey",
                ],
                resources=["*"],
                conditions={
                    "ArnLike": {
                        "kms:EncryptionContext:aws:logs:arn": (
                            f"arn:{Aws.PARTITION}:logs:{Aws.REGION}:{Aws.ACCOUNT_ID}:log-group:*"
                        )
                    }
                },
            )
        )

        # S3 server access log delivery supports only SSE-S3 on the target bucket.
        self.access_logs_bucket = self._bucket(
            "AccessLogsBucket", encryption=s3.BucketEncryption.S3_MANAGED
        )
        self.data_bucket = self._bucket(
            "DataBucket",
            encryption=s3.BucketEncryption.KMS,
            encryption_key=self.key,
            server_access_logs_bucket=self.access_logs_bucket,
            server_access_logs_prefix="data/",
        )
        # Set natively on the bucket instead of `event_bridge_enabled=True`, which deploys a
        # custom-resource Lambda (with a managed policy) just to call PutBucketNotification.
        data_cfn = cast(s3.CfnBucket, self.data_bucket.node.default_child)
        data_cfn.notification_configuration = s3.CfnBucket.NotificationConfigurationProperty(
            event_bridge_configuration=s3.CfnBucket.EventBridgeConfigurationProperty(
                event_bridge_enabled=True
            )
        )

        self.artifacts_bucket = self._bucket(
            "ArtifactsBucket",
            encryption=s3.BucketEncryption.KMS,
            encryption_key=self.key,
            server_access_logs_bucket=self.access_logs_bucket,
            server_access_logs_prefix="artifacts/",
        )

    def _bucket(
        self,
        id: str,
        *,
        encryption: s3.BucketEncryption,
        encryption_key: kms.IKey | None = None,
        server_access_logs_bucket: s3.IBucket | None = None,
        server_access_logs_prefix: str | None = None,
    ) -> s3.Bucket:
        return s3.Bucket(
            self,
            id,
            encryption=encryption,
            encryption_key=encryption_key,
            bucket_key_enabled=True if encryption_key is not None else None,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            enforce_ssl=True,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            versioned=True,
            server_access_logs_bucket=server_access_logs_bucket,
            server_access_logs_prefix=server_access_logs_prefix,
            lifecycle_rules=[
                s3.LifecycleRule(
                    id="abort-incomplete-multipart-uploads",
                    abort_incomplete_multipart_upload_after=Duration.days(7),
                )
            ],
            removal_policy=self._removal_policy,
            auto_delete_objects=self._removal_policy == RemovalPolicy.DESTROY,
        )
