"""What every handler shares: Powertools logger and tracer, settings, AWS adapters."""

from __future__ import annotations

from functools import lru_cache

from aws_lambda_powertools import Logger, Tracer

from ..aws import DataStore, EventPublisher, TuningJobs
from ..settings import Settings, load_settings

logger = Logger(service="ntm-tuning")
tracer = Tracer(service="ntm-tuning")


def settings() -> Settings:
    return load_settings()


@lru_cache(maxsize=1)
def data_store() -> DataStore:
    return DataStore()


@lru_cache(maxsize=1)
def tuning_jobs() -> TuningJobs:
    return TuningJobs()


@lru_cache(maxsize=1)
def event_publisher() -> EventPublisher:
    current = settings()
    return EventPublisher(current.event_bus_name, current.event_source)


def reset() -> None:
    """Forget cached settings and clients (tests and the offline runtime switch environments)."""
    from .. import aws

    load_settings.cache_clear()
    aws.client.cache_clear()
    for cached in (data_store, tuning_jobs, event_publisher):
        cached.cache_clear()
