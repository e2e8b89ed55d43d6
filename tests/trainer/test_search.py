"""SageMaker's tuning configuration on Optuna: ranges keep their scaling, strategies map to
samplers and pruners, completion criteria end the search. In-process; no training."""

from __future__ import annotations

import math
import statistics
from typing import Any

import optuna
import pytest

from trainer.search import (
    CompletionCriteria,
    SearchError,
    enqueue_grid,
    grid_points,
    hyperband_budget,
    make_pruner,
    make_sampler,
    search_space,
)

RANGES: dict[str, Any] = {
    "CategoricalParameterRanges": [{"Name": "optimizer", "Values": ["sgd", "adam", "adadelta"]}],
    "ContinuousParameterRanges": [
        {
            "Name": "learning_rate",
            "MinValue": "0.0001",
            "MaxValue": "0.1",
            "ScalingType": "Logarithmic",
        },
        {"Name": "weight_decay", "MinValue": "0.0", "MaxValue": "1.0", "ScalingType": "Linear"},
        {
            "Name": "rescale_gradient",
            "MinValue": "0.1",
            "MaxValue": "0.99",
            "ScalingType": "ReverseLogarithmic",
        },
        {"Name": "tolerance", "MinValue": "0.001", "MaxValue": "0.1", "ScalingType": "Auto"},
    ],
    "IntegerParameterRanges": [
        {
            "Name": "mini_batch_size",
            "MinValue": "16",
            "MaxValue": "2048",
            "ScalingType": "Logarithmic",
        },
        {"Name": "epochs", "MinValue": "1", "MaxValue": "100", "ScalingType": "Auto"},
    ],
}


def sample(strategy: str, count: int, seed: int | None = 1) -> list[dict[str, str]]:
    space = search_space(RANGES)
    study = optuna.create_study(sampler=make_sampler(strategy, space, seed, count))
    distributions = {name: p.distribution for name, p in space.items()}
    points = []
    for _ in range(count):
        trial = study.ask(distributions)
        points.append({n: space[n].to_text(v) for n, v in trial.params.items()})
        study.tell(trial, float(trial.number % 7))
    return points


@pytest.fixture(scope="module")
def points() -> list[dict[str, str]]:
    return sample("Random", 400)


def fraction(values: list[float], test: Any) -> float:
    return sum(1 for v in values if test(v)) / len(values)


def test_every_value_is_a_string_within_its_range(points: list[dict[str, str]]) -> None:
    for point in points:
        assert all(isinstance(v, str) for v in point.values())
        assert point["optimizer"] in ("sgd", "adam", "adadelta")
        assert 0.0001 <= float(point["learning_rate"]) <= 0.1
        assert 0.0 <= float(point["weight_decay"]) <= 1.0
        assert 0.1 <= float(point["rescale_gradient"]) <= 0.99
        assert 16 <= int(point["mini_batch_size"]) <= 2048
        assert 1 <= int(point["epochs"]) <= 100


def test_logarithmic_values_spread_geometrically(points: list[dict[str, str]]) -> None:
    rates = [float(p["learning_rate"]) for p in points]
    # Log-uniform on [1e-4, 1e-1]: a third below 1e-3 (uniform would put 0.9% there).
    assert 0.25 < fraction(rates, lambda v: v < 1e-3) < 0.42
    assert -3.0 < statistics.median(math.log10(v) for v in rates) < -2.0
    sizes = [int(p["mini_batch_size"]) for p in points]
    assert 0.33 < fraction(sizes, lambda v: v < 128) < 0.53  # log-uniform: 3/7


def test_reverse_logarithmic_crowds_towards_the_upper_bound(points: list[dict[str, str]]) -> None:
    values = [float(p["rescale_gradient"]) for p in points]
    # 1 - x log-uniform on [0.01, 0.9]: half of the values above 0.9 (uniform: 10%).
    assert 0.4 < fraction(values, lambda v: v > 0.9) < 0.62


def test_linear_and_auto_are_uniform(points: list[dict[str, str]]) -> None:
    decay = [float(p["weight_decay"]) for p in points]
    assert 0.42 < statistics.mean(decay) < 0.58
    tolerance = [float(p["tolerance"]) for p in points]
    assert 0.4 < fraction(tolerance, lambda v: v > 0.05) < 0.6
    epochs = [int(p["epochs"]) for p in points]
    assert 0.4 < fraction(epochs, lambda v: v > 50) < 0.6


