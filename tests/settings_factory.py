"""Settings for tests: a deployment in us-east-1 with fixed names, and a request body for it."""

from __future__ import annotations

from typing import Any

from ntm_tuning.settings import Settings, TuningDefaults

ACCOUNT = "123456789012"
REGION = "us-east-1"
DATA_BUCKET = "ntm-data-bucket"
ARTIFACTS_BUCKET = "ntm-artifacts-bucket"
KMS_KEY_ARN = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/ntm-sagemaker-execution"
IMAGE = f"382416733822.dkr.ecr.{REGION}.amazonaws.com/ntm:1"
BUS = "ntm-tuning-results"
LEDGER = "ntm-tuning-ledger"
PROCESSING_ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/ntm-processing"
PROCESSING_IMAGE = (
    f"683313688378.dkr.ecr.{REGION}.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3"
)
CODE_URI = f"s3://cdk-hnb659fds-assets-{ACCOUNT}-{REGION}/0123abcd.zip"


def make_settings(**tuning: Any) -> Settings:
    return Settings(
        data_bucket=DATA_BUCKET,
        artifacts_bucket=ARTIFACTS_BUCKET,
        kms_key_arn=KMS_KEY_ARN,
        sagemaker_role_arn=ROLE_ARN,
        training_image=IMAGE,
        event_bus_name=BUS,
        ledger_table=LEDGER,
        processing_role_arn=PROCESSING_ROLE_ARN,
        processing_image=PROCESSING_IMAGE,
        preparation_code_uri=CODE_URI,
        tuning=TuningDefaults(**tuning),
    )


def environment(**tuning: Any) -> dict[str, str]:
    """The environment the stack gives every handler, for these settings."""
    return make_settings(**tuning).environment()


def example_request(**overrides: Any) -> dict[str, Any]:
    """A valid data request on the deployment's data bucket; ``overrides`` replace its fields."""
    body: dict[str, Any] = {
        "name": "demo",
        "data": {
            "train": "datasets/demo/train/",
            "validation": "datasets/demo/validation/",
            "auxiliary": "datasets/demo/auxiliary/",
        },
        "hyperparameters": {"num_topics": 5},
        "resource_limits": {"max_jobs": 4, "max_parallel_jobs": 2},
    }
    body.update(overrides)
    return body
