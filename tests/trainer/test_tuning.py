"""The search on its own: Optuna asks, a worker process trains, the caller's Trials record it.

The runner is a cheap stand-in (tests/trainer/fakes.py); the tuning job around the search is
tested through the SageMaker-facing engine in test_local_engine.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from trainer.search import Budget, search_space
from trainer.tuning import SearchPlan, last_epoch, run_search, seed_of
from trainer.worker import TrainingOutcome, TrainingTask

from . import fakes

RANGES = {
    "ContinuousParameterRanges": [
        {
            "Name": "learning_rate",
            "MinValue": "0.0001",
            "MaxValue": "0.1",
            "ScalingType": "Logarithmic",
        }
    ],
    "CategoricalParameterRanges": [
        {"Name": "encoder_layers_activation", "Values": ["sigmoid", "tanh", "relu"]}
    ],
}


class Recorder:
    """Trials that record every call, and allow ``allowed`` launches."""

    def __init__(self, output: Path, allowed: int, warm: list[tuple[dict[str, str], float]]):
        self.output = output
        self.allowed = allowed
        self.warm = warm
        self.calls: list[tuple[Any, ...]] = []
        self.outcomes: dict[int, TrainingOutcome] = {}

    def may_launch(self) -> bool:
        return len([c for c in self.calls if c[0] == "launch"]) < self.allowed

    def warm_start(self) -> Iterator[tuple[dict[str, str], float]]:
        yield from self.warm

    def launch(self, number: int, tuned: dict[str, str], slot: int, seed: int) -> TrainingTask:
        self.calls.append(("launch", number, slot, seed, dict(tuned)))
        return TrainingTask(
            job_name=f"job-{number}",
            trial_number=number,
            slot=slot,
            hyperparameters={"epochs": "3", **tuned},
            channels={},
            output_dir=str(self.output / f"job-{number}"),
            seed=seed,
            runner=fakes.quadratic,
        )

    def started(self, number: int, wall: float, pid: int) -> None:
        self.calls.append(("started", number))

    def epoch(self, number: int, metrics: dict[str, float]) -> None:
        self.calls.append(("epoch", number, int(metrics["epoch"])))

    def finished(self, number: int, outcome: TrainingOutcome) -> float | None:
        self.calls.append(("finished", number, outcome.status))
        self.outcomes[number] = outcome
        return float(outcome.metrics[fakes.OBJECTIVE])


def test_each_job_is_launched_trained_reported_and_finished_in_order(tmp_path: Path) -> None:
    space = search_space(RANGES)
    plan = SearchPlan("Bayesian", space, max_jobs=5, parallel=1, budget=Budget(), seed=21)
    # Warm-start results outside the space's names are ignored; one inside seeds the study.
    warm = [({"learning_rate": "0.01", "encoder_layers_activation": "tanh"}, 90.0)]
    warm.append(({"learning_rate": "0.01"}, 1.0))
    trials = Recorder(tmp_path, allowed=3, warm=warm)
    run_search(plan, trials)
    # may_launch stops the search after three of the five jobs.
    launches = [c for c in trials.calls if c[0] == "launch"]
    assert [(number, slot, seed) for _, number, slot, seed, _ in launches] == [
        (1, 0, seed_of(21, 1)),
        (2, 0, seed_of(21, 2)),
        (3, 0, seed_of(21, 3)),
    ]
    assert seed_of(21, 1) != seed_of(21, 2)
    for _, _, _, _, tuned in launches:
        assert set(tuned) == set(space)
        assert 0.0001 <= float(tuned["learning_rate"]) <= 0.1
    # One job at a time: each one's calls come in order before the next is launched
    # (may_launch is asked after every epoch, so the last job is told to stop).
    for number in (1, 2):
        mine = [c for c in trials.calls if c[1] == number]
        assert mine == [
            ("launch", *launches[number - 1][1:]),
            ("started", number),
            ("epoch", number, 1),
            ("epoch", number, 2),
            ("epoch", number, 3),
            ("finished", number, "Completed"),
        ]
    assert trials.outcomes[3].stopped == "stopped"
    assert trials.calls[-1] == ("finished", 3, "Stopped")


def test_the_same_seed_asks_for_the_same_points(tmp_path: Path) -> None:
    space = search_space(RANGES)
    asked = []
    for run in ("first", "second"):
        trials = Recorder(tmp_path / run, allowed=3, warm=[])
        run_search(SearchPlan("Random", space, 3, 2, Budget(), seed=5), trials)
        asked.append(
            sorted((c[1], tuple(sorted(c[4].items()))) for c in trials.calls if c[0] == "launch")
        )
    assert asked[0] == asked[1] and len(asked[0]) == 3


def test_the_last_epoch_is_the_jobs_epochs_capped_by_the_resource() -> None:
    assert last_epoch({"epochs": "7"}, None) == 7
    assert last_epoch({"epochs": "7"}, 4) == 4
    assert last_epoch({"epochs": "3"}, 4) == 3
    assert last_epoch({}, None) == 50
    assert last_epoch({"epochs": "many"}, 9) == 9
