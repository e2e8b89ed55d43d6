"""Managed spot rules of the deployment's tuning defaults (``settings.check_spot``), at their
boundaries: MaxWaitTimeInSeconds at least MaxRuntimeInSeconds, and an hour at most for NTM."""

from __future__ import annotations

import pytest
from ntm_tuning.settings import SPOT_MAX_WAIT_SECONDS, TuningDefaults, check_spot
from pydantic import ValidationError

ONLY_WITH_SPOT = "max_wait_seconds applies only when use_spot is true"
RUNTIME_TOO_LONG = (
    "max_runtime_seconds must be at most 3600 with managed spot, because NTM does not checkpoint"
)


def wait_out_of_range(runtime: int) -> str:
    return (
        f"max_wait_seconds must be between max_runtime_seconds ({runtime}) and 3600 "
        "with managed spot"
    )


def refusal(use_spot: bool, runtime: int, wait: int | None) -> str | None:
    """The message check_spot raises, or None when it accepts."""
    try:
        check_spot(use_spot, runtime, wait)
    except ValueError as error:
        return str(error)
    return None


def test_the_hour_is_the_documented_bound() -> None:
    assert SPOT_MAX_WAIT_SECONDS == 3600


def test_without_spot_no_wait_may_be_given() -> None:
    assert refusal(False, 7200, None) is None
    assert refusal(False, 100, 100) == ONLY_WITH_SPOT


def test_with_spot_the_runtime_is_at_most_an_hour() -> None:
    assert refusal(True, 3600, None) is None
    assert refusal(True, 3601, None) == RUNTIME_TOO_LONG


@pytest.mark.parametrize(
    ("runtime", "wait", "message"),
    [
        (1000, 1000, None),  # exactly the runtime
        (1000, 999, wait_out_of_range(1000)),  # just under it
        (1000, 3600, None),  # exactly the hour
        (1000, 3601, wait_out_of_range(1000)),  # just over it
        (3600, 3600, None),
        (1200, None, None),  # no wait given: SageMaker's own default applies
    ],
)
def test_with_spot_the_wait_lies_between_the_runtime_and_the_hour(
    runtime: int, wait: int | None, message: str | None
) -> None:
    assert refusal(True, runtime, wait) == message


def test_the_tuning_defaults_apply_the_spot_rules() -> None:
    assert TuningDefaults(use_spot=True, max_runtime_seconds=1800, max_wait_seconds=1800)
    with pytest.raises(ValidationError) as raised:
        TuningDefaults(use_spot=True, max_runtime_seconds=1800, max_wait_seconds=1799)
    assert raised.value.errors()[0]["msg"] == f"Value error, {wait_out_of_range(1800)}"
