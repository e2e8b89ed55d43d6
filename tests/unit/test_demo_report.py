"""What ``make demo`` prints about the best model, warnings included."""

from __future__ import annotations

import io
import json
import tarfile
from typing import Any

from ntm_tuning import events

from offline.demo import _report


class _Body:
    def __init__(self, data: bytes) -> None:
        self.data = data

    def read(self) -> bytes:
        return self.data


class _S3:
    def __init__(self, artifact: bytes) -> None:
        self.artifact = artifact

    def get_object(self, Bucket: str, Key: str) -> dict[str, Any]:
        assert (Bucket, Key) == ("artifacts", "jobs/best/output/model.tar.gz")
        return {"Body": _Body(self.artifact)}


class _Workflow:
    def __init__(self, artifact: bytes) -> None:
        self.s3 = _S3(artifact)


def _artifact(topics: list[list[str]]) -> bytes:
    data = json.dumps([{"topic": k, "words": words} for k, words in enumerate(topics)]).encode()
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        info = tarfile.TarInfo("topics.json")
        info.size = len(data)
        archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def _event(warnings: list[dict[str, str]]) -> dict[str, Any]:
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
        },
    }


def test_the_demo_prints_each_warning_of_the_best_model() -> None:
    warnings = [
        {"code": code, "message": message} for code, message in events.MODEL_WARNINGS.items()
    ]
    log = io.StringIO()
    _report(_event(warnings), _Workflow(_artifact([["a", "b"], ["a", "b"]])), log)
    printed = log.getvalue()
    for code, message in events.MODEL_WARNINGS.items():
        assert f"WARNING ({code}): {message}" in printed
    assert "a b" in printed


def test_no_warning_no_warning_line() -> None:
    log = io.StringIO()
    _report(_event([]), _Workflow(_artifact([["a", "b"], ["c", "d"]])), log)
    assert "WARNING" not in log.getvalue()
    assert "c d" in log.getvalue()
