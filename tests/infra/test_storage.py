"""Buckets and key: encrypted, TLS-only, private, versioned, logged, tidy."""

from __future__ import annotations

from typing import Any

import pytest
from aws_cdk.assertions import Match, Template

from tests.infra.conftest import Synthesized

ABORT_RULE = {
    "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 7},
    "Status": "Enabled",
}
BLOCK_ALL = {
    "BlockPublicAcls": True,
    "BlockPublicPolicy": True,
    "IgnorePublicAcls": True,
    "RestrictPublicBuckets": True,
}


def _key_arn(synthesized: Synthesized) -> dict[str, Any]:
    (key_id,) = synthesized.resources("AWS::KMS::Key")
    return {"Fn::GetAtt": [key_id, "Arn"]}


def _buckets(synthesized: Synthesized) -> dict[str, dict[str, Any]]:
    return synthesized.resources("AWS::S3::Bucket")


def _kms_buckets(synthesized: Synthesized) -> list[str]:
    return [
        k
        for k, v in _buckets(synthesized).items()
        if v["Properties"]["BucketEncryption"]["ServerSideEncryptionConfiguration"][0][
            "ServerSideEncryptionByDefault"
        ]["SSEAlgorithm"]
        == "aws:kms"
    ]


def _log_bucket(synthesized: Synthesized) -> str:
    (log_bucket,) = set(_buckets(synthesized)) - set(_kms_buckets(synthesized))
    return log_bucket


def test_one_rotating_customer_managed_key(template: Template) -> None:
    template.resource_count_is("AWS::KMS::Key", 1)
    template.has_resource_properties("AWS::KMS::Key", {"EnableKeyRotation": True})
    template.has_resource("AWS::KMS::Key", {"DeletionPolicy": "Retain"})


def test_key_admits_cloudwatch_logs_for_this_account_only(template: Template) -> None:
    template.has_resource_properties(
        "AWS::KMS::Key",
        {
            "KeyPolicy": {
                "Statement": Match.array_with(
                    [
                        Match.object_like(
                            {
                                "Principal": {
                                    "Service": {"Fn::Sub": "logs.${AWS::Region}.${AWS::URLSuffix}"}
                                },
                                "Condition": {
                                    "ArnLike": {
                                        "kms:EncryptionContext:aws:logs:arn": Match.any_value()
                                    }
                                },
                            }
                        )
                    ]
                )
            }
        },
    )


def test_three_buckets_two_with_the_cmk(synthesized: Synthesized) -> None:
    assert len(_buckets(synthesized)) == 3
    kms_buckets = _kms_buckets(synthesized)
    assert len(kms_buckets) == 2
    for bucket in kms_buckets:
        encryption = _buckets(synthesized)[bucket]["Properties"]["BucketEncryption"]
        rule = encryption["ServerSideEncryptionConfiguration"][0]
        assert rule["ServerSideEncryptionByDefault"]["KMSMasterKeyID"] == _key_arn(synthesized)
        assert rule["BucketKeyEnabled"] is True


def test_access_log_bucket_uses_sse_s3(synthesized: Synthesized) -> None:
    props = _buckets(synthesized)[_log_bucket(synthesized)]["Properties"]
    rule = props["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]
    assert rule["ServerSideEncryptionByDefault"] == {"SSEAlgorithm": "AES256"}


@pytest.mark.parametrize("check", ["public_access", "versioning", "abort_multipart", "retain"])
def test_every_bucket_is_private_versioned_and_tidy(synthesized: Synthesized, check: str) -> None:
    for logical_id, bucket in _buckets(synthesized).items():
        props = bucket["Properties"]
        if check == "public_access":
            assert props["PublicAccessBlockConfiguration"] == BLOCK_ALL, logical_id
        elif check == "versioning":
            assert props["VersioningConfiguration"] == {"Status": "Enabled"}, logical_id
        elif check == "abort_multipart":
            rules = props["LifecycleConfiguration"]["Rules"]
            assert any(ABORT_RULE.items() <= rule.items() for rule in rules), logical_id
        else:
            assert bucket["DeletionPolicy"] == "Retain", logical_id


def test_every_bucket_denies_plain_http(synthesized: Synthesized) -> None:
    policies = synthesized.resources("AWS::S3::BucketPolicy")
    covered = set()
    for policy in policies.values():
        bucket = policy["Properties"]["Bucket"]["Ref"]
        statements = policy["Properties"]["PolicyDocument"]["Statement"]
        deny = [
            s
            for s in statements
            if s["Effect"] == "Deny"
            and s["Action"] == "s3:*"
            and s["Principal"] == {"AWS": "*"}
            and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
        ]
        assert len(deny) == 1, bucket
        resources = deny[0]["Resource"]
        assert {"Fn::GetAtt": [bucket, "Arn"]} in resources
        assert {"Fn::Join": ["", [{"Fn::GetAtt": [bucket, "Arn"]}, "/*"]]} in resources
        covered.add(bucket)
    assert covered == set(_buckets(synthesized))


def test_kms_buckets_log_access_to_the_log_bucket(synthesized: Synthesized) -> None:
    log_bucket = _log_bucket(synthesized)
    prefixes = set()
    for bucket in _kms_buckets(synthesized):
        logging = _buckets(synthesized)[bucket]["Properties"]["LoggingConfiguration"]
        assert logging["DestinationBucketName"] == {"Ref": log_bucket}
        prefixes.add(logging["LogFilePrefix"])
    assert len(prefixes) == 2
    # Delivered by the S3 logging service through the bucket policy (no ACLs).
    statements = next(
        p["Properties"]["PolicyDocument"]["Statement"]
        for p in synthesized.resources("AWS::S3::BucketPolicy").values()
        if p["Properties"]["Bucket"] == {"Ref": log_bucket}
    )
    log_delivery = [
        s for s in statements if s["Principal"] == {"Service": "logging.s3.amazonaws.com"}
    ]
    assert len(log_delivery) == 2
    assert all(s["Action"] == "s3:PutObject" for s in log_delivery)


def test_only_the_data_bucket_sends_events_to_eventbridge(synthesized: Synthesized) -> None:
    enabled = [
        k
        for k, v in _buckets(synthesized).items()
        if v["Properties"].get("NotificationConfiguration")
        == {"EventBridgeConfiguration": {"EventBridgeEnabled": True}}
    ]
    assert enabled == [synthesized.json["Outputs"]["DataBucketName"]["Value"]["Ref"]]
    # Native configuration: no notification custom resource (and no Lambda behind it).
    assert not synthesized.resources("Custom::S3BucketNotifications")
