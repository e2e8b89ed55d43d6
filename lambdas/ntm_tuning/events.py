"""The contracts of what the pipeline consumes and publishes on EventBridge.

``Delivery`` is what a trigger hands the state machine; the ``*Detail`` models are the
``detail`` of each event on the results bus. Consumers rely on these shapes: the committed
JSON Schemas under ``schemas/`` are generated from them, and a test fails if they drift.
"""

from __future__ import annotations

from functools import cache
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, field_serializer

from . import naming
from .detail_types import FAILED as FAILED
from .detail_types import PROGRESS as PROGRESS
from .detail_types import REJECTED as REJECTED
from .detail_types import REQUESTED as REQUESTED
from .detail_types import STOPPED as STOPPED
from .detail_types import SUCCEEDED as SUCCEEDED


class _Contract(BaseModel):
    # Each handler uses a few of these models, on some of its paths: a model's validator is
    # built when it is first used, not when a handler imports this module.
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)


# -- what the triggers deliver ------------------------------------------------------------
class S3Delivery(_Contract):
    """An object created in the data bucket, as the S3 rule's input transformer passes it."""

    origin: Literal["s3"]
    event_id: str
    event_time: str | None = None
    bucket: str
    key: str
    version_id: str | None = None
    etag: str | None = None


class EventDelivery(_Contract):
    """An ``NTM Tuning Requested`` event put on the results bus by another system."""

    origin: Literal["event"]
    event_id: str
    event_time: str | None = None
    source: str
    request: Any = None


Delivery = Annotated[S3Delivery | EventDelivery, Field(discriminator="origin")]


@cache
def _deliveries() -> TypeAdapter[S3Delivery | EventDelivery]:
    return TypeAdapter(Delivery)


def parse_delivery(raw: dict[str, Any]) -> S3Delivery | EventDelivery:
    """A trigger's delivery (the execution's input), or ValidationError."""
    return _deliveries().validate_python(raw)


# -- where a request came from ------------------------------------------------------------
class S3Origin(_Contract):
    type: Literal["s3"] = "s3"
    bucket: str
    key: str
    version_id: str | None = None
    etag: str | None = None


class EventOrigin(_Contract):
    type: Literal["event"] = "event"
    event_id: str
    source: str


Origin = Annotated[S3Origin | EventOrigin, Field(discriminator="type")]


def origin_of(delivery: S3Delivery | EventDelivery) -> S3Origin | EventOrigin:
    if isinstance(delivery, S3Delivery):
        return S3Origin(
            bucket=delivery.bucket,
            key=delivery.key,
            version_id=delivery.version_id,
            etag=delivery.etag,
        )
    return EventOrigin(event_id=delivery.event_id, source=delivery.source)


def origin_of_dict(origin: dict[str, Any]) -> S3Origin | EventOrigin:
    if origin.get("type") == "s3":
        return S3Origin.model_validate(origin)
    return EventOrigin.model_validate(origin)


def delivery_identity(delivery: S3Delivery | EventDelivery) -> str:
    if isinstance(delivery, S3Delivery):
        return naming.s3_identity(delivery.bucket, delivery.key, delivery.version_id, delivery.etag)
    return naming.event_identity(delivery.event_id)


# -- event details ------------------------------------------------------------------------
class _RequestDetail(_Contract):
    request_id: str = Field(
        description="Stable id of the request; the tuning job name ends with it."
    )
    request_name: str | None = Field(default=None, description="The request's own label, if any.")
    origin: Origin


# Whatever grows with the request is bounded, so every event fits EventBridge's 256 KB entry:
# a Rejected event lists the first violations (and how many there are), each one clipped.
MAX_VIOLATIONS = 20
MAX_FIELD_CHARS = 256
MAX_RULE_CHARS = 64
MAX_MESSAGE_CHARS = 500
MAX_SUMMARY_CHARS = 1000


