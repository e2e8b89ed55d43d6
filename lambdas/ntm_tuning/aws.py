"""AWS access behind small interfaces, so the workflow logic can be tested without AWS.

Clients are created on first use, not at import, which keeps cold starts short and lets
tests swap the endpoint (moto) before anything connects.

Every client the handlers use comes from ``client(service)``. Where they come from is the
one seam for putting other clients in their place (the offline runtime's emulated SageMaker,
a botocore ``Stubber``, clients that refuse what AWS refuses): ``use_clients(provider)``.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import cache
from typing import TYPE_CHECKING, Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from .errors import EventPublishFailed, SageMakerThrottled

if TYPE_CHECKING:
    from mypy_boto3_events import EventBridgeClient
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_sagemaker import SageMakerClient

CLIENT_CONFIG = Config(
    retries={"mode": "standard", "max_attempts": 3}, connect_timeout=5, read_timeout=20
)
THROTTLING_CODES = frozenset(
    {
        "ThrottlingException",
        "Throttling",
        "TooManyRequestsException",
        "RequestLimitExceeded",
    }
)
MISSING_CODES = frozenset({"NoSuchKey", "404", "NotFound", "NoSuchVersion"})


def error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


# Makes the client for a service, or returns None to leave the service to the provider below.
ClientProvider = Callable[[str], Any]


def default_client(service: str) -> Any:
    """A boto3 client for ``service``, with the handlers' retries and timeouts."""
    return boto3.client(service, config=CLIENT_CONFIG)  # type: ignore[call-overload]


_providers: list[ClientProvider] = []
_providers_lock = threading.Lock()


@cache
def client(service: str) -> Any:
    """The client of ``service`` the handlers use, made once (until the providers change).

    It comes from the innermost provider of an open ``use_clients`` that answers for the
    service, else ``default_client``.
    """
    with _providers_lock:
        providers = list(_providers)
    for provider in reversed(providers):
        made = provider(service)
        if made is not None:
            return made
    return default_client(service)


@contextmanager
def use_clients(provider: ClientProvider) -> Iterator[None]:
    """While open, ``client(service)`` is ``provider(service)`` where that is not None.

    Blocks nest: an inner provider answering None leaves the service to the outer one. The
    clients made so far are forgotten on entry and exit; adapters that already hold a client
    keep it (the handlers' shared adapters are rebuilt by ``handlers._runtime.reset``).
    A mapping's ``get`` is a provider: ``use_clients({"sagemaker": stubbed}.get)``.
    """
    with _providers_lock:
        _providers.append(provider)
    client.cache_clear()
    try:
        yield
    finally:
        with _providers_lock:
            # The innermost entry of this provider: the same one may be open twice.
            del _providers[len(_providers) - 1 - _providers[::-1].index(provider)]
        client.cache_clear()


class ObjectTooLarge(Exception):
    def __init__(self, size: int) -> None:
        super().__init__(f"{size} bytes")
        self.size = size


class DataStore:
    """The S3 side: reading requests and checking data, writing reports."""

    def __init__(self, s3: S3Client | None = None) -> None:
        self._s3 = s3

    @property
    def s3(self) -> S3Client:
        return self._s3 or client("s3")

    def read(self, bucket: str, key: str, version_id: str | None, *, limit: int) -> bytes | None:
        """The object's bytes, None when it does not exist, ObjectTooLarge past ``limit``."""
        args: dict[str, Any] = {"Bucket": bucket, "Key": key}
        if version_id:
            args["VersionId"] = version_id
        try:
            response = self.s3.get_object(**args)
        except ClientError as error:
            if error_code(error) in MISSING_CODES:
                return None
            raise
        size = int(response.get("ContentLength", 0))
        body = response["Body"]
        try:
            if size > limit:
                raise ObjectTooLarge(size)
            data = body.read(limit + 1)
        finally:
            body.close()
        if len(data) > limit:
            raise ObjectTooLarge(len(data))
        return data

    def count_objects(self, bucket: str, prefix: str, *, up_to: int) -> int:
        """How many non-empty objects start with ``prefix``, counting no further than ``up_to``."""
        count = 0
        for page in self.s3.get_paginator("list_objects_v2").paginate(
            Bucket=bucket, Prefix=prefix, PaginationConfig={"PageSize": 1000}
        ):
            for item in page.get("Contents", []):
                if item.get("Size", 0) > 0:
                    count += 1
                    if count >= up_to:
                        return count
        return count

    def count_lines(self, bucket: str, key: str) -> int | None:
        """Lines in a text object, streamed; None when the object does not exist."""
        try:
            body = self.s3.get_object(Bucket=bucket, Key=key)["Body"]
        except ClientError as error:
            if error_code(error) in MISSING_CODES:
                return None
            raise
        lines, last = 0, b""
        for chunk in _chunks(body):
            lines += chunk.count(b"\n")
            last = chunk[-1:]
        if last and last != b"\n":
            lines += 1
        return lines

    def sizes(self, bucket: str, prefix: str, *, up_to: int) -> dict[str, int]:
        """Size of each non-empty object starting with ``prefix``, at most ``up_to`` objects."""
        found: dict[str, int] = {}
        for page in self.s3.get_paginator("list_objects_v2").paginate(
            Bucket=bucket, Prefix=prefix, PaginationConfig={"PageSize": 1000}
        ):
            for item in page.get("Contents", []):
                if item.get("Size", 0) > 0 and not item["Key"].endswith("/"):
                    found[item["Key"]] = int(item["Size"])
                    if len(found) >= up_to:
                        return found
        return found

    def open(self, bucket: str, key: str) -> Any:
        """The object's body, to read as a stream (close it when done)."""
        return self.s3.get_object(Bucket=bucket, Key=key)["Body"]

    def put_json(self, bucket: str, key: str, document: Any) -> str:
        self.s3.put_object(
            Bucket=bucket,
            Key=key,
            Body=json.dumps(document, indent=2, sort_keys=True, default=str).encode(),
            ContentType="application/json",
        )
        return f"s3://{bucket}/{key}"


