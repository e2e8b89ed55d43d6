"""A tuning job's search: Optuna asks for a point, a worker process trains it, Optuna is told.

``run_search`` drives one search to its end: it asks the study (``trainer.search``: sampler
and pruner for the job's strategy) for hyperparameters, runs each training job in a pool of
worker processes (``trainer.worker``, at most ``SearchPlan.parallel`` at once, one reply queue
per parallel slot), answers each worker's epoch report with a verdict (go on, pruned, or
stopped), and tells the study every job's result. The process that calls it keeps the study,
because the sampler and pruner need every job's results; workers only train.

What a training job *is* (its name, its record, where its artifact and log go, when the
tuning job stops launching) belongs to the caller, through ``Trials``: the SageMaker-facing
engine (``offline.local_engine``) implements it.
"""

from __future__ import annotations

import math
import multiprocessing
import queue
import secrets
import time
import warnings
from collections.abc import Iterable
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from typing import Any, Protocol

import optuna
from optuna.trial import TrialState

from .search import OBJECTIVE_METRIC, Budget, Parameter, enqueue_grid, make_pruner, make_sampler
from .worker import TrainingOutcome, TrainingTask, initialize, run_training_job

# The driver's heartbeat: how long it waits for a worker's report before checking on futures.
PUMP_SECONDS = 0.05
# A training job's seed: from the search's base seed and the job's number.
SEED_MULTIPLIER = 1_000_003


@dataclass(frozen=True)
class SearchPlan:
    """What the search needs from a tuning job's configuration (validated by the caller)."""

    strategy: str
    space: dict[str, Parameter]
    max_jobs: int
    parallel: int
    budget: Budget
    early_stopping: str = "Off"
    seed: int | None = None
    threads_per_job: int = 1


class Trials(Protocol):
    """The tuning job's side of the search; called from the thread running the search."""

    def may_launch(self) -> bool:
        """Whether another training job may start (False once stopping or done)."""
        ...

    def warm_start(self) -> Iterable[tuple[dict[str, str], float]]:
        """Results of earlier jobs to seed the study: tuned values (as text) and objective."""
        ...

    def launch(self, number: int, tuned: dict[str, str], slot: int, seed: int) -> TrainingTask:
        """Record training job ``number`` and the task a worker runs for it."""
        ...

    def started(self, number: int, wall: float, pid: int) -> None:
        """A worker started training job ``number`` (wall-clock seconds, its process id)."""
        ...

    def epoch(self, number: int, metrics: dict[str, float]) -> None:
        """Training job ``number`` reported an epoch's metrics."""
        ...

    def finished(self, number: int, outcome: TrainingOutcome) -> float | None:
        """Training job ``number`` ended; its objective value, None when it has none."""
        ...


def seed_of(base_seed: int, number: int) -> int:
    return (base_seed * SEED_MULTIPLIER + number) % 2**31


def run_search(plan: SearchPlan, trials: Trials) -> None:
    """Run the search until ``max_jobs`` jobs ended or ``trials.may_launch()`` turns False."""
    pruner = make_pruner(plan.strategy, plan.early_stopping, plan.budget)
    study = optuna.create_study(
        direction="minimize",
        sampler=make_sampler(plan.strategy, plan.space, plan.seed, plan.max_jobs),
        pruner=pruner or optuna.pruners.NopPruner(),
    )
    if plan.strategy == "Grid":
        enqueue_grid(study, plan.space, plan.seed)
    else:
        _warm_start(plan, study, trials)
    distributions = {name: p.distribution for name, p in plan.space.items()}
    base_seed = plan.seed if plan.seed is not None else secrets.randbelow(2**31)
    parallel = min(plan.parallel, plan.max_jobs)
    context = multiprocessing.get_context("spawn")
    reports = context.Queue()
    replies = [context.Queue() for _ in range(parallel)]
    free = list(range(parallel - 1, -1, -1))
    running: dict[Future[TrainingOutcome], tuple[TrainingTask, optuna.trial.Trial]] = {}
    launched_tasks: dict[int, tuple[TrainingTask, optuna.trial.Trial]] = {}
    started: dict[int, tuple[float, int]] = {}
    launched = 0
    pool = ProcessPoolExecutor(
        max_workers=parallel,
        mp_context=context,
        initializer=initialize,
        initargs=(reports, replies, plan.threads_per_job),
    )
    try:
        while True:
            while free and launched < plan.max_jobs and trials.may_launch():
                launched += 1
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    trial = study.ask(distributions)
                tuned = {name: plan.space[name].to_text(v) for name, v in trial.params.items()}
                task = trials.launch(launched, tuned, free.pop(), seed_of(base_seed, launched))
                launched_tasks[task.trial_number] = (task, trial)
                running[pool.submit(run_training_job, task)] = (task, trial)
            if not running:
                break
            _pump(plan, trials, reports, replies, launched_tasks, started, pruner is not None)
            for future in [f for f in running if f.done()]:
                task, trial = running.pop(future)
                free.append(task.slot)
                _complete(trials, study, task, trial, future, started.get(task.trial_number))
    finally:
        if running:
            # The driver broke: release every worker still waiting for a verdict.
            for reply in replies:
                reply.put("stopped")
        pool.shutdown(wait=True, cancel_futures=True)
        reports.close()
        for reply in replies:
            reply.close()