def clip(text: str, limit: int) -> str:
    """``text``, cut to ``limit`` characters (ending in ``...``) when longer."""
    return text if len(text) <= limit else text[: limit - 3] + "..."


class ViolationDetail(_Contract):
    field: str = Field(
        max_length=MAX_FIELD_CHARS, description="Dotted path of the offending field in the request."
    )
    rule: str = Field(
        max_length=MAX_RULE_CHARS, description="Machine-readable name of the broken rule."
    )
    message: str = Field(max_length=MAX_MESSAGE_CHARS)


class CostEstimate(_Contract):
    """The most the tuning job could bill: every job to its limit, on every instance."""

    # The budget is checked against the exact max_usd; events and the workflow's state carry
    # it rounded to the cent.

    max_usd: float
    hourly_price_usd: float
    instance_type: str
    instance_count: int
    max_jobs: int
    max_billable_seconds: int
    prices_as_of: str

    @field_serializer("max_usd")
    def _to_the_cent(self, value: float) -> float:
        return round(value, 2)


class RequestRejectedDetail(_RequestDetail):
    """The request was not run: nothing was started, and nothing needs cleaning up."""

    reason: Literal["InvalidRequest"] = "InvalidRequest"
    message: str = Field(max_length=MAX_SUMMARY_CHARS)
    violations: list[ViolationDetail] = Field(
        min_length=1,
        max_length=MAX_VIOLATIONS,
        description=f"The first {MAX_VIOLATIONS} problems found.",
    )
    violation_count: int = Field(ge=1, description="How many problems were found in all.")
    cost_estimate: CostEstimate | None = Field(
        default=None, description="The worst-case cost, when the request got that far."
    )


class TrainingJobCounters(_Contract):
    completed: int = 0
    in_progress: int = 0
    retryable_error: int = 0
    non_retryable_error: int = 0
    stopped: int = 0

    @classmethod
    def of(cls, job: dict[str, Any]) -> TrainingJobCounters:
        """The counters of a DescribeHyperParameterTuningJob response."""
        raw = job.get("TrainingJobStatusCounters", {})
        return cls(
            completed=raw.get("Completed", 0),
            in_progress=raw.get("InProgress", 0),
            retryable_error=raw.get("RetryableError", 0),
            non_retryable_error=raw.get("NonRetryableError", 0),
            stopped=raw.get("Stopped", 0),
        )


FailureCode = Literal[
    "TuningJobFailed",
    "TuningJobStopped",
    "WatchDeadlineExceeded",
    "SageMakerError",
    "PreparationFailed",
    "InternalError",
    "ExecutionAborted",
    "ExecutionTimedOut",
    "ExecutionFailed",
]


class FailureReason(_Contract):
    code: FailureCode
    message: str
    error: str | None = Field(default=None, description="The underlying error type, if any.")


# Offline only: which engine played the tuning job. The deployed handlers never set it, and
# events without it come from SageMaker.
ENGINE_VARIABLE = "NTM_TUNING_ENGINE"
Engine = Literal["scripted", "local"]
ENGINE_DESCRIPTION = (
    "Absent on AWS (SageMaker ran the job). Offline only: 'scripted' (a stand-in played the "
    "job's states; nothing was trained, the objective is made up and the model a placeholder) "
    "or 'local' (trained on this machine)."
)


class _EngineMarked(_Contract):
    engine: Engine | None = Field(default=None, description=ENGINE_DESCRIPTION)


class _EndedDetail(_RequestDetail, _EngineMarked):
    tuning_job_name: str | None = None
    tuning_job_arn: str | None = None
    status: str | None = Field(default=None, description="SageMaker's tuning job status, if known.")
    counters: TrainingJobCounters | None = None
    reason: FailureReason


class JobFailedDetail(_EndedDetail):
    """Tuning did not produce a result: the job failed, SageMaker refused it, or a step broke."""


class JobStoppedDetail(_EndedDetail):
    """The tuning job was stopped before it completed."""


