"""What each Lambda function is: its handler module, the settings it reads, what it may do.

One declaration per function. Its name is its handler's module in ``ntm_tuning.handlers``,
named after the state that invokes it (``clean_up`` is the orphan rule's target). The function
gets the environment variables of exactly the settings it lists, and exactly the grants it
lists; adding a state means adding its handler, its declaration here and its state in
``infra/workflow.py``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, Protocol

from aws_cdk import aws_lambda as lambda_
from ntm_tuning.settings import Settings

from infra.config import REPORT_PREFIX, PipelineConfig
from infra.grants import (
    grant_object_put,
    grant_object_read,
    grant_prefix_read,
    grant_sagemaker,
    grant_training_logs_read,
)

if TYPE_CHECKING:
    from aws_cdk import aws_events as events
    from aws_cdk import aws_s3 as s3

    from infra.dataset_preparation import DatasetPreparation
    from infra.ledger import LedgerTable
    from infra.sagemaker_role import SageMakerExecutionRole
    from infra.storage import Storage

DESCRIBE_TUNING_JOB = "sagemaker:DescribeHyperParameterTuningJob"
DESCRIBE_PROCESSING_JOB = "sagemaker:DescribeProcessingJob"


@dataclass(frozen=True)
class Resources:
    """What the grants are on: the stack's units."""

    config: PipelineConfig
    storage: Storage
    bus: events.IEventBus
    ledger: LedgerTable
    training_role: SageMakerExecutionRole
    preparation: DatasetPreparation


class Grant(Protocol):
    def apply(self, function: lambda_.Function, resources: Resources) -> None: ...


@dataclass(frozen=True)
class ReadRequests:
    """Any object of the data bucket: the request files, and the datasets they name."""

    def apply(self, function: lambda_.Function, resources: Resources) -> None:
        grant_object_read(function, bucket=resources.storage.data_bucket, key=resources.storage.key)


Bucket = Literal["data", "artifacts"]
# A key prefix: fixed, or one of the configuration's.
Prefix = Callable[[PipelineConfig], str]


def _bucket(resources: Resources, bucket: Bucket) -> s3.IBucket:
    storage = resources.storage
    return storage.data_bucket if bucket == "data" else storage.artifacts_bucket


@dataclass(frozen=True)
class Objects:
    """Reading objects under a prefix of a bucket (``""``: the whole bucket), or writing new
    ones there; ``reason`` may name ``{prefix}``."""

    access: Literal["read", "write"]
    bucket: Bucket
    prefix: Prefix
    reason: str

    def apply(self, function: lambda_.Function, resources: Resources) -> None:
        prefix = self.prefix(resources.config)
        grant = grant_prefix_read if self.access == "read" else grant_object_put
        grant(
            function,
            bucket=_bucket(resources, self.bucket),
            key=resources.storage.key,
            key_prefix=prefix,
            reason=self.reason.format(prefix=prefix),
        )


@dataclass(frozen=True)
class SageMakerJobs:
    """Actions on this pipeline's tuning, training and processing jobs."""

    tuning_jobs: tuple[str, ...] = ()
    training_jobs: tuple[str, ...] = ()
    processing_jobs: tuple[str, ...] = ()

    def apply(self, function: lambda_.Function, resources: Resources) -> None:
        grant_sagemaker(
            function,
            tuning_job_actions=self.tuning_jobs,
            training_job_actions=self.training_jobs,
            processing_job_actions=self.processing_jobs,
        )


@dataclass(frozen=True)
class PassRole:
    """iam:PassRole of the training role (to tuning jobs) or the processing role."""

    role: Literal["training", "processing"]

    def apply(self, function: lambda_.Function, resources: Resources) -> None:
        if self.role == "training":
            resources.training_role.grant_pass_to_sagemaker(function)
        else:
            resources.preparation.grant_pass_to_sagemaker(function)


@dataclass(frozen=True)
class PutResultEvents:
    def apply(self, function: lambda_.Function, resources: Resources) -> None:
        resources.bus.grant_put_events_to(function)


@dataclass(frozen=True)
class LedgerItems:
    """Single-item operations on the ledger table (``ntm_tuning.ledger``)."""

    actions: tuple[str, ...]

    def apply(self, function: lambda_.Function, resources: Resources) -> None:
        resources.ledger.grant(function, self.actions)


@dataclass(frozen=True)
class ReadTrainingLogs:
    def apply(self, function: lambda_.Function, resources: Resources) -> None:
        grant_training_logs_read(function)


@dataclass(frozen=True)
class Function:
    name: str
    description: str
    # The Settings fields the handler reads; it gets their environment variables only.
    settings: tuple[str, ...]
    grants: tuple[Grant, ...]
    timeout_seconds: int = 60
    memory_size: int = 256

    @property
    def handler(self) -> str:
        return f"ntm_tuning.handlers.{self.name}.handler"

    def environment(self, settings: Settings) -> dict[str, str]:
        """The variables of this function's settings, from the deployment's ``settings``."""
        everything = settings.environment()
        return {
            Settings.variable(name): everything[Settings.variable(name)] for name in self.settings
        }


LEDGER = ("ledger_table", "ledger_ttl_days")
RESULTS_BUS = ("event_bus_name", "event_source")
# What planning a job reads: every setting but the ledger's and the results bus's.
PLANNING = tuple(name for name in Settings.model_fields if name not in (*LEDGER, *RESULTS_BUS))
# Warm-start parents are described (status, hyperparameters, tags) before a job is planned.
DESCRIBE_PARENTS = SageMakerJobs(tuning_jobs=(DESCRIBE_TUNING_JOB, "sagemaker:ListTags"))


def _prepared(config: PipelineConfig) -> str:
    return config.prepared_prefix


