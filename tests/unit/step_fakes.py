"""In-memory stand-ins for the ledger, S3, SageMaker and EventBridge, for unit tests of the
workflow's steps: each records what it was asked, so a test reads back every argument, and
answers what the test set up (no moto, no AWS client)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError
from ntm_tuning.aws import ObjectTooLarge


def client_error(code: str, operation: str = "Operation", message: str = "refused") -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": message}}, operation)


class FakeLedger:
    """The ledger's calls the steps make, kept in dicts; ``calls`` lists them in order."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, tuple[Any, ...], dict[str, Any]]] = []
        self.claims: dict[str, str] = {}
        self.jobs: dict[str, dict[str, Any]] = {}
        self.outcomes: dict[str, dict[str, Any]] = {}
        self.progress_by_execution: dict[str, dict[str, Any]] = {}
        self.leases: set[str] = set()
        self.acquire_answer: tuple[bool, int] | None = None
        self.release_answer: tuple[bool, int] | None = None
        self.failure: dict[str, Exception] = {}

    def _record(self, name: str, *args: Any, **kwargs: Any) -> None:
        self.calls.append((name, args, kwargs))
        if name in self.failure:
            raise self.failure[name]

    def names(self) -> list[str]:
        return [name for name, _, _ in self.calls]

    def claim(self, request_id: str, execution_id: str, *, now: datetime) -> bool:
        self._record("claim", request_id, execution_id, now=now)
        owner = self.claims.setdefault(request_id, execution_id)
        return owner == execution_id

    def claimant(self, request_id: str) -> str | None:
        self._record("claimant", request_id)
        return self.claims.get(request_id)

    def record_job(
        self,
        execution_id: str,
        request: dict[str, Any],
        *,
        now: datetime,
        tuning_job_name: str | None = None,
        processing_job_name: str | None = None,
    ) -> None:
        self._record(
            "record_job",
            execution_id,
            request,
            now=now,
            tuning_job_name=tuning_job_name,
            processing_job_name=processing_job_name,
        )
        self.jobs[execution_id] = {
            "tuning_job_name": tuning_job_name,
            "processing_job_name": processing_job_name,
            # As the table keeps it: a JSON copy.
            "request": json.loads(json.dumps(request)),
        }

    def job_of(self, execution_id: str) -> dict[str, Any] | None:
        self._record("job_of", execution_id)
        return self.jobs.get(execution_id)

    def reserve_outcome(
        self, request_id: str, execution_id: str, detail_type: str, *, take_over: bool = False
    ) -> bool:
        self._record("reserve_outcome", request_id, execution_id, detail_type, take_over=take_over)
        found = self.outcomes.get(request_id)
        if found is not None and (
            found["execution_id"] != execution_id or (take_over and "event_id" in found)
        ):
            return False
        self.outcomes[request_id] = {"detail_type": detail_type, "execution_id": execution_id}
        return True

    def record_outcome(self, request_id: str, event_id: str) -> None:
        self._record("record_outcome", request_id, event_id)
        self.outcomes[request_id]["event_id"] = event_id

    def acquire(self, execution_id: str, limit: int, *, now: datetime) -> tuple[bool, int]:
        self._record("acquire", execution_id, limit, now=now)
        if self.acquire_answer is not None:
            return self.acquire_answer
        if execution_id not in self.leases and len(self.leases) < limit:
            self.leases.add(execution_id)
            return True, len(self.leases)
        return execution_id in self.leases, len(self.leases)

    def release(self, execution_id: str) -> tuple[bool, int]:
        self._record("release", execution_id)
        if self.release_answer is not None:
            return self.release_answer
        if execution_id in self.leases:
            self.leases.remove(execution_id)
            return True, len(self.leases)
        return False, len(self.leases)

    def progress(self, execution_id: str) -> dict[str, Any] | None:
        self._record("progress", execution_id)
        return self.progress_by_execution.get(execution_id)

    def record_progress(self, execution_id: str, progress: dict[str, Any]) -> bool:
        self._record("record_progress", execution_id, progress)
        self.progress_by_execution[execution_id] = json.loads(json.dumps(progress))
        return True


