"""SageMaker Processing, offline: the dataset preparation job runs in-process.

The job's code is the same ``preparation`` package the deployed job unpacks from its asset;
its inputs are downloaded from the emulated data bucket and its outputs uploaded back, as
Processing does with ``S3UploadMode: EndOfJob``.
"""

from __future__ import annotations

import json
import tempfile
import threading
import traceback
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ntm_tuning.locations import split_uri

from .sagemaker import check_shape, client_error, download_s3_prefix


@dataclass
class _ProcessingJob:
    request: dict[str, Any]
    arn: str
    created: datetime
    status: str = "InProgress"
    ended: datetime | None = None
    failure_reason: str | None = None
    exit_message: str | None = None
    done: threading.Event = field(default_factory=threading.Event)


class LocalProcessing:
    """CreateProcessingJob and DescribeProcessingJob for the preparation job."""

    def __init__(self, s3: Any, *, region: str, account: str) -> None:
        self.s3 = s3
        self.region = region
        self.account = account
        self.jobs: dict[str, _ProcessingJob] = {}
        self._lock = threading.Lock()

    def create_processing_job(self, **request: Any) -> dict[str, Any]:
        check_shape("CreateProcessingJob", request)
        name = request["ProcessingJobName"]
        with self._lock:
            if name in self.jobs:
                raise client_error(
                    "CreateProcessingJob", "ResourceInUse", f"processing job {name} already exists"
                )
            arn = f"arn:aws:sagemaker:{self.region}:{self.account}:processing-job/{name.lower()}"
            job = _ProcessingJob(request=request, arn=arn, created=datetime.now(UTC))
            self.jobs[name] = job
        threading.Thread(target=self._run, args=(job,), daemon=True).start()
        return {"ProcessingJobArn": arn}

    def describe_processing_job(self, **request: Any) -> dict[str, Any]:
        name = request["ProcessingJobName"]
        job = self.jobs.get(name)
        if job is None:
            raise client_error(
                "DescribeProcessingJob", "ValidationException", f"{name} does not exist"
            )
        described = {
            **{k: v for k, v in job.request.items() if k != "Tags"},
            "ProcessingJobArn": job.arn,
            "ProcessingJobStatus": job.status,
            "CreationTime": job.created,
        }
        if job.ended:
            described["ProcessingEndTime"] = job.ended
        if job.failure_reason:
            described["FailureReason"] = job.failure_reason
        if job.exit_message:
            described["ExitMessage"] = job.exit_message
        return described

    def stop_processing_job(self, **request: Any) -> dict[str, Any]:
        job = self.jobs.get(request["ProcessingJobName"])
        if job is None or job.status != "InProgress":
            raise client_error("StopProcessingJob", "ValidationException", "not in progress")
        job.status = "Stopping"
        return {}

    def _run(self, job: _ProcessingJob) -> None:
        from preparation.config import PreparationConfig
        from preparation.prepare import NoUsableDocuments, prepare

        try:
            inputs = {
                item["InputName"]: item["S3Input"] for item in job.request["ProcessingInputs"]
            }
            output = job.request["ProcessingOutputConfig"]["Outputs"][0]["S3Output"]
            with tempfile.TemporaryDirectory(prefix="ntm-processing-") as work:
                corpus = Path(work, "corpus")
                download_s3_prefix(self.s3, inputs["corpus"]["S3Uri"], corpus)
                config = PreparationConfig.from_dict(
                    json.loads(self._read(inputs["config"]["S3Uri"]))
                )
                dataset = Path(work, "output")
                try:
                    prepare(corpus, dataset, config)
                except NoUsableDocuments as error:
                    # The deployed job ends normally here too; dataset.json says why.
                    job.exit_message = str(error)
                self._upload(dataset, output["S3Uri"])
            job.status = "Stopped" if job.status == "Stopping" else "Completed"
        except Exception as error:  # a failed job reports, it does not crash the runtime
            job.status = "Failed"
            job.failure_reason = f"{type(error).__name__}: {error}"
            job.exit_message = traceback.format_exc(limit=3)
        finally:
            job.ended = datetime.now(UTC)
            job.done.set()

    def _read(self, uri: str) -> bytes:
        bucket, key = split_uri(uri)
        return bytes(self.s3.get_object(Bucket=bucket, Key=key)["Body"].read())

    def _upload(self, folder: Path, uri: str) -> None:
        bucket, prefix = split_uri(uri)
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            self.s3.put_object(
                Bucket=bucket,
                Key=prefix + path.relative_to(folder).as_posix(),
                Body=path.read_bytes(),
            )


class OfflineSageMaker:
    """One SageMaker client for the handlers: tuning calls go to the tuning engine,
    processing calls to the local processing."""

    def __init__(self, tuning: Any, processing: LocalProcessing) -> None:
        self.tuning = tuning
        self.processing = processing

    def __getattr__(self, name: str) -> Any:
        if name.endswith("processing_job"):
            return getattr(self.processing, name)
        return getattr(self.tuning, name)
