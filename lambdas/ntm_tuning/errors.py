"""Errors the workflow tells apart: a rejected request is handled, not failed."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class Violation:
    """One broken rule, named so a user can fix the request without reading code."""

    field: str
    rule: str
    message: str

    def to_dict(self) -> dict[str, str]:
        return asdict(self)


class RequestRejected(Exception):
    """The request cannot be run as it is; no tuning job was started."""

    def __init__(
        self, violations: list[Violation], *, cost_estimate: dict[str, Any] | None = None
    ) -> None:
        self.violations = violations
        self.cost_estimate = cost_estimate
        super().__init__("; ".join(f"{v.field}: {v.message}" for v in violations))


class SageMakerThrottled(Exception):
    """SageMaker asked us to slow down; the state machine retries with back-off."""


class EventPublishFailed(Exception):
    """EventBridge did not accept an event; the state machine retries."""


class LedgerThrottled(Exception):
    """DynamoDB asked us to slow down; the state machine retries with back-off."""
