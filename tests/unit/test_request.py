"""Numbers a JSON request can spell but SageMaker cannot take: refused on their own field."""

from __future__ import annotations

import json

import pytest
from ntm_tuning.request import TuningRequest
from pydantic import ValidationError

DATA = {"train": "d/train/", "validation": "d/validation/"}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (
            '{"ranges": {"learning_rate": {"type": "Continuous", "min": 0.001, "max": Infinity}}}',
            "ranges.learning_rate.Continuous.max",
        ),
        (
            '{"ranges": {"learning_rate": {"type": "Continuous", "min": -Infinity, "max": 0.1}}}',
            "ranges.learning_rate.Continuous.min",
        ),
        (
            '{"completion_criteria": {"target_objective_value": NaN}}',
            "completion_criteria.target_objective_value",
        ),
    ],
)
def test_a_number_that_is_not_finite_is_refused_on_its_field(body: str, field: str) -> None:
    # Python's json reads Infinity and NaN, so a request file may hold them.
    with pytest.raises(ValidationError) as raised:
        TuningRequest.model_validate({"data": DATA, **json.loads(body)})
    (error,) = raised.value.errors()
    assert ".".join(str(part) for part in error["loc"]) == field
    assert error["msg"] == "Value error, must be a finite number"


def test_finite_bounds_and_target_are_kept() -> None:
    request = TuningRequest.model_validate(
        {
            "data": DATA,
            "ranges": {"learning_rate": {"type": "Continuous", "min": 0.001, "max": 0.1}},
            "completion_criteria": {"target_objective_value": 6.5},
        }
    )
    assert request.completion_criteria is not None
    assert request.completion_criteria.target_objective_value == 6.5


def test_a_corpus_setting_error_names_the_setting_and_the_rule() -> None:
    with pytest.raises(ValidationError) as raised:
        TuningRequest.model_validate({"corpus": {"prefix": "c/", "validation_ratio": 0}})
    (error,) = raised.value.errors()
    assert error["type"] == "corpus_setting"
    assert error["msg"] == "validation_ratio: must be above 0: tuning needs a validation split"
