"""NTM's hyperparameter rules, one value at a time: what SageMaker gets, and what is refused."""

from __future__ import annotations

import math

import pytest
from ntm_tuning.ntm import (
    HYPERPARAMETERS,
    MAX_STATIC_HYPERPARAMETERS,
    MAX_STATIC_VALUE_LENGTH,
    MAX_TUNED_HYPERPARAMETERS,
)
from ntm_tuning.request import TuningRequest
from pydantic import ValidationError

H = HYPERPARAMETERS


@pytest.mark.parametrize(
    ("name", "rule"),
    [
        ("optimizer", "one of sgd, adam, adagrad, adadelta, rmsprop"),
        ("batch_norm", "true or false"),
        ("encoder_layers", "'auto' or comma-separated positive integers"),
        ("num_topics", "an integer in [2, 1000]"),
        ("learning_rate", "a number in [1e-06, 1]"),
        ("clip_gradient", "a number >= 0.001"),
        ("sub_sample", "a number in [0, 1]"),
    ],
)
def test_each_rule_is_described_in_words(name: str, rule: str) -> None:
    assert H[name].describe_rule() == rule


@pytest.mark.parametrize(
    ("name", "value", "sent"),
    [
        ("batch_norm", True, "true"),
        ("batch_norm", False, "false"),
        ("batch_norm", "TRUE", "true"),
        ("batch_norm", "False", "false"),
        ("batch_norm", "yes", None),
        ("batch_norm", 1, None),
        ("optimizer", "adam", "adam"),
        ("optimizer", "Adam", None),
        ("optimizer", 3, None),
        ("encoder_layers", "auto", "auto"),
        ("encoder_layers", "100, 50", "100,50"),
        ("encoder_layers", "100,0", None),
        ("encoder_layers", "1,2,", None),
        ("encoder_layers", 100, None),
        ("num_topics", 20, "20"),
        ("num_topics", "20", "20"),
        ("num_topics", 20.0, "20"),
        ("num_topics", 20.5, None),
        ("num_topics", "20.5", None),
        ("num_topics", True, None),
        ("num_topics", 1, None),
        ("num_topics", 2, "2"),
        ("num_topics", 1000, "1000"),
        ("num_topics", 1001, None),
        ("num_topics", 10**400, None),
        ("num_topics", None, None),
        ("learning_rate", 0.01, "0.01"),
        ("learning_rate", "0.5", "0.5"),
        ("learning_rate", 1, "1"),
        ("learning_rate", 1e-06, "1e-06"),
        ("learning_rate", 9e-07, None),
        ("learning_rate", 1.0000001, None),
        ("learning_rate", "nan", None),
        ("learning_rate", math.inf, None),
        ("learning_rate", "ten", None),
        ("clip_gradient", 1e20, "1e+20"),
        ("clip_gradient", 123456789.0, "123456789"),
        ("sub_sample", 0, "0"),
        ("sub_sample", -0.0001, None),
    ],
)
def test_values_are_sent_as_sagemaker_expects_or_refused(
    name: str, value: object, sent: str | None
) -> None:
    assert H[name].to_sagemaker(value) == sent


@pytest.mark.parametrize(
    ("number", "inside"),
    [
        (2, True),
        (1000, True),
        (1.999, False),
        (1000.001, False),
        (math.nan, False),
        (math.inf, False),
    ],
)
def test_bounds_are_inclusive_and_finite(number: float, inside: bool) -> None:
    assert H["num_topics"].in_bounds(number) is inside


def test_an_unbounded_maximum_accepts_any_large_finite_number() -> None:
    assert H["clip_gradient"].in_bounds(1e300) is True
    assert H["clip_gradient"].in_bounds(0.0009) is False


def test_the_request_model_takes_the_static_value_length_limit_from_the_ntm_table() -> None:
    def request(value: str) -> dict[str, object]:
        return {"data": {"train": "t/", "validation": "v/"}, "hyperparameters": {"x": value}}

    assert MAX_STATIC_VALUE_LENGTH == 2500  # HyperParameters values: at most 2500 characters
    TuningRequest.model_validate(request("a" * MAX_STATIC_VALUE_LENGTH))
    with pytest.raises(ValidationError, match="at most 2500 characters"):
        TuningRequest.model_validate(request("a" * (MAX_STATIC_VALUE_LENGTH + 1)))


def test_numbers_are_sent_in_the_form_each_kind_takes() -> None:
    # An integer hyperparameter takes digits only; an exponent is refused, not rounded.
    assert H["num_topics"].to_sagemaker("100") == "100"
    assert H["num_topics"].to_sagemaker("1e2") is None
    # A float without an upper bound still refuses infinity.
    assert H["clip_gradient"].to_sagemaker(math.inf) is None
    # Whole floats are written as integers while that is exact (below 1e15), then in full.
    assert H["clip_gradient"].to_sagemaker(999_999_999_999_999.0) == "999999999999999"
    assert H["clip_gradient"].to_sagemaker(1e15) == "1000000000000000.0"
    assert H["clip_gradient"].to_sagemaker(0.5) == "0.5"


def test_no_request_can_pass_sagemakers_limits_on_hyperparameter_counts() -> None:
    """Static values and ranges name NTM's hyperparameters only: as long as NTM has fewer than
    SageMaker's limits, the plan cannot break them (so it does not check them)."""
    assert len(HYPERPARAMETERS) <= MAX_STATIC_HYPERPARAMETERS
    assert sum(1 for h in HYPERPARAMETERS.values() if h.tunable) <= MAX_TUNED_HYPERPARAMETERS
