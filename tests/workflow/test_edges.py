"""Requests at AWS's documented edges, through the synthesized state machine offline: each ends
in exactly one terminal event of the right kind."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from offline.runtime import OfflineWorkflow
from tests.workflow.conftest import encode, example_request
from tests.workflow.test_scenarios import engine, only_event, run_upload

Open = Callable[..., OfflineWorkflow]


def test_a_volume_larger_than_the_local_nvme_storage_is_rejected(workflow: Open) -> None:
    wf = workflow()
    body = example_request(resources={"instance_type": "ml.g4dn.xlarge", "volume_size_gb": 500})
    result = run_upload(wf, encode(body))
    assert result.status == "SUCCEEDED"  # handled
    detail = only_event(wf, "NTM Tuning Request Rejected")
    (violation,) = detail["violations"]
    assert (violation["field"], violation["rule"]) == (
        "resources.volume_size_gb",
        "instance_storage",
    )
    assert "at most 125" in violation["message"]
    assert engine(wf).jobs == {}


@pytest.mark.parametrize("volume", [125, 124])
def test_a_volume_that_fits_the_local_storage_is_tuned(workflow: Open, volume: int) -> None:
    wf = workflow()
    body = example_request(resources={"instance_type": "ml.g4dn.xlarge", "volume_size_gb": volume})
    result = run_upload(wf, encode(body))
    assert result.status == "SUCCEEDED", result.cause
    only_event(wf, "NTM Tuning Job Succeeded")
    (job,) = engine(wf).jobs.values()
    config: dict[str, Any] = job.request["TrainingJobDefinition"]["ResourceConfig"]
    assert (config["InstanceType"], config["VolumeSizeInGB"]) == ("ml.g4dn.xlarge", volume)
