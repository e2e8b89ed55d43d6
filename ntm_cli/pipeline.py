"""What the CLI does with the stack: submit a request, see where it stands, read its outcome.

Everything here goes through the stack's own contracts: the request model (validated before
anything is uploaded), the request id the workflow derives from a delivery, the ledger (who
handles a request, the last progress event of its tuning job), the execution's history (the
state the outcome event was built from), and the report the summary step writes.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import boto3
from ntm_tuning import events, intake, naming, outcomes
from ntm_tuning.errors import Violation
from ntm_tuning.ledger import Ledger
from ntm_tuning.locations import split_uri

from .errors import INVALID_INPUT, NOT_FOUND, CliError, fail
from .stack import StackResources

TERMINAL = ("SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED")
CLI_SOURCE = "ntm-tuning.cli"


class InvalidRequest(CliError):
    def __init__(self, path: Path, violations: list[Violation]) -> None:
        super().__init__(
            f"{path} is not a valid tuning request ({len(violations)} problem(s))", INVALID_INPUT
        )
        self.path = path
        self.violations = violations


def read_request(path: Path) -> tuple[bytes, dict[str, Any]]:
    """The request file's bytes and body, checked as the workflow will check it first."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        fail(f"{path}: no such file", INVALID_INPUT)
    except OSError as error:
        fail(f"{path}: cannot read it ({error.strerror})", INVALID_INPUT)
    if len(raw) > intake.MAX_REQUEST_BYTES:
        raise InvalidRequest(
            path,
            [
                Violation(
                    "request",
                    "max_size",
                    f"is {len(raw)} bytes; at most {intake.MAX_REQUEST_BYTES}",
                )
            ],
        )
    try:
        body = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as error:
        raise InvalidRequest(
            path, [Violation("request", "utf8", f"is not UTF-8 text (byte {error.start})")]
        ) from error
    except json.JSONDecodeError as error:
        raise InvalidRequest(
            path,
            [Violation("request", "json", f"is not JSON: {error.msg} at line {error.lineno}")],
        ) from error
    except RecursionError as error:
        raise InvalidRequest(
            path, [Violation("request", "json_depth", "nests arrays or objects too deeply")]
        ) from error
    violations = intake.request_violations(body)
    if violations:
        raise InvalidRequest(path, violations)
    return raw, body


@dataclass(frozen=True)
class Submission:
    request_id: str
    delivered_as: str  # s3://bucket/key or event:<id>
    uploaded: int  # data or corpus objects uploaded


@dataclass(frozen=True)
class Snapshot:
    """Where a request stands: its execution, the workflow's state, its tuning job's progress."""

    request_id: str
    execution_arn: str
    status: str
    state: str | None
    started: datetime | None
    stopped: datetime | None
    request_name: str | None
    tuning_job_name: str | None
    progress: dict[str, Any] | None

    @property
    def ended(self) -> bool:
        return self.status in TERMINAL


@dataclass(frozen=True)
class Outcome:
    """How a request ended: the event the workflow published (rebuilt from the state it was
    published from), or, for an execution that ended before publishing, its error."""

    status: str
    detail_type: str | None
    detail: dict[str, Any] | None
    error: str | None
    cause: str | None

    @property
    def succeeded(self) -> bool:
        return self.detail_type == events.SUCCEEDED


