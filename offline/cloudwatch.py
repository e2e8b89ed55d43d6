"""Training logs offline: written where and as SageMaker writes them, read back as on AWS.

SageMaker creates the log group ``/aws/sagemaker/TrainingJobs`` (with the job role's
logs:CreateLogGroup) and one stream per instance, ``<training job>/algo-<n>-<epoch seconds>``,
and sends the algorithm's output there, each line prefixed as NTM's MXNet logger does:
``[MM/DD/YYYY HH:MM:SS LEVEL thread] message``. ``TrainingLogWriter`` does the same in the
emulated CloudWatch Logs, so the summary reads the local trainer's topics with the same
FilterLogEvents calls and the same parser as on AWS.

Reading them back goes through moto's FilterLogEvents, with CloudWatch Logs' rules for
``logStreamNamePrefix`` restored (``offline.moto_patches.FILTER_LOG_EVENTS_BY_PREFIX``).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError
from ntm_tuning.topics import format_topics_block
from ntm_tuning.training_logs import TRAINING_LOG_GROUP

# PutLogEvents takes at most 10,000 events (and 1 MB) a call.
BATCH_EVENTS = 1000
WETC_OFFLINE = (
    "WETC is not computed: no word embeddings (GloVe) are available offline; "
    "topic uniqueness (TU) only"
)


def stream_name(job_name: str, started: float, instance: int = 1) -> str:
    return f"{job_name}/algo-{instance}-{int(started)}"


def prefix(level: str, when: float, thread: int) -> str:
    stamp = datetime.fromtimestamp(when, UTC).strftime("%m/%d/%Y %H:%M:%S")
    return f"[{stamp} {level} {thread}] "


class TrainingLogWriter:
    """Writes a training job's log as SageMaker would, in (emulated) CloudWatch Logs."""

    def __init__(self, logs: Any, *, log_group: str = TRAINING_LOG_GROUP) -> None:
        self.logs = logs
        self.log_group = log_group

    def _ensure(self, stream: str) -> None:
        for call, args in (
            (self.logs.create_log_group, {"logGroupName": self.log_group}),
            (
                self.logs.create_log_stream,
                {"logGroupName": self.log_group, "logStreamName": stream},
            ),
        ):
            try:
                call(**args)
            except ClientError as error:
                if error.response.get("Error", {}).get("Code") != "ResourceAlreadyExistsException":
                    raise

    def write(
        self,
        job_name: str,
        *,
        started: float,
        ended: float,
        hyperparameters: dict[str, str],
        epochs: Sequence[dict[str, float]],
        topics: Sequence[Sequence[str]] | None,
        failure_reason: str | None = None,
        thread: int = 0,
    ) -> str:
        """The job's stream name, once its lines are in it."""
        stream = stream_name(job_name, started)
        self._ensure(stream)
        configuration = json.dumps(hyperparameters, sort_keys=True)
        lines: list[tuple[float, str, str]] = [
            (started, "INFO", f"Final configuration: {configuration}"),
        ]
        span = max(ended - started, 0.0)
        for number, record in enumerate(epochs, start=1):
            when = started + span * number / (len(epochs) + 1)
            for name in ("train:total_loss", "validation:total_loss"):
                if name in record:
                    channel, metric = name.split(":")
                    lines.append(
                        (
                            when,
                            "INFO",
                            f"#quality_metric: host=algo-1, epoch={number}, {channel} "
                            f"{metric} <loss>={record[name]}",
                        )
                    )
        if failure_reason:
            lines.append((ended, "ERROR", failure_reason))
        if topics:
            lines.append((ended, "WARNING", WETC_OFFLINE))
            lines.extend((ended, "INFO", line) for line in format_topics_block(topics))
        events = [
            {"timestamp": int(when * 1000), "message": prefix(level, when, thread) + message}
            for when, level, message in lines
        ]
        for start in range(0, len(events), BATCH_EVENTS):
            response = self.logs.put_log_events(
                logGroupName=self.log_group,
                logStreamName=stream,
                logEvents=events[start : start + BATCH_EVENTS],
            )
            if response.get("rejectedLogEventsInfo"):
                raise ValueError(
                    f"CloudWatch Logs rejected events of {stream}: "
                    f"{response['rejectedLogEventsInfo']}"
                )
        return stream
