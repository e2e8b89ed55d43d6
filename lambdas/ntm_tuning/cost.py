"""What a tuning job may cost: the worst case checked against the budget before anything is
paid for, and what its training jobs actually cost."""

from __future__ import annotations

from typing import Any

from .events import CostEstimate
from .settings import Settings


def estimate_cost(
    settings: Settings,
    resource_config: dict[str, Any],
    stopping: dict[str, Any],
    limits: dict[str, Any],
    max_jobs: int,
) -> CostEstimate | None:
    """Worst case: max jobs x max runtime x instances x hourly price (None if unpriced).

    A tuning-level MaxRuntimeInSeconds caps it further: no more than MaxParallelTrainingJobs
    jobs run at once for that long.
    """
    instance_type = resource_config["InstanceType"]
    price = settings.tuning.instance_prices.get(instance_type)
    if price is None:
        return None
    count = int(resource_config["InstanceCount"])
    seconds = max_jobs * int(stopping["MaxRuntimeInSeconds"])
    if "MaxRuntimeInSeconds" in limits:
        seconds = min(
            seconds, int(limits["MaxRuntimeInSeconds"]) * int(limits["MaxParallelTrainingJobs"])
        )
    billable = seconds * count
    try:
        max_usd = billable / 3600 * price
    except OverflowError:
        return None  # absurd limits, already rejected on their own field
    return CostEstimate(
        max_usd=max_usd,
        hourly_price_usd=price,
        instance_type=instance_type,
        instance_count=count,
        max_jobs=max_jobs,
        max_billable_seconds=billable,
        prices_as_of=settings.tuning.prices_as_of,
    )


def cost_usd(billable_seconds: int, estimate: dict[str, Any]) -> float:
    """What ``billable_seconds`` cost: seconds x instances x the hourly price of the estimate."""
    return round(
        billable_seconds * estimate["instance_count"] * estimate["hourly_price_usd"] / 3600, 4
    )