class FakePublisher:
    """Keeps each published event; event ids are ``event-1``, ``event-2``..."""

    def __init__(self, failure: Exception | None = None) -> None:
        self.events: list[tuple[str, dict[str, Any], list[str]]] = []
        self.failure = failure

    def publish(self, detail_type: str, detail: dict[str, Any], resources: list[str]) -> str:
        if self.failure is not None:
            raise self.failure
        self.events.append((detail_type, detail, resources))
        return f"event-{len(self.events)}"


class FakeJobs:
    """SageMaker as a test sets it up: tuning jobs and processing jobs by name, their tags and
    training jobs; errors to raise per call."""

    def __init__(self) -> None:
        self.tuning: dict[str, dict[str, Any]] = {}
        self.processing: dict[str, dict[str, Any]] = {}
        self.tag_sets: dict[str, dict[str, str]] = {}
        self.summaries: dict[str, list[dict[str, Any]]] = {}
        self.training: dict[str, dict[str, Any]] = {}
        self.errors: dict[str, Exception] = {}
        self.calls: list[tuple[str, Any]] = []
        self.created: list[dict[str, Any]] = []

    def _record(self, name: str, argument: Any) -> None:
        self.calls.append((name, argument))
        if name in self.errors:
            raise self.errors[name]

    def names(self) -> list[str]:
        return [name for name, _ in self.calls]

    def create(self, create_request: dict[str, Any]) -> str:
        self._record("create", create_request)
        self.created.append(create_request)
        return f"arn:tuning/{create_request['HyperParameterTuningJobName']}"

    def describe(self, name: str) -> dict[str, Any]:
        self._record("describe", name)
        return dict(self.tuning[name])

    def tags(self, arn: str) -> dict[str, str]:
        self._record("tags", arn)
        return dict(self.tag_sets.get(arn, {}))

    def training_jobs(self, name: str) -> list[dict[str, Any]]:
        self._record("training_jobs", name)
        return list(self.summaries.get(name, []))

    def describe_training_job(self, name: str) -> dict[str, Any]:
        self._record("describe_training_job", name)
        return dict(self.training[name])

    def stop(self, name: str) -> None:
        self._record("stop", name)

    def create_processing(self, create_request: dict[str, Any]) -> str:
        self._record("create_processing", create_request)
        self.created.append(create_request)
        return f"arn:processing/{create_request['ProcessingJobName']}"

    def describe_processing(self, name: str) -> dict[str, Any]:
        self._record("describe_processing", name)
        return dict(self.processing[name])

    def stop_processing(self, name: str) -> None:
        self._record("stop_processing", name)


class FakeStore:
    """S3 as a dict of (bucket, key) -> bytes."""

    def __init__(self, objects: dict[tuple[str, str], bytes] | None = None) -> None:
        self.objects: dict[tuple[str, str], bytes] = dict(objects or {})
        self.reads: list[tuple[str, str, str | None, int]] = []
        self.written: dict[tuple[str, str], Any] = {}
        self.counted: list[tuple[str, str, int]] = []

    def read(self, bucket: str, key: str, version_id: str | None, *, limit: int) -> bytes | None:
        self.reads.append((bucket, key, version_id, limit))
        data = self.objects.get((bucket, key))
        if data is not None and len(data) > limit:
            raise ObjectTooLarge(len(data))
        return data

    def put_json(self, bucket: str, key: str, document: Any) -> str:
        self.written[(bucket, key)] = document
        return f"s3://{bucket}/{key}"

    def count_objects(self, bucket: str, prefix: str, *, up_to: int) -> int:
        self.counted.append((bucket, prefix, up_to))
        found = sum(
            1
            for (b, key), data in self.objects.items()
            if b == bucket and key.startswith(prefix) and data
        )
        return min(found, up_to)

    def count_lines(self, bucket: str, key: str) -> int | None:
        data = self.objects.get((bucket, key))
        if data is None:
            return None
        return len(data.splitlines())
