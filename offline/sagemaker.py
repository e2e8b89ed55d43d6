"""What every offline SageMaker shares: the engine interface and SageMaker's own rules.

The handlers talk to SageMaker through the few calls in ``TuningEngine``. moto's SageMaker
cannot play a tuning job through its states, so offline runs plug an engine in instead: the
scripted stand-in (``offline.scripted``: plays a scenario, trains nothing) or the local
trainer (``offline.local_engine``). Both, and the local Processing jobs
(``offline.processing``), refuse requests as SageMaker does with the checks here, and stage
inputs as SageMaker does with ``download_s3_prefix``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol

from ntm_tuning.locations import split_uri

from . import strict
from .strict import client_error

__all__ = [
    "TuningEngine",
    "check_instance_storage",
    "check_shape",
    "check_warm_start_parents",
    "client_error",
    "download_s3_prefix",
]


class TuningEngine(Protocol):
    """The SageMaker calls the handlers make, with boto3's names and shapes."""

    def create_hyper_parameter_tuning_job(self, **request: Any) -> dict[str, Any]: ...
    def describe_hyper_parameter_tuning_job(self, **request: Any) -> dict[str, Any]: ...
    def list_tags(self, **request: Any) -> dict[str, Any]: ...
    def list_training_jobs_for_hyper_parameter_tuning_job(
        self, **request: Any
    ) -> dict[str, Any]: ...
    def describe_training_job(self, **request: Any) -> dict[str, Any]: ...
    def stop_hyper_parameter_tuning_job(self, **request: Any) -> dict[str, Any]: ...


def download_s3_prefix(s3: Any, uri: str, folder: Path) -> int:
    """Copy what an ``S3Prefix`` input names into ``folder``, laid out as SageMaker lays out a
    job's input (keys relative to the prefix's last ``/``); returns how many objects."""
    bucket, prefix = split_uri(uri)
    base = prefix if prefix.endswith("/") or not prefix else prefix.rpartition("/")[0] + "/"
    if base == "/":
        base = ""
    folder.mkdir(parents=True, exist_ok=True)
    count = 0
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for item in page.get("Contents", []):
            key = item["Key"]
            if key.endswith("/"):
                continue  # a folder marker, not an object SageMaker would copy
            target = folder / key[len(base) :]
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
            count += 1
    return count


def check_shape(operation: str, request: dict[str, Any]) -> None:
    """Refuse what SageMaker's API would refuse: its shapes, as botocore and the service
    check them (``offline.strict``), and its rules for instance storage."""
    strict.check("sagemaker", operation, request)
    check_instance_storage(operation, request)


def check_instance_storage(operation: str, request: dict[str, Any]) -> None:
    """Refuse a volume on local NVMe storage as SageMaker does: no ``VolumeKmsKeyId`` there,
    and no ``VolumeSizeInGB`` above the storage's size (ntm_tuning.instances)."""
    from ntm_tuning.instances import has_instance_storage, volume_problem

    resources = [
        (request.get("TrainingJobDefinition") or {}).get("ResourceConfig"),
        ((request.get("ProcessingResources") or {}).get("ClusterConfig")),
        request.get("ResourceConfig"),
    ]
    for config in filter(None, resources):
        instance_type = str(config.get("InstanceType", ""))
        if has_instance_storage(instance_type) and "VolumeKmsKeyId" in config:
            raise client_error(
                operation,
                "ValidationException",
                f"Instance type {instance_type} has local storage encrypted by SageMaker; "
                "VolumeKmsKeyId is not supported",
            )
        problem = volume_problem(instance_type, int(config.get("VolumeSizeInGB", 0)))
        if problem:
            raise client_error(operation, "ValidationException", f"VolumeSizeInGB: {problem}")


def check_warm_start_parents(
    operation: str, request: dict[str, Any], statuses: dict[str, str]
) -> None:
    """As SageMaker: warm-start parents must exist and have ended (Warm Start Tuning
    Restrictions, SageMaker Developer Guide). ``statuses``: the tuning jobs there are."""
    warm = request.get("WarmStartConfig") or {}
    for parent in warm.get("ParentHyperParameterTuningJobs", []):
        name = parent["HyperParameterTuningJobName"]
        if name not in statuses:
            raise client_error(
                operation, "ResourceNotFound", f"Parent tuning job {name} does not exist"
            )
        if statuses[name] not in ("Completed", "Stopped", "Failed"):
            raise client_error(
                operation,
                "ValidationException",
                f"Parent tuning job {name} is {statuses[name]}; it must be in a terminal state",
            )
