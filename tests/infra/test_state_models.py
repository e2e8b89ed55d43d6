"""Each state's model against what the synthesized definition passes.

Every path through the state machine is walked with sample results built from the handlers'
result models: at each Lambda state, its Parameters are rendered against the state as Step
Functions would (a path absent from the state fails, as ``States.Runtime`` does) and the result
is validated with that handler's input model; the handler's sample results are put at the
state's ResultPath; Choice states read their paths from the state. The state between states is
validated with ``WorkflowState`` wherever the request has been validated. A publisher's event,
built from what it is given, is the one the whole state would make.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from ntm_tuning.events import (
    BestTrainingJob,
    CostEstimate,
    JobSucceededDetail,
    Objective,
    PreparedDataset,
    RequestRejectedDetail,
    S3Delivery,
    S3Origin,
    TrainingJobCounters,
    TuningJobSummary,
    ViolationDetail,
)
from ntm_tuning.outcomes import build_detail
from ntm_tuning.state import (
    Accepted,
    AcquireInput,
    Admission,
    BuildInput,
    DescribeInput,
    DescribePreparationInput,
    Duplicate,
    Ignored,
    JobStatus,
    Outcome,
    PreparationPlan,
    PreparationStarted,
    PreparationStatus,
    Prepare,
    Published,
    PublishInput,
    Rejected,
    Released,
    ReleaseInput,
    StartInput,
    StartPreparationInput,
    StartResult,
    StopInput,
    StopResult,
    SummarizeInput,
    Summary,
    ValidateInput,
    WorkflowState,
    dump,
    path,
)
from pydantic import BaseModel

from tests.infra.conftest import Synthesized
from tests.infra.helpers import WORKFLOW_HANDLERS, function_id, state_machine_definition

EXECUTION = "arn:aws:states:us-east-1:123456789012:execution:ntm:run-1"
INPUTS: dict[str, type[BaseModel]] = {
    "validate_request": ValidateInput,
    "acquire_capacity": AcquireInput,
    "start_tuning_job": StartInput,
    "describe_tuning_job": DescribeInput,
    "stop_tuning_job": StopInput,
    "summarize_results": SummarizeInput,
    "publish_outcome": PublishInput,
    "release_capacity": ReleaseInput,
    "start_dataset_preparation": StartPreparationInput,
    "describe_dataset_preparation": DescribePreparationInput,
    "build_tuning_job": BuildInput,
}

ORIGIN = S3Origin(bucket="data", key="requests/run.json", version_id="v1", etag="e")
REQUEST = {"request_id": "0123456789abcdef01234567", "request_name": "demo", "origin": ORIGIN}
JOB_NAME = "ntm-0123456789abcdef01234567"
DATASET = PreparedDataset(
    uri="s3://data/prepared/r/dataset/",
    summary_uri="s3://data/prepared/r/dataset/dataset.json",
    corpus_uri="s3://data/corpora/demo/",
    documents={"train": 8, "validation": 1, "test": 1, "total": 10},
    dropped={},
    vocabulary_size=50,
)
COST = CostEstimate(
    max_usd=3.2,
    hourly_price_usd=0.7364,
    instance_type="ml.g4dn.xlarge",
    instance_count=1,
    max_jobs=4,
    max_billable_seconds=14400,
    prices_as_of="2026-01-01",
)


def accepted(dataset: PreparedDataset | None = None) -> dict[str, Any]:
    return dump(
        Accepted(
            **REQUEST,
            outcome=Outcome.ACCEPTED,
            tuning_job_name=JOB_NAME,
            create_request={"HyperParameterTuningJobName": JOB_NAME},
            static_hyperparameters={"num_topics": "5"},
            strategy="Bayesian",
            max_jobs=4,
            vocabulary_uri="s3://data/datasets/demo/auxiliary/vocab.txt",
            watch_deadline="2026-11-27T20:00:00+00:00",
            cost_estimate=COST,
            dataset=dataset,
        )
    )


def rejected(dataset: PreparedDataset | None = None) -> dict[str, Any]:
    detail = RequestRejectedDetail(
        **REQUEST,
        message="1 problem(s): data: no data",
        violations=[ViolationDetail(field="data.train", rule="exists", message="no data")],
        violation_count=1,
    )
    return dump(Rejected(**REQUEST, outcome=Outcome.REJECTED, rejection=detail, dataset=dataset))


def assessments(_: dict[str, Any]) -> list[dict[str, Any]]:
    plan = PreparationPlan(
        processing_job_name="ntm-prep-0123456789abcdef01234567",
        create_request={"ProcessingJobName": "ntm-prep-0123456789abcdef01234567"},
        config_uri="s3://data/prepared/r/config.json",
        request_uri="s3://data/prepared/r/request.json",
        dataset_uri=DATASET.uri,
        corpus_uri=DATASET.corpus_uri,
    )
    return [
        accepted(),
        dump(Prepare(**REQUEST, outcome=Outcome.PREPARE, preparation=plan)),
        rejected(),
        dump(Ignored(**{**REQUEST, "request_name": None}, outcome=Outcome.IGNORED)),
        dump(Duplicate(**REQUEST, outcome=Outcome.DUPLICATE)),
    ]


def job_status(status: str, deadline_passed: bool = False) -> dict[str, Any]:
    return dump(
        JobStatus(
            status=status,
            counters=TrainingJobCounters(completed=1),
            failure_reason="AlgorithmError" if status == "Failed" else None,
            deadline_passed=deadline_passed,
            progress="published",
        )
    )


def summary(_: dict[str, Any]) -> list[dict[str, Any]]:
    detail = JobSucceededDetail(
        **REQUEST,
        tuning_job=TuningJobSummary(
            name=JOB_NAME,
            arn=f"arn:aws:sagemaker:us-east-1:123456789012:hyper-parameter-tuning-job/{JOB_NAME}",
            status="Completed",
            strategy="Bayesian",
            counters=TrainingJobCounters(completed=4),
            started_at=None,
            ended_at=None,
        ),
        best_training_job=BestTrainingJob(
            name=f"{JOB_NAME}-001-aaaaaaaa",
            arn="arn:aws:sagemaker:us-east-1:123456789012:training-job/x",
            objective=Objective(metric_name="validation:total_loss", value=5.5),
            tuned_hyperparameters={"mini_batch_size": "64"},
            static_hyperparameters={"num_topics": "5"},
            model_artifact_uri=None,
            billable_seconds=60,
            training_seconds=70,
            started_at=None,
            ended_at=None,
        ),
        vocabulary_uri=None,
        report_uri=f"s3://artifacts/reports/{JOB_NAME}.json",
        billable_seconds=240,
        started_at=None,
        ended_at=None,
    )
    return [dump(Summary(detail=detail, report_uri=detail.report_uri))]


# What each handler may return, given its input (its result model's samples).
RESULTS: dict[str, Callable[[dict[str, Any]], list[dict[str, Any]]]] = {
    "validate_request": assessments,
    "acquire_capacity": lambda _: [
        dump(Admission(admitted=admitted, in_flight=1, limit=2)) for admitted in (True, False)
    ],
    "start_tuning_job": lambda _: [
        dump(StartResult(tuning_job_arn="arn:job", duplicate=False, capacity_exhausted=False)),
        dump(StartResult(tuning_job_arn="arn:job", duplicate=True, capacity_exhausted=False)),
        dump(StartResult(tuning_job_arn=None, duplicate=False, capacity_exhausted=True)),
    ],
    "describe_tuning_job": lambda _: [
        job_status("InProgress"),
        job_status("InProgress", deadline_passed=True),
        job_status("Completed"),
        job_status("Failed"),
        job_status("Stopped"),
    ],
    "stop_tuning_job": lambda _: [dump(StopResult(stopped=True, status="Stopping"))],
    "summarize_results": summary,
    "publish_outcome": lambda given: [
        dump(Published(event_id="event-1", detail_type=given["detail_type"]))
    ],
    "release_capacity": lambda _: [dump(Released(released=True, in_flight=0))],
    "start_dataset_preparation": lambda _: [dump(PreparationStarted(processing_job_arn="arn:p"))],
    "describe_dataset_preparation": lambda _: [
        dump(PreparationStatus(status=status, failure_reason=None, exit_message=None))
        for status in ("InProgress", "Completed", "Failed", "Stopped")
    ],
    "build_tuning_job": lambda _: [accepted(DATASET), rejected(DATASET)],
}
TASK_ERROR = {"Error": "States.TaskFailed", "Cause": "boom"}


class Absent(Exception):
    """A path the state does not hold (Step Functions fails the state: States.Runtime)."""


def resolve(reference: str, state: dict[str, Any]) -> Any:
    if reference == "$$.Execution.Id":
        return EXECUTION
    assert reference == "$" or reference.startswith("$."), reference
    value: Any = state
    for part in (
        reference.removeprefix("$").removeprefix(".").split(".") if reference != "$" else []
    ):
        if not isinstance(value, dict) or part not in value:
            raise Absent(reference)
        value = value[part]
    return copy.deepcopy(value)


def render(parameters: Any, state: dict[str, Any]) -> Any:
    """A state's Parameters with each ``key.$`` replaced by the value at its path."""
    if isinstance(parameters, dict):
        return {
            key.removesuffix(".$"): resolve(value, state)
            if key.endswith(".$")
            else render(value, state)
            for key, value in parameters.items()
        }
    return parameters


