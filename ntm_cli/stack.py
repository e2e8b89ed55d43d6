"""The deployed stack, as its CloudFormation outputs describe it."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
from botocore.exceptions import ClientError

from .errors import AWS_SETUP, fail

CDK_JSON = Path(__file__).resolve().parents[1] / "cdk.json"


def configured_stack_name() -> str:
    """The stack name this checkout deploys (cdk.json's ntm:stackName), else the default."""
    from infra.config import PipelineConfig

    default = str(PipelineConfig.model_fields["stack_name"].default)
    try:
        context = json.loads(CDK_JSON.read_text())["context"]
    except (OSError, ValueError, KeyError):
        return default
    return str(context.get("ntm:stackName") or default)


DEFAULT_STACK = configured_stack_name()
# CloudFormation output -> field; infra/stack.py declares them.
OUTPUTS = {
    "DataBucketName": "data_bucket",
    "ArtifactsBucketName": "artifacts_bucket",
    "ResultsBusName": "bus_name",
    "StateMachineArn": "state_machine_arn",
    "LedgerTableName": "ledger_table",
    "RequestPrefix": "request_prefix",
    "EventSource": "event_source",
}


@dataclass(frozen=True)
class StackResources:
    name: str
    region: str
    data_bucket: str
    artifacts_bucket: str
    bus_name: str
    state_machine_arn: str
    ledger_table: str
    request_prefix: str
    event_source: str

    @classmethod
    def from_outputs(cls, name: str, region: str, outputs: dict[str, str]) -> StackResources:
        missing = sorted(set(OUTPUTS) - set(outputs))
        if missing:
            fail(
                f"stack {name} in {region} lacks the output(s) {', '.join(missing)}",
                AWS_SETUP,
                "deploy this version of the stack (make deploy), or pass --stack",
            )
        return cls(
            name=name, region=region, **{field: outputs[key] for key, field in OUTPUTS.items()}
        )


def session(profile: str | None, region: str | None) -> boto3.Session:
    return boto3.Session(profile_name=profile, region_name=region)


def find_stack(aws: boto3.Session, name: str) -> StackResources:
    """Read the stack's outputs; a clear error when it is not there (or not in this region)."""
    region = aws.region_name
    if not region:
        fail("no AWS region", AWS_SETUP, "pass --region, or set AWS_REGION")
    try:
        stacks = aws.client("cloudformation").describe_stacks(StackName=name)["Stacks"]
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") == "ValidationError":
            fail(
                f"stack {name} not found in {region}",
                AWS_SETUP,
                "deploy it (make deploy), or pass the --stack and --region it was deployed with",
            )
        raise
    stack: dict[str, Any] = stacks[0]
    if str(stack.get("StackStatus", "")).endswith(("_FAILED", "DELETE_COMPLETE")) and not stack.get(
        "Outputs"
    ):
        fail(f"stack {name} in {region} is {stack['StackStatus']}", AWS_SETUP)
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
    return StackResources.from_outputs(name, region, outputs)