@pytest.mark.parametrize("strategy", ["Bayesian", "Random", "Hyperband"])
def test_a_random_seed_makes_the_search_reproducible(strategy: str) -> None:
    assert sample(strategy, 15, seed=7) == sample(strategy, 15, seed=7)
    assert sample(strategy, 15, seed=7) != sample(strategy, 15, seed=8)


def test_grid_enumerates_every_combination() -> None:
    ranges = {
        "CategoricalParameterRanges": [
            {"Name": "optimizer", "Values": ["sgd", "adam"]},
            {"Name": "encoder_layers", "Values": ["auto", "50", "100,50"]},
        ]
    }
    space = search_space(ranges)
    expected = {(o, e) for o in ("sgd", "adam") for e in ("auto", "50", "100,50")}
    assert {(p["optimizer"], p["encoder_layers"]) for p in grid_points(space)} == expected
    study = optuna.create_study(sampler=make_sampler("Grid", space, 3, 6))
    assert enqueue_grid(study, space, 3) == 6
    seen = set()
    for _ in range(6):
        trial = study.ask({n: p.distribution for n, p in space.items()})
        seen.add((trial.params["optimizer"], trial.params["encoder_layers"]))
        study.tell(trial, 1.0)
    assert seen == expected
    with pytest.raises(SearchError, match="categorical ranges only"):
        grid_points(search_space(RANGES))


def test_refusals() -> None:
    bad_log = {
        "ContinuousParameterRanges": [
            {"Name": "weight_decay", "MinValue": "0", "MaxValue": "1", "ScalingType": "Logarithmic"}
        ]
    }
    with pytest.raises(SearchError, match="MinValue > 0"):
        search_space(bad_log)
    bad_reverse = {
        "ContinuousParameterRanges": [
            {
                "Name": "sub_sample",
                "MinValue": "0.5",
                "MaxValue": "1",
                "ScalingType": "ReverseLogarithmic",
            }
        ]
    }
    with pytest.raises(SearchError, match="ReverseLogarithmic"):
        search_space(bad_reverse)
    with pytest.raises(SearchError, match="unknown strategy"):
        make_sampler("Genetic", {}, None, 3)


def test_pruners_for_hyperband_and_auto_early_stopping() -> None:
    budget = hyperband_budget(
        {"StrategyConfig": {"HyperbandStrategyConfig": {"MinResource": 2}}}, {"epochs": "27"}
    )
    assert (budget.min_resource, budget.max_resource) == (2, 27)
    assert isinstance(make_pruner("Hyperband", "Off", budget), optuna.pruners.HyperbandPruner)
    assert isinstance(make_pruner("Bayesian", "Auto", budget), optuna.pruners.MedianPruner)
    assert make_pruner("Bayesian", "Off", budget) is None
    with pytest.raises(SearchError, match="MaxResource"):
        hyperband_budget({}, {})


def test_completion_criteria() -> None:
    target = CompletionCriteria.from_config(
        {"TuningJobCompletionCriteria": {"TargetObjectiveMetricValue": 5.0}}
    )
    assert [target.record(v) for v in (9.0, None, 4.5)] == [
        None,
        None,
        "TargetObjectiveMetricValue",
    ]

    stale = CompletionCriteria.from_config(
        {
            "TuningJobCompletionCriteria": {
                "BestObjectiveNotImproving": {"MaxNumberOfTrainingJobsNotImproving": 3}
            }
        }
    )
    assert [stale.record(v) for v in (9.0, 8.0, 8.5, None)] == [None, None, None, None]
    assert stale.record(8.0) == "BestObjectiveNotImproving"  # equal is not better
    assert stale.since_best == 3

    converging = CompletionCriteria.from_config(
        {
            "TuningJobCompletionCriteria": {
                "ConvergenceDetected": {"CompleteOnConvergence": "Enabled"}
            }
        }
    )
    verdicts = [converging.record(v) for v in [10.0, 9.0, 8.0, 7.5, 7.4] + [7.4] * 5]
    assert verdicts[-1] == "ConvergenceDetected" and verdicts[:-1] == [None] * 9
    assert converging.converged_at is not None
    improving = CompletionCriteria.from_config(
        {
            "TuningJobCompletionCriteria": {
                "ConvergenceDetected": {"CompleteOnConvergence": "Enabled"}
            }
        }
    )
    assert all(improving.record(float(20 - i)) is None for i in range(12))
    with pytest.raises(SearchError, match="at least 3"):
        CompletionCriteria.from_config(
            {
                "TuningJobCompletionCriteria": {
                    "BestObjectiveNotImproving": {"MaxNumberOfTrainingJobsNotImproving": 2}
                }
            }
        )
