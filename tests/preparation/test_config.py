"""PreparationConfig: defaults, round trip, and errors that name the field."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from preparation.config import INTEGER_BOUNDS, PreparationConfig

DEFAULTS = {
    "text_field": "text",
    "text_column": "text",
    "lowercase": True,
    "min_token_length": 2,
    "stop_words": None,
    "min_df": 2,
    "max_df": 0.5,
    "max_vocabulary": 2000,
    "min_document_tokens": 5,
    "validation_ratio": 0.1,
    "test_ratio": 0.1,
    "train_shards": 4,
    "split_salt": "",
    "max_document_bytes": 1_000_000,
}


def test_defaults() -> None:
    assert PreparationConfig.from_dict({}).to_dict() == DEFAULTS
    assert PreparationConfig() == PreparationConfig.from_dict({})


def test_round_trip() -> None:
    data = {
        **DEFAULTS,
        "stop_words": ["foo", "bar"],
        "min_df": 0.01,
        "max_df": 5000,
        "validation_ratio": 0,
        "split_salt": "v2",
    }
    config = PreparationConfig.from_dict(data)
    assert config.stop_words == ("foo", "bar")
    assert config.to_dict() == data
    assert PreparationConfig.from_dict(config.to_dict()) == config
    hash(config)  # frozen and hashable, stop words included


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"colour": "red"}, "colour"),
        ({"text_field": ""}, "text_field"),
        ({"text_column": 3}, "text_column"),
        ({"lowercase": "yes"}, "lowercase"),
        ({"min_token_length": 0}, "min_token_length"),
        ({"min_token_length": 2.0}, "min_token_length"),
        ({"stop_words": "the"}, "stop_words"),
        ({"stop_words": ["the", ""]}, "stop_words"),
        ({"stop_words": ["the", 1]}, "stop_words"),
        ({"min_df": 0}, "min_df"),
        ({"min_df": 1.0}, "min_df"),
        ({"min_df": True}, "min_df"),
        ({"min_df": "2"}, "min_df"),
        ({"min_df": float("nan")}, "min_df"),
        ({"max_df": 0.0}, "max_df"),
        ({"max_df": 1.5}, "max_df"),
        ({"max_df": 0}, "max_df"),
        ({"min_df": 10, "max_df": 5}, "max_df"),
        ({"min_df": 0.4, "max_df": 0.3}, "max_df"),
        ({"max_vocabulary": 0}, "max_vocabulary"),
        ({"max_vocabulary": 1_000_001}, "max_vocabulary"),
        ({"min_document_tokens": 0}, "min_document_tokens"),
        ({"validation_ratio": -0.1}, "validation_ratio"),
        ({"validation_ratio": 1}, "validation_ratio"),
        ({"test_ratio": None}, "test_ratio"),
        ({"validation_ratio": 0.5, "test_ratio": 0.5}, "test_ratio"),
        ({"train_shards": 0}, "train_shards"),
        ({"train_shards": 1001}, "train_shards"),
        ({"split_salt": 7}, "split_salt"),
        ({"max_document_bytes": 0}, "max_document_bytes"),
    ],
)
def test_errors_name_the_field(changes: dict[str, Any], field: str) -> None:
    with pytest.raises(ValueError, match=rf"^{field}: "):
        PreparationConfig.from_dict(changes)


def test_not_an_object() -> None:
    with pytest.raises(ValueError, match=r"^config: must be a JSON object$"):
        PreparationConfig.from_dict(["min_df", 2])  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("changes", "accepted"),
    [
        ({"min_token_length": 1}, True),
        ({"min_token_length": 1000}, True),
        ({"min_token_length": 0}, False),
        ({"min_token_length": 1001}, False),
        ({"max_vocabulary": 1}, True),
        ({"max_document_bytes": 1}, True),
        ({"max_document_bytes": 0}, False),
        ({"min_df": 0.0}, False),
        ({"min_df": 0.01, "max_df": 1}, True),
        ({"min_df": 1, "max_df": 1}, True),
        ({"min_df": 3, "max_df": 3}, True),
        ({"min_df": 0.25, "max_df": 0.25}, True),
        ({"min_df": 4, "max_df": 3}, False),
    ],
)
def test_bounds_are_inclusive(changes: dict[str, Any], accepted: bool) -> None:
    if accepted:
        config = PreparationConfig.from_dict(changes)
        assert {key: getattr(config, key) for key in changes} == changes
    else:
        with pytest.raises(ValueError, match=next(iter(reversed(changes)))):
            PreparationConfig.from_dict(changes)


def test_a_bound_is_described_with_both_ends_or_its_minimum() -> None:
    with pytest.raises(
        ValueError, match=r"min_token_length: must be an integer between 1 and 1000"
    ):
        PreparationConfig.from_dict({"min_token_length": 0})
    with pytest.raises(ValueError, match=r"max_document_bytes: must be an integer >= 1$"):
        PreparationConfig.from_dict({"max_document_bytes": 0})


def test_stop_words_are_kept_as_given() -> None:
    config = PreparationConfig.from_dict({"stop_words": ["alpha", "beta"]})
    assert config.stop_words == ("alpha", "beta")
    assert PreparationConfig.from_dict(config.to_dict()) == config


def _readme_table() -> dict[str, list[str]]:
    """preparation/README.md's table of settings: field -> its cells (default, meaning)."""
    text = (Path(__file__).resolve().parents[2] / "preparation" / "README.md").read_text()
    table = text[text.index("| field | default | meaning |") :].split("\n\n")[0]
    rows: dict[str, list[str]] = {}
    for line in table.splitlines()[2:]:
        name, *cells = (cell.strip() for cell in line.strip("|").split("|"))
        rows[name.strip("`")] = cells
    return rows


def test_the_readme_documents_every_setting_with_its_default_and_bounds() -> None:
    rows = _readme_table()
    assert set(rows) == set(DEFAULTS)
    for name, (default, _) in rows.items():
        assert json.loads(default.strip("`")) == PreparationConfig().to_dict()[name], name
    for name, (low, high) in INTEGER_BOUNDS.items():
        if high is not None:
            meaning = rows[name][1]
            assert f"{low}..{high:,}" in meaning or f"{low}..{high}" in meaning, (name, meaning)


def test_stop_words_from_json_become_a_tuple_and_anything_else_is_refused() -> None:
    config = PreparationConfig.from_dict({"stop_words": ["the", "a"]})
    assert config.stop_words == ("the", "a")
    assert hash(config) == hash(PreparationConfig.from_dict({"stop_words": ["the", "a"]}))
    with pytest.raises(
        ValueError, match=r"^stop_words: must be null or a list of non-empty strings$"
    ):
        PreparationConfig.from_dict({"stop_words": "the a"})
    with pytest.raises(ValueError, match=r"^max_dfx: unknown field \(known: [a-z_]+, [a-z_]+, "):
        PreparationConfig.from_dict({"max_dfx": 0.5})
