"""A SageMaker tuning configuration, mapped onto Optuna.

- Strategy: Bayesian -> TPE; Random -> random sampling; Grid -> every combination of the
  categorical values, each once; Hyperband -> TPE with Optuna's Hyperband pruner, epochs as
  the resource (``MinResource``/``MaxResource`` of ``HyperbandStrategyConfig``).
- ``TrainingJobEarlyStoppingType`` Auto -> a median pruner: a job stops when its validation
  loss at an epoch is worse than the median of earlier jobs at the same epoch (SageMaker's
  rule).
- Scaling: Logarithmic samples log-uniformly; ReverseLogarithmic samples ``1 - x``
  log-uniformly (dense near the upper bound, for values just below 1); Linear and Auto
  uniformly. Integer ranges give integers, categorical ranges their strings.
- ``RandomSeed`` seeds the sampler.
"""

from __future__ import annotations

import itertools
import math
import random
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import optuna
from optuna.distributions import (
    BaseDistribution,
    CategoricalDistribution,
    FloatDistribution,
    IntDistribution,
)

optuna.logging.set_verbosity(optuna.logging.WARNING)

OBJECTIVE_METRIC = "validation:total_loss"
STRATEGIES = ("Bayesian", "Random", "Grid", "Hyperband")


class SearchError(ValueError):
    """A tuning configuration that SageMaker would refuse."""


@dataclass(frozen=True)
class Parameter:
    """One tuned hyperparameter: its Optuna distribution and how values map back."""

    name: str
    distribution: BaseDistribution
    kind: str  # "categorical", "integer" or "continuous"
    low: float = 0.0
    high: float = 0.0
    reverse: bool = False  # ReverseLogarithmic: Optuna samples 1 - x
    values: tuple[str, ...] = ()  # a categorical range's values

    def example(self) -> str:
        """A value inside the range, as SageMaker would pass it."""
        if self.kind == "categorical":
            return self.values[0]
        return str(int(self.low)) if self.kind == "integer" else repr(self.low)

    def to_text(self, value: Any) -> str:
        """The sampled value as SageMaker passes it: a string within the range."""
        if self.kind == "categorical":
            return str(value)
        if self.kind == "integer":
            return str(int(value))
        number = 1.0 - float(value) if self.reverse else float(value)
        number = min(max(number, self.low), self.high)
        return repr(number)

    def from_text(self, text: str) -> Any:
        """A SageMaker value back in Optuna's space (for warm starts)."""
        if self.kind == "categorical":
            return text
        if self.kind == "integer":
            return int(float(text))
        return 1.0 - float(text) if self.reverse else float(text)


def search_space(ranges: Mapping[str, Any]) -> dict[str, Parameter]:
    """Every range of ``ParameterRanges``, keyed by hyperparameter name."""
    space: dict[str, Parameter] = {}

    def add(parameter: Parameter) -> None:
        if parameter.name in space:
            raise SearchError(f"{parameter.name} appears in more than one range")
        space[parameter.name] = parameter

    for entry in ranges.get("CategoricalParameterRanges", []):
        values = [str(v) for v in entry["Values"]]
        if not values or len(set(values)) != len(values):
            raise SearchError(f"{entry['Name']}: categorical values must be distinct, not empty")
        choices = CategoricalDistribution(values)
        add(Parameter(entry["Name"], choices, "categorical", values=tuple(values)))
    for entry in ranges.get("IntegerParameterRanges", []):
        name, scaling = entry["Name"], entry.get("ScalingType", "Auto")
        low, high = _bounds(entry, integer=True)
        if scaling == "ReverseLogarithmic":
            raise SearchError(f"{name}: ReverseLogarithmic applies to continuous ranges only")
        log = scaling == "Logarithmic"
        if log and low <= 0:
            raise SearchError(f"{name}: Logarithmic scaling needs MinValue > 0")
        add(Parameter(name, IntDistribution(int(low), int(high), log=log), "integer", low, high))
    for entry in ranges.get("ContinuousParameterRanges", []):
        name, scaling = entry["Name"], entry.get("ScalingType", "Auto")
        low, high = _bounds(entry, integer=False)
        if scaling == "Logarithmic":
            if low <= 0:
                raise SearchError(f"{name}: Logarithmic scaling needs MinValue > 0")
            distribution = FloatDistribution(low, high, log=True)
            add(Parameter(name, distribution, "continuous", low, high))
        elif scaling == "ReverseLogarithmic":
            if not (low >= 0 and high < 1):
                raise SearchError(f"{name}: ReverseLogarithmic needs 0 <= MinValue, MaxValue < 1")
            distribution = FloatDistribution(1.0 - high, 1.0 - low, log=True)
            add(Parameter(name, distribution, "continuous", low, high, reverse=True))
        else:
            add(Parameter(name, FloatDistribution(low, high), "continuous", low, high))
    if ranges.get("AutoParameters"):
        raise SearchError("AutoParameters (Autotune) is not supported by the local tuner")
    return space


