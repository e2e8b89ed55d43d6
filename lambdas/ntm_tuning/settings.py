"""The deployment's settings: one definition of each key's type, bound, default and names.

Every setting is declared once, here or (for the settings only the CDK app reads) in
``infra/config.py``: a field with its type, bound and default, and in its model's ``KEYS`` a
:class:`Key` that names where it comes from: its cdk.json context key (``ntm:<context>``) and,
when the handlers read it, its environment variable. The CDK app validates the context with
these models at synth time and writes the environment from them (``Settings.environment``);
the handlers read it back with ``Settings.from_env``. So a value synth accepts is one the
handlers accept, and no name or default is written twice.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Annotated, Any, ClassVar, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, field_validator, model_validator
from pydantic.fields import FieldInfo

from .environment import per_environment, variables
from .instances import has_instance_storage, local_storage_gb, volume_problem

# NTM trains without checkpoints, so managed spot jobs may wait at most an hour in total.
SPOT_MAX_WAIT_SECONDS = 3600
# SageMaker's bounds for a training job's MaxRuntimeInSeconds (28 days).
TRAINING_MAX_RUNTIME_SECONDS = 2_419_200
# ProcessingStoppingCondition.MaxRuntimeInSeconds: 1..777,600 (9 days), SageMaker API reference.
PROCESSING_MAX_RUNTIME_SECONDS = 777_600
# ResourceConfig / ProcessingClusterConfig VolumeSizeInGB: at most 16,384 (SageMaker API reference).
MAX_VOLUME_SIZE_GB = 16_384
# The longest DynamoDB TTL the ledger is given (ten years).
MAX_RETENTION_DAYS = 3653

VolumeSizeGb = Annotated[int, Field(ge=1, le=MAX_VOLUME_SIZE_GB)]
ProcessingMaxRuntimeSeconds = Annotated[int, Field(ge=1, le=PROCESSING_MAX_RUNTIME_SECONDS)]
RetentionDays = Annotated[int, Field(ge=1, le=MAX_RETENTION_DAYS)]

Strategy = Literal["Bayesian", "Random", "Hyperband", "Grid"]
EarlyStopping = Literal["Off", "Auto"]

# Every context key is `ntm:<Key.context>`.
CONTEXT_PREFIX = "ntm:"

# A relative S3 key prefix usable in an EventBridge wildcard pattern and an IAM resource.
KEY_PREFIX = re.compile(r"[A-Za-z0-9!\-_.'()/]+/")
# SageMaker's instance type names (ml.<family>.<size>).
INSTANCE_TYPE = re.compile(r"ml\.[a-z0-9]+(-[a-z0-9]+)?\.[a-z0-9]+")


@dataclass(frozen=True, slots=True)
class Key:
    """Where a setting comes from: its context key (without ``ntm:``), its environment
    variable, or both. Each model names its fields' keys in a ``KEYS`` table, beside the
    fields (markers inside the fields' annotations would cost every cold start)."""

    context: str | None = None
    env: str | None = None


class TuningDefaults(BaseModel):
    """Defaults applied to every request, and the caps no request may exceed."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    instance_type: str = "ml.g4dn.xlarge"
    allowed_instance_types: tuple[str, ...] = ("ml.g4dn.xlarge", "ml.g5.xlarge", "ml.p3.2xlarge")
    # On-demand training prices in USD per instance-hour, used for the cost guardrail and the
    # cost reported in events. Every allowed instance type needs one.
    instance_prices: dict[str, float] = Field(
        default_factory=lambda: {
            "ml.g4dn.xlarge": 0.736,
            "ml.g5.xlarge": 1.408,
            "ml.p3.2xlarge": 3.825,
            "ml.c5.xlarge": 0.204,
        }
    )
    prices_as_of: str = Field(
        default="2026-11-27 (us-east-1 on-demand, unofficial)",
        min_length=1,
        description="Where and when the prices were read, reported with every estimate.",
    )
    max_request_cost_usd: float | None = Field(default=50.0, gt=0)
    max_concurrent_jobs: int = Field(default=2, ge=1, le=100)
    instance_count: int = Field(default=1, ge=1)
    max_instance_count: int = Field(default=4, ge=1)
    volume_size_gb: VolumeSizeGb = 30
    max_runtime_seconds: int = Field(default=3600, ge=1, le=TRAINING_MAX_RUNTIME_SECONDS)
    use_spot: bool = False
    max_wait_seconds: int | None = Field(default=None, ge=1)
    strategy: Strategy = "Bayesian"
    max_jobs: int = Field(default=20, ge=1)
    max_parallel_jobs: int = Field(default=2, ge=1)
    max_jobs_cap: int = Field(default=100, ge=1, le=750)
    max_parallel_jobs_cap: int = Field(default=10, ge=1, le=100)
    early_stopping: EarlyStopping = "Off"
    num_topics: int = Field(default=20, ge=2, le=1000)
    epochs: int = Field(default=50, ge=1, le=100)
    # The largest held-out channel (test, else validation) the summary streams to score the
    # best topics' NPMI; above it, NPMI is left out and the event says why. 0: never.
    npmi_max_channel_bytes: int = Field(default=64 * 1024 * 1024, ge=0, le=10 * 1024**3)

    # The context key (`ntm:<context>`) of each field; the handlers get them all together, as
    # the JSON object in TUNING_DEFAULTS.
    KEYS: ClassVar[Mapping[str, Key]] = {
        "instance_type": Key("instanceType"),
        "allowed_instance_types": Key("allowedInstanceTypes"),
        "instance_prices": Key("instancePrices"),
        "prices_as_of": Key("pricesAsOf"),
        "max_request_cost_usd": Key("maxRequestCostUsd"),
        "max_concurrent_jobs": Key("maxConcurrentTuningJobs"),
        "instance_count": Key("instanceCount"),
        "max_instance_count": Key("maxInstanceCount"),
        "volume_size_gb": Key("volumeSizeGb"),
        "max_runtime_seconds": Key("maxRuntimeSeconds"),
        "use_spot": Key("useSpot"),
        "max_wait_seconds": Key("maxWaitSeconds"),
        "strategy": Key("strategy"),
        "max_jobs": Key("maxJobs"),
        "max_parallel_jobs": Key("maxParallelJobs"),
        "max_jobs_cap": Key("maxJobsCap"),
        "max_parallel_jobs_cap": Key("maxParallelJobsCap"),
        "early_stopping": Key("earlyStopping"),
        "num_topics": Key("numTopics"),
        "epochs": Key("epochs"),
        "npmi_max_channel_bytes": Key("npmiMaxChannelBytes"),
    }

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        unpriced = [t for t in self.allowed_instance_types if t not in self.instance_prices]
        if unpriced:
            raise ValueError(f"instance_prices has no price for {', '.join(unpriced)}")
        if any(not (price > 0 and price < 1e6) for price in self.instance_prices.values()):
            raise ValueError("instance_prices must be positive numbers")
        if self.instance_type not in self.allowed_instance_types:
            raise ValueError(
                f"instance_type {self.instance_type!r} must be one of allowed_instance_types"
            )
        unsized = [
            t
            for t in self.allowed_instance_types
            if has_instance_storage(t) and local_storage_gb(t) is None
        ]
        if unsized:
            raise ValueError(
                f"allowed_instance_types includes {', '.join(unsized)}, with local NVMe "
                "storage of a size not in ntm_tuning/instances.py (LOCAL_STORAGE_GB); add it"
            )
        too_big = [
            problem
            for t in self.allowed_instance_types
            if (problem := volume_problem(t, self.volume_size_gb))
        ]
        if too_big:
            raise ValueError(f"volume_size_gb of {too_big[0]}")
        if self.instance_count > self.max_instance_count:
            raise ValueError("instance_count must not exceed max_instance_count")
        if self.max_jobs > self.max_jobs_cap:
            raise ValueError("max_jobs must not exceed max_jobs_cap")
        if self.max_parallel_jobs > self.max_parallel_jobs_cap:
            raise ValueError("max_parallel_jobs must not exceed max_parallel_jobs_cap")
        if self.max_parallel_jobs > self.max_jobs:
            raise ValueError("max_parallel_jobs must not exceed max_jobs")
        check_spot(self.use_spot, self.max_runtime_seconds, self.max_wait_seconds)
        return self


def check_spot(use_spot: bool, max_runtime: int, max_wait: int | None) -> None:
    """Managed spot rules: MaxWait >= MaxRuntime, and at most an hour for NTM."""
    if not use_spot:
        if max_wait is not None:
            raise ValueError("max_wait_seconds applies only when use_spot is true")
        return
    if max_runtime > SPOT_MAX_WAIT_SECONDS:
        raise ValueError(
            f"max_runtime_seconds must be at most {SPOT_MAX_WAIT_SECONDS} with managed spot, "
            "because NTM does not checkpoint"
        )
    if max_wait is not None and not max_runtime <= max_wait <= SPOT_MAX_WAIT_SECONDS:
        raise ValueError(
            f"max_wait_seconds must be between max_runtime_seconds ({max_runtime}) and "
            f"{SPOT_MAX_WAIT_SECONDS} with managed spot"
        )


class DeploymentSettings(BaseModel):
    """The configured settings the handlers read, as the CDK app validates them at synth time.

    ``infra.config.PipelineConfig`` extends this with the settings only the stack reads;
    :class:`Settings` extends it with the names of the stack's resources.
    """

    # Only its subclasses are validated, so its own schema is never built (not at cold start).
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    event_source: str = Field(default="ntm.tuning", min_length=1, max_length=256)
    request_prefix: str = "requests/"
    # Time to live of the ledger's request claims and job records (DynamoDB TTL).
    ledger_ttl_days: RetentionDays = 30
    # The dataset preparation stage: a SageMaker Processing job on the scikit-learn image, with
    # SageMaker's limits for ProcessingResources.ClusterConfig.VolumeSizeInGB and
    # StoppingCondition.MaxRuntimeInSeconds.
    processing_instance_type: str = "ml.m5.xlarge"
    processing_volume_size_gb: VolumeSizeGb = 30
    processing_max_runtime_seconds: ProcessingMaxRuntimeSeconds = 7200
    # Where prepared datasets (and their jobs' config files) go in the data bucket; the
    # processing role may write there and nowhere else.
    prepared_prefix: str = "datasets/prepared/"
    tuning: TuningDefaults = TuningDefaults()

    KEYS: ClassVar[Mapping[str, Key]] = {
        "event_source": Key("eventSource", "EVENT_SOURCE"),
        "request_prefix": Key("requestPrefix", "REQUEST_PREFIX"),
        "ledger_ttl_days": Key("ledgerRetentionDays", "LEDGER_TTL_DAYS"),
        "processing_instance_type": Key("processingInstanceType", "PROCESSING_INSTANCE_TYPE"),
        "processing_volume_size_gb": Key("processingVolumeSizeGb", "PROCESSING_VOLUME_SIZE_GB"),
        "processing_max_runtime_seconds": Key(
            "processingMaxRuntimeSeconds", "PROCESSING_MAX_RUNTIME_SECONDS"
        ),
        "prepared_prefix": Key("preparedPrefix", "PREPARED_PREFIX"),
        # Each of its fields has its own context key (TuningDefaults.KEYS).
        "tuning": Key(env="TUNING_DEFAULTS"),
    }

    @field_validator("event_source")
    @classmethod
    def _not_aws_source(cls, value: str) -> str:
        # PutEvents rejects sources in the reserved `aws.` namespace.
        if value.startswith("aws."):
            raise ValueError("must not start with 'aws.' (reserved for AWS services)")
        return value

    @field_validator("request_prefix", "prepared_prefix")
    @classmethod
    def _usable_prefix(cls, value: str) -> str:
        # The prefixes become part of an EventBridge wildcard pattern, IAM resources and S3
        # key prefixes.
        if not KEY_PREFIX.fullmatch(value) or value.startswith("/") or "//" in value:
            raise ValueError(
                "must be a relative S3 key prefix ending with '/', without wildcards, "
                "e.g. 'requests/' or 'datasets/prepared/'"
            )
        return value

    @field_validator("processing_instance_type")
    @classmethod
    def _instance_type(cls, value: str) -> str:
        if not INSTANCE_TYPE.fullmatch(value):
            raise ValueError("must be a SageMaker instance type, e.g. 'ml.m5.xlarge'")
        return value

    @model_validator(mode="after")
    def _separate_prefixes(self) -> Self:
        # A prepared dataset's dataset.json under the request prefix would be taken for a
        # tuning request; a request under the prepared prefix could be overwritten by a job.
        if self.prepared_prefix.startswith(self.request_prefix) or self.request_prefix.startswith(
            self.prepared_prefix
        ):
            raise ValueError(
                f"prepared_prefix ({self.prepared_prefix!r}) and request_prefix "
                f"({self.request_prefix!r}) must not contain one another"
            )
        return self

    @model_validator(mode="after")
    def _processing_volume_fits(self) -> Self:
        problem = volume_problem(self.processing_instance_type, self.processing_volume_size_gb)
        if problem:
            raise ValueError(f"processing_volume_size_gb of {problem}")
        return self


class Settings(DeploymentSettings):
    """Everything a handler needs to know about the deployment it runs in."""

    # A deployed function gets the variables of its own settings only and ``from_env`` checks
    # them field by field: the whole model's validator is built where it is used, when every
    # variable is there (offline runs, tests), not on every cold start.
    model_config = ConfigDict(defer_build=True)

    data_bucket: str
    artifacts_bucket: str
    kms_key_arn: str
    sagemaker_role_arn: str
    training_image: str
    event_bus_name: str
    ledger_table: str
    processing_role_arn: str
    processing_image: str
    preparation_code_uri: str
    # Fixed parts of the contract, not configurable: the IAM policies are scoped to them.
    output_prefix: str = "tuning-jobs/"
    report_prefix: str = "reports/"

    KEYS: ClassVar[Mapping[str, Key]] = {
        **DeploymentSettings.KEYS,
        "data_bucket": Key(env="DATA_BUCKET"),
        "artifacts_bucket": Key(env="ARTIFACTS_BUCKET"),
        "kms_key_arn": Key(env="KMS_KEY_ARN"),
        "sagemaker_role_arn": Key(env="SAGEMAKER_ROLE_ARN"),
        "training_image": Key(env="TRAINING_IMAGE"),
        "event_bus_name": Key(env="EVENT_BUS_NAME"),
        "ledger_table": Key(env="LEDGER_TABLE"),
        "processing_role_arn": Key(env="PROCESSING_ROLE_ARN"),
        "processing_image": Key(env="PROCESSING_IMAGE"),
        "preparation_code_uri": Key(env="PREPARATION_CODE_URI"),
        "output_prefix": Key(env="OUTPUT_PREFIX"),
        "report_prefix": Key(env="REPORT_PREFIX"),
    }

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Settings:
        """The settings from the variables ``environment`` writes.

        With every required variable there, the whole model is validated, cross-field rules
        included, and an absent optional variable takes its default. A deployed function gets
        the variables of the settings it reads only (``infra/functions.py``): then each one
        there is validated by its own field's rules (the cross-field rules ran at synth), and
        reading one that is not raises ``MissingSetting`` naming its variable. It does not
        fall back to a default, which the deployment may have configured otherwise.
        """
        values: dict[str, Any] = {}
        for name, field in cls.model_fields.items():
            variable = cls.variable(name)
            if variable in env:
                text = env[variable]
                values[name] = json.loads(text) if _is_model(field) else text
        required = {name for name, field in cls.model_fields.items() if field.is_required()}
        if required <= values.keys():
            return cls.model_validate(values)
        checked = {name: _field_adapter(name).validate_python(values[name]) for name in values}
        # The fields set are those given (model_construct's own default).
        settings = cls.model_construct(**checked)
        for name in cls.model_fields.keys() - checked.keys():
            settings.__dict__.pop(name, None)
        return settings

    def __getattr__(self, name: str) -> Any:
        if name in type(self).model_fields:
            raise MissingSetting(
                f"{type(self).variable(name)} is not in this function's "
                f"environment: declare {name!r} in its settings (infra/functions.py)"
            )
        return super().__getattr__(name)  # type: ignore[misc]

    def environment(self) -> dict[str, str]:
        """The environment variables ``from_env`` reads these settings back from."""
        env: dict[str, str] = {}
        for name in type(self).model_fields:
            value = getattr(self, name)
            if isinstance(value, BaseModel):
                # Not mutated: any mode but "json" dumps in Python mode, and these models hold
                # JSON values and tuples only (which json.dumps writes as lists): the same text.
                document = value.model_dump(mode="json")  # pragma: no mutate
                env[self.variable(name)] = json.dumps(document)
            else:
                env[self.variable(name)] = str(value)
        return env

    @classmethod
    def variable(cls, name: str) -> str:
        """The environment variable of the setting ``name``."""
        key = cls.KEYS.get(name)
        if key is None or key.env is None:
            raise TypeError(f"Settings.{name} has no environment variable (KEYS)")
        return key.env


class MissingSetting(AttributeError):
    """A setting this function was not given (its variable is not in the environment)."""


@cache
def _field_adapter(name: str) -> TypeAdapter[Any]:
    """The rules of one field of ``Settings``: its type and constraints."""
    field = Settings.model_fields[name]
    if not field.metadata:
        return TypeAdapter(field.annotation)
    return TypeAdapter(Annotated[field.annotation, *field.metadata])


def _is_model(field: FieldInfo) -> bool:
    return isinstance(field.annotation, type) and issubclass(field.annotation, BaseModel)


@per_environment
def load_settings() -> Settings:
    """The settings of this function, parsed once (``environment``: the invocation's own)."""
    return Settings.from_env(variables())
