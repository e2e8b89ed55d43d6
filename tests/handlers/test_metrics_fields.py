"""Every part of an emitted metric: its name, unit, value, namespace and each dimension."""

from __future__ import annotations

import json
from typing import Any

import pytest
from ntm_tuning import metrics
from ntm_tuning.handlers._metrics import emit_metric


def emitted(capsys: pytest.CaptureFixture[str]) -> list[dict[str, Any]]:
    return [json.loads(text) for text in capsys.readouterr().out.splitlines() if "_aws" in text]


def test_each_field_of_the_metric_is_written(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("POWERTOOLS_METRICS_DISABLED", raising=False)
    monkeypatch.delenv("POWERTOOLS_SERVICE_NAME", raising=False)
    emit_metric(metrics.IN_FLIGHT, 3, outcome="Failed", stage="describe")
    (line,) = emitted(capsys)
    assert line["_aws"]["CloudWatchMetrics"] == [
        {
            "Namespace": "NtmTuning",
            "Dimensions": [["outcome", "stage"]],
            "Metrics": [{"Name": "TuningJobsInFlight", "Unit": "Count"}],
        }
    ]
    assert line["TuningJobsInFlight"] == [3.0]
    assert line["outcome"] == "Failed"
    assert line["stage"] == "describe"


def test_the_outcome_dimension_of_each_terminal_event() -> None:
    assert metrics.OUTCOMES == {
        "NTM Tuning Job Succeeded": "Succeeded",
        "NTM Tuning Request Rejected": "Rejected",
        "NTM Tuning Job Failed": "Failed",
        "NTM Tuning Job Stopped": "Stopped",
    }
