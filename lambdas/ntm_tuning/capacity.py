"""States "Acquire capacity" and "Release capacity": the execution's slot among the configured
concurrent tuning jobs, kept in the ledger."""

from __future__ import annotations

from datetime import UTC, datetime

from .ledger import Ledger
from .state import Admission, Released


def acquire_capacity(
    execution_id: str, ledger: Ledger, limit: int, *, now: datetime | None = None
) -> Admission:
    """Take a slot among the configured concurrent tuning jobs, or report that none is free."""
    admitted, holders = ledger.acquire(execution_id, limit, now=now or datetime.now(UTC))
    return Admission(admitted=admitted, in_flight=holders, limit=limit)


def release_capacity(execution_id: str, ledger: Ledger) -> Released:
    released, holders = ledger.release(execution_id)
    return Released(released=released, in_flight=holders)