class Objective(_Contract):
    metric_name: str
    value: float


class BestTrainingJob(_Contract):
    name: str
    arn: str
    objective: Objective
    tuned_hyperparameters: dict[str, str]
    static_hyperparameters: dict[str, str]
    model_artifact_uri: str | None
    billable_seconds: int | None
    training_seconds: int | None
    started_at: str | None
    ended_at: str | None


class TuningJobSummary(_Contract):
    name: str
    arn: str
    status: str
    strategy: str
    counters: TrainingJobCounters
    started_at: str | None
    ended_at: str | None


class Cost(_Contract):
    currency: Literal["USD"] = "USD"
    estimated_max_usd: float = Field(description="The worst case estimated before starting.")
    actual_usd: float = Field(description="Billable seconds x instances x hourly price.")
    billable_seconds: int
    instance_count: int
    hourly_price_usd: float
    prices_as_of: str


class TopicQuality(_Contract):
    """How good the best model's topics are, where the trainer reports it."""

    npmi: float | None = Field(description="Mean NPMI coherence of each topic's top words (-1..1).")
    uniqueness: float | None = Field(
        description="Topic uniqueness (1/K..1): 1 means no shared top words."
    )


# Warnings about the best model that its loss does not reveal, as a trainer reports them
# (metric "warning:<code>" = 1; the local trainer's detectors are in trainer/quality.py).
MODEL_WARNINGS: dict[str, str] = {
    "topics_collapsed": "The topics share most of their top words: they are not distinct topics.",
    "posterior_collapsed": (
        "No latent dimension responds to the document: every document is decoded from the "
        "same topic mixture, and the top words of the topics are noise. A lower "
        "validation:total_loss does not mean better topics; try other hyperparameters (for "
        "example batch_norm, a lower weight_decay, more epochs or num_patience_epochs)."
    ),
    "barely_trained": (
        "The validation loss never improved after the first epoch, so the model kept is one "
        "epoch from its random initialisation and the top words of its topics are noise; "
        "its validation:total_loss is still the best of the search. Try settings that train "
        "faster (for example a higher learning_rate or a smaller mini_batch_size) or a larger "
        "num_patience_epochs."
    ),
}
WARNING_METRIC_PREFIX = "warning:"


class ModelWarning(_Contract):
    """Something wrong with the best model that its objective does not show."""

    code: Literal["topics_collapsed", "posterior_collapsed", "barely_trained"] = Field(
        description="Machine-readable: topics_collapsed (the topics share most of their top "
        "words), posterior_collapsed (no active latent dimension: every document gets the same "
        "topic mixture) or barely_trained (the loss never improved after the first epoch)."
    )
    message: str


class TopicWords(_Contract):
    """One topic as the training log shows it: its top words, best first, and its scores."""

    words: list[str]
    tu: float | None = Field(description="This topic's uniqueness, as logged.")
    wetc: float | None = Field(
        default=None, description="This topic's word-embedding coherence, when logged."
    )


class Unavailable(_Contract):
    reason: str = Field(description="Machine-readable reason, e.g. no_topics_block.")
    message: str


class TopicsSource(_Contract):
    """Where ``topics``, ``wetc``, ``tu`` and ``npmi`` come from."""

    log_group: str
    log_stream: str = Field(description="The instance's stream the block was read from (algo-1).")
    epoch: str = Field(description="The epoch of the block, normally `final`.")
    instances: int = Field(description="Instances (streams) that logged a topics block.")
    topics_total: int = Field(description="Topics in the block (num_topics).")
    topics_shown: int = Field(description="Topics in this event; the report has all of them.")
    wetc_unavailable: str | None = Field(
        default=None, description="Why the log has no WETC, when it has none."
    )
    npmi_channel: str | None = Field(
        default=None, description="The held-out channel NPMI was computed on (test, validation)."
    )
    npmi_uri: str | None = None
    npmi_documents: int | None = None
    npmi_top_words: int | None = Field(
        default=None, description="Top words per topic NPMI is computed over."
    )
    npmi_unavailable: Unavailable | None = Field(
        default=None, description="Why NPMI was left out, when it was."
    )