def _bounds(entry: Mapping[str, Any], *, integer: bool) -> tuple[float, float]:
    try:
        low, high = float(entry["MinValue"]), float(entry["MaxValue"])
    except (KeyError, ValueError):
        raise SearchError(f"{entry.get('Name')}: MinValue and MaxValue must be numbers") from None
    if integer and not (low.is_integer() and high.is_integer()):
        raise SearchError(f"{entry['Name']}: integer ranges need integer bounds")
    if not (math.isfinite(low) and math.isfinite(high)) or low > high:
        raise SearchError(f"{entry['Name']}: MinValue must not exceed MaxValue")
    return low, high


def grid(space: Mapping[str, Parameter]) -> dict[str, list[str]]:
    """Grid's search space; only categorical ranges may be in it."""
    not_categorical = [p.name for p in space.values() if p.kind != "categorical"]
    if not_categorical:
        raise SearchError(
            "the Grid strategy takes categorical ranges only; not: " + ", ".join(not_categorical)
        )
    return {p.name: list(p.values) for p in space.values()}


def grid_size(space: Mapping[str, Parameter]) -> int:
    return math.prod(len(values) for values in grid(space).values())


def grid_points(space: Mapping[str, Parameter]) -> list[dict[str, str]]:
    values = grid(space)
    return [dict(zip(values, combo, strict=True)) for combo in itertools.product(*values.values())]


def enqueue_grid(study: optuna.Study, space: Mapping[str, Parameter], seed: int | None) -> int:
    """Queue every combination, in an order shuffled by the seed; how many there are."""
    points = grid_points(space)
    random.Random(seed).shuffle(points)
    for point in points:
        study.enqueue_trial(dict(point))
    return len(points)


