"""The tuning request contract: what a user uploads to S3 or puts on the bus.

Everything here is shape-checking. The rules that need the deployment's settings, the NTM
table or the data (caps, ranges, vocabulary size) live in ``builder``.
"""

from __future__ import annotations

import math
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic.config import JsonDict
from pydantic_core import PydanticCustomError

from preparation.config import INTEGER_BOUNDS, PreparationConfig

from .ntm import MAX_STATIC_HYPERPARAMETERS, MAX_STATIC_VALUE_LENGTH, MAX_TUNED_HYPERPARAMETERS
from .settings import EarlyStopping, Strategy
from .tags import TagKey, TagValue

ScalarValue = Annotated[str, Field(max_length=MAX_STATIC_VALUE_LENGTH)] | bool | int | float
ContentType = Literal["application/x-recordio-protobuf", "text/csv"]

_strict = ConfigDict(extra="forbid", strict=True, frozen=True)


class _Strict(BaseModel):
    model_config = _strict


def _finite(value: float | None) -> float | None:
    if value is not None and not math.isfinite(value):
        raise ValueError("must be a finite number")
    return value


class IntegerRange(_Strict):
    """A range of whole numbers, e.g. ``mini_batch_size``."""

    type: Literal["Integer"]
    min: int
    max: int
    scaling: Literal["Auto", "Linear", "Logarithmic"] = "Auto"


class ContinuousRange(_Strict):
    """A range of real numbers, e.g. ``learning_rate``."""

    type: Literal["Continuous"]
    min: float
    max: float
    scaling: Literal["Auto", "Linear", "Logarithmic", "ReverseLogarithmic"] = "Auto"

    _check_min = field_validator("min", "max")(_finite)


class CategoricalRange(_Strict):
    """A set of values to choose from, e.g. ``optimizer``."""

    type: Literal["Categorical"]
    values: list[str | bool | int | float] = Field(min_length=1)


ParameterRange = Annotated[
    IntegerRange | ContinuousRange | CategoricalRange, Field(discriminator="type")
]


class DataChannels(_Strict):
    """Where the prepared data lives: keys in the data bucket, or s3:// URIs inside it."""

    train: str = Field(min_length=1, max_length=1024, description="Prefix or key of training data.")
    validation: str = Field(
        min_length=1,
        max_length=1024,
        description="Prefix or key of validation data; the tuning objective is computed on it.",
    )
    test: str | None = Field(default=None, min_length=1, max_length=1024)
    auxiliary: str | None = Field(
        default=None,
        min_length=1,
        max_length=1024,
        description="Prefix holding vocab.txt, or the vocab.txt key itself.",
    )
    content_type: ContentType = "application/x-recordio-protobuf"
    input_mode: Literal["File", "Pipe"] = "File"


# The error type of a corpus setting the preparation job refuses; ``field`` names the setting.
CORPUS_SETTING_ERROR = "corpus_setting"


def _corpus_setting(field: str, message: str) -> PydanticCustomError:
    return PydanticCustomError(
        CORPUS_SETTING_ERROR, "{field}: {message}", {"field": field, "message": message}
    )


# The preparation job's own defaults: a corpus request that leaves a setting out gets them.
_PREPARATION = PreparationConfig()


def _whole_number(name: str) -> int:  # pragma: no mutate block
    """A whole-number setting: its default, and its bounds in the JSON Schema (the rule itself
    is the preparation job's, applied below). Called while the model class is built, at
    import: the schema and corpus-settings tests check its result, a mutation run cannot."""
    low, high = INTEGER_BOUNDS[name]
    bounds: JsonDict = {"minimum": low} if high is None else {"minimum": low, "maximum": high}
    default: int = Field(default=getattr(_PREPARATION, name), json_schema_extra=bounds)
    return default


class CorpusSpec(_Strict):
    """A raw corpus to turn into an NTM dataset before tuning, and how.

    ``prefix`` holds ``.txt`` (a document a file), ``.jsonl`` or ``.csv`` files, optionally
    gzip-compressed. The other fields are the preparation settings (see preparation/README.md):
    their defaults and rules are the preparation job's own
    (``preparation.config.PreparationConfig``), applied here so that a setting the job would
    refuse is rejected before anything starts. The length limits are the request's own.
    """

    prefix: str = Field(
        min_length=1, max_length=1024, description="Key prefix or s3:// URI in the data bucket."
    )
    text_field: str = Field(default=_PREPARATION.text_field, min_length=1, max_length=256)
    text_column: str = Field(default=_PREPARATION.text_column, min_length=1, max_length=256)
    lowercase: bool = _PREPARATION.lowercase
    min_token_length: int = _whole_number("min_token_length")
    stop_words: list[Annotated[str, Field(min_length=1, max_length=100)]] | None = Field(
        default=None, max_length=20_000, description="Replaces the English list when given."
    )
    min_df: int | float = Field(
        default=_PREPARATION.min_df, description="Documents (integer >= 1) or a fraction in (0, 1)."
    )
    max_df: int | float = Field(
        default=_PREPARATION.max_df,
        description="Documents (integer >= min_df) or a fraction in (0, 1].",
    )
    max_vocabulary: int = _whole_number("max_vocabulary")
    min_document_tokens: int = _whole_number("min_document_tokens")
    validation_ratio: float = Field(
        default=_PREPARATION.validation_ratio, description="Above 0; with test_ratio below 1."
    )
    test_ratio: float = _PREPARATION.test_ratio
    train_shards: int = _whole_number("train_shards")
    split_salt: str = Field(default=_PREPARATION.split_salt, max_length=256)
    max_document_bytes: int = _whole_number("max_document_bytes")

    @model_validator(mode="after")
    def _preparation_accepts(self) -> CorpusSpec:
        try:
            PreparationConfig.from_dict(self.preparation_config())
        except ValueError as error:
            field, _, message = str(error).partition(": ")
            raise _corpus_setting(field, message) from error
        # The pipeline's own rule on top: tuning needs a validation split.
        if self.validation_ratio <= 0:
            raise _corpus_setting(
                "validation_ratio", "must be above 0: tuning needs a validation split"
            )
        return self

    def preparation_config(self) -> dict[str, object]:
        """The settings the preparation job reads (everything but the location)."""
        # Every field is a JSON type already: the Python and JSON dumps are the same.
        return self.model_dump(mode="json", exclude={"prefix"})  # pragma: no mutate


