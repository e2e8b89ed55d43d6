"""NTM's fifteen hyperparameters, parsed from the strings SageMaker passes.

Bounds and defaults follow the NTM hyperparameter table of the SageMaker developer guide.
Names starting with ``_`` (SageMaker adds ``_tuning_objective_metric`` to the training jobs a
tuning job starts) are ignored; any other unknown name is refused, as the built-in
algorithm refuses it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from .errors import HyperparameterError

ACTIVATIONS = ("sigmoid", "tanh", "relu")
OPTIMIZERS = ("sgd", "adam", "adagrad", "adadelta", "rmsprop")
REQUIRED = ("feature_dim", "num_topics")

__all__ = ["HyperparameterError", "NTMHyperparameters", "parse_hyperparameters"]


@dataclass(frozen=True)
class NTMHyperparameters:
    feature_dim: int
    num_topics: int
    batch_norm: bool = False
    clip_gradient: float = math.inf
    encoder_layers: tuple[int, ...] | None = None  # None: "auto"
    encoder_layers_activation: str = "sigmoid"
    epochs: int = 50
    learning_rate: float = 0.001
    mini_batch_size: int = 256
    num_patience_epochs: int = 3
    optimizer: str = "adadelta"
    rescale_gradient: float = 1.0
    sub_sample: float = 1.0
    tolerance: float = 0.001
    weight_decay: float = 0.0

    @property
    def hidden_sizes(self) -> tuple[int, ...]:
        """The encoder's layer sizes; "auto" is two layers of 3K and 2K units for K topics."""
        if self.encoder_layers is None:
            return (3 * self.num_topics, 2 * self.num_topics)
        return self.encoder_layers

    def as_strings(self) -> dict[str, str]:
        """The values as SageMaker would pass them back."""
        out: dict[str, str] = {}
        for name, value in asdict(self).items():
            if name == "encoder_layers":
                out[name] = "auto" if value is None else ",".join(str(v) for v in value)
            elif isinstance(value, bool):
                out[name] = "true" if value else "false"
            elif isinstance(value, float) and math.isinf(value):
                out[name] = "Infinity"
            else:
                out[name] = str(value)
        return out

    def replace(self, **changes: Any) -> NTMHyperparameters:
        return parse_hyperparameters({**self.as_strings(), **changes})


def _text(name: str, value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, tuple | list):
        return ",".join(str(v) for v in value)
    return str(value).strip()


def _integer(name: str, text: str, low: int, high: int | None) -> int:
    try:
        number = float(text)
    except ValueError:
        raise HyperparameterError(f"{name} must be an integer, got {text!r}") from None
    if not math.isfinite(number) or not number.is_integer():
        raise HyperparameterError(f"{name} must be an integer, got {text!r}")
    value = int(number)
    if value < low or (high is not None and value > high):
        bounds = f">= {low}" if high is None else f"in [{low}, {high}]"
        raise HyperparameterError(f"{name} must be {bounds}, got {value}")
    return value


def _number(
    name: str, text: str, low: float, high: float, *, low_open: bool = False, inf: bool = False
) -> float:
    if inf and text.lower() in ("inf", "infinity", "+inf", "+infinity"):
        return math.inf
    try:
        value = float(text)
    except ValueError:
        raise HyperparameterError(f"{name} must be a number, got {text!r}") from None
    if math.isnan(value) or (math.isinf(value) and not inf):
        raise HyperparameterError(f"{name} must be finite, got {text!r}")
    if value < low or (low_open and value == low) or value > high:
        left = "(" if low_open else "["
        raise HyperparameterError(f"{name} must be in {left}{low:g}, {high:g}], got {text}")
    return value


def _choice(name: str, text: str, choices: tuple[str, ...]) -> str:
    if text.lower() not in choices:
        raise HyperparameterError(f"{name} must be one of {', '.join(choices)}, got {text!r}")
    return text.lower()


def _layers(text: str) -> tuple[int, ...] | None:
    compact = text.replace(" ", "")
    if compact.lower() == "auto":
        return None
    try:
        sizes = tuple(int(part) for part in compact.split(","))
    except ValueError:
        raise HyperparameterError(
            f"encoder_layers must be 'auto' or comma-separated positive integers, got {text!r}"
        ) from None
    if not sizes or any(size < 1 for size in sizes):
        raise HyperparameterError(f"encoder_layers sizes must be positive, got {text!r}")
    return sizes


def _boolean(name: str, text: str) -> bool:
    lowered = text.lower()
    if lowered not in ("true", "false"):
        raise HyperparameterError(f"{name} must be true or false, got {text!r}")
    return lowered == "true"


def parse_hyperparameters(values: Mapping[str, object]) -> NTMHyperparameters:
    """Check every value and fill in the defaults."""
    given = {name: _text(name, value) for name, value in values.items() if not name.startswith("_")}
    known = set(NTMHyperparameters.__dataclass_fields__)
    unknown = sorted(set(given) - known)
    if unknown:
        raise HyperparameterError(
            f"unknown hyperparameter(s) {', '.join(unknown)}; NTM takes {', '.join(sorted(known))}"
        )
    missing = [name for name in REQUIRED if name not in given]
    if missing:
        raise HyperparameterError(f"missing required hyperparameter(s) {', '.join(missing)}")
    parsed: dict[str, Any] = {
        "feature_dim": _integer("feature_dim", given["feature_dim"], 1, 1_000_000),
        "num_topics": _integer("num_topics", given["num_topics"], 2, 1000),
    }
    readers: dict[str, Any] = {
        "batch_norm": lambda t: _boolean("batch_norm", t),
        "clip_gradient": lambda t: _number("clip_gradient", t, 1e-3, math.inf, inf=True),
        "encoder_layers": _layers,
        "encoder_layers_activation": lambda t: _choice("encoder_layers_activation", t, ACTIVATIONS),
        "epochs": lambda t: _integer("epochs", t, 1, None),
        "learning_rate": lambda t: _number("learning_rate", t, 1e-6, 1.0),
        "mini_batch_size": lambda t: _integer("mini_batch_size", t, 1, 10_000),
        "num_patience_epochs": lambda t: _integer("num_patience_epochs", t, 1, None),
        "optimizer": lambda t: _choice("optimizer", t, OPTIMIZERS),
        "rescale_gradient": lambda t: _number("rescale_gradient", t, 1e-3, 1.0),
        "sub_sample": lambda t: _number("sub_sample", t, 0.0, 1.0, low_open=True),
        "tolerance": lambda t: _number("tolerance", t, 1e-6, 0.1),
        "weight_decay": lambda t: _number("weight_decay", t, 0.0, 1.0),
    }
    for name, read in readers.items():
        if name in given:
            parsed[name] = read(given[name])
    return NTMHyperparameters(**parsed)
