"""A handler imports what it uses: those that read no settings and publish no event do not
load pydantic (about a third of `import boto3` on a cold start)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

LAMBDAS = Path(__file__).resolve().parents[2] / "lambdas"


def loaded(module: str) -> set[str]:
    """The modules a fresh interpreter holds after importing ``module``."""
    probe = f"import sys, {module}; print(' '.join(sys.modules))"
    env = {**os.environ, "PYTHONPATH": str(LAMBDAS), "POWERTOOLS_TRACE_DISABLED": "true"}
    done = subprocess.run(
        [sys.executable, "-c", probe], env=env, capture_output=True, text=True, check=True
    )
    return set(done.stdout.split())


@pytest.mark.parametrize(
    "handler", ["stop_tuning_job", "describe_dataset_preparation"], ids=lambda name: name
)
def test_handlers_that_need_no_model_do_not_load_pydantic(handler: str) -> None:
    packages = loaded(f"ntm_tuning.handlers.{handler}")
    assert {"boto3", "aws_lambda_powertools"} <= packages
    assert "pydantic" not in packages


def test_a_handler_that_reads_settings_loads_them_at_import() -> None:
    # Settings are read on every invocation: loaded during the function's init, not its first
    # request.
    assert "ntm_tuning.settings" in loaded("ntm_tuning.handlers.start_tuning_job")


@pytest.mark.parametrize(
    "handler",
    [
        "acquire_capacity",
        "release_capacity",
        "start_tuning_job",
        "start_dataset_preparation",
        "stop_tuning_job",
        "describe_dataset_preparation",
    ],
    ids=lambda name: name,
)
def test_handlers_that_publish_nothing_do_not_load_the_event_contracts(handler: str) -> None:
    assert "ntm_tuning.events" not in loaded(f"ntm_tuning.handlers.{handler}")


def test_a_handler_that_publishes_loads_the_event_contracts_at_import() -> None:
    assert "ntm_tuning.events" in loaded("ntm_tuning.handlers.publish_outcome")
