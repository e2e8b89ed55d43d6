"""The workflow state's models as Step Functions sees them: ``state.dump`` gives JSON values,
``state.path`` builds a JSONPath only through fields that exist, and the models that embed
event contracts load from ``state.contracts`` on first use."""

from __future__ import annotations

from typing import Annotated, Any, Optional

import pytest
from ntm_tuning import state
from ntm_tuning.events import S3Origin
from ntm_tuning.state import Admission, Outcome, Released, StopResult, dump, path
from pydantic import BaseModel, Field


class _Holder(BaseModel):
    """Fields of every shape ``path`` looks through."""

    plain: Admission
    optional: Admission | None = None
    legacy_optional: Optional[Released] = None  # noqa: UP045 (typing.Union on purpose)
    either: Admission | Released | None = None
    described: Annotated[StopResult, Field(description="metadata kept")] | None = None
    by_name: dict[str, Admission] = {}
    text: str = ""


def error_of(*fields: str, model: type[BaseModel] | None = None) -> str:
    with pytest.raises(KeyError) as raised:
        path(*fields, model=model)
    return str(raised.value.args[0])


def test_a_path_through_the_workflow_state() -> None:
    assert path("tuning_job_name") == "$.tuning_job_name"
    assert path("job", "counters", "stopped") == "$.job.counters.stopped"
    assert path("admission", "in_flight") == "$.admission.in_flight"


def test_a_path_through_the_given_model() -> None:
    assert path("plain", "admitted", model=_Holder) == "$.plain.admitted"
    assert path("text", model=_Holder) == "$.text"
    # WorkflowState has no such field: the given model is the one read.
    assert error_of("plain") == "'plain' is not a field of the state (WorkflowState)"


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        (("optional", "limit"), "$.optional.limit"),
        (("legacy_optional", "released"), "$.legacy_optional.released"),
        (("either", "admitted"), "$.either.admitted"),  # Admission's own
        (("either", "released"), "$.either.released"),  # Released's own
        (("either", "in_flight"), "$.either.in_flight"),  # both have it
        (("described", "stopped"), "$.described.stopped"),
    ],
)
def test_a_path_looks_through_unions_and_annotations(
    fields: tuple[str, ...], expected: str
) -> None:
    assert path(*fields, model=_Holder) == expected


def test_a_field_that_is_not_there_is_named_with_where_it_was_looked_for() -> None:
    assert error_of("nope") == "'nope' is not a field of the state (WorkflowState)"
    assert error_of("job", "nope") == "'nope' is not a field of job (JobStatus)"
    assert error_of("job", "counters", "nope") == (
        "'nope' is not a field of job.counters (TrainingJobCounters)"
    )
    assert error_of("either", "nope", model=_Holder) == (
        "'nope' is not a field of either (Admission, Released)"
    )


def test_a_path_past_a_field_that_holds_no_model_is_refused() -> None:
    assert error_of("tuning_job_name", "x") == "tuning_job_name has no fields"
    assert error_of("job", "status", "x") == "job.status has no fields"
    assert error_of("job", "status", "x", "y") == "job.status has no fields"
    # A mapping of models is not a model: its keys are data, not fields.
    assert error_of("by_name", "admitted", model=_Holder) == "by_name has no fields"


def test_dump_gives_json_values_with_every_field() -> None:
    dumped = dump(state.WorkflowState.model_validate(_accepted()))
    assert dumped["outcome"] == "accepted"
    assert type(dumped["outcome"]) is str  # not the enum: Step Functions gets JSON
    assert dumped["job"] is None and "job" in dumped
    assert dump(Released(released=True, in_flight=3)) == {"released": True, "in_flight": 3}


def test_the_contract_models_load_on_first_use() -> None:
    from ntm_tuning.state import contracts

    assert state.WorkflowState is contracts.WorkflowState
    assert state.assessment is contracts.assessment
    with pytest.raises(AttributeError) as raised:
        state.NotAModel  # noqa: B018
    assert str(raised.value) == "module 'ntm_tuning.state' has no attribute 'NotAModel'"


def test_the_first_assessment_builds_the_validator_the_next_ones_reuse(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from ntm_tuning.state import contracts

    # As on a cold start: no assessment read yet in this process.
    monkeypatch.setattr(contracts, "_assessments", None)
    first = state.assessment({**_request(), "outcome": "ignored"})
    assert type(first) is state.Ignored
    built = contracts._assessments
    assert built is not None
    assert type(state.assessment({**_request(), "outcome": "duplicate"})) is state.Duplicate
    assert contracts._assessments is built


def test_an_assessment_is_read_by_its_outcome() -> None:
    ignored = state.assessment({**_request(), "outcome": "ignored"})
    assert type(ignored) is state.Ignored
    assert ignored.request_id == "req-1"
    assert ignored.origin == S3Origin(bucket="ntm-data-bucket", key="requests/run.json")
    duplicate = state.assessment({**_request(), "outcome": Outcome.DUPLICATE.value})
    assert type(duplicate) is state.Duplicate


def _request() -> dict[str, Any]:
    return {
        "request_id": "req-1",
        "request_name": "demo",
        "origin": {"type": "s3", "bucket": "ntm-data-bucket", "key": "requests/run.json"},
    }


def _accepted() -> dict[str, Any]:
    return {**_request(), "outcome": "accepted", "tuning_job_name": "ntm-1"}