FUNCTIONS = (
    Function(
        "validate_request",
        "Validates a tuning request",
        settings=(*PLANNING, *LEDGER),
        grants=(
            ReadRequests(),
            DESCRIBE_PARENTS,
            Objects(
                "write",
                "data",
                _prepared,
                "Writes a corpus request's settings (request.json, config.json) for its "
                "dataset preparation job under the {prefix} prefix only.",
            ),
            # Request claims and the execution's job record.
            LedgerItems(("dynamodb:GetItem", "dynamodb:PutItem")),
        ),
    ),
    Function(
        "start_tuning_job",
        "Starts the tuning job",
        settings=LEDGER,
        grants=(
            SageMakerJobs(
                tuning_jobs=(
                    "sagemaker:CreateHyperParameterTuningJob",
                    DESCRIBE_TUNING_JOB,
                    "sagemaker:AddTags",
                    "sagemaker:ListTags",
                ),
                # Tags on the tuning job are copied onto every training job it starts.
                training_jobs=("sagemaker:AddTags",),
            ),
            PassRole("training"),
            # The job record; the slot goes back when SageMaker is out of capacity.
            LedgerItems(("dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem")),
        ),
    ),
    Function(
        "describe_tuning_job",
        "Describes the tuning job",
        settings=(*LEDGER, *RESULTS_BUS),
        grants=(
            # Progress events: billable time so far comes from the training jobs.
            SageMakerJobs(
                tuning_jobs=(
                    DESCRIBE_TUNING_JOB,
                    "sagemaker:ListTrainingJobsForHyperParameterTuningJob",
                )
            ),
            PutResultEvents(),
            # Reads the last progress event published for its execution, records the next one.
            LedgerItems(("dynamodb:GetItem", "dynamodb:UpdateItem")),
        ),
    ),
    # Reads every training job's log and streams a held-out channel to score the topics.
    Function(
        "summarize_results",
        "Summarizes the tuning job's results into a report",
        settings=("artifacts_bucket", "report_prefix", "tuning"),
        grants=(
            SageMakerJobs(
                tuning_jobs=(
                    DESCRIBE_TUNING_JOB,
                    "sagemaker:ListTrainingJobsForHyperParameterTuningJob",
                ),
                training_jobs=("sagemaker:DescribeTrainingJob",),
            ),
            Objects(
                "write",
                "artifacts",
                lambda config: REPORT_PREFIX,
                "Writes one report object per tuning job under the {prefix} prefix only.",
            ),
            ReadTrainingLogs(),
            Objects(
                "read",
                "data",
                lambda config: "",
                "Streams the tuned dataset's test (or validation) channel and reads its "
                "vocab.txt to score the topics (NPMI); requests may name datasets anywhere in "
                "the data bucket, and the wildcard is limited to that bucket.",
            ),
        ),
        timeout_seconds=300,
        memory_size=1024,
    ),
    Function(
        "publish_outcome",
        "Publishes a result event",
        settings=(*LEDGER, *RESULTS_BUS),
        grants=(
            PutResultEvents(),
            # Reserves and records the request's one terminal event (conditional updates).
            LedgerItems(("dynamodb:UpdateItem",)),
        ),
    ),
    Function(
        "stop_tuning_job",
        "Stops an overdue tuning job",
        settings=(),
        grants=(
            SageMakerJobs(
                tuning_jobs=("sagemaker:StopHyperParameterTuningJob", DESCRIBE_TUNING_JOB)
            ),
        ),
    ),
    Function(
        "acquire_capacity",
        "Takes one of the concurrent tuning job slots",
        settings=(*LEDGER, "tuning"),
        # PutItem: Ledger.acquire creates the capacity item on first use (conditional put).
        grants=(LedgerItems(("dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem")),),
    ),
    Function(
        "release_capacity",
        "Gives a tuning job slot back",
        settings=LEDGER,
        grants=(LedgerItems(("dynamodb:GetItem", "dynamodb:UpdateItem")),),
    ),
    Function(
        "clean_up",
        "Stops the jobs of an execution that ended early and frees its slot",
        settings=(*LEDGER, *RESULTS_BUS),
        grants=(
            SageMakerJobs(
                tuning_jobs=(DESCRIBE_TUNING_JOB, "sagemaker:StopHyperParameterTuningJob"),
                # An aborted execution's dataset preparation job is stopped too.
                processing_jobs=(DESCRIBE_PROCESSING_JOB, "sagemaker:StopProcessingJob"),
            ),
            LedgerItems(("dynamodb:GetItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem")),
            PutResultEvents(),
        ),
    ),
    Function(
        "start_dataset_preparation",
        "Starts the dataset preparation processing job",
        settings=LEDGER,
        grants=(
            SageMakerJobs(
                processing_jobs=(
                    "sagemaker:CreateProcessingJob",
                    DESCRIBE_PROCESSING_JOB,
                    "sagemaker:AddTags",
                )
            ),
            PassRole("processing"),
            # Records the execution's processing job (a put of its job record), so that the
            # clean-up of an execution that ended early can stop it.
            LedgerItems(("dynamodb:PutItem",)),
        ),
    ),
    Function(
        "describe_dataset_preparation",
        "Describes the dataset preparation processing job",
        settings=(),
        grants=(SageMakerJobs(processing_jobs=(DESCRIBE_PROCESSING_JOB,)),),
    ),
    Function(
        "build_tuning_job",
        "Builds the tuning job from the prepared dataset",
        settings=PLANNING,
        grants=(
            DESCRIBE_PARENTS,
            Objects(
                "read",
                "data",
                _prepared,
                "Reads what a dataset preparation job wrote (dataset.json, vocab.txt) under "
                "the {prefix} prefix only.",
            ),
        ),
        timeout_seconds=120,
    ),
)
