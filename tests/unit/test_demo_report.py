"""What ``make demo`` prints about the best model: warnings, and its topics as read back from
its training log."""

from __future__ import annotations

import io
import json
from typing import Any

from ntm_tuning import events

from offline.demo import _report


class _Body:
    def __init__(self, data: bytes) -> None:
        self.data = data

    def read(self) -> bytes:
        return self.data


class _S3:
    def __init__(self, report: bytes) -> None:
        self.report = report

    def get_object(self, Bucket: str, Key: str) -> dict[str, Any]:
        assert (Bucket, Key) == ("artifacts", "reports/tuning.json")
        return {"Body": _Body(self.report)}


class _Workflow:
    def __init__(self, report: bytes) -> None:
        self.s3 = _S3(report)


def _report_of(topics: list[list[str]]) -> bytes:
    """The tuning job's report: every job with its topics, TU and NPMI."""
    job = {
        "rank": 1,
        "name": "best",
        "status": "Completed",
        "objective": 218.4,
        "tu": 0.9,
        "npmi": -0.23,
        "pareto": True,
        "topics": [{"words": words, "tu": 0.9, "wetc": None} for words in topics],
        "topics_unavailable": None,
    }
    return json.dumps(
        {"training_jobs": [job], "pareto_front": {"criteria": ["objective (min)", "tu (max)"]}}
    ).encode()


def _event(warnings: list[dict[str, str]], topics: list[list[str]]) -> dict[str, Any]:
    return {
        "detail-type": "NTM Tuning Job Succeeded",
        "detail": {
            "best_training_job": {
                "name": "best",
                "objective": {"metric_name": "validation:total_loss", "value": 218.4},
                "tuned_hyperparameters": {"optimizer": "adadelta"},
                "static_hyperparameters": {"num_topics": "2"},
                "model_artifact_uri": "s3://artifacts/jobs/best/output/model.tar.gz",
            },
            "topic_quality": {"npmi": -0.23, "uniqueness": 0.9},
            "warnings": warnings,
            "report_uri": "s3://artifacts/reports/tuning.json",
            # The best job's topics as the summary read them back from its training log.
            "topics": [{"words": words, "tu": 0.9, "wetc": None} for words in topics],
            "tu": 0.9,
            "wetc": None,
            "npmi": -0.23,
            "topics_source": {
                "log_group": "/aws/sagemaker/TrainingJobs",
                "log_stream": "best/algo-1-1",
                "epoch": "final",
                "instances": 1,
                "topics_total": len(topics),
                "topics_shown": len(topics),
                "wetc_unavailable": "no word embeddings offline",
                "npmi_channel": "test",
                "npmi_documents": 10,
            },
        },
    }


def test_the_demo_prints_each_warning_of_the_best_model() -> None:
    warnings = [
        {"code": code, "message": message} for code, message in events.MODEL_WARNINGS.items()
    ]
    log = io.StringIO()
    topics = [["a", "b"], ["a", "b"]]
    _report(_event(warnings, topics), _Workflow(_report_of(topics)), log)
    printed = log.getvalue()
    for code, message in events.MODEL_WARNINGS.items():
        assert f"WARNING ({code}): {message}" in printed
    assert "a b" in printed


def test_no_warning_no_warning_line() -> None:
    log = io.StringIO()
    topics = [["a", "b"], ["c", "d"]]
    _report(_event([], topics), _Workflow(_report_of(topics)), log)
    assert "WARNING" not in log.getvalue()
    assert "c d" in log.getvalue()


def test_the_demo_shows_the_topics_read_from_the_log_and_every_jobs_tu_and_npmi() -> None:
    log = io.StringIO()
    topics = [["alpha", "beta"], ["gamma", "delta"]]
    _report(_event([], topics), _Workflow(_report_of(topics)), log)
    printed = log.getvalue()
    assert "stream best/algo-1-1 (epoch final): TU 0.9" in printed
    assert "WETC: not logged (no word embeddings offline)" in printed
    assert "NPMI on the held-out test channel (10 documents): -0.230" in printed
    assert " 1 [tu 0.90]: gamma delta" in printed
    assert "* " in printed and "TU 0.90 NPMI -0.230" in printed