def make_sampler(
    strategy: str, space: Mapping[str, Parameter], seed: int | None, max_jobs: int
) -> optuna.samplers.BaseSampler:
    if strategy == "Random":
        return optuna.samplers.RandomSampler(seed=seed)
    if strategy == "Grid":
        # Every grid point is enqueued (see ``enqueue_grid``); Optuna's GridSampler is not
        # used because it stops the study from inside ``tell``, which ask-and-tell forbids.
        grid(space)
        return optuna.samplers.RandomSampler(seed=seed)
    if strategy in ("Bayesian", "Hyperband"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            # A third of the budget (at most Optuna's default 10) is sampled at random before
            # the model takes over; the liar keeps parallel workers from sampling one point.
            return optuna.samplers.TPESampler(
                seed=seed,
                n_startup_trials=max(1, min(10, max_jobs // 3)),
                constant_liar=True,
            )
    raise SearchError(f"unknown strategy {strategy!r}; SageMaker has {', '.join(STRATEGIES)}")


@dataclass(frozen=True)
class Budget:
    """How many epochs a training job may run, and what can stop it early."""

    min_resource: int | None = None
    max_resource: int | None = None


def hyperband_budget(config: Mapping[str, Any], static: Mapping[str, str]) -> Budget:
    hyperband = (config.get("StrategyConfig") or {}).get("HyperbandStrategyConfig") or {}
    maximum = hyperband.get("MaxResource")
    if maximum is None:
        for key in ("epochs", "numepochs", "n-epochs", "n_epochs", "num_epochs"):
            if key in static:
                maximum = int(float(static[key]))
                break
    if maximum is None:
        raise SearchError("Hyperband needs MaxResource, or a static epochs to infer it from")
    minimum = int(hyperband.get("MinResource", 1))
    if not 1 <= minimum <= int(maximum):
        raise SearchError("HyperbandStrategyConfig needs 1 <= MinResource <= MaxResource")
    return Budget(min_resource=minimum, max_resource=int(maximum))


def make_pruner(
    strategy: str, early_stopping: str, budget: Budget
) -> optuna.pruners.BasePruner | None:
    if strategy == "Hyperband":
        assert budget.min_resource is not None and budget.max_resource is not None
        return optuna.pruners.HyperbandPruner(
            min_resource=budget.min_resource,
            max_resource=budget.max_resource,
            reduction_factor=3,
        )
    if early_stopping == "Auto":
        return optuna.pruners.MedianPruner(n_startup_trials=3, n_warmup_steps=2)
    return None


@dataclass
class CompletionCriteria:
    """``TuningJobCompletionCriteria`` for a minimised objective.

    Convergence (best effort; SageMaker does not publish its rule): once at least
    ``CONVERGENCE_MIN_JOBS`` jobs have an objective, the search has converged when the best
    value improved by less than ``CONVERGENCE_TOLERANCE`` (relative) over the later half of them.
    """

    target: float | None = None
    not_improving: int | None = None
    convergence: bool = False
    values: list[float | None] = field(default_factory=list)
    best: float = math.inf
    since_best: int = 0
    met: str | None = None
    converged_at: datetime | None = None

    CONVERGENCE_MIN_JOBS = 10
    CONVERGENCE_TOLERANCE = 1e-3

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> CompletionCriteria:
        criteria = config.get("TuningJobCompletionCriteria") or {}
        not_improving = (criteria.get("BestObjectiveNotImproving") or {}).get(
            "MaxNumberOfTrainingJobsNotImproving"
        )
        convergence = (criteria.get("ConvergenceDetected") or {}).get("CompleteOnConvergence")
        if not_improving is not None and int(not_improving) < 3:
            raise SearchError("MaxNumberOfTrainingJobsNotImproving must be at least 3")
        return cls(
            target=criteria.get("TargetObjectiveMetricValue"),
            not_improving=None if not_improving is None else int(not_improving),
            convergence=convergence == "Enabled",
        )

    def record(self, value: float | None) -> str | None:
        """Account for one finished training job; the criterion met, if any."""
        self.values.append(value)
        if value is not None and math.isfinite(value) and value < self.best:
            self.best, self.since_best = value, 0
        else:
            self.since_best += 1
        if self.met:
            return self.met
        if self.target is not None and self.best <= float(self.target):
            self.met = "TargetObjectiveMetricValue"
        elif self.not_improving is not None and self.since_best >= self.not_improving:
            self.met = "BestObjectiveNotImproving"
        elif self.convergence and self._converged():
            self.met = "ConvergenceDetected"
            self.converged_at = datetime.now(UTC)
        return self.met

    def _converged(self) -> bool:
        scored = [v for v in self.values if v is not None and math.isfinite(v)]
        if len(scored) < self.CONVERGENCE_MIN_JOBS:
            return False
        half = len(scored) // 2
        earlier, overall = min(scored[:half]), min(scored)
        return earlier - overall <= self.CONVERGENCE_TOLERANCE * abs(earlier)
