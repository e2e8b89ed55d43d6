"""SageMaker Processing, offline: the dataset preparation job runs in-process.

The job's code is the same ``preparation`` package the deployed job unpacks from its asset;
its inputs are downloaded from the emulated data bucket and its outputs uploaded back, as
Processing does with ``S3UploadMode: EndOfJob``. A corpus loaded from a local folder
(``LocalFolders``) is read from that folder instead of being copied out of the emulated bucket
again, as long as the bucket still holds exactly what was loaded from it.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
import threading
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ntm_tuning.locations import split_uri

from .sagemaker import check_shape, client_error, download_s3_prefix


@dataclass(frozen=True)
class _LoadedFolder:
    folder: Path
    bucket: str
    prefix: str
    etags: dict[str, str]  # key -> ETag of what was loaded


class LocalFolders:
    """Local folders loaded into emulated buckets, to be served to the jobs from the folder.

    S3 holds the same bytes under the same keys, so the handlers list, count and read them as
    they would in AWS; a job whose input names the loaded prefix (or a folder of it) reads the
    local files, which saves copying every object out of the emulated store a second time.
    """

    def __init__(self) -> None:
        self.loaded: list[_LoadedFolder] = []

    def load(self, folder: Path, bucket: str, prefix: str, backend: Any) -> dict[str, Path]:
        """Put every file under ``folder`` into ``bucket`` (keys: ``prefix`` + relative path)
        through the emulator's own store, without an S3 request per file; returns key -> file.

        Files are those the preparation job reads: ``preparation.corpus.walk``'s order and
        rules (symbolic links to folders are not followed).
        """
        from preparation.corpus import Report, walk

        folder = Path(folder)
        files: dict[str, Path] = {}
        etags: dict[str, str] = {}
        for path in walk(folder, Report()):
            if not path.is_file():
                continue
            key = prefix + path.relative_to(folder).as_posix()
            body = path.read_bytes()
            backend.put_object(bucket, key, body)
            files[key] = path
            etags[key] = hashlib.md5(body, usedforsecurity=False).hexdigest()
        self.loaded.append(_LoadedFolder(folder, bucket, prefix, etags))
        return files

    def local_path(self, bucket: str, key: str) -> Path | None:
        """Where a key (an object, or a prefix of a folder) of a loaded folder is on disk."""
        for loaded in reversed(self.loaded):
            if bucket == loaded.bucket and key.startswith(loaded.prefix):
                return loaded.folder / key[len(loaded.prefix) :]
        return None

    def folder_for(self, uri: str, backend: Any) -> Path | None:
        """The local folder that holds exactly what an ``S3Prefix`` input names, or None.

        Only a prefix that is the loaded prefix or one of its folders (ending in ``/``) maps to a
        folder; and only while the bucket holds the loaded keys, unchanged, and nothing else
        under that prefix.
        """
        bucket, prefix = split_uri(uri)
        for loaded in reversed(self.loaded):
            if bucket != loaded.bucket or not prefix.startswith(loaded.prefix):
                continue
            if prefix != loaded.prefix and not prefix.endswith("/"):
                continue
            folder = loaded.folder / prefix[len(loaded.prefix) :]
            expected = {k: v for k, v in loaded.etags.items() if k.startswith(prefix)}
            if folder.is_dir() and _holds_exactly(backend, bucket, prefix, expected):
                return folder
        return None


def _holds_exactly(backend: Any, bucket: str, prefix: str, etags: dict[str, str]) -> bool:
    """Whether the emulated bucket's current objects under ``prefix`` are exactly ``etags``."""
    found = {}
    for key in list(backend.get_bucket(bucket).keys.keys()):
        if key.startswith(prefix) and not key.endswith("/"):
            current = backend.get_object(bucket, key)
            if current is None:  # a delete marker on a versioned bucket
                continue
            found[key] = current.etag.strip('"')
    return found == etags


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

    def __init__(
        self,
        s3: Any,
        *,
        region: str,
        account: str,
        folders: LocalFolders | None = None,
        s3_backend: Any = None,
        on_change: Callable[[], None] | None = None,
    ) -> None:
        self.s3 = s3
        self.region = region
        self.account = account
        self.folders = folders or LocalFolders()
        self.s3_backend = s3_backend
        self.on_change = on_change
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
                corpus = self._local_input(inputs["corpus"]["S3Uri"])
                if corpus is None:
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
            if self.on_change:
                self.on_change()

    def _local_input(self, uri: str) -> Path | None:
        if self.s3_backend is None:
            return None
        return self.folders.folder_for(uri, self.s3_backend)

    def _read(self, uri: str) -> bytes:
        bucket, key = split_uri(uri)
        return bytes(self.s3.get_object(Bucket=bucket, Key=key)["Body"].read())

    def _upload(self, folder: Path, uri: str) -> None:
        bucket, prefix = split_uri(uri)
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            key = prefix + path.relative_to(folder).as_posix()
            if self.s3_backend is not None:
                # Into the emulator's store directly, as the corpus was loaded: the same
                # objects, without a request's serialization and parsing each.
                self.s3_backend.put_object(bucket, key, path.read_bytes())
            else:
                self.s3.put_object(Bucket=bucket, Key=key, Body=path.read_bytes())


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