def put(state: dict[str, Any], result_path: str, result: Any) -> dict[str, Any]:
    """ResultPath: the result replaces the state (``$``) or is merged in at its path."""
    if result_path == "$":
        return copy.deepcopy(result)  # type: ignore[no-any-return]
    merged = copy.deepcopy(state)
    *parents, last = result_path.removeprefix("$.").split(".")
    node = merged
    for part in parents:
        node = node.setdefault(part, {})
    node[last] = copy.deepcopy(result)
    return merged


def matches(condition: dict[str, Any], state: dict[str, Any]) -> bool:
    if "And" in condition:
        return all(matches(c, state) for c in condition["And"])
    if "IsPresent" in condition:
        try:
            resolve(condition["Variable"], state)
        except Absent:
            return not condition["IsPresent"]
        return bool(condition["IsPresent"])
    value = resolve(condition["Variable"], state)
    if "StringEquals" in condition:
        return bool(value == condition["StringEquals"])
    if "BooleanEquals" in condition:
        return bool(value is condition["BooleanEquals"])
    raise AssertionError(f"no sample evaluation of {condition}")


class Walk:
    """Every (state, execution state) pair the machine can reach with the sample results."""

    def __init__(self, definition: dict[str, Any], handlers: dict[str, str]) -> None:
        self.states: dict[str, dict[str, Any]] = definition["States"]
        self.handlers = handlers  # Resource -> handler name
        self.visited: set[str] = set()
        self.inputs: dict[str, list[dict[str, Any]]] = {}
        self.problems: list[str] = []
        self.seen: set[str] = set()
        delivery = dump(
            S3Delivery(
                origin="s3",
                event_id="11111111-2222-3333-4444-555555555555",
                bucket="data",
                key="requests/run.json",
                version_id="v1",
                etag="e",
            )
        )
        self._run(definition["StartAt"], delivery)

    def _run(self, start: str, delivery: dict[str, Any]) -> None:
        frontier = [(start, delivery)]
        seen = self.seen
        while frontier:
            name, state = frontier.pop()
            key = name + json.dumps(state, sort_keys=True)
            if key in seen:
                continue
            seen.add(key)
            assert len(seen) < 20_000, "the walk does not end"
            self.visited.add(name)
            frontier.extend(self._step(name, state))

    def _step(self, name: str, state: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
        if "request_id" in state:
            # Once validated, the state between states is a WorkflowState.
            WorkflowState.model_validate(state)
        definition = self.states[name]
        kind = definition["Type"]
        if kind in ("Succeed", "Fail"):
            return
        if kind == "Wait":
            yield definition["Next"], state
            return
        if kind == "Choice":
            try:
                chosen = next(
                    (c["Next"] for c in definition["Choices"] if matches(c, state)),
                    definition.get("Default"),
                )
            except Absent as absent:
                self.problems.append(f"{name} reads {absent}, absent from {sorted(state)}")
                return
            assert chosen, f"{name}: no choice matches and no Default"
            yield chosen, state
            return
        assert kind == "Task", name
        handler = self.handlers[definition["Resource"]]
        try:
            given = render(definition.get("Parameters", {}), state)
        except Absent as absent:
            self.problems.append(f"{name} passes {absent}, absent from {sorted(state)}")
            return
        parsed = INPUTS[handler].model_validate(given)  # raises, naming the field, on a mismatch
        self.inputs.setdefault(name, []).append(given)
        if isinstance(parsed, PublishInput):
            # The event built from what the publisher is given is the one the whole state makes.
            narrowed = parsed.state.model_dump(mode="json", exclude_unset=True)
            expected = build_detail(parsed.detail_type, state)
            if build_detail(parsed.detail_type, narrowed) != expected:
                self.problems.append(f"{name} builds another event than the whole state does")
        for result in RESULTS[handler](given):
            yield definition["Next"], put(state, definition["ResultPath"], result)
        for catch in definition.get("Catch", []):
            yield catch["Next"], put(state, catch["ResultPath"], TASK_ERROR)


@pytest.fixture(scope="module")
def definition(synthesized: Synthesized) -> dict[str, Any]:
    return state_machine_definition(synthesized)


@pytest.fixture(scope="module")
def walk(synthesized: Synthesized, definition: dict[str, Any]) -> Walk:
    handlers = {f"${{{function_id(synthesized, name)}.Arn}}": name for name in WORKFLOW_HANDLERS}
    return Walk(definition, handlers)


def test_every_handler_has_an_input_model() -> None:
    assert set(INPUTS) == set(WORKFLOW_HANDLERS)


def test_every_state_passes_its_handler_what_its_model_reads(
    walk: Walk, definition: dict[str, Any]
) -> None:
    assert walk.problems == []
    assert len(walk.seen) > 100
    # Every state is reached, and every Lambda state was checked.
    assert walk.visited == set(definition["States"])
    tasks = {name for name, state in definition["States"].items() if state["Type"] == "Task"}
    assert set(walk.inputs) == tasks


def test_the_summary_and_the_publishers_get_part_of_the_state(walk: Walk) -> None:
    """Only "Publish failure" (caught from every state, validation's included) gets it all."""
    for name in ("Summarize results", "Publish success", "Publish stopped", "Publish rejection"):
        for given in walk.inputs[name]:
            passed = given.get("state", given)
            assert "create_request" not in passed, name
    assert any("create_request" in given["state"] for given in walk.inputs["Publish failure"])


def _paths(node: Any) -> Iterator[str]:
    """Every JSONPath into the state that the definition reads or writes."""
    if isinstance(node, dict):
        for key, value in node.items():
            if (
                isinstance(value, str)
                and value.startswith("$.")
                and (
                    key.endswith(".$")
                    or key in ("Variable", "ResultPath", "InputPath", "OutputPath")
                )
            ):
                yield value
            else:
                yield from _paths(value)
    elif isinstance(node, list):
        for item in node:
            yield from _paths(item)


def test_every_path_in_the_definition_is_a_field_of_the_state_model(
    definition: dict[str, Any],
) -> None:
    found = set(_paths(definition["States"]))
    assert {"$.outcome", "$.job.status", "$.preparation.processing_job_name"} <= found
    for reference in sorted(found):
        assert path(*reference.removeprefix("$.").split(".")) == reference


def test_a_path_that_is_no_field_is_refused_naming_it() -> None:
    with pytest.raises(KeyError, match="'state' is not a field of job"):
        path("job", "state")
    with pytest.raises(KeyError, match="'jobs' is not a field of the state"):
        path("jobs")
