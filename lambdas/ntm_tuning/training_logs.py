"""Reading a training job's topics block back from CloudWatch Logs.

SageMaker writes each training job's log to the group ``/aws/sagemaker/TrainingJobs``, one
stream per instance, named ``<training job>/algo-<n>-<epoch seconds>``. NTM logs its topics
block at the end of training (see ``topics``), after every other line of the job, so reading
the whole log front to back would cost the most exactly where the answer is. Two bounded
FilterLogEvents queries (the only permission needed) find it instead:

1. the block headers only (``filterPattern`` ``"Topics from epoch"``) over the job's streams
   (``logStreamNamePrefix`` ``<job>/``): at most one a logged epoch per instance;
2. the lines of the chosen stream from the chosen header on (``startTime`` = its timestamp),
   until the block is complete or the bounds are reached.

When no header matches (a log without a block, or a header the pattern would miss), the job's
log itself is read, up to the same bound, and parsed.

With several instances every one logs the same model's topics; the stream of the lowest
instance (``algo-1``) is used, always, and named in the result (of a retried job's attempts,
each with its own stream, the latest one that logged a final block). Throttling is retried with
exponential back-off and full jitter; every call is bounded in events and the whole read in
time, so a huge log or a slow API makes the topics unavailable (with the reason), never the
request fail.
"""

from __future__ import annotations

import random
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from . import aws
from .topics import FINAL_EPOCH, TopicsBlock, final_block

TRAINING_LOG_GROUP = "/aws/sagemaker/TrainingJobs"
HEADER_PATTERN = '"Topics from epoch"'
# FilterLogEvents returns at most 10,000 events a call (its `limit`'s maximum).
PAGE_LIMIT = 10_000
# Bounds of one job's read: headers (one an epoch and instance), and lines after the header
# (the block's num_topics lines, plus whatever else the algorithm logs between them).
MAX_HEADER_EVENTS = 20_000
MAX_BLOCK_EVENTS = 20_000
MAX_ATTEMPTS = 6
BASE_DELAY_SECONDS = 0.2
MAX_DELAY_SECONDS = 5.0
_INSTANCE = re.compile(r"/algo-(\d+)(?:-(\d+))?$")
_DENIED = frozenset({"AccessDeniedException", "AccessDenied", "UnauthorizedOperation"})
_MISSING = frozenset({"ResourceNotFoundException"})


@dataclass(frozen=True)
class JobTopics:
    """What one training job's log says about its topics."""

    job_name: str
    block: TopicsBlock | None = None
    log_stream: str | None = None
    instances: int = 0
    unavailable: str | None = None  # a reason code, when there is no usable block
    message: str | None = None

    @property
    def available(self) -> bool:
        return self.block is not None and self.unavailable is None


class LogReadTimeout(Exception):
    """The time budget for reading logs ran out."""


def instance_number(stream: str) -> int:
    match = _INSTANCE.search(stream)
    return int(match.group(1)) if match else 1_000_000


def _stream_order(stream: str) -> tuple[int, int, str]:
    """Instance ascending, then the stream's start (epoch seconds) descending."""
    match = _INSTANCE.search(stream)
    started = int(match.group(2)) if match and match.group(2) else 0
    return instance_number(stream), -started, stream


