"""Warm Start Tuning Restrictions (SageMaker Developer Guide), checked against each parent."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from botocore.exceptions import ClientError
from ntm_tuning import intake
from ntm_tuning.job_definition import DataFacts, define_tuning_job
from ntm_tuning.request import TuningRequest
from ntm_tuning.tags import REQUEST_ID_TAG
from ntm_tuning.warm_start import ParentJob, describe_parents, violations
from pydantic import ValidationError

from offline.sagemaker import check_warm_start_parents
from offline.scripted import ScriptedSageMaker
from tests.settings_factory import make_settings

TAG = REQUEST_ID_TAG
PARENT = "ntm-00000000000000000000000a"


def create_request(**extra: Any) -> dict[str, Any]:
    body = {
        "data": {"train": "d/train/", "validation": "d/validation/"},
        "hyperparameters": {"num_topics": 10},
        "resource_limits": {"max_jobs": 4},
        **extra,
    }
    plan = define_tuning_job(
        TuningRequest.model_validate(body),
        make_settings(),
        DataFacts(vocabulary_size=500),
        tuning_job_name="ntm-00000000000000000000000b",
        tags={},
    )
    return plan.create_request


def parent(
    status: str = "Completed", tags: dict[str, str] | None = None, **extra: Any
) -> ParentJob:
    request = create_request(**extra)
    description = {
        "HyperParameterTuningJobName": PARENT,
        "HyperParameterTuningJobArn": f"arn:aws:sagemaker:us-east-1:1:hyper-parameter-tuning-job/{PARENT}",
        "HyperParameterTuningJobStatus": status,
        "HyperParameterTuningJobConfig": request["HyperParameterTuningJobConfig"],
        "TrainingJobDefinition": request["TrainingJobDefinition"],
    }
    return ParentJob(PARENT, description, {TAG: "abc"} if tags is None else tags)


def rules(
    parents: list[ParentJob], child: dict[str, Any] | None, kind: str = "IdenticalDataAndAlgorithm"
) -> list[tuple[str, str]]:
    return [
        (v.field, v.rule)
        for v in violations(parents, child, request_id_tag=TAG, warm_start_type=kind)
    ]


def test_a_compatible_ended_parent_passes() -> None:
    for status in ("Completed", "Stopped", "Failed"):
        assert rules([parent(status)], create_request()) == []


@pytest.mark.parametrize("status", ["InProgress", "Stopping"])
def test_a_parent_still_running_is_refused(status: str) -> None:
    assert rules([parent(status)], create_request()) == [
        ("warm_start.parents.0", "terminal_parent")
    ]


def test_a_missing_parent_is_named_by_its_position() -> None:
    missing = ParentJob("ntm-00000000000000000000000c", None, {})
    assert rules([parent(), missing], create_request()) == [("warm_start.parents.1", "exists")]


def test_a_parent_without_the_pipelines_tag_is_refused() -> None:
    assert rules([parent(tags={})], create_request()) == [
        ("warm_start.parents.0", "pipeline_jobs_only")
    ]


def test_the_hyperparameter_set_must_stay_the_same() -> None:
    child = create_request(hyperparameters={"num_topics": 10, "batch_norm": True})
    assert rules([parent()], child) == [("warm_start.parents.0", "same_hyperparameters")]
    # Moving one from tuned to static keeps the set: allowed.
    child = create_request(hyperparameters={"num_topics": 10, "optimizer": "adam"})
    assert rules([parent()], child) == []


def test_a_hyperparameter_type_cannot_change() -> None:
    child = create_request(ranges={"learning_rate": {"type": "Categorical", "values": [0.01, 0.1]}})
    assert rules([parent()], child) == [("warm_start.parents.0", "same_hyperparameter_types")]


STATICS = {
    "num_topics": 10,
    "epochs": 10,
    "batch_norm": False,
    "clip_gradient": 5.0,
    "num_patience_epochs": 3,
    "sub_sample": 1.0,
    "tolerance": 0.001,
    "encoder_layers": "auto",
    "encoder_layers_activation": "relu",
    "learning_rate": 0.01,
    "mini_batch_size": 64,
    "optimizer": "adam",
    "rescale_gradient": 1.0,
}
CHANGED = {
    "num_topics": 11,
    "epochs": 11,
    "batch_norm": True,
    "clip_gradient": 6.0,
    "num_patience_epochs": 4,
    "sub_sample": 0.9,
    "tolerance": 0.002,
    "encoder_layers": "30,20",
    "encoder_layers_activation": "tanh",
    "learning_rate": 0.02,
}


def test_at_most_ten_static_values_change() -> None:
    # weight_decay stays the one tuned hyperparameter; everything else is static.
    the_parent = parent(hyperparameters=STATICS)
    ten = create_request(hyperparameters={**STATICS, **CHANGED})
    eleven = create_request(hyperparameters={**STATICS, **CHANGED, "mini_batch_size": 65})
    assert rules([the_parent], ten) == []
    assert rules([the_parent], eleven) == [("warm_start.parents.0", "static_changes")]


def test_identical_data_and_algorithm_needs_the_same_image() -> None:
    other = parent()
    assert other.description is not None
    described = copy.deepcopy(other.description)
    described["TrainingJobDefinition"]["AlgorithmSpecification"]["TrainingImage"] = (
        "1.dkr.ecr/ntm:2"
    )
    moved = ParentJob(PARENT, described, other.tags)
    assert rules([moved], create_request()) == [("warm_start.parents.0", "same_algorithm")]
    assert rules([moved], create_request(), "TransferLearning") == []


def test_at_most_five_parents() -> None:
    body = {
        "data": {"train": "t/", "validation": "v/"},
        "warm_start": {"parents": [f"ntm-{i}" for i in range(6)]},
    }
    with pytest.raises(ValidationError) as error:
        TuningRequest.model_validate(body)
    assert [v.field for v in intake.violations_of(error.value)] == ["warm_start.parents"]
    body["warm_start"] = {"parents": [f"ntm-{i}" for i in range(5)]}
    TuningRequest.model_validate(body)


class FakeJobs:
    def __init__(self, known: dict[str, ParentJob]) -> None:
        self.known = known
        self.described: list[str] = []

    def describe(self, name: str) -> dict[str, Any]:
        self.described.append(name)
        if name not in self.known or self.known[name].description is None:
            raise ClientError(
                {"Error": {"Code": "ResourceNotFound", "Message": "nope"}},
                "DescribeHyperParameterTuningJob",
            )
        description = self.known[name].description
        assert description is not None
        return description

    def tags(self, arn: str) -> dict[str, str]:
        return self.known[arn.rsplit("/", 1)[1]].tags


def test_parents_are_described_and_foreign_names_are_not() -> None:
    jobs = FakeJobs({PARENT: parent()})
    found = describe_parents([PARENT, "someone-elses-job", "ntm-00000000000000000000000c"], jobs)  # type: ignore[arg-type]
    assert jobs.described == [PARENT, "ntm-00000000000000000000000c"]
    assert [(p.name, p.description is None) for p in found] == [
        (PARENT, False),
        ("ntm-00000000000000000000000c", True),
    ]
    assert found[0].tags == {TAG: "abc"}


def test_the_offline_sagemaker_refuses_a_missing_or_running_parent() -> None:
    request = {
        "WarmStartConfig": {
            "ParentHyperParameterTuningJobs": [{"HyperParameterTuningJobName": PARENT}],
            "WarmStartType": "TransferLearning",
        }
    }
    operation = "CreateHyperParameterTuningJob"
    with pytest.raises(ClientError) as missing:
        check_warm_start_parents(operation, request, {})
    assert missing.value.response["Error"]["Code"] == "ResourceNotFound"
    with pytest.raises(ClientError) as running:
        check_warm_start_parents(operation, request, {PARENT: "InProgress"})
    assert running.value.response["Error"]["Code"] == "ValidationException"
    for ended in ("Completed", "Stopped", "Failed"):
        check_warm_start_parents(operation, request, {PARENT: ended})


def test_the_scripted_engine_refuses_a_create_naming_a_missing_parent() -> None:
    engine = ScriptedSageMaker(None, region="us-east-1", account="123456789012")
    request = create_request(warm_start={"parents": [PARENT]})
    with pytest.raises(ClientError) as error:
        engine.create_hyper_parameter_tuning_job(**request)
    assert error.value.response["Error"]["Code"] == "ResourceNotFound"
    assert engine.jobs == {}


def messages(parents: list[ParentJob], child: dict[str, Any] | None) -> dict[str, str]:
    found = violations(
        parents, child, request_id_tag=TAG, warm_start_type="IdenticalDataAndAlgorithm"
    )
    return {f"{v.field} {v.rule}": v.message for v in found}


def test_each_refusal_names_the_parent_and_what_to_change() -> None:
    missing = ParentJob("ntm-00000000000000000000000c", None, {})
    running = parent("InProgress", tags={})
    assert messages([missing, running], create_request()) == {
        "warm_start.parents.0 exists": "no tuning job named 'ntm-00000000000000000000000c' in "
        "this account and region",
        "warm_start.parents.1 pipeline_jobs_only": f"{PARENT} was not started by this pipeline "
        f"(no {TAG} tag)",
        "warm_start.parents.1 terminal_parent": f"{PARENT} is InProgress; a parent must have "
        "ended (Completed, Stopped, Failed)",
    }
    # Checked alone (before the child's request is built), every parent is still checked.
    assert list(messages([missing, running], None)) == [
        "warm_start.parents.0 exists",
        "warm_start.parents.1 pipeline_jobs_only",
        "warm_start.parents.1 terminal_parent",
    ]


def test_a_changed_hyperparameter_set_names_what_was_added_and_what_is_missing() -> None:
    the_parent = parent(hyperparameters={"num_topics": 10, "batch_norm": True})
    both = create_request(hyperparameters={"num_topics": 10, "tolerance": 0.01, "sub_sample": 0.5})
    only_added = create_request(
        hyperparameters={"num_topics": 10, "batch_norm": True, "tolerance": 0.01}
    )
    only_missing = create_request(hyperparameters={"num_topics": 10})
    expected = f"the static plus tuned hyperparameters must be those of {PARENT}"
    for child, names in [
        (both, "; added: sub_sample, tolerance; missing: batch_norm"),
        (only_added, "; added: tolerance"),
        (only_missing, "; missing: batch_norm"),
    ]:
        assert messages([the_parent], child) == {
            "warm_start.parents.0 same_hyperparameters": expected + names
        }


def test_a_child_without_static_values_or_ranges_is_compared_as_empty() -> None:
    # Both are optional in CreateHyperParameterTuningJob: absent means none.
    child = copy.deepcopy(create_request())
    del child["TrainingJobDefinition"]["StaticHyperParameters"]
    del child["HyperParameterTuningJobConfig"]["ParameterRanges"]
    message = messages([parent()], child)["warm_start.parents.0 same_hyperparameters"]
    assert "; added:" not in message
    assert "num_topics" in message.partition("; missing: ")[2]


def test_a_changed_type_names_each_hyperparameter_with_both_types() -> None:
    child = create_request(
        ranges={
            "learning_rate": {"type": "Categorical", "values": [0.01, 0.1]},
            "rescale_gradient": {"type": "Categorical", "values": [0.5, 1.0]},
        }
    )
    assert messages([parent()], child)["warm_start.parents.0 same_hyperparameter_types"] == (
        "a hyperparameter's type cannot change from the parent's: "
        "learning_rate (Continuous -> Categorical), rescale_gradient (Continuous -> Categorical)"
    )


def test_too_many_static_changes_are_counted_and_named() -> None:
    the_parent = parent(hyperparameters=STATICS)
    eleven = create_request(hyperparameters={**STATICS, **CHANGED, "mini_batch_size": 65})
    message = messages([the_parent], eleven)["warm_start.parents.0 static_changes"]
    assert message == (
        f"11 static values differ from {PARENT}'s; at most 10: "
        + ", ".join(sorted([*CHANGED, "mini_batch_size"]))
    )


def test_a_moved_image_is_named() -> None:
    other = parent()
    assert other.description is not None
    described = copy.deepcopy(other.description)
    described["TrainingJobDefinition"]["AlgorithmSpecification"]["TrainingImage"] = "1.dkr/ntm:2"
    moved = ParentJob(PARENT, described, other.tags)
    assert messages([moved], create_request())["warm_start.parents.0 same_algorithm"] == (
        f"IdenticalDataAndAlgorithm needs {PARENT}'s training image 1.dkr/ntm:2"
    )


def test_sagemakers_own_static_entries_are_not_the_users() -> None:
    # A described job lists _tuning_objective_metric among its static values.
    the_parent = parent()
    assert the_parent.description is not None
    described = copy.deepcopy(the_parent.description)
    described["TrainingJobDefinition"]["StaticHyperParameters"]["_tuning_objective_metric"] = (
        "validation:total_loss"
    )
    assert rules([ParentJob(PARENT, described, the_parent.tags)], create_request()) == []


def test_a_missing_parent_does_not_stop_the_others_being_described() -> None:
    jobs = FakeJobs({PARENT: parent()})
    found = describe_parents(["ntm-00000000000000000000000c", PARENT], jobs)  # type: ignore[arg-type]
    assert [(p.name, p.description is None, p.tags) for p in found] == [
        ("ntm-00000000000000000000000c", True, {}),
        (PARENT, False, {TAG: "abc"}),
    ]


def test_every_missing_hyperparameter_is_named() -> None:
    the_parent = parent(hyperparameters={"num_topics": 10, "batch_norm": True, "tolerance": 0.01})
    child = create_request(hyperparameters={"num_topics": 10})
    assert messages([the_parent], child) == {
        "warm_start.parents.0 same_hyperparameters": "the static plus tuned hyperparameters "
        f"must be those of {PARENT}; missing: batch_norm, tolerance"
    }


def test_checked_alone_a_parent_after_a_running_one_is_checked_too() -> None:
    running = parent("InProgress")
    missing = ParentJob("ntm-00000000000000000000000c", None, {})
    assert list(messages([running, missing], None)) == [
        "warm_start.parents.0 terminal_parent",
        "warm_start.parents.1 exists",
    ]
