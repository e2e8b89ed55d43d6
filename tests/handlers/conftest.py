"""moto-backed AWS for handler tests: the stack's buckets, bus and a queue that sees events."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from moto import mock_aws
from ntm_tuning import aws as ntm_aws
from ntm_tuning.handlers import _runtime
from ntm_tuning.state import REQUEST_FIELDS, dump
from pydantic import BaseModel

from offline.strict import strict_handler_clients
from tests.settings_factory import (
    ARTIFACTS_BUCKET,
    BUS,
    DATA_BUCKET,
    LEDGER,
    REGION,
    environment,
)


@dataclass
class LambdaContext:
    function_name: str = "ntm-tuning-test"
    memory_limit_in_mb: int = 256
    invoked_function_arn: str = f"arn:aws:lambda:{REGION}:123456789012:function:ntm-tuning-test"
    aws_request_id: str = "00000000-0000-0000-0000-000000000000"
    remaining_ms: int = 300_000

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms


class Aws:
    """The emulated account, with helpers to lay out data and read published events."""

    def __init__(self) -> None:
        self.s3 = boto3.client("s3", region_name=REGION)
        self.events = boto3.client("events", region_name=REGION)
        self.sqs = boto3.client("sqs", region_name=REGION)
        self.sagemaker = boto3.client("sagemaker", region_name=REGION)
        for bucket in (DATA_BUCKET, ARTIFACTS_BUCKET):
            self.s3.create_bucket(Bucket=bucket)
            self.s3.put_bucket_versioning(
                Bucket=bucket, VersioningConfiguration={"Status": "Enabled"}
            )
        self.dynamodb = boto3.client("dynamodb", region_name=REGION)
        self.dynamodb.create_table(
            TableName=LEDGER,
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        self.events.create_event_bus(Name=BUS)
        self.queue_url = self.sqs.create_queue(QueueName="results")["QueueUrl"]
        queue_arn = self.sqs.get_queue_attributes(
            QueueUrl=self.queue_url, AttributeNames=["QueueArn"]
        )["Attributes"]["QueueArn"]
        self.events.put_rule(
            Name="all-results",
            EventBusName=BUS,
            EventPattern=json.dumps({"source": ["ntm.tuning"]}),
        )
        self.events.put_targets(
            Rule="all-results", EventBusName=BUS, Targets=[{"Id": "queue", "Arn": queue_arn}]
        )

    def put(self, key: str, body: bytes | str) -> dict[str, Any]:
        data = body.encode("utf-8") if isinstance(body, str) else body
        return dict(self.s3.put_object(Bucket=DATA_BUCKET, Key=key, Body=data))

    def put_dataset(
        self, prefix: str = "datasets/demo/", *, vocabulary: int = 50, shards: int = 1
    ) -> None:
        for shard in range(shards):
            self.put(f"{prefix}train/part-{shard}.pbr", b"\x0a\x0b" * 10)
        self.put(f"{prefix}validation/part-0.pbr", b"\x0a\x0b" * 10)
        self.put(f"{prefix}auxiliary/vocab.txt", "".join(f"word{i}\n" for i in range(vocabulary)))

    def put_request(
        self, body: dict[str, Any] | str | bytes, key: str = "requests/run.json"
    ) -> dict[str, Any]:
        raw = json.dumps(body) if isinstance(body, dict) else body
        response = self.put(key, raw)
        return {
            "origin": "s3",
            "event_id": "11111111-2222-3333-4444-555555555555",
            "event_time": "2026-11-27T12:00:00Z",
            "bucket": DATA_BUCKET,
            "key": key,
            "version_id": response.get("VersionId"),
            "etag": response["ETag"].strip('"'),
        }

    def published(self) -> list[dict[str, Any]]:
        found = []
        while True:
            messages = self.sqs.receive_message(
                QueueUrl=self.queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=0
            ).get("Messages", [])
            if not messages:
                return found
            for message in messages:
                found.append(json.loads(message["Body"]))
                self.sqs.delete_message(
                    QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"]
                )


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[Aws]:
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": REGION,
        "POWERTOOLS_TRACE_DISABLED": "1",
        "POWERTOOLS_LOG_LEVEL": "WARNING",
        **environment(),
    }.items():
        monkeypatch.setenv(name, value)
    _runtime.reset()
    with mock_aws(), strict_handler_clients():
        yield Aws()
    _runtime.reset()


# clients(sagemaker=..., events=...): those clients in the handlers' place until the test ends.
Clients = Callable[..., None]


@pytest.fixture
def clients(aws: Aws) -> Iterator[Clients]:
    """Put clients in the handlers' place, through their one seam (``aws.use_clients``)."""
    with ExitStack() as stack:

        def use(**by_service: Any) -> None:
            stack.enter_context(ntm_aws.use_clients(by_service.get))
            _runtime.reset()

        yield use
    _runtime.reset()


@pytest.fixture
def context() -> LambdaContext:
    return LambdaContext()


def handler_input(model: type[BaseModel], state: dict[str, Any], **given: Any) -> dict[str, Any]:
    """What the state machine passes a handler whose input is ``model``: its fields as the
    state holds them (the request block under ``request``), or as ``given``."""
    taken = {name: state[name] for name in model.model_fields if name in state}
    if "request" in model.model_fields:
        taken["request"] = {name: state[name] for name in REQUEST_FIELDS}
    return dump(model.model_validate({**taken, **given}))