class Pipeline:
    def __init__(self, aws: boto3.Session, stack: StackResources) -> None:
        self.aws = aws
        self.stack = stack
        self.s3 = aws.client("s3")
        self.events = aws.client("events")
        self.sfn = aws.client("stepfunctions")
        self.ledger = Ledger(stack.ledger_table, dynamodb=aws.client("dynamodb"))

    # -- submitting --------------------------------------------------------------------------
    def upload_folder(
        self, folder: Path, prefix: str = "", on_file: Callable[[str], None] | None = None
    ) -> int:
        if not folder.is_dir():
            fail(f"{folder}: not a folder", INVALID_INPUT)
        count = 0
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            key = prefix + path.relative_to(folder).as_posix()
            self.s3.upload_file(str(path), self.stack.data_bucket, key)
            count += 1
            if on_file:
                on_file(key)
        return count

    def corpus_prefix(self, body: dict[str, Any]) -> str:
        """The key prefix of a corpus request's documents in the data bucket."""
        corpus = body.get("corpus")
        if not isinstance(corpus, dict):
            fail("--corpus needs a corpus request (one with a `corpus` section)", INVALID_INPUT)
        prefix = str(corpus["prefix"])
        if prefix.startswith("s3://"):
            bucket, prefix = split_uri(prefix)
            if bucket != self.stack.data_bucket:
                fail(
                    f"corpus.prefix names the bucket {bucket}; the stack's data bucket is "
                    f"{self.stack.data_bucket}",
                    INVALID_INPUT,
                )
        return prefix if not prefix or prefix.endswith("/") else prefix + "/"

    def submit(
        self,
        path: Path,
        raw: bytes,
        body: dict[str, Any],
        *,
        data: Path | None = None,
        corpus: Path | None = None,
        as_event: bool = False,
        on_file: Callable[[str], None] | None = None,
    ) -> Submission:
        uploaded = 0
        if data is not None:
            uploaded += self.upload_folder(data, "", on_file)
        if corpus is not None:
            uploaded += self.upload_folder(corpus, self.corpus_prefix(body), on_file)
        if as_event:
            response = self.events.put_events(
                Entries=[
                    {
                        "EventBusName": self.stack.bus_name,
                        "Source": CLI_SOURCE,
                        "DetailType": events.REQUESTED,
                        "Detail": json.dumps(body),
                    }
                ]
            )
            entry = (response.get("Entries") or [{}])[0]
            if response.get("FailedEntryCount") or "EventId" not in entry:
                fail(
                    f"EventBridge refused the request event: {entry.get('ErrorCode')} "
                    f"{entry.get('ErrorMessage', '')}",
                    INVALID_INPUT,
                )
            identity = naming.event_identity(entry["EventId"])
            delivered = f"event:{entry['EventId']}"
        else:
            key = f"{self.stack.request_prefix}{path.name}"
            put = self.s3.put_object(
                Bucket=self.stack.data_bucket,
                Key=key,
                Body=raw,
                ContentType="application/json",
            )
            identity = naming.s3_identity(
                self.stack.data_bucket, key, put.get("VersionId"), put.get("ETag")
            )
            delivered = f"s3://{self.stack.data_bucket}/{key}"
        if isinstance(body.get("idempotency_key"), str):
            identity = naming.key_identity(body["idempotency_key"])
        return Submission(naming.request_id(identity), delivered, uploaded)

    def wait_for_execution(self, request_id: str, timeout: float) -> str | None:
        """The execution that claimed the request, once the workflow has validated it."""
        deadline = time.monotonic() + timeout
        pause = 0.05
        while True:
            claimant = self.ledger.claimant(request_id)
            if claimant or time.monotonic() >= deadline:
                return claimant
            time.sleep(pause)
            pause = min(pause * 1.5, 2.0)

    # -- following ----------------------------------------------------------------------------
    def execution_of(self, request_id: str) -> str:
        claimant = self.ledger.claimant(request_id)
        if claimant is None:
            fail(
                f"no request {request_id} in the ledger of stack {self.stack.name} "
                f"({self.stack.region})",
                NOT_FOUND,
                "ntm-tuning list shows the recent ones; a request just uploaded may need a few "
                "seconds, and the ledger forgets requests after its retention period",
            )
        return claimant

    def latest_request(self) -> str:
        claims = self.ledger.claims()
        if not claims:
            fail(f"no request in the ledger of stack {self.stack.name}", NOT_FOUND)
        return max(claims, key=lambda c: c["claimed_at"])["request_id"]

    def snapshot(self, request_id: str, execution_arn: str | None = None) -> Snapshot:
        arn = execution_arn or self.execution_of(request_id)
        described = self.sfn.describe_execution(executionArn=arn)
        history = _latest_first(
            self.sfn.get_execution_history(executionArn=arn, reverseOrder=True, maxResults=25)[
                "events"
            ]
        )
        state = next(
            (
                e["stateEnteredEventDetails"]["name"]
                for e in history
                if "stateEnteredEventDetails" in e
            ),
            None,
        )
        job = self.ledger.job_of(arn) or {}
        request = job.get("request") or {}
        return Snapshot(
            request_id=request_id,
            execution_arn=arn,
            status=described["status"],
            state=state,
            started=described.get("startDate"),
            stopped=described.get("stopDate"),
            request_name=request.get("request_name"),
            tuning_job_name=job.get("tuning_job_name"),
            progress=self.ledger.progress(arn),
        )

    def outcome(self, execution_arn: str) -> Outcome:
        described = self.sfn.describe_execution(executionArn=execution_arn)
        status = described["status"]
        if status not in TERMINAL:
            fail(f"{execution_arn} is still {status}", NOT_FOUND, "ntm-tuning watch follows it")
        pages = self.sfn.get_paginator("get_execution_history").paginate(
            executionArn=execution_arn, reverseOrder=True
        )
        for page in pages:
            for event in _latest_first(page["events"]):
                output = (event.get("stateExitedEventDetails") or {}).get("output")
                if not output:
                    continue
                state = json.loads(output)
                published = state.get("published") if isinstance(state, dict) else None
                if isinstance(published, dict) and published.get("detail_type"):
                    detail_type = str(published["detail_type"])
                    detail = outcomes.published_detail(
                        outcomes.build_detail(detail_type, state),
                        os.environ.get(events.ENGINE_VARIABLE),
                    )
                    return Outcome(status, detail_type, detail, None, None)
                if isinstance(state, dict) and state.get("outcome") in ("duplicate", "ignored"):
                    return Outcome(status, None, None, state["outcome"], None)
        return Outcome(status, None, None, described.get("error"), described.get("cause"))

    def report(self, outcome: Outcome) -> dict[str, Any]:
        """The report JSON the summary step wrote for a succeeded request."""
        if not outcome.succeeded or not outcome.detail:
            fail(
                "only a succeeded request has a report; this one ended "
                + (outcome.detail_type or outcome.status),
                NOT_FOUND,
            )
        bucket, key = split_uri(str(outcome.detail["report_uri"]))
        body = self.s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        report: dict[str, Any] = json.loads(body)
        return report

    def recent(self, limit: int) -> list[dict[str, Any]]:
        claims = sorted(self.ledger.claims(), key=lambda c: c["claimed_at"], reverse=True)
        rows = []
        for claim in claims[:limit]:
            described = self.sfn.describe_execution(executionArn=claim["execution_id"])
            job = self.ledger.job_of(claim["execution_id"]) or {}
            progress = self.ledger.progress(claim["execution_id"])
            rows.append(
                {
                    **claim,
                    "status": described["status"],
                    "outcome": _outcome_label(described),
                    "request_name": (job.get("request") or {}).get("request_name"),
                    "tuning_job_name": job.get("tuning_job_name"),
                    "progress": progress,
                }
            )
        return rows


def _latest_first(history: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """History events, latest first, whether or not the service honoured ``reverseOrder``
    (Step Functions does; moto returns the whole history oldest first)."""
    return sorted(history, key=lambda event: int(event["id"]), reverse=True)


def _outcome_label(described: dict[str, Any]) -> str:
    """What an execution's end says about its request, from its status and output alone."""
    status = described["status"]
    if status == "RUNNING":
        return "running"
    if status == "SUCCEEDED":
        try:
            output = json.loads(described.get("output") or "{}")
        except json.JSONDecodeError:
            output = {}
        detail_type = str((output.get("published") or {}).get("detail_type"))
        return {
            events.SUCCEEDED: "succeeded",
            events.REJECTED: "rejected",
        }.get(detail_type, str(output.get("outcome") or "succeeded"))
    if status == "FAILED":
        return "stopped" if described.get("error") == "TuningJobStopped" else "failed"
    return status.lower().replace("_", " ")
