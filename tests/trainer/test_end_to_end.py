"""The deployed workflow, offline, with real tuning: the example request and data go in, NTM
models are trained in worker processes, and the Succeeded event names a real model."""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path
from typing import Any

import jsonschema

from offline.local_engine import LocalTuner
from offline.runtime import Clock, OfflineWorkflow

from .conftest import EXAMPLE_DATA, ROOT, WORDS

EXAMPLE_REQUEST = ROOT / "examples" / "requests" / "tune-ntm.json"
SCHEMA = ROOT / "schemas" / "ntm-tuning-job-succeeded.schema.json"


def test_example_request_tunes_real_models(template: dict[str, Any], tmp_path: Path) -> None:
    body = json.loads(EXAMPLE_REQUEST.read_text())
    body["hyperparameters"] = {"num_topics": 6, "epochs": 6}
    body["resource_limits"] = {"max_jobs": 4, "max_parallel_jobs": 2}
    progress: list[tuple[int, int, float | None]] = []
    tuners: list[LocalTuner] = []

    def local_tuner(s3: Any) -> LocalTuner:
        tuners.append(
            LocalTuner(
                s3,
                workdir=tmp_path / "tuner",
                device="cpu",
                on_progress=lambda *args: progress.append(args),
            )
        )
        return tuners[-1]

    # Waits run at 1/100 of their length, so the workflow's polling leaves the cores to training.
    with OfflineWorkflow(template, engine=local_tuner, clock=Clock(scale=0.01)) as wf:
        try:
            wf.upload_folder(EXAMPLE_DATA)
            execution = wf.upload_request("requests/tune-ntm.json", json.dumps(body).encode())
            assert execution is not None
            result = wf.wait(execution, timeout=240)
            events = wf.published()
            detail = events[0]["detail"] if events else {}
            best = detail.get("best_training_job", {})
            bucket, _, key = (
                str(best.get("model_artifact_uri", "")).removeprefix("s3://").partition("/")
            )
            artifact = wf.s3.get_object(Bucket=bucket, Key=key)["Body"].read() if key else b""
            described = (
                tuners[0].describe_training_job(TrainingJobName=best["name"]) if best else {}
            )
            report_bucket, _, report_key = detail["report_uri"].removeprefix("s3://").partition("/")
            report = json.loads(
                wf.s3.get_object(Bucket=report_bucket, Key=report_key)["Body"].read()
            )
        finally:
            for tuner in tuners:
                tuner.close()

    assert result.status == "SUCCEEDED", (result.error, result.cause)
    assert [e["detail-type"] for e in events] == ["NTM Tuning Job Succeeded"]
    jsonschema.validate(detail, json.loads(SCHEMA.read_text()))
    assert detail["tuning_job"]["counters"]["completed"] == 4
    assert bucket == wf.artifacts_bucket
    assert best["static_hyperparameters"] == {
        "epochs": "6",
        "feature_dim": "130",
        "num_topics": "6",
    }
    assert progress[-1][:2] == (4, 4)
    quality = detail["topic_quality"]
    assert -1 <= quality["npmi"] <= 1 and 1 / 6 <= quality["uniqueness"] <= 1

    with tarfile.open(fileobj=io.BytesIO(artifact), mode="r:gz") as archive:
        names = set(archive.getnames())
        topics = json.loads(archive.extractfile("topics.json").read())  # type: ignore[union-attr]
        metrics = json.loads(archive.extractfile("metrics.json").read())  # type: ignore[union-attr]
    assert {"model.pt", "topic_word.npy", "hyperparameters.json", "metrics.json"} <= names
    assert len(topics) == 6 and all(set(t["words"]) <= set(WORDS) for t in topics)
    assert metrics["final"]["validation:total_loss"] == best["objective"]["value"]
    # The topics came back through CloudWatch Logs and NTM's log format: the trained model's.
    assert [t["words"] for t in detail["topics"]] == [t["words"] for t in topics]
    assert detail["tu"] == round(quality["uniqueness"], 2)
    assert detail["wetc"] is None and "offline" in detail["topics_source"]["wetc_unavailable"]
    assert detail["topics_source"]["log_stream"].startswith(f"{best['name']}/algo-1-")
    assert detail["topics_source"]["npmi_channel"] == "test"
    assert -1 <= detail["npmi"] <= 1
    completed = [j for j in report["training_jobs"] if j["status"] == "Completed"]
    assert completed and all(j["tu"] is not None and j["npmi"] is not None for j in completed)
    reported = {m["MetricName"] for m in described["FinalMetricDataList"]}
    assert {
        "validation:total_loss",
        "test:total_loss",
        "topics:npmi",
        "topics:uniqueness",
    } <= reported
