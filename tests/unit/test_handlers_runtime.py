"""What every handler shares: one client per service from ``aws.client``, and the offline
engine's name from the environment."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from ntm_tuning import aws
from ntm_tuning.events import ENGINE_VARIABLE
from ntm_tuning.handlers import _runtime


class Stand:
    def __init__(self, name: str) -> None:
        self.name = name


@pytest.fixture
def stands() -> Iterator[dict[str, Stand]]:
    """A stand-in for each service the handlers use; an unknown name gets none."""
    made = {name: Stand(name) for name in ("sagemaker", "events", "logs", "dynamodb")}

    def provider(service: str) -> Stand:
        return made[service]  # KeyError for any other service name

    with aws.use_clients(provider):
        _runtime.reset()
        yield made
    _runtime.reset()


def test_each_client_is_the_one_of_its_own_service(stands: dict[str, Stand]) -> None:
    assert _runtime.sagemaker_client() is stands["sagemaker"]
    assert _runtime.events_client() is stands["events"]
    assert _runtime.logs_client() is stands["logs"]
    assert _runtime.dynamodb_client() is stands["dynamodb"]
    assert _runtime.tuning_jobs().sagemaker is stands["sagemaker"]


def test_the_engine_is_read_from_its_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENGINE_VARIABLE, "local")
    assert _runtime.engine() == "local"
    monkeypatch.setenv(ENGINE_VARIABLE, "")
    assert _runtime.engine() is None
    monkeypatch.delenv(ENGINE_VARIABLE)
    assert _runtime.engine() is None
