"""What every handler shares: Powertools logger and tracer, settings, AWS adapters."""

from __future__ import annotations

import os
from functools import lru_cache
from typing import Any

from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.metrics import MetricUnit, single_metric
from aws_lambda_powertools.metrics.functions import is_metrics_disabled

from .. import aws, metrics
from ..aws import DataStore, EventPublisher, SageMakerJobs
from ..events import ENGINE_VARIABLE
from ..ledger import Ledger
from ..settings import Settings, load_settings
from ..training_logs import TrainingLogs

SERVICE = "ntm-tuning"
logger = Logger(service=SERVICE)
tracer = Tracer(service=SERVICE)


def settings() -> Settings:
    return load_settings()


def engine() -> str | None:
    """Offline only: which engine plays the tuning jobs (never set in the deployed stack)."""
    return os.environ.get(ENGINE_VARIABLE) or None


def sagemaker_client() -> Any:
    """The SageMaker API the handlers use (``aws.use_clients`` puts another in its place)."""
    return aws.client("sagemaker")


def events_client() -> Any:
    return aws.client("events")


def logs_client() -> Any:
    return aws.client("logs")


@lru_cache(maxsize=1)
def training_logs() -> TrainingLogs:
    return TrainingLogs(logs_client())


@lru_cache(maxsize=1)
def data_store() -> DataStore:
    return DataStore()


@lru_cache(maxsize=1)
def tuning_jobs() -> SageMakerJobs:
    return SageMakerJobs(sagemaker_client())


@lru_cache(maxsize=1)
def event_publisher() -> EventPublisher:
    current = settings()
    return EventPublisher(current.event_bus_name, current.event_source, events_client())


def dynamodb_client() -> Any:
    return aws.client("dynamodb")


@lru_cache(maxsize=1)
def ledger() -> Ledger:
    current = settings()
    return Ledger(
        current.ledger_table, ttl_days=current.ledger_ttl_days, dynamodb=dynamodb_client()
    )


def emit_metric(name: str, value: float, **dimensions: str) -> None:
    """One CloudWatch metric, in embedded metric format (no API call, no extra permission).

    POWERTOOLS_METRICS_DISABLED turns it off, as it does Powertools' own Metrics (which the
    single-metric helper does not consult).
    """
    if is_metrics_disabled():
        return
    with single_metric(
        name=name, unit=MetricUnit.Count, value=value, namespace=metrics.NAMESPACE
    ) as metric:
        for key, dimension in dimensions.items():
            metric.add_dimension(name=key, value=dimension)


def reset() -> None:
    """Forget cached settings and clients (tests and the offline runtime switch environments)."""
    load_settings.cache_clear()
    aws.client.cache_clear()
    for cached in (data_store, tuning_jobs, event_publisher, ledger, training_logs):
        cached.cache_clear()
