"""Metrics go out in CloudWatch's embedded format, unless Powertools' switch turns them off."""

from __future__ import annotations

import json

import pytest
from ntm_tuning.handlers._metrics import emit_metric


def test_metric_is_printed_in_embedded_metric_format(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("POWERTOOLS_METRICS_DISABLED", raising=False)
    emit_metric("Outcome", 1, outcome="Succeeded")
    (line,) = [json.loads(text) for text in capsys.readouterr().out.splitlines() if "_aws" in text]
    assert line["Outcome"] == [1.0]
    assert line["outcome"] == "Succeeded"
    assert line["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "NtmTuning"


def test_metrics_can_be_switched_off(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "true")
    emit_metric("Outcome", 1, outcome="Succeeded")
    assert "_aws" not in capsys.readouterr().out
