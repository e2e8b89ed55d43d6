"""States "Acquire capacity" and "Release capacity": the execution's slot among the configured
concurrent tuning jobs, kept in the ledger."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from .ledger import Ledger


def acquire_capacity(
    execution_id: str, ledger: Ledger, limit: int, *, now: datetime | None = None
) -> dict[str, Any]:
    """Take a slot among the configured concurrent tuning jobs, or report that none is free."""
    admitted, holders = ledger.acquire(execution_id, limit, now=now or datetime.now(UTC))
    return {"admitted": admitted, "in_flight": holders, "limit": limit}


def release_capacity(execution_id: str, ledger: Ledger) -> dict[str, Any]:
    released, holders = ledger.release(execution_id)
    return {"released": released, "in_flight": holders}
