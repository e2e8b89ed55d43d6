"""The state's models that embed an event contract (``events.py``): the assessment, the
tuning job's status, the summary, what the publishers read, and ``WorkflowState``."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from ..events import (
    CostEstimate,
    JobSucceededDetail,
    Origin,
    PreparedDataset,
    RequestRejectedDetail,
    TrainingJobCounters,
)
from . import (
    Admission,
    Outcome,
    PreparationPlan,
    PreparationStarted,
    PreparationStatus,
    Published,
    Released,
    RequestRef,
    StartResult,
    StopResult,
    TaskError,
    _Model,
    _RequestIds,
)


class _Requested(_RequestIds):
    origin: Origin


class Accepted(_Requested):
    outcome: Literal[Outcome.ACCEPTED]
    tuning_job_name: str
    create_request: dict[str, Any]
    static_hyperparameters: dict[str, str]
    strategy: str
    max_jobs: int
    vocabulary_uri: str | None
    watch_deadline: str
    cost_estimate: CostEstimate | None
    dataset: PreparedDataset | None = None


class Prepare(_Requested):
    outcome: Literal[Outcome.PREPARE]
    preparation: PreparationPlan


class Rejected(_Requested):
    outcome: Literal[Outcome.REJECTED]
    rejection: RequestRejectedDetail
    dataset: PreparedDataset | None = None


class Ignored(_Requested):
    outcome: Literal[Outcome.IGNORED]


class Duplicate(_Requested):
    outcome: Literal[Outcome.DUPLICATE]


Assessment = Annotated[
    Accepted | Prepare | Rejected | Ignored | Duplicate, Field(discriminator="outcome")
]
_assessments: TypeAdapter[Accepted | Prepare | Rejected | Ignored | Duplicate] | None = None


def assessment(raw: dict[str, Any]) -> Accepted | Prepare | Rejected | Ignored | Duplicate:
    """An assessment (the result of validation or of building the tuning job) checked."""
    global _assessments
    if _assessments is None:
        _assessments = TypeAdapter(Assessment)
    return _assessments.validate_python(raw)


class DescribeInput(_Model):
    tuning_job_name: str
    watch_deadline: str
    execution_id: str
    request: RequestRef
    cost_estimate: CostEstimate | None


class JobStatus(_Model):
    status: str
    counters: TrainingJobCounters
    failure_reason: str | None
    deadline_passed: bool
    progress: str | None = Field(
        default=None, description="Whether a progress event went out, or why it did not."
    )


# "Stop tuning job" and "Describe dataset preparation" read one name and return a few fields:
# their handlers keep pydantic out of their cold start and work on the dicts, and the tests
# hold them to these models (the definition's paths are built from them too).
class SummarizeInput(_Requested):
    """What the summary reads of an accepted request's plan."""

    tuning_job_name: str
    static_hyperparameters: dict[str, str]
    strategy: str
    vocabulary_uri: str | None
    cost_estimate: CostEstimate | None
    dataset: PreparedDataset | None


class Summary(_Model):
    detail: JobSucceededDetail
    report_uri: str


class OutcomeState(BaseModel):
    """What a publisher reads of the state to build the request's terminal event.

    Each publisher passes only what its event needs; "Publish failure" is reached from every
    state's Catch, validation's included, where the state is still the delivery (whose keys
    are kept: the request is named from them), so it gets the whole state."""

    model_config = ConfigDict(extra="allow", defer_build=True)

    request_id: str | None = None
    request_name: str | None = None
    tuning_job_name: str | None = None
    watch_deadline: str | None = None
    rejection: RequestRejectedDetail | None = None
    result: Summary | None = None
    start: StartResult | None = None
    job: JobStatus | None = None
    error: TaskError | None = None
    preparation: PreparationPlan | None = None
    preparation_status: PreparationStatus | None = None


class PublishInput(_Model):
    detail_type: str
    execution_id: str
    state: OutcomeState


class WorkflowState(_Requested):
    """Every key the execution's state may hold after validation: the assessment's fields,
    then each state's result under its ``ResultPath``. The definition's paths are checked
    against it (``path``)."""

    outcome: Outcome
    # Accepted: the tuning job's plan.
    tuning_job_name: str | None = None
    create_request: dict[str, Any] | None = None
    static_hyperparameters: dict[str, str] | None = None
    strategy: str | None = None
    max_jobs: int | None = None
    vocabulary_uri: str | None = None
    watch_deadline: str | None = None
    cost_estimate: CostEstimate | None = None
    dataset: PreparedDataset | None = None
    # Prepare / rejected.
    preparation: PreparationPlan | None = None
    rejection: RequestRejectedDetail | None = None
    # Each state's result.
    preparation_job: PreparationStarted | None = None
    preparation_status: PreparationStatus | None = None
    admission: Admission | None = None
    start: StartResult | None = None
    job: JobStatus | None = None
    stop: StopResult | None = None
    result: Summary | None = None
    published: Published | None = None
    release: Released | None = None
    error: TaskError | None = None
    release_error: TaskError | None = None
