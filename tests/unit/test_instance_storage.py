"""Local NVMe storage: SageMaker refuses a larger VolumeSizeInGB on the types that have it."""

from __future__ import annotations

from typing import Any

import pytest
from ntm_tuning.errors import RequestRejected
from ntm_tuning.instances import LOCAL_STORAGE_GB, has_instance_storage, local_storage_gb
from ntm_tuning.job_definition import DataFacts, define_tuning_job
from ntm_tuning.request import TuningRequest
from ntm_tuning.settings import TuningDefaults
from pydantic import ValidationError

from offline.sagemaker import check_instance_storage
from tests.settings_factory import make_settings

ALLOWED = ("ml.g4dn.xlarge", "ml.g5.xlarge", "ml.p3.2xlarge")


def _plan(instance_type: str, volume: int) -> dict[str, Any]:
    request = TuningRequest.model_validate(
        {
            "data": {"train": "d/train/", "validation": "d/validation/"},
            "resources": {"instance_type": instance_type, "volume_size_gb": volume},
            "resource_limits": {"max_jobs": 4},
        }
    )
    plan = define_tuning_job(
        request,
        make_settings(allowed_instance_types=ALLOWED),
        DataFacts(vocabulary_size=500),
        tuning_job_name="ntm-0123456789abcdef01234567",
        tags={},
    )
    config: dict[str, Any] = plan.create_request["TrainingJobDefinition"]["ResourceConfig"]
    return config


def test_the_table_knows_the_allowed_types() -> None:
    assert local_storage_gb("ml.g4dn.xlarge") == 125
    assert local_storage_gb("ml.g5.xlarge") == 250
    assert local_storage_gb("ml.p3.2xlarge") is None and not has_instance_storage("ml.p3.2xlarge")
    assert all(has_instance_storage(t) for t in LOCAL_STORAGE_GB)


@pytest.mark.parametrize(
    ("instance_type", "limit"), [("ml.g4dn.xlarge", 125), ("ml.g5.xlarge", 250)]
)
def test_volume_up_to_the_local_storage_is_accepted(instance_type: str, limit: int) -> None:
    config = _plan(instance_type, limit)
    assert (config["InstanceType"], config["VolumeSizeInGB"]) == (instance_type, limit)
    assert "VolumeKmsKeyId" not in config
    check_instance_storage(
        "CreateHyperParameterTuningJob", {"TrainingJobDefinition": {"ResourceConfig": config}}
    )


@pytest.mark.parametrize(
    ("instance_type", "limit"), [("ml.g4dn.xlarge", 125), ("ml.g5.xlarge", 250)]
)
def test_volume_just_over_the_local_storage_is_rejected_with_the_limit(
    instance_type: str, limit: int
) -> None:
    with pytest.raises(RequestRejected) as rejected:
        _plan(instance_type, limit + 1)
    (violation,) = rejected.value.violations
    assert (violation.field, violation.rule) == ("resources.volume_size_gb", "instance_storage")
    assert f"at most {limit}" in violation.message and instance_type in violation.message


def test_ebs_only_types_take_any_volume_sagemaker_allows() -> None:
    config = _plan("ml.p3.2xlarge", 500)
    assert config["VolumeSizeInGB"] == 500 and "VolumeKmsKeyId" in config


def test_the_offline_sagemaker_refuses_what_sagemaker_refuses() -> None:
    too_big = {"InstanceType": "ml.g4dn.xlarge", "InstanceCount": 1, "VolumeSizeInGB": 126}
    with pytest.raises(Exception, match="at most 125") as error:
        check_instance_storage(
            "CreateHyperParameterTuningJob", {"TrainingJobDefinition": {"ResourceConfig": too_big}}
        )
    assert error.value.response["Error"]["Code"] == "ValidationException"  # type: ignore[attr-defined]
    keyed = {"InstanceType": "ml.g5.xlarge", "VolumeSizeInGB": 30, "VolumeKmsKeyId": "k"}
    with pytest.raises(Exception, match="VolumeKmsKeyId"):
        check_instance_storage(
            "CreateProcessingJob", {"ProcessingResources": {"ClusterConfig": keyed}}
        )


def test_a_deployment_cannot_default_to_a_volume_an_allowed_type_refuses() -> None:
    TuningDefaults(volume_size_gb=125)
    with pytest.raises(ValidationError, match="at most 125"):
        TuningDefaults(volume_size_gb=126)
    with pytest.raises(ValidationError, match="LOCAL_STORAGE_GB"):
        TuningDefaults(
            allowed_instance_types=("ml.g4dn.xlarge", "ml.g6.xlarge"),
            instance_prices={"ml.g4dn.xlarge": 0.7, "ml.g6.xlarge": 0.8},
        )
