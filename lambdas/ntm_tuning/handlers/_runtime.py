"""What every handler shares: Powertools logger and tracer, and the AWS adapters.

Only what every handler needs is imported here. What some handlers need comes from beside it:
the deployment's settings and what is built from them (the ledger, the event publisher) from
``_deployment``, metrics from ``_metrics``; so a handler that reads no settings does not load
pydantic, and one that emits no metric does not load the metric names.
"""

from __future__ import annotations

import os
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger, Tracer

from .. import aws
from ..aws import DataStore, SageMakerJobs

if TYPE_CHECKING:
    from ..training_logs import TrainingLogs

SERVICE = "ntm-tuning"
logger = Logger(service=SERVICE)
tracer = Tracer(service=SERVICE)


def engine() -> str | None:
    """Offline only: which engine plays the tuning jobs (never set in the deployed stack)."""
    # The handlers that ask publish events, so the event contracts are loaded already.
    from ..events import ENGINE_VARIABLE

    return os.environ.get(ENGINE_VARIABLE) or None


def sagemaker_client() -> Any:
    """The SageMaker API the handlers use (``aws.use_clients`` puts another in its place)."""
    return aws.client("sagemaker")


def events_client() -> Any:
    return aws.client("events")


def logs_client() -> Any:
    return aws.client("logs")


def dynamodb_client() -> Any:
    return aws.client("dynamodb")


@lru_cache(maxsize=1)
def training_logs() -> TrainingLogs:
    # Only "Summarize results" reads training logs (its module imports them anyway).
    from ..training_logs import TrainingLogs

    return TrainingLogs(logs_client())


@lru_cache(maxsize=1)
def data_store() -> DataStore:
    return DataStore()


@lru_cache(maxsize=1)
def tuning_jobs() -> SageMakerJobs:
    return SageMakerJobs(sagemaker_client())


def reset() -> None:
    """Forget cached settings and clients (tests and the offline runtime switch environments)."""
    from . import _deployment

    _deployment.reset()
    aws.client.cache_clear()
    for cached in (data_store, tuning_jobs, training_logs):
        cached.cache_clear()
