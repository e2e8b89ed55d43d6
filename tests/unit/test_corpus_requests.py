"""Corpus requests: the request shape, the Processing job request, the prepared channels."""

from __future__ import annotations

import pytest
from botocore.session import Session
from botocore.validate import ParamValidator
from ntm_tuning import preparation
from ntm_tuning.builder import S3Location
from ntm_tuning.request import TuningRequest
from pydantic import ValidationError

from tests.settings_factory import DATA_BUCKET, KMS_KEY_ARN, make_settings


def processing_request() -> dict[str, object]:
    return preparation.build_processing_job(
        request_id="0123456789abcdef01234567",
        corpus=S3Location(DATA_BUCKET, "corpora/demo/"),
        settings=make_settings(),
        tags={"ntm-tuning:request-id": "0123456789abcdef01234567"},
    )


def test_the_processing_job_request_is_valid_for_sagemaker() -> None:
    request = processing_request()
    shape = (
        Session().get_service_model("sagemaker").operation_model("CreateProcessingJob").input_shape
    )
    assert ParamValidator().validate(request, shape).generate_report() == ""
    app = request["AppSpecification"]
    assert isinstance(app, dict)
    assert all(len(item) <= 256 for item in app["ContainerEntrypoint"] + app["ContainerArguments"])
    assert request["NetworkConfig"] == {
        "EnableNetworkIsolation": True,
        "EnableInterContainerTrafficEncryption": True,
    }
    assert request["ProcessingOutputConfig"]["KmsKeyId"] == KMS_KEY_ARN  # type: ignore[index]
    outputs = request["ProcessingOutputConfig"]["Outputs"]  # type: ignore[index]
    assert (
        outputs[0]["S3Output"]["S3Uri"]
        == f"s3://{DATA_BUCKET}/datasets/prepared/0123456789abcdef01234567/dataset/"
    )


def test_the_bootstrap_runs_the_job_and_keeps_unusable_corpora_a_normal_end() -> None:
    assert "from preparation.job import main" in preparation.BOOTSTRAP
    assert "sys.exit(0 if c==3 else c)" in preparation.BOOTSTRAP


def test_exactly_one_of_data_and_corpus() -> None:
    with pytest.raises(ValidationError, match="exactly one of data"):
        TuningRequest.model_validate({})
    with pytest.raises(ValidationError, match="exactly one of data"):
        TuningRequest.model_validate(
            {"corpus": {"prefix": "c/"}, "data": {"train": "t/", "validation": "v/"}}
        )


@pytest.mark.parametrize(
    ("corpus", "message"),
    [
        ({"validation_ratio": 0}, "validation_ratio: must be above 0"),
        (
            {"validation_ratio": 0.6, "test_ratio": 0.4},
            "validation_ratio \\+ test_ratio must be < 1",
        ),
        ({"min_df": 1.5}, "fraction"),
        ({"max_df": 0}, "max_df: a document count must be >= 1"),
        ({"max_vocabulary": 0}, "max_vocabulary: must be an integer between 1 and"),
        ({"colour": "red"}, "Extra inputs"),
    ],
)
def test_corpus_settings_are_checked(corpus: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        TuningRequest.model_validate({"corpus": {"prefix": "c/", **corpus}})


def test_prepared_request_names_the_prepared_channels() -> None:
    request = TuningRequest.model_validate({"corpus": {"prefix": "c/"}})
    dataset = S3Location(DATA_BUCKET, "datasets/prepared/x/dataset/")
    prepared = preparation.prepared_request(request, dataset, {"documents": {"test": 0}})
    assert prepared.corpus is None and prepared.data is not None
    assert prepared.data.train == "datasets/prepared/x/dataset/train/"
    assert prepared.data.test is None  # no test document, no test channel
    assert prepared.data.auxiliary == "datasets/prepared/x/dataset/auxiliary/vocab.txt"
    assert request.corpus is not None
    assert request.corpus.preparation_config()["max_vocabulary"] == 2000
