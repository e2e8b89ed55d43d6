"""A corpus request's settings and the preparation job's config are one contract: whatever the
request model accepts, the job accepts (and reads back unchanged), and the other way round."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from ntm_tuning import intake
from ntm_tuning.request import CorpusSpec, TuningRequest
from pydantic import ValidationError

from preparation.config import INTEGER_BOUNDS, PreparationConfig

counts = st.integers(min_value=-3, max_value=2_000_000)
fractions = st.sampled_from([0.0, 1e-9, 0.01, 0.2, 0.5, 0.999, 1.0, 1.5, -0.1])
frequency = st.one_of(st.integers(min_value=-2, max_value=50), fractions)
SETTINGS = {
    "text_field": st.sampled_from(["text", "body", "x" * 256]),
    "text_column": st.sampled_from(["text", "content"]),
    "lowercase": st.booleans(),
    "min_token_length": st.integers(min_value=-1, max_value=1002),
    "stop_words": st.one_of(st.none(), st.lists(st.text(min_size=1, max_size=12), max_size=20)),
    "min_df": frequency,
    "max_df": frequency,
    "max_vocabulary": counts,
    "min_document_tokens": st.integers(min_value=-1, max_value=100),
    "validation_ratio": fractions,
    "test_ratio": fractions,
    "train_shards": st.integers(min_value=-1, max_value=1002),
    "split_salt": st.text(max_size=20),
    "max_document_bytes": counts,
}
corpus_settings = st.fixed_dictionaries({}, optional=SETTINGS)


def _request_accepts(values: dict[str, Any]) -> CorpusSpec | None:
    try:
        return CorpusSpec.model_validate({"prefix": "corpora/c/", **values})
    except ValidationError:
        return None


def _job_accepts(values: dict[str, Any]) -> bool:
    try:
        PreparationConfig.from_dict(values)
    except ValueError:
        return False
    return True


@settings(max_examples=400, deadline=None)
@given(corpus_settings)
def test_every_accepted_corpus_setting_is_a_valid_preparation_config(
    values: dict[str, Any],
) -> None:
    spec = _request_accepts(values)
    if spec is not None:
        config = PreparationConfig.from_dict(spec.preparation_config())
        assert config.to_dict() == spec.preparation_config()  # read back, field by field
    # Nor does the request refuse what the job takes, but for the pipeline's own rule.
    needs_validation = values.get("validation_ratio", 0.1) > 0
    if _job_accepts(values) and needs_validation:
        assert spec is not None, values


@pytest.mark.parametrize(
    ("corpus", "field"),
    [
        ({"min_df": 1.0}, "corpus.min_df"),
        ({"min_df": 10, "max_df": 5}, "corpus.max_df"),
        ({"min_df": 0.5, "max_df": 0.2}, "corpus.max_df"),
        ({"validation_ratio": 0.0}, "corpus.validation_ratio"),
    ],
)
def test_settings_the_job_would_refuse_are_named(corpus: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationError) as error:
        TuningRequest.model_validate({"corpus": {"prefix": "c/", **corpus}})
    (violation,) = intake.violations_of(error.value)
    assert (violation.field, violation.rule) == (field, "corpus_setting")
    if field != "corpus.validation_ratio":
        with pytest.raises(ValueError, match=field.removeprefix("corpus.")):
            PreparationConfig.from_dict(corpus)  # the job's own words
        assert violation.message in str(_job_error(corpus))


def _job_error(corpus: dict[str, Any]) -> ValueError:
    try:
        PreparationConfig.from_dict(corpus)
    except ValueError as error:
        return error
    raise AssertionError(f"the job accepts {corpus}")


def test_the_request_and_the_job_have_the_same_settings_and_defaults() -> None:
    request = CorpusSpec.model_validate({"prefix": "corpora/c/"})
    assert set(CorpusSpec.model_fields) - {"prefix"} == set(PreparationConfig().to_dict())
    # A request that leaves every setting out gets exactly the job's defaults.
    assert request.preparation_config() == PreparationConfig().to_dict()


def _boundaries() -> list[tuple[dict[str, Any], str | None]]:
    """(settings, the setting a refusal names, or None if accepted): each rule of the job at
    its bounds and just over them."""
    cases: list[tuple[dict[str, Any], str | None]] = []
    for name, (low, high) in INTEGER_BOUNDS.items():
        cases += [({name: low}, None), ({name: low - 1}, name), ({name: float(low)}, name)]
        if high is None:
            cases.append(({name: 10**9}, None))
        else:
            cases += [({name: high}, None), ({name: high + 1}, name)]
    cases += [
        # Each ratio in [0, 1), the two together below 1 (the job names test_ratio then).
        ({"validation_ratio": 0.999, "test_ratio": 0}, None),
        ({"validation_ratio": 1, "test_ratio": 0}, "validation_ratio"),
        ({"validation_ratio": -1e-9}, "validation_ratio"),
        ({"test_ratio": 0}, None),
        ({"test_ratio": 0.0}, None),
        ({"test_ratio": 0.899}, None),
        ({"test_ratio": 0.9}, "test_ratio"),
        ({"validation_ratio": 0.9}, "test_ratio"),
        ({"test_ratio": 1}, "test_ratio"),
        ({"test_ratio": -1e-9}, "test_ratio"),
        # Document frequencies: counts from 1, fractions in (0, 1) and (0, 1].
        ({"min_df": 1, "max_df": 1}, None),
        ({"min_df": 0}, "min_df"),
        ({"min_df": 1e-9}, None),
        ({"min_df": 0.0}, "min_df"),
        ({"min_df": 0.499}, None),
        ({"min_df": 0.999, "max_df": 1.0}, None),
        ({"min_df": 1.0, "max_df": 1.0}, "min_df"),
        ({"max_df": 1.0}, None),
        ({"max_df": 1.0000001}, "max_df"),
        ({"max_df": 0}, "max_df"),
        ({"max_df": 0.0}, "max_df"),
        ({"min_df": 3, "max_df": 3}, None),
        ({"min_df": 3, "max_df": 2}, "max_df"),
        ({"min_df": 0.2, "max_df": 0.2}, None),
        ({"min_df": 0.2, "max_df": 0.19}, "max_df"),
    ]
    return cases


@pytest.mark.parametrize(("values", "refused_on"), _boundaries(), ids=repr)
def test_each_rule_at_its_boundary(values: dict[str, Any], refused_on: str | None) -> None:
    """At a bound both accept, and the job reads the settings back; just over it both refuse,
    the request naming the setting the job names."""
    assert _job_accepts(values) is (refused_on is None), values
    spec = _request_accepts(values)
    if refused_on is None:
        assert spec is not None, values
        read_back = PreparationConfig.from_dict(spec.preparation_config()).to_dict()
        assert {name: read_back[name] for name in values} == values
        return
    assert spec is None, values
    assert str(_job_error(values)).startswith(f"{refused_on}: ")
    with pytest.raises(ValidationError) as error:
        TuningRequest.model_validate({"corpus": {"prefix": "c/", **values}})
    assert [v.field for v in intake.violations_of(error.value)] == [f"corpus.{refused_on}"]


def test_the_schema_publishes_the_jobs_integer_bounds() -> None:
    properties = CorpusSpec.model_json_schema()["properties"]
    for name, (low, high) in INTEGER_BOUNDS.items():
        assert properties[name]["minimum"] == low
        assert properties[name].get("maximum") == high
        assert properties[name]["default"] == getattr(PreparationConfig(), name)


def test_the_readme_gives_every_corpus_setting_with_the_jobs_default() -> None:
    text = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    (row,) = [line for line in text.splitlines() if line.startswith("| `corpus.*` |")]
    written = dict(re.findall(r"`(\w+)` \(([^)]*)\)", row))
    defaults = PreparationConfig().to_dict()
    assert set(written) == set(defaults)
    for name, value in defaults.items():
        first = written[name].split(",")[0].split(" ")[0].strip("`")
        if value is None:
            assert written[name] == "English list", name  # stop_words: the built-in list
        elif isinstance(value, bool):
            assert first == json.dumps(value), name
        elif isinstance(value, str):
            assert first == (value or '""'), name
        else:
            assert written[name].split(" ")[0].rstrip(",").replace(",", "") == str(value), name