class PreparedDataset(_Contract):
    """The dataset the preparation stage made from a corpus request's documents."""

    uri: str
    summary_uri: str
    corpus_uri: str
    documents: dict[str, int] = Field(description="Records per split, and the total.")
    dropped: dict[str, int] = Field(description="Documents or files skipped, by reason.")
    vocabulary_size: int


class JobSucceededDetail(_RequestDetail, _EngineMarked):
    """The tuning job completed; its best training job and where to find the model."""

    tuning_job: TuningJobSummary
    best_training_job: BestTrainingJob
    vocabulary_uri: str | None
    report_uri: str
    billable_seconds: int = Field(
        description="Billable seconds of all the tuning job's training jobs."
    )
    cost: Cost | None = Field(default=None, description="Estimated and actual cost, when priced.")
    dataset: PreparedDataset | None = Field(
        default=None, description="For a corpus request: the dataset prepared from it."
    )
    topic_quality: TopicQuality | None = Field(
        default=None,
        description="NPMI and topic uniqueness of the best model, when its trainer reports them "
        "(the offline trainer does; SageMaker's NTM logs WETC and TU but does not report them).",
    )
    warnings: list[ModelWarning] = Field(
        default_factory=list,
        description="Problems of the best model that its objective does not show, when its "
        "trainer reports them (the offline trainer does): for example collapsed topics.",
    )
    topics: list[TopicWords] | None = Field(
        default=None,
        description="The best job's topics, read from its training log's final topics block "
        "(at most 10 words each, and as many topics as fit a fixed size; see topics_source).",
    )
    wetc: float | None = Field(
        default=None,
        description="The best job's mean word-embedding topic coherence (0..1), as NTM logs it "
        "(only with vocab.txt in the auxiliary channel).",
    )
    tu: float | None = Field(
        default=None, description="The best job's mean topic uniqueness (1/K..1), as logged."
    )
    npmi: float | None = Field(
        default=None,
        description="Mean NPMI of the best job's topics on the held-out channel (-1..1).",
    )
    topics_source: TopicsSource | None = None
    topics_unavailable: Unavailable | None = Field(
        default=None,
        description="Why the best job's topics could not be read from its log, when they could "
        "not (no_log, no_topics_block, truncated, no_permission, log_read_limit, log_error).",
    )
    started_at: str | None
    ended_at: str | None


class BestSoFar(_Contract):
    name: str = Field(description="The training job with the best objective so far.")
    objective: Objective


class JobProgressDetail(_RequestDetail):
    """Where a tuning job stands, published by the workflow's poll when its counters or its best
    objective changed since the last progress event (at most one per poll)."""

    tuning_job_name: str
    tuning_job_arn: str | None
    status: str = Field(description="SageMaker's tuning job status at this poll.")
    counters: TrainingJobCounters
    max_jobs: int | None = Field(description="MaxNumberOfTrainingJobs of the tuning job, if set.")
    best_training_job: BestSoFar | None = Field(
        description="None until a training job has reported its objective."
    )
    billable_seconds: int = Field(
        description="Training seconds of the training jobs so far, running ones up to now (per "
        "instance; with managed spot the bill can be lower)."
    )
    cost_usd: float | None = Field(
        description="billable_seconds x instances x hourly price, when the request was priced."
    )
    observed_at: str = Field(description="When the poll saw this (ISO 8601, UTC).")


DETAIL_MODELS: dict[str, type[_Contract]] = {
    SUCCEEDED: JobSucceededDetail,
    REJECTED: RequestRejectedDetail,
    FAILED: JobFailedDetail,
    STOPPED: JobStoppedDetail,
    PROGRESS: JobProgressDetail,
}
