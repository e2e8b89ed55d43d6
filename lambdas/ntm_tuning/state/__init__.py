"""The workflow's state: what each state of the state machine passes its handler and gets back.

One model per handler input (``*Input``) and per result, and ``WorkflowState``, the execution's
state between states once the request is validated: each state's result sits under its own key
(the state's ``ResultPath``). The handlers parse their input and dump their result with these
models; ``infra/workflow.py`` builds every JSONPath of the definition with ``path``, which
checks it against these models, so a field renamed here cannot leave a stale path there.

The models that embed an event contract (the assessment, the job's status, the summary, what
the publishers read, ``WorkflowState``) are in ``state.contracts``, loaded on first use of one
of their names: the handlers that publish nothing do not load the event contracts.

Step Functions' rules the models follow: a ``Parameters`` path that is absent fails the state
(``States.Runtime``), so every field a later state reads is always dumped, ``None`` included
(``dump``); Choice states read paths in the state, so those keys stay in ``WorkflowState``.
https://docs.aws.amazon.com/step-functions/latest/dg/input-output-inputpath-params.html
"""

from __future__ import annotations

from enum import StrEnum
from types import UnionType
from typing import TYPE_CHECKING, Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel, ConfigDict, Field

if TYPE_CHECKING:
    from .contracts import (
        Accepted as Accepted,
    )
    from .contracts import (
        Assessment as Assessment,
    )
    from .contracts import (
        DescribeInput as DescribeInput,
    )
    from .contracts import (
        Duplicate as Duplicate,
    )
    from .contracts import (
        Ignored as Ignored,
    )
    from .contracts import (
        JobStatus as JobStatus,
    )
    from .contracts import (
        OutcomeState as OutcomeState,
    )
    from .contracts import (
        Prepare as Prepare,
    )
    from .contracts import (
        PublishInput as PublishInput,
    )
    from .contracts import (
        Rejected as Rejected,
    )
    from .contracts import (
        SummarizeInput as SummarizeInput,
    )
    from .contracts import (
        Summary as Summary,
    )
    from .contracts import (
        WorkflowState as WorkflowState,
    )
    from .contracts import (
        assessment as assessment,
    )

_CONTRACTS = frozenset(
    {
        "Accepted",
        "Assessment",
        "DescribeInput",
        "Duplicate",
        "Ignored",
        "JobStatus",
        "OutcomeState",
        "Prepare",
        "PublishInput",
        "Rejected",
        "Summary",
        "SummarizeInput",
        "WorkflowState",
        "assessment",
    }
)


def __getattr__(name: str) -> Any:
    """The models that embed event contracts, from ``state.contracts`` when first named."""
    if name in _CONTRACTS:
        from . import contracts

        return getattr(contracts, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class _Model(BaseModel):
    # Built on first use: a handler pays only for the models of its own state.
    model_config = ConfigDict(extra="forbid", defer_build=True)


def dump(model: BaseModel) -> dict[str, Any]:
    """A model as Step Functions gets it: JSON values, every field present (``None`` too)."""
    return model.model_dump(mode="json")


# -- the request block: which request an execution serves -------------------------------
class _RequestIds(_Model):
    request_id: str
    request_name: str | None = None


class RequestRef(_RequestIds):
    origin: dict[str, Any] = Field(
        description="Where the request came from (``events.Origin``: checked as such in the "
        "assessment and in every event built from it)."
    )


REQUEST_FIELDS = tuple(RequestRef.model_fields)


# -- state "Validate request" (and "Build tuning job"): what the assessment decided -------
class Outcome(StrEnum):
    """What validation (or the tuning job's planning on a prepared dataset) decided."""

    ACCEPTED = "accepted"
    PREPARE = "prepare"
    REJECTED = "rejected"
    IGNORED = "ignored"
    DUPLICATE = "duplicate"


class ValidateInput(_Model):
    delivery: dict[str, Any] = Field(description="The execution's input, as a trigger put it.")
    execution_id: str


class PreparationPlan(_Model):
    """The Processing job that prepares a corpus request's dataset."""

    processing_job_name: str
    create_request: dict[str, Any]
    config_uri: str
    request_uri: str
    dataset_uri: str
    corpus_uri: str


# -- states "Acquire capacity" and "Release capacity" ---------------------------------
class AcquireInput(_Model):
    execution_id: str
    request_id: str
    tuning_job_name: str


class Admission(_Model):
    admitted: bool
    in_flight: int
    limit: int


class ReleaseInput(_Model):
    execution_id: str


class Released(_Model):
    released: bool
    in_flight: int


# -- states "Start tuning job", "Describe tuning job", "Stop tuning job" ---------------
class StartInput(_Model):
    tuning_job_name: str
    create_request: dict[str, Any]
    execution_id: str
    request: RequestRef


class StartResult(_Model):
    tuning_job_arn: str | None
    duplicate: bool
    capacity_exhausted: bool


class StopInput(_Model):
    tuning_job_name: str


class StopResult(_Model):
    stopped: bool
    status: str


# -- states "Start dataset preparation", "Describe dataset preparation" -----------------
class StartPreparationInput(_Model):
    preparation: PreparationPlan
    execution_id: str
    request: RequestRef


class PreparationStarted(_Model):
    processing_job_arn: str


class DescribePreparationInput(_Model):
    processing_job_name: str


class PreparationStatus(_Model):
    status: str
    failure_reason: str | None
    exit_message: str | None


# -- state "Build tuning job" ----------------------------------------------------------
class BuildInput(_Model):
    request: RequestRef
    preparation: PreparationPlan
    execution_id: str


class TaskError(_Model):
    """What a Catch puts at its ResultPath."""

    Error: str
    Cause: str | None = None


class Published(_Model):
    event_id: str | None
    detail_type: str
    already_published: bool = False


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    """The models a field's annotation may hold (``X | None``, unions, ``Annotated``)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    origin = get_origin(annotation)
    if origin is Annotated:
        return _models_in(get_args(annotation)[0])
    if origin is Union or origin is UnionType:
        return [model for arg in get_args(annotation) for model in _models_in(arg)]
    return []


def path(*fields: str, model: type[BaseModel] | None = None) -> str:
    """The JSONPath ``$.a.b`` of field ``a`` of ``model`` (``WorkflowState`` unless given) and
    field ``b`` of ``a``'s model; ``KeyError`` naming the field when one is not a field there."""
    if model is None:
        from .contracts import WorkflowState

        model = WorkflowState
    current = [model]
    for depth, name in enumerate(fields):
        holders = [m for m in current if name in m.model_fields]
        if not holders:
            where = ".".join(fields[:depth]) or "the state"
            raise KeyError(
                f"{name!r} is not a field of {where} ({', '.join(m.__name__ for m in current)})"
            )
        current = [found for m in holders for found in _models_in(m.model_fields[name].annotation)]
        if depth < len(fields) - 1 and not current:
            raise KeyError(f"{'.'.join(fields[: depth + 1])} has no fields")
    return "$." + ".".join(fields)
