"""Cheap training-job runners for the tuner's tests: no torch, a loss computed from the
hyperparameters, reported epoch by epoch like the real trainer. Module-level, so a spawned
worker can unpickle them."""

from __future__ import annotations

import math
import os
import time
from pathlib import Path

from trainer.worker import Report, RunResult, TrainingTask

OBJECTIVE = "validation:total_loss"
EPOCH_SECONDS = float(os.environ.get("FAKE_EPOCH_SECONDS", "0"))


def _loss(task: TrainingTask, epoch: int) -> float:
    """Lowest near learning_rate 0.01, and falling with epochs."""
    hp = task.hyperparameters
    rate = float(hp.get("learning_rate", "0.01"))
    penalty = float(hp.get("weight_decay", "0"))
    activation = {"sigmoid": 0.5, "tanh": 0.0, "relu": 1.0}.get(
        hp.get("encoder_layers_activation", "tanh"), 0.0
    )
    return 100.0 + 10 * (math.log10(rate) + 2) ** 2 + 5 * penalty + activation + 20.0 / epoch


def _artifact(task: TrainingTask) -> str:
    folder = Path(task.output_dir)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "model.tar.gz"
    path.write_bytes(b"fake model of " + task.job_name.encode())
    return str(path)


def _run(task: TrainingTask, report: Report, loss_of, seconds: float) -> RunResult:
    epochs = int(task.hyperparameters.get("epochs", "5"))
    if task.max_epochs:
        epochs = min(epochs, task.max_epochs)
    history: list[dict[str, float]] = []
    best = math.inf
    for epoch in range(1, epochs + 1):
        time.sleep(seconds)
        loss = loss_of(task, epoch)
        best = min(best, loss)
        record = {"epoch": float(epoch), OBJECTIVE: loss, "train:total_loss": loss}
        history.append(record)
        verdict = report(epoch, record)
        if verdict != "continue":
            return RunResult({OBJECTIVE: best}, _artifact(task), verdict, history)
    metrics = {
        OBJECTIVE: best,
        "train:total_loss": best,
        "topics:npmi": 0.5,
        "topics:uniqueness": 0.9,
    }
    return RunResult(metrics, _artifact(task), None, history)


def quadratic(task: TrainingTask, report: Report) -> RunResult:
    return _run(task, report, _loss, EPOCH_SECONDS)


def slow_quadratic(task: TrainingTask, report: Report) -> RunResult:
    """Long enough per epoch that jobs overlap in time when they can."""
    return _run(task, report, _loss, 0.1)


def worse_each_job(task: TrainingTask, report: Report) -> RunResult:
    """The first job is the best one; every later one is worse."""
    return _run(task, report, lambda t, epoch: 100.0 + t.trial_number, 0.0)


def constant(task: TrainingTask, report: Report) -> RunResult:
    return _run(task, report, lambda t, epoch: 50.0, 0.0)


def endless(task: TrainingTask, report: Report) -> RunResult:
    """Runs until told to stop (at most a minute)."""
    for epoch in range(1, 1200):
        time.sleep(0.05)
        verdict = report(epoch, {"epoch": float(epoch), OBJECTIVE: 10.0, "train:total_loss": 10.0})
        if verdict != "continue":
            return RunResult({OBJECTIVE: 10.0}, _artifact(task), verdict)
    return RunResult({OBJECTIVE: 10.0}, _artifact(task))


def broken(task: TrainingTask, report: Report) -> RunResult:
    raise RuntimeError("the algorithm crashed")


def collapsed_odd_jobs(task: TrainingTask, report: Report) -> RunResult:
    """Like ``quadratic``; odd-numbered jobs report a collapsed posterior, as the trainer does."""
    result = _run(task, report, _loss, 0.0)
    if task.trial_number % 2:
        result.metrics["warning:posterior_collapsed"] = 1.0
    return result