def _warm_start(plan: SearchPlan, study: optuna.Study, trials: Trials) -> None:
    distributions = {name: p.distribution for name, p in plan.space.items()}
    for tuned, value in trials.warm_start():
        if set(tuned) != set(plan.space):
            continue
        try:
            params = {n: plan.space[n].from_text(v) for n, v in tuned.items()}
            study.add_trial(
                optuna.trial.create_trial(params=params, distributions=distributions, value=value)
            )
        except ValueError:
            continue  # outside this job's ranges: it cannot inform the sampler


def _pump(
    plan: SearchPlan,
    trials: Trials,
    reports: Any,
    replies: list[Any],
    launched: dict[int, tuple[TrainingTask, optuna.trial.Trial]],
    started: dict[int, tuple[float, int]],
    pruning: bool,
) -> None:
    """Answer the workers' reports: record each epoch, and say whether to go on."""
    try:
        message = reports.get(timeout=PUMP_SECONDS)
    except queue.Empty:
        return
    while True:
        kind, slot, number, *rest = message
        task, trial = launched[number]
        if kind == "started":
            wall, pid = rest
            started[number] = (wall, pid)
            trials.started(number, wall, pid)
        elif kind == "epoch":
            epoch, metrics = rest
            trials.epoch(number, metrics)
            replies[slot].put(_verdict(plan, trials, task, trial, epoch, metrics, pruning))
        try:
            message = reports.get_nowait()
        except queue.Empty:
            return


def _verdict(
    plan: SearchPlan,
    trials: Trials,
    task: TrainingTask,
    trial: optuna.trial.Trial,
    epoch: int,
    metrics: dict[str, float],
    pruning: bool,
) -> str:
    if not trials.may_launch():
        return "stopped"
    value = metrics.get(OBJECTIVE_METRIC, metrics.get("train:total_loss"))
    # A job at its last epoch has finished; stopping it then would only relabel it.
    last = last_epoch(task.hyperparameters, plan.budget.max_resource)
    if pruning and epoch < last and value is not None and math.isfinite(value):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            trial.report(float(value), epoch)
        if trial.should_prune():
            return "pruned"
    return "continue"


def _complete(
    trials: Trials,
    study: optuna.Study,
    task: TrainingTask,
    trial: optuna.trial.Trial,
    future: Future[TrainingOutcome],
    started: tuple[float, int] | None,
) -> None:
    try:
        outcome = future.result()
    except Exception as error:  # a worker died (killed, out of memory)
        outcome = TrainingOutcome(
            job_name=task.job_name,
            trial_number=task.trial_number,
            status="Failed",
            secondary_status="Failed",
            metrics={},
            artifact=None,
            started=started[0] if started else time.time(),
            ended=time.time(),
            pid=started[1] if started else 0,
            failure_reason=f"InternalServerError: the worker process failed: {error}",
        )
    value = trials.finished(task.trial_number, outcome)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if outcome.status == "Completed" and value is not None:
            study.tell(trial, value)
        elif outcome.stopped == "pruned":
            study.tell(trial, state=TrialState.PRUNED)
        else:
            study.tell(trial, state=TrialState.FAIL)


def last_epoch(hyperparameters: dict[str, str], max_resource: int | None) -> int:
    """The epoch a training job ends at: its ``epochs``, capped by Hyperband's resource."""
    try:
        epochs = int(float(hyperparameters.get("epochs", "50")))
    except ValueError:
        epochs = 50
    return min(epochs, max_resource) if max_resource else epochs
