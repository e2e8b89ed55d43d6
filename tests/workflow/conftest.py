"""The synthesized stack, once per test session (jsii start-up and synth take seconds)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from offline.runtime import OfflineWorkflow
from offline.scripted import Scenario
from offline.template import synthesize

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE_REQUEST = ROOT / "examples" / "requests" / "tune-ntm.json"
EXAMPLE_DATA = ROOT / "examples" / "data"


@pytest.fixture(scope="session")
def template() -> dict[str, Any]:
    return synthesize()


@pytest.fixture
def workflow(template: dict[str, Any]) -> Callable[..., OfflineWorkflow]:
    """Open an offline workflow with the example dataset in the data bucket."""
    opened: list[OfflineWorkflow] = []

    def open_workflow(
        scenario: Scenario | None = None, stack: dict[str, Any] | None = None
    ) -> OfflineWorkflow:
        wf = OfflineWorkflow(stack or template, scenario=scenario).__enter__()
        opened.append(wf)
        wf.upload_folder(EXAMPLE_DATA)
        return wf

    yield open_workflow  # type: ignore[misc]
    for wf in reversed(opened):
        wf.__exit__(None, None, None)


def example_request(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(EXAMPLE_REQUEST.read_text())
    body.update(changes)
    return body


def encode(body: dict[str, Any]) -> bytes:
    return json.dumps(body).encode()
