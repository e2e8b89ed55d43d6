"""What the handlers that read the deployment's settings share: the settings, and the ledger
and the event publisher they configure, each made once per environment (``environment``:
once per process in Lambda, once per function offline)."""

from __future__ import annotations

from ..aws import EventPublisher
from ..environment import per_environment
from ..ledger import Ledger
from ..settings import Settings, load_settings
from . import _runtime


def settings() -> Settings:
    return load_settings()


@per_environment
def event_publisher() -> EventPublisher:
    current = settings()
    return EventPublisher(current.event_bus_name, current.event_source, _runtime.events_client())


@per_environment
def ledger() -> Ledger:
    current = settings()
    return Ledger(
        current.ledger_table, ttl_days=current.ledger_ttl_days, dynamodb=_runtime.dynamodb_client()
    )


def reset() -> None:
    load_settings.cache_clear()
    for cached in (event_publisher, ledger):
        cached.cache_clear()
