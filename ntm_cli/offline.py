"""The stack on this machine: the offline workflow (moto), as a deployed stack looks to a client.

``route`` makes a boto3 session see the emulated stack as a deployed one: CloudFormation
describes it with the template's own outputs (so the CLI finds it the way it finds a deployed
stack), and the session's uploads and PutEvents reach the stack's rules, as S3's EventBridge
notifications and the bus do in AWS (moto delivers neither to a state machine). ``running``
opens the whole thing.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
from botocore.awsrequest import AWSResponse, HTTPHeaders

from offline.runtime import ACCOUNT, REGION, Clock, OfflineWorkflow

from .errors import INVALID_INPUT, fail
from .stack import StackResources, find_stack

OFFLINE_STACK = "NtmTuningOffline"
# What the offline stack needs beyond the command's own dependencies (requirements-dev.txt):
# the emulator, and the CDK to synthesize the template.
OFFLINE_NEEDS = frozenset({"moto", "aws_cdk", "constructs", "cdk_nag", "jsii"})


def stack_outputs(workflow: OfflineWorkflow) -> dict[str, str]:
    """The template's outputs, resolved to the emulated resources."""
    return {
        key: str(workflow.resolver.resolve(output["Value"]))
        for key, output in workflow.resolver.template.get("Outputs", {}).items()
    }


def route(workflow: OfflineWorkflow, aws: boto3.Session, stack_name: str = OFFLINE_STACK) -> None:
    """Make the session see the offline stack as deployed: CloudFormation describes it as
    ``stack_name`` with the template's outputs, and what the session uploads to the data bucket
    and the events it puts reach the stack's rules. Register before the session makes clients.
    """

    def remember(params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        context["ntm_offline_params"] = dict(params)

    def describe_stacks(context: dict[str, Any], **_: Any) -> tuple[AWSResponse, dict[str, Any]]:
        params = context.get("ntm_offline_params") or {}
        if params.get("StackName") != stack_name:
            error = {
                "Error": {
                    "Code": "ValidationError",
                    "Message": f"Stack with id {params.get('StackName')} does not exist",
                }
            }
            return AWSResponse("", 400, HTTPHeaders(), None), error
        outputs = [{"OutputKey": k, "OutputValue": v} for k, v in stack_outputs(workflow).items()]
        stack = {
            "StackName": stack_name,
            "StackId": f"arn:aws:cloudformation:{REGION}:{ACCOUNT}:stack/{stack_name}/offline",
            "StackStatus": "CREATE_COMPLETE",
            "CreationTime": datetime.now(UTC),
            "Outputs": outputs,
        }
        return AWSResponse("", 200, HTTPHeaders(), None), {"Stacks": [stack]}

    aws.events.register("provide-client-params.cloudformation.DescribeStacks", remember)
    # A before-call handler that returns a response answers the call (as moto's do).
    aws.events.register(
        "before-call.cloudformation.DescribeStacks",
        describe_stacks,  # type: ignore[arg-type]
    )

    def object_created(parsed: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        params = context.get("ntm_offline_params") or {}
        if params.get("Bucket") != workflow.data_bucket or "ETag" not in parsed:
            return
        body = params.get("Body")
        size = len(body) if isinstance(body, bytes | bytearray) else 0
        event = workflow.object_created_event(
            params["Key"], size, str(parsed["ETag"]).strip('"'), parsed.get("VersionId")
        )
        workflow.deliver(event, bus="default")

    def events_put(parsed: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        params = context.get("ntm_offline_params") or {}
        for entry, result in zip(
            params.get("Entries", []), parsed.get("Entries", []), strict=False
        ):
            if "EventId" not in result:
                continue
            event = {
                "version": "0",
                "id": result["EventId"],
                "detail-type": entry.get("DetailType"),
                "source": entry.get("Source"),
                "account": ACCOUNT,
                "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                "region": REGION,
                "resources": entry.get("Resources", []),
                "detail": json.loads(entry.get("Detail") or "{}"),
            }
            workflow.deliver(event, bus=entry.get("EventBusName") or "default")

    for operation, handler in (("s3.PutObject", object_created), ("events.PutEvents", events_put)):
        aws.events.register(f"provide-client-params.{operation}", remember)
        aws.events.register(f"after-call.{operation}", handler)


@contextmanager
def running(
    *, stand_in: bool, workdir: Path | None = None
) -> Iterator[tuple[boto3.Session, StackResources]]:
    """The offline stack, up: a routed session and the stack's resources, as for AWS."""
    from offline.template import synthesize

    os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
    tuners: list[Any] = []
    engine = None
    if not stand_in:
        try:
            from offline.local_engine import LocalTuner
        except ImportError as error:
            fail(
                f"local training needs PyTorch and Optuna ({error.name} is missing)",
                INVALID_INPUT,
                "pip install -r requirements-train.txt, or pass --stand-in for the scripted "
                "stand-in (no model is trained)",
            )
        scratch = workdir or Path(tempfile.mkdtemp(prefix="ntm-tuning-offline-"))

        def engine(s3: Any) -> Any:
            tuners.append(LocalTuner(s3, workdir=scratch / "tuner"))
            return tuners[-1]

    # Waits run at 1/100 of their length with real training, so polls leave it the cores.
    clock = Clock(scale=0.0 if stand_in else 0.01)
    with ExitStack() as opened:
        try:
            template = synthesize()
            workflow = opened.enter_context(OfflineWorkflow(template, engine=engine, clock=clock))
        except ImportError as error:
            if (error.name or "").partition(".")[0] not in OFFLINE_NEEDS:
                raise
            fail(
                f"--offline needs the development environment ({error.name} is missing)",
                INVALID_INPUT,
                "in a checkout of the project: make install, then run ntm-tuning from .venv",
            )
        from ntm_tuning.handlers._runtime import logger

        logger.setLevel("ERROR")
        try:
            aws = boto3.Session(region_name=REGION)
            route(workflow, aws)
            yield aws, find_stack(aws, OFFLINE_STACK)
        finally:
            for tuner in tuners:
                tuner.close()