class TrainingLogs:
    """FilterLogEvents on ``/aws/sagemaker/TrainingJobs``, bounded and retried."""

    def __init__(
        self,
        logs: Any = None,
        *,
        log_group: str = TRAINING_LOG_GROUP,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._logs = logs
        self.log_group = log_group
        self._sleep = sleep
        self._clock = clock

    @property
    def logs(self) -> Any:
        return self._logs or aws.client("logs")

    def job_topics(self, job_name: str, *, deadline: float | None = None) -> JobTopics:
        """The final topics block of ``job_name``, or why there is none."""
        try:
            return self._job_topics(job_name, deadline)
        except LogReadTimeout:
            return JobTopics(
                job_name,
                unavailable="log_read_limit",
                message="the time set aside for reading training logs ran out",
            )
        except ClientError as error:
            code = aws.error_code(error)
            if code in _MISSING:
                return JobTopics(
                    job_name,
                    unavailable="no_log",
                    message=f"no log group {self.log_group}",
                )
            if code in _DENIED:
                return JobTopics(
                    job_name,
                    unavailable="no_permission",
                    message=f"not allowed to read {self.log_group}: {code}",
                )
            return JobTopics(job_name, unavailable="log_error", message=f"{code}: {error}"[:500])
        except BotoCoreError as error:
            return JobTopics(job_name, unavailable="log_error", message=str(error)[:500])

    def _job_topics(self, job_name: str, deadline: float | None) -> JobTopics:
        prefix = f"{job_name}/"
        headers: list[dict[str, Any]] = []
        for event in self._events(
            {"logStreamNamePrefix": prefix, "filterPattern": HEADER_PATTERN},
            limit=MAX_HEADER_EVENTS,
            deadline=deadline,
        ):
            # AWS filters by the prefix; checking it again costs nothing.
            if _field(event, "logStreamName").startswith(prefix):
                headers.append(event)
        if not headers:
            return self._without_block(job_name, prefix, deadline)
        streams = {str(e["logStreamName"]) for e in headers}
        with_final = {
            str(e["logStreamName"])
            for e in headers
            if _epoch_of(_field(e, "message")) == FINAL_EPOCH
        }
        # The lowest instance; of a retried job's attempts (one stream each), the latest; a
        # stream with the final block before one without.
        stream = min(with_final or streams, key=_stream_order)
        ours = [e for e in headers if e["logStreamName"] == stream]
        finals = [e for e in ours if _epoch_of(_field(e, "message")) == FINAL_EPOCH]
        header = (finals or ours)[-1]
        messages: list[str] = []
        block: TopicsBlock | None
        for event in self._events(
            {"logStreamNames": [stream], "startTime": int(header["timestamp"])},
            limit=MAX_BLOCK_EVENTS,
            deadline=deadline,
        ):
            messages.append(_field(event, "message"))
            if len(messages) % 64 == 0 or _looks_done(messages):
                block = final_block(messages)
                if (
                    block is not None
                    and block.complete
                    and block.epoch == _epoch_of(_field(header, "message"))
                ):
                    break
        block = final_block(messages)
        instances = len({instance_number(s) for s in streams})
        if block is None:
            return JobTopics(
                job_name,
                log_stream=stream,
                instances=instances,
                unavailable="truncated",
                message="the topics block's header was found but not its lines",
            )
        return self._result(job_name, block, stream, instances)

    def _without_block(self, job_name: str, prefix: str, deadline: float | None) -> JobTopics:
        """No header matched the filter: read the job's log itself, as far as the bounds go.

        This also covers a log whose header the filter pattern would not match."""
        by_stream: dict[str, list[str]] = {}
        read = 0
        for event in self._events(
            {"logStreamNamePrefix": prefix}, limit=MAX_BLOCK_EVENTS, deadline=deadline
        ):
            read += 1
            name = _field(event, "logStreamName")
            if name.startswith(prefix):
                by_stream.setdefault(name, []).append(_field(event, "message"))
        if not by_stream:
            return JobTopics(
                job_name,
                unavailable="no_log",
                message=f"no log stream {prefix}* in {self.log_group}",
            )
        blocks = {name: final_block(lines) for name, lines in by_stream.items()}
        found = {name: block for name, block in blocks.items() if block is not None}
        if not found:
            return JobTopics(
                job_name,
                unavailable="no_topics_block",
                message=(
                    "the training log has no topics block (an image that does not log topics, "
                    "or a job that ended before its final epoch)"
                    + (f"; read its first {read} events" if read >= MAX_BLOCK_EVENTS else "")
                ),
            )
        finals = {n for n, b in found.items() if b.epoch == FINAL_EPOCH and b.complete}
        stream = min(finals or found, key=_stream_order)
        return self._result(
            job_name, found[stream], stream, len({instance_number(n) for n in found})
        )

    def _result(self, job_name: str, block: TopicsBlock, stream: str, instances: int) -> JobTopics:
        if not block.complete:
            return JobTopics(
                job_name,
                block=block,
                log_stream=stream,
                instances=instances,
                unavailable="truncated",
                message=(
                    f"the log ends {len(block.topics)} of {block.num_topics} topic lines "
                    f"into the block of epoch {block.epoch}"
                ),
            )
        return JobTopics(job_name, block=block, log_stream=stream, instances=instances)

    def _events(
        self,
        query: dict[str, Any],
        *,
        limit: int,
        deadline: float | None,
        page_limit: int = PAGE_LIMIT,
    ) -> Any:
        """The events of a FilterLogEvents query, page by page, at most ``limit`` of them."""
        token: str | None = None
        seen = 0
        # The loop returns as soon as `seen` reaches `limit`: `<` and `<=` never differ here.
        while seen < limit:  # pragma: no mutate
            args = {
                "logGroupName": self.log_group,
                "limit": min(page_limit, limit - seen),
                **query,
            }
            if token:
                args["nextToken"] = token
            page = self._call(args, deadline)
            for event in page.get("events", []):
                seen += 1
                yield event
                if seen >= limit:
                    return
            next_token = page.get("nextToken")
            if not next_token or next_token == token:
                return
            token = next_token

    def _call(self, args: dict[str, Any], deadline: float | None) -> dict[str, Any]:
        # The last attempt returns or raises: a higher bound is never reached.
        for attempt in range(1, MAX_ATTEMPTS + 1):  # pragma: no mutate
            if deadline is not None and self._clock() >= deadline:
                raise LogReadTimeout()
            try:
                return dict(self.logs.filter_log_events(**args))
            except ClientError as error:
                if aws.error_code(error) not in aws.THROTTLING_CODES or attempt == MAX_ATTEMPTS:
                    raise
            # Exponential back-off with full jitter, within the deadline.
            delay = random.uniform(0, min(MAX_DELAY_SECONDS, BASE_DELAY_SECONDS * 2**attempt))
            if deadline is not None and self._clock() + delay >= deadline:
                raise LogReadTimeout()
            self._sleep(delay)
        raise AssertionError("unreachable")  # pragma: no mutate (the loop returns or raises)


def _field(event: dict[str, Any], key: str) -> str:
    """A field of a FilterLogEvents event as text, empty when the event has none."""
    return str(event.get(key) or "")


_EPOCH = re.compile(r"Topics\s+from\s+epoch\s*:\s*([\w.-]+)", re.IGNORECASE)


def _epoch_of(message: str) -> str | None:
    match = _EPOCH.search(message)
    return match.group(1).lower() if match else None


def _looks_done(messages: list[str]) -> bool:
    """Cheap check before a full parse: enough lines for the header's topics."""
    first = next((m for m in messages if _EPOCH.search(m)), None)
    if first is None:
        return False
    match = re.search(r"num_topics\s*:\s*(\d+)", first)
    return match is not None and len(messages) > int(match.group(1))
