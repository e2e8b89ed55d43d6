"""Warm start: the parent tuning jobs a request names, checked before anything starts.

SageMaker's rules ("Warm Start Tuning Restrictions", Amazon SageMaker Developer Guide,
automatic-model-tuning-warm-start.html; HyperParameterTuningJobWarmStartConfig in the API
reference): 1 to 5 parent jobs, each in a terminal state (Completed, Stopped or Failed); the
static plus tunable hyperparameters must stay the same set, a hyperparameter's type
(Integer, Continuous, Categorical) cannot change, and at most 10 static values may change; an
IdenticalDataAndAlgorithm child uses the parents' training image. This pipeline may warm-start
only from tuning jobs it started itself (their name prefix and request tag), which is also all
its permissions cover.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from .aws import SageMakerJobs, error_code
from .errors import Violation
from .naming import JOB_NAME_PREFIX

TERMINAL_STATUSES = ("Completed", "Stopped", "Failed")
MAX_STATIC_CHANGES = 10
NOT_FOUND_CODES = frozenset({"ResourceNotFound", "ResourceNotFoundException"})


@dataclass(frozen=True)
class ParentJob:
    """What DescribeHyperParameterTuningJob and ListTags say about one parent (None: absent)."""

    name: str
    description: dict[str, Any] | None
    tags: dict[str, str]


def describe_parents(names: list[str], jobs: SageMakerJobs) -> list[ParentJob]:
    """Each parent this pipeline may describe (its own name prefix); others are left out."""
    found = []
    for name in names:
        if not name.startswith(JOB_NAME_PREFIX):
            continue  # rejected as pipeline_jobs_only by the builder, not ours to describe
        try:
            description = jobs.describe(name)
        except ClientError as error:
            if error_code(error) not in NOT_FOUND_CODES:
                raise
            found.append(ParentJob(name, None, {}))
            continue
        tags = jobs.tags(str(description["HyperParameterTuningJobArn"]))
        found.append(ParentJob(name, description, tags))
    return found


def _hyperparameters(
    static: dict[str, Any], ranges: dict[str, list[dict[str, Any]]]
) -> tuple[dict[str, str], dict[str, str]]:
    """Static values and tuned types (``IntegerParameterRanges`` -> ``Integer``) by name;
    SageMaker's own entries (``_tuning_objective_metric``...) are not the user's."""
    values = {k: str(v) for k, v in static.items() if not k.startswith("_")}
    types = {
        str(entry["Name"]): list_name.removesuffix("ParameterRanges")
        for list_name, entries in ranges.items()
        for entry in entries or []
    }
    return values, types


def violations(
    parents: list[ParentJob],
    create_request: dict[str, Any] | None,
    *,
    request_id_tag: str,
    warm_start_type: str,
) -> list[Violation]:
    """Every broken warm-start rule, per parent (``warm_start.parents.<i>``), against the
    tuning job about to be created (``create_request``; None: check the parents alone)."""
    found: list[Violation] = []
    names = [parent.name for parent in parents]
    # Read only when create_request is given (then both are replaced): no mutant can show.
    child_static: dict[str, str] = {}  # pragma: no mutate
    child_types: dict[str, str] = {}  # pragma: no mutate
    if create_request is not None:
        child_static, child_types = _hyperparameters(
            create_request["TrainingJobDefinition"].get("StaticHyperParameters", {}),
            create_request["HyperParameterTuningJobConfig"].get("ParameterRanges", {}),
        )
    for parent in parents:
        index = names.index(parent.name)
        field = f"warm_start.parents.{index}"

        def fail(rule: str, message: str, field: str = field) -> None:
            found.append(Violation(field, rule, message))

        description = parent.description
        if description is None:
            fail("exists", f"no tuning job named {parent.name!r} in this account and region")
            continue
        if request_id_tag not in parent.tags:
            fail(
                "pipeline_jobs_only",
                f"{parent.name} was not started by this pipeline (no {request_id_tag} tag)",
            )
        status = str(description.get("HyperParameterTuningJobStatus"))
        if status not in TERMINAL_STATUSES:
            fail(
                "terminal_parent",
                f"{parent.name} is {status}; a parent must have ended "
                f"({', '.join(TERMINAL_STATUSES)})",
            )
        if create_request is None:
            continue
        _compatible(
            fail, parent, description, child_static, child_types, create_request, warm_start_type
        )
    return found


def _compatible(
    fail: Callable[[str, str], None],
    parent: ParentJob,
    description: dict[str, Any],
    child_static: dict[str, str],
    child_types: dict[str, str],
    create_request: dict[str, Any],
    warm_start_type: str,
) -> None:
    definition = description.get("TrainingJobDefinition") or {}
    static, types = _hyperparameters(
        definition.get("StaticHyperParameters") or {},
        (description.get("HyperParameterTuningJobConfig") or {}).get("ParameterRanges") or {},
    )
    before, after = set(static) | set(types), set(child_static) | set(child_types)
    if before != after:
        added, missing = sorted(after - before), sorted(before - after)
        fail(
            "same_hyperparameters",
            f"the static plus tuned hyperparameters must be those of {parent.name}"
            + (f"; added: {', '.join(added)}" if added else "")
            + (f"; missing: {', '.join(missing)}" if missing else ""),
        )
    changed_types = sorted(
        name for name in set(types) & set(child_types) if types[name] != child_types[name]
    )
    if changed_types:
        fail(
            "same_hyperparameter_types",
            "a hyperparameter's type cannot change from the parent's: "
            + ", ".join(f"{n} ({types[n]} -> {child_types[n]})" for n in changed_types),
        )
    changes = sorted(
        name for name in set(static) & set(child_static) if static[name] != child_static[name]
    )
    if len(changes) > MAX_STATIC_CHANGES:
        fail(
            "static_changes",
            f"{len(changes)} static values differ from {parent.name}'s; at most "
            f"{MAX_STATIC_CHANGES}: {', '.join(changes)}",
        )
    if warm_start_type == "IdenticalDataAndAlgorithm":
        image = (definition.get("AlgorithmSpecification") or {}).get("TrainingImage")
        child = create_request["TrainingJobDefinition"]["AlgorithmSpecification"]["TrainingImage"]
        if image is not None and image != child:
            fail(
                "same_algorithm",
                f"IdenticalDataAndAlgorithm needs {parent.name}'s training image {image}",
            )
