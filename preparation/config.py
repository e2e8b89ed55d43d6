"""What a preparation run does, as one frozen value built from plain JSON.

Every bad value is reported as ``ValueError("<field>: <rule>")`` so that the message can be
handed back to whoever wrote the request without a stack trace.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

# NTM's feature_dim is at most 1,000,000: a larger vocabulary could not be trained on.
MAX_VOCABULARY = 1_000_000
# Each train shard is an open file during pass 2; a thousand is far more than any sensible
# number of training instances.
MAX_TRAIN_SHARDS = 1000
# The whole-number settings' bounds (inclusive; None: no upper bound). The request model
# (ntm_tuning.request.CorpusSpec) publishes them in its JSON Schema.
INTEGER_BOUNDS: dict[str, tuple[int, int | None]] = {
    "min_token_length": (1, 1000),
    "max_vocabulary": (1, MAX_VOCABULARY),
    "min_document_tokens": (1, None),
    "train_shards": (1, MAX_TRAIN_SHARDS),
    "max_document_bytes": (1, None),
}


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: object) -> bool:
    return (_is_int(value) or isinstance(value, float)) and math.isfinite(value)  # type: ignore[arg-type]


@dataclass(frozen=True)
class PreparationConfig:
    """How raw documents become an NTM dataset. See ``preparation/README.md``."""

    text_field: str = "text"
    text_column: str = "text"
    lowercase: bool = True
    min_token_length: int = 2
    stop_words: tuple[str, ...] | None = None
    min_df: int | float = 2
    max_df: int | float = 0.5
    max_vocabulary: int = 2000
    min_document_tokens: int = 5
    validation_ratio: float = 0.1
    test_ratio: float = 0.1
    train_shards: int = 4
    split_salt: str = ""
    max_document_bytes: int = 1_000_000

    def __post_init__(self) -> None:
        if isinstance(self.stop_words, list):
            # Frozen and hashable: a list given in code is kept as a tuple.
            object.__setattr__(self, "stop_words", tuple(self.stop_words))
        for name in ("text_field", "text_column"):
            value = getattr(self, name)
            if not isinstance(value, str) or not value:
                raise ValueError(f"{name}: must be a non-empty string")
        if not isinstance(self.lowercase, bool):
            raise ValueError("lowercase: must be true or false")
        if self.stop_words is not None and (
            not isinstance(self.stop_words, tuple)
            or not all(isinstance(word, str) and word for word in self.stop_words)
        ):
            raise ValueError("stop_words: must be null or a list of non-empty strings")
        if not isinstance(self.split_salt, str):
            raise ValueError("split_salt: must be a string")
        for name, (low, high) in INTEGER_BOUNDS.items():
            self._check_int(name, low, high)
        self._check_frequencies()
        for name in ("validation_ratio", "test_ratio"):
            value = getattr(self, name)
            if not _is_number(value) or not 0 <= value < 1:
                raise ValueError(f"{name}: must be a number >= 0 and < 1")
        if self.validation_ratio + self.test_ratio >= 1:
            raise ValueError("test_ratio: validation_ratio + test_ratio must be < 1")

    def _check_int(self, name: str, low: int, high: int | None) -> None:
        value = getattr(self, name)
        if not _is_int(value) or value < low or (high is not None and value > high):
            bound = f"between {low} and {high}" if high is not None else f">= {low}"
            raise ValueError(f"{name}: must be an integer {bound}")

    def _check_frequencies(self) -> None:
        min_df, max_df = self.min_df, self.max_df
        if _is_int(min_df):
            if min_df < 1:
                raise ValueError("min_df: a document count must be >= 1")
        elif not _is_number(min_df) or not 0 < min_df < 1:
            raise ValueError("min_df: must be an integer >= 1 or a fraction in (0, 1)")
        if _is_int(max_df):
            if max_df < 1:
                raise ValueError("max_df: a document count must be >= 1")
        elif not _is_number(max_df) or not 0 < max_df <= 1:
            raise ValueError("max_df: must be an integer >= 1 or a fraction in (0, 1]")
        # Counts and fractions only compare once the corpus size is known.
        if _is_int(min_df) == _is_int(max_df) and max_df < min_df:
            raise ValueError("max_df: must be >= min_df")

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PreparationConfig:
        """A config from parsed JSON; missing fields take their defaults."""
        if not isinstance(data, Mapping):
            raise ValueError("config: must be a JSON object")
        known = {field.name for field in fields(cls)}
        unknown = sorted(str(key) for key in data if key not in known)
        if unknown:
            raise ValueError(f"{unknown[0]}: unknown field (known: {', '.join(sorted(known))})")
        return cls(**data)  # __post_init__ turns a JSON list of stop words into a tuple

    def to_dict(self) -> dict[str, Any]:
        """The config as JSON-ready values; ``from_dict(to_dict())`` gives it back."""
        out: dict[str, Any] = {field.name: getattr(self, field.name) for field in fields(self)}
        if self.stop_words is not None:
            out["stop_words"] = list(self.stop_words)
        return out
