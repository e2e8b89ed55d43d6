"""Runtime settings: the deployment's defaults and caps, read once from the environment.

The CDK app validates the same models at synth time (from cdk.json context) and passes them
to the handlers as JSON in ``TUNING_DEFAULTS``; the resource names come in their own variables.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from functools import lru_cache
from typing import Annotated, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

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

# The bounds shared by the CDK app's configuration (infra/config.py) and the handlers' settings:
# any value synth accepts, the handlers accept, because both use these types.
VolumeSizeGb = Annotated[int, Field(ge=1, le=MAX_VOLUME_SIZE_GB)]
ProcessingMaxRuntimeSeconds = Annotated[int, Field(ge=1, le=PROCESSING_MAX_RUNTIME_SECONDS)]
RetentionDays = Annotated[int, Field(ge=1, le=MAX_RETENTION_DAYS)]

Strategy = Literal["Bayesian", "Random", "Hyperband", "Grid"]
EarlyStopping = Literal["Off", "Auto"]


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


class Settings(BaseModel):
    """Everything a handler needs to know about the deployment it runs in."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    data_bucket: str
    artifacts_bucket: str
    kms_key_arn: str
    sagemaker_role_arn: str
    training_image: str
    event_bus_name: str
    ledger_table: str
    ledger_ttl_days: RetentionDays = 30
    processing_role_arn: str
    processing_image: str
    preparation_code_uri: str
    processing_instance_type: str = "ml.m5.xlarge"
    processing_volume_size_gb: VolumeSizeGb = 30
    processing_max_runtime_seconds: ProcessingMaxRuntimeSeconds = 7200
    prepared_prefix: str = "datasets/prepared/"
    event_source: str = "ntm.tuning"
    request_prefix: str = "requests/"
    output_prefix: str = "tuning-jobs/"
    report_prefix: str = "reports/"
    tuning: TuningDefaults = TuningDefaults()

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Settings:
        return cls(
            data_bucket=env["DATA_BUCKET"],
            artifacts_bucket=env["ARTIFACTS_BUCKET"],
            kms_key_arn=env["KMS_KEY_ARN"],
            sagemaker_role_arn=env["SAGEMAKER_ROLE_ARN"],
            training_image=env["TRAINING_IMAGE"],
            event_bus_name=env["EVENT_BUS_NAME"],
            ledger_table=env["LEDGER_TABLE"],
            ledger_ttl_days=int(env.get("LEDGER_TTL_DAYS", "30")),
            processing_role_arn=env["PROCESSING_ROLE_ARN"],
            processing_image=env["PROCESSING_IMAGE"],
            preparation_code_uri=env["PREPARATION_CODE_URI"],
            processing_instance_type=env.get("PROCESSING_INSTANCE_TYPE", "ml.m5.xlarge"),
            processing_volume_size_gb=int(env.get("PROCESSING_VOLUME_SIZE_GB", "30")),
            processing_max_runtime_seconds=int(env.get("PROCESSING_MAX_RUNTIME_SECONDS", "7200")),
            prepared_prefix=env.get("PREPARED_PREFIX", "datasets/prepared/"),
            event_source=env.get("EVENT_SOURCE", "ntm.tuning"),
            request_prefix=env.get("REQUEST_PREFIX", "requests/"),
            output_prefix=env.get("OUTPUT_PREFIX", "tuning-jobs/"),
            report_prefix=env.get("REPORT_PREFIX", "reports/"),
            tuning=TuningDefaults.model_validate(json.loads(env.get("TUNING_DEFAULTS", "{}"))),
        )


@lru_cache(maxsize=1)
def load_settings() -> Settings:
    """The settings of this process, parsed once."""
    return Settings.from_env(os.environ)