class Resources(_Strict):
    """Training instances for every job; unset fields take the deployment's defaults."""

    instance_type: str | None = None
    instance_count: int | None = Field(default=None, ge=1)
    volume_size_gb: int | None = Field(default=None, ge=1, le=16384)
    max_runtime_seconds: int | None = Field(default=None, ge=1)
    use_spot: bool | None = None
    max_wait_seconds: int | None = Field(default=None, ge=1)


class ResourceLimits(_Strict):
    """How many training jobs the tuning job may run, and for how long in total."""

    max_jobs: int | None = Field(default=None, ge=1)
    max_parallel_jobs: int | None = Field(default=None, ge=1)
    max_runtime_seconds: int | None = Field(default=None, ge=120, le=15_768_000)


class CompletionCriteria(_Strict):
    """When to stop tuning before max_jobs is reached."""

    target_objective_value: float | None = None
    max_jobs_not_improving: int | None = Field(default=None, ge=3)
    complete_on_convergence: bool | None = None

    _check_target = field_validator("target_objective_value")(_finite)


class HyperbandSettings(_Strict):
    """Epoch budget of each Hyperband bracket; max defaults to the static ``epochs``."""

    min_resource: int | None = Field(default=None, ge=1)
    max_resource: int | None = Field(default=None, ge=1)


class WarmStart(_Strict):
    """Earlier tuning jobs to learn from."""

    parents: list[Annotated[str, Field(pattern=r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,31}$")]] = Field(
        min_length=1, max_length=5
    )
    type: Literal["IdenticalDataAndAlgorithm", "TransferLearning"] = "IdenticalDataAndAlgorithm"


class TuningRequest(_Strict):
    """A request to tune NTM on prepared data.

    ``ranges`` narrow or replace the default ranges; ``hyperparameters`` are static values.
    A static value for a hyperparameter that has a default range takes it out of the search.
    """

    name: str | None = Field(
        default=None,
        max_length=64,
        pattern=r"^[a-zA-Z0-9][a-zA-Z0-9._-]*$",
        description="A label for people; it is carried into tags and events.",
    )
    idempotency_key: str | None = Field(
        default=None,
        min_length=1,
        max_length=128,
        pattern=r"^[\x21-\x7e]+$",
        description="Requests with the same key start at most one tuning job.",
    )
    data: DataChannels | None = Field(default=None, description="Prepared data; or give corpus.")
    corpus: CorpusSpec | None = Field(default=None, description="Raw documents; or give data.")
    hyperparameters: dict[str, ScalarValue] = Field(
        default_factory=dict, max_length=MAX_STATIC_HYPERPARAMETERS
    )
    ranges: dict[str, ParameterRange] = Field(
        default_factory=dict, max_length=MAX_TUNED_HYPERPARAMETERS
    )
    strategy: Strategy | None = None
    hyperband: HyperbandSettings | None = None
    early_stopping: EarlyStopping | None = None
    resource_limits: ResourceLimits = ResourceLimits()
    completion_criteria: CompletionCriteria | None = None
    random_seed: int | None = Field(default=None, ge=0, le=2**31 - 1)
    warm_start: WarmStart | None = None
    resources: Resources = Resources()
    tags: dict[TagKey, TagValue] = Field(default_factory=dict, max_length=40)

    @model_validator(mode="after")
    def _data_or_corpus(self) -> TuningRequest:
        if (self.data is None) == (self.corpus is None):
            raise ValueError(
                "give exactly one of data (prepared channels) and corpus (raw documents)"
            )
        return self

    @field_validator("hyperparameters")
    @classmethod
    def _finite_values(cls, values: dict[str, ScalarValue]) -> dict[str, ScalarValue]:
        for name, value in values.items():
            if isinstance(value, float) and not math.isfinite(value):
                raise ValueError(f"{name} must be a finite number")
        return values