def _chunks(body: Any, size: int = 1 << 20) -> Iterator[bytes]:
    try:
        while chunk := body.read(size):
            yield chunk
    finally:
        body.close()


class SageMakerJobs:
    """The SageMaker side: tuning jobs and their training jobs."""

    def __init__(self, sagemaker: SageMakerClient | None = None) -> None:
        self._sagemaker = sagemaker

    @property
    def sagemaker(self) -> SageMakerClient:
        return self._sagemaker or client("sagemaker")

    def _call(self, method: str, **kwargs: Any) -> Any:
        try:
            return getattr(self.sagemaker, method)(**kwargs)
        except ClientError as error:
            if error_code(error) in THROTTLING_CODES:
                raise SageMakerThrottled(str(error)) from error
            raise

    def create(self, create_request: dict[str, Any]) -> str:
        response = self._call("create_hyper_parameter_tuning_job", **create_request)
        return str(response["HyperParameterTuningJobArn"])

    def describe(self, name: str) -> dict[str, Any]:
        return dict(
            self._call("describe_hyper_parameter_tuning_job", HyperParameterTuningJobName=name)
        )

    def tags(self, arn: str) -> dict[str, str]:
        response = self._call("list_tags", ResourceArn=arn)
        return {tag["Key"]: tag["Value"] for tag in response.get("Tags", [])}

    def training_jobs(self, name: str) -> list[dict[str, Any]]:
        jobs: list[dict[str, Any]] = []
        args: dict[str, Any] = {"HyperParameterTuningJobName": name, "MaxResults": 100}
        while True:
            page = self._call("list_training_jobs_for_hyper_parameter_tuning_job", **args)
            jobs.extend(page.get("TrainingJobSummaries", []))
            token = page.get("NextToken")
            if not token:
                return jobs
            args["NextToken"] = token

    def describe_training_job(self, name: str) -> dict[str, Any]:
        return dict(self._call("describe_training_job", TrainingJobName=name))

    def stop(self, name: str) -> None:
        self._call("stop_hyper_parameter_tuning_job", HyperParameterTuningJobName=name)

    # Processing jobs prepare the dataset of a corpus request.
    def create_processing(self, create_request: dict[str, Any]) -> str:
        response = self._call("create_processing_job", **create_request)
        return str(response["ProcessingJobArn"])

    def describe_processing(self, name: str) -> dict[str, Any]:
        return dict(self._call("describe_processing_job", ProcessingJobName=name))

    def stop_processing(self, name: str) -> None:
        self._call("stop_processing_job", ProcessingJobName=name)


class EventPublisher:
    """Puts one event on the results bus, and fails loudly when EventBridge drops it."""

    def __init__(self, bus_name: str, source: str, events: EventBridgeClient | None = None) -> None:
        self.bus_name = bus_name
        self.source = source
        self._events = events

    @property
    def events(self) -> EventBridgeClient:
        return self._events or client("events")

    def publish(self, detail_type: str, detail: dict[str, Any], resources: list[str]) -> str:
        response = self.events.put_events(
            Entries=[
                {
                    "EventBusName": self.bus_name,
                    "Source": self.source,
                    "DetailType": detail_type,
                    "Detail": json.dumps(detail, default=str),
                    "Resources": resources,
                }
            ]
        )
        entry = response["Entries"][0] if response.get("Entries") else {}
        if response.get("FailedEntryCount") or "EventId" not in entry:
            code = entry.get("ErrorCode", "unknown")
            raise EventPublishFailed(
                f"{detail_type}: {code} {entry.get('ErrorMessage', '')}".strip()
            )
        return str(entry["EventId"])
