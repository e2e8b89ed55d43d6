"""What SageMaker's built-in NTM accepts: hyperparameters, ranges and the tuning objective."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from enum import Enum

OBJECTIVE_METRIC = "validation:total_loss"
OBJECTIVE_TYPE = "Minimize"

MAX_TUNED_HYPERPARAMETERS = 30
MAX_CATEGORICAL_VALUES = 30
MAX_STATIC_HYPERPARAMETERS = 100
MAX_STATIC_VALUE_LENGTH = 2500


class Kind(Enum):
    INTEGER = "integer"
    FLOAT = "float"
    CHOICE = "choice"
    BOOLEAN = "boolean"
    LAYERS = "layers"


@dataclass(frozen=True)
class Hyperparameter:
    """One NTM hyperparameter and the values SageMaker accepts for it."""

    name: str
    kind: Kind
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[str, ...] = ()
    tunable: bool = True

    def describe_rule(self) -> str:
        if self.kind is Kind.CHOICE:
            return "one of " + ", ".join(self.choices)
        if self.kind is Kind.BOOLEAN:
            return "true or false"
        if self.kind is Kind.LAYERS:
            return "'auto' or comma-separated positive integers"
        kind = "an integer" if self.kind is Kind.INTEGER else "a number"
        if self.maximum is None:
            return f"{kind} >= {_fmt(self.minimum)}"
        return f"{kind} in [{_fmt(self.minimum)}, {_fmt(self.maximum)}]"

    def in_bounds(self, number: float) -> bool:
        if not math.isfinite(number):
            return False
        if self.minimum is not None and number < self.minimum:
            return False
        return self.maximum is None or number <= self.maximum

    def to_sagemaker(self, value: object) -> str | None:
        """The string SageMaker expects for ``value``, or None when the value is not valid."""
        if self.kind is Kind.BOOLEAN:
            if isinstance(value, bool):
                return "true" if value else "false"
            if isinstance(value, str) and value.lower() in ("true", "false"):
                return value.lower()
            return None
        if self.kind is Kind.CHOICE:
            return value if isinstance(value, str) and value in self.choices else None
        if self.kind is Kind.LAYERS:
            if not isinstance(value, str):
                return None
            text = value.replace(" ", "")
            return text if text == "auto" or _LAYERS.fullmatch(text) else None
        number = _as_number(value, integer=self.kind is Kind.INTEGER)
        if number is None or not self.in_bounds(number):
            return None
        return _fmt(number)  # an integer's bounds are far below 1e15: written as an integer


_LAYERS = re.compile(r"[1-9][0-9]{0,6}(,[1-9][0-9]{0,6})*")


def _as_number(value: object, *, integer: bool) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        try:
            value = int(value) if integer else float(value)
        except ValueError:
            return None
    if isinstance(value, int):
        try:
            return float(value)
        except OverflowError:
            return None
    if isinstance(value, float):
        if integer and not value.is_integer():
            return None
        return value  # in_bounds refuses inf and nan
    return None


def _fmt(number: float | None) -> str:
    if number is None:
        return ""
    if float(number).is_integer() and abs(number) < 1e15:
        return str(int(number))
    return repr(float(number))


# The NTM hyperparameter table (SageMaker developer guide). Where the guide leaves a bound
# open, the SageMaker Python SDK's validation is used (epochs <= 100, num_patience_epochs <= 10).
HYPERPARAMETERS: dict[str, Hyperparameter] = {
    h.name: h
    for h in (
        Hyperparameter("feature_dim", Kind.INTEGER, 1, 1_000_000, tunable=False),
        Hyperparameter("num_topics", Kind.INTEGER, 2, 1000),
        Hyperparameter("batch_norm", Kind.BOOLEAN),
        Hyperparameter("clip_gradient", Kind.FLOAT, 1e-3, None),
        Hyperparameter("encoder_layers", Kind.LAYERS),
        Hyperparameter(
            "encoder_layers_activation",
            Kind.CHOICE,
            choices=("sigmoid", "tanh", "relu"),
        ),
        Hyperparameter("epochs", Kind.INTEGER, 1, 100),
        Hyperparameter("learning_rate", Kind.FLOAT, 1e-6, 1.0),
        Hyperparameter("mini_batch_size", Kind.INTEGER, 1, 10_000),
        Hyperparameter("num_patience_epochs", Kind.INTEGER, 1, 10),
        Hyperparameter(
            "optimizer",
            Kind.CHOICE,
            choices=("sgd", "adam", "adagrad", "adadelta", "rmsprop"),
        ),
        Hyperparameter("rescale_gradient", Kind.FLOAT, 1e-3, 1.0),
        Hyperparameter("sub_sample", Kind.FLOAT, 0.0, 1.0),
        Hyperparameter("tolerance", Kind.FLOAT, 1e-6, 0.1),
        Hyperparameter("weight_decay", Kind.FLOAT, 0.0, 1.0),
    )
}

# The recommended ranges of "Tune an NTM Model", in SageMaker's ParameterRanges shape.
SEED_RANGES: dict[str, list[dict[str, object]]] = {
    "CategoricalParameterRanges": [
        {"Name": "encoder_layers_activation", "Values": ["sigmoid", "tanh", "relu"]},
        {"Name": "optimizer", "Values": ["sgd", "adam", "adadelta"]},
    ],
    "ContinuousParameterRanges": [
        {
            "Name": "learning_rate",
            "MinValue": "0.0001",
            "MaxValue": "0.1",
            "ScalingType": "Logarithmic",
        },
        {
            "Name": "rescale_gradient",
            "MinValue": "0.1",
            "MaxValue": "1.0",
            "ScalingType": "Auto",
        },
        {
            "Name": "weight_decay",
            "MinValue": "0.0",
            "MaxValue": "1.0",
            "ScalingType": "Linear",
        },
    ],
    "IntegerParameterRanges": [
        {
            "Name": "mini_batch_size",
            "MinValue": "16",
            "MaxValue": "2048",
            "ScalingType": "Auto",
        },
    ],
}
