"""One training job, run in a tuner's worker process.

The tuner (in the parent process) owns the Optuna study; a worker owns one training job at a
time. After each epoch the worker reports its metrics on a shared queue and waits for the
verdict on its slot's queue: "continue", "prune" (the pruner stops it) or "stop" (the tuning
job is stopping). Slots are the tuner's parallel lanes, so no two running jobs share a reply
queue. Without queues (a job run inline) every verdict is "continue".

Runners are plain functions ``runner(task, report) -> RunResult``; ``run_ntm`` trains the NTM,
and tests plug in cheap ones. They must be importable (module-level) so a spawned worker can
unpickle them.
"""

from __future__ import annotations

import os
import queue
import signal
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from .errors import DataError, HyperparameterError

# A worker whose tuner has gone quiet this long stops its job rather than wait forever.
VERDICT_TIMEOUT_SECONDS = 300.0

Report = Callable[[int, dict[str, float]], str]


@dataclass(frozen=True)
class Channel:
    path: str
    content_type: str | None = None


@dataclass(frozen=True)
class TrainingTask:
    job_name: str
    trial_number: int
    slot: int
    hyperparameters: dict[str, str]
    channels: dict[str, Channel]
    output_dir: str
    seed: int
    runner: Callable[[TrainingTask, Report], RunResult]
    threads: int = 1
    device: str = "auto"
    max_epochs: int | None = None
    max_runtime_seconds: float | None = None


@dataclass
class RunResult:
    metrics: dict[str, float]
    artifact: str | None = None
    stopped: str | None = None  # None/"early_stopping": completed; "pruned", "stopped", ...
    epochs: list[dict[str, float]] = field(default_factory=list)
    # Each topic's top words (word ids as text without a vocabulary), as NTM logs them.
    topics: list[list[str]] | None = None


@dataclass
class TrainingOutcome:
    job_name: str
    trial_number: int
    status: str  # SageMaker's TrainingJobStatus: Completed, Stopped or Failed
    secondary_status: str
    metrics: dict[str, float]
    artifact: str | None
    started: float  # wall-clock seconds (time.time), comparable across processes
    ended: float
    pid: int
    stopped: str | None = None
    failure_reason: str | None = None
    epochs: list[dict[str, float]] = field(default_factory=list)
    topics: list[list[str]] | None = None


_reports: Any = None
_replies: list[Any] = []


def initialize(reports: Any, replies: list[Any], threads: int) -> None:
    """Pool initializer: the queues, and thread limits set before torch is first imported."""
    global _reports, _replies
    _reports, _replies = reports, replies
    # Ctrl-C in a terminal reaches every process of the group: the tuner stops its jobs
    # itself, and a worker killed by the signal would only print a traceback.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    for variable in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ[variable] = str(threads)


def _reporter(task: TrainingTask) -> Report:
    def report(epoch: int, metrics: dict[str, float]) -> str:
        if _reports is None:
            return "continue"
        _reports.put(("epoch", task.slot, task.trial_number, epoch, dict(metrics)))
        try:
            return str(_replies[task.slot].get(timeout=VERDICT_TIMEOUT_SECONDS))
        except queue.Empty:
            return "stop"

    return report


def run_training_job(task: TrainingTask) -> TrainingOutcome:
    """Entry point in the worker: never raises; a failing job is a Failed outcome."""
    started = time.time()
    if _reports is not None:
        _reports.put(("started", task.slot, task.trial_number, started, os.getpid()))
    try:
        result = task.runner(task, _reporter(task))
    except (HyperparameterError, DataError) as error:
        return _failed(task, started, f"ClientError: {error}")
    except Exception as error:
        detail = "".join(traceback.format_exception_only(error)).strip()
        return _failed(task, started, f"AlgorithmError: {detail}")
    if result.stopped in (None, "early_stopping"):
        status, secondary = "Completed", "Completed"
    elif result.stopped == "max_runtime":
        status, secondary = "Stopped", "MaxRuntimeExceeded"
    else:
        status, secondary = "Stopped", "Stopped"
    return TrainingOutcome(
        job_name=task.job_name,
        trial_number=task.trial_number,
        status=status,
        secondary_status=secondary,
        metrics=result.metrics,
        artifact=result.artifact,
        started=started,
        ended=time.time(),
        pid=os.getpid(),
        stopped=result.stopped,
        epochs=result.epochs,
        topics=result.topics,
    )


def _failed(task: TrainingTask, started: float, reason: str) -> TrainingOutcome:
    return TrainingOutcome(
        job_name=task.job_name,
        trial_number=task.trial_number,
        status="Failed",
        secondary_status="Failed",
        metrics={},
        artifact=None,
        started=started,
        ended=time.time(),
        pid=os.getpid(),
        failure_reason=reason[:1024],
    )


@cache
def _read_channels(
    channels: tuple[tuple[str, str, str | None], ...], feature_dim: int
) -> tuple[dict[str, Any], list[str] | None]:
    """A worker reads each tuning job's data once, however many of its jobs it runs."""
    from .data import DATA_CHANNELS, read_channel, read_vocabulary

    corpora = {
        name: read_channel(Path(path), content_type, feature_dim)
        for name, path, content_type in channels
        if name in DATA_CHANNELS
    }
    auxiliary = [path for name, path, _ in channels if name == "auxiliary"]
    vocabulary = read_vocabulary(Path(auxiliary[0])) if auxiliary else None
    return corpora, vocabulary


def run_ntm(task: TrainingTask, report: Report) -> RunResult:
    """The default runner: train NTM on the task's channels and write ``model.tar.gz``."""
    from .hyperparameters import parse_hyperparameters
    from .train import train

    hp = parse_hyperparameters(task.hyperparameters)
    key = tuple(sorted((n, c.path, c.content_type) for n, c in task.channels.items()))
    corpora, vocabulary = _read_channels(key, hp.feature_dim)
    if "train" not in corpora:
        raise DataError("the train channel is required")
    if vocabulary is not None and len(vocabulary) != hp.feature_dim:
        vocabulary = None  # words would be mislabelled; the topics are still written by id
    deadline = time.monotonic() + task.max_runtime_seconds if task.max_runtime_seconds else None
    trained = train(
        hp,
        corpora["train"],
        corpora.get("validation"),
        corpora.get("test"),
        vocabulary=vocabulary,
        seed=task.seed,
        threads=task.threads,
        device=task.device,
        on_epoch=lambda record: report(int(record["epoch"]), record),
        deadline=deadline,
        max_epochs=task.max_epochs,
    )
    artifact = trained.save(Path(task.output_dir)) if trained.best_epoch else None
    topics = None
    if trained.best_epoch:
        from .quality import top_word_ids

        topics = [
            [vocabulary[i] if vocabulary is not None else str(i) for i in row]
            for row in top_word_ids(trained.topic_word()).tolist()
        ]
    return RunResult(
        metrics=trained.metrics,
        artifact=str(artifact) if artifact else None,
        stopped=trained.stopped,
        epochs=trained.history,
        topics=topics,
    )
