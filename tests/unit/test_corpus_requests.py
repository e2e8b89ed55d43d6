"""Corpus requests: the request shape, the Processing job request, the prepared channels."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from botocore.session import Session
from botocore.validate import ParamValidator
from ntm_tuning import preparation
from ntm_tuning.locations import S3Location
from ntm_tuning.request import TuningRequest
from pydantic import ValidationError

from tests.settings_factory import DATA_BUCKET, KMS_KEY_ARN, make_settings

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "preparation"
DEMO_CORPUS = ROOT / "examples/corpus/corpora/demo"


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


def run_container(tmp_path: Path, corpus: Path | dict[str, str], config: str) -> int:
    """Run the job's entrypoint and arguments as the Processing container would: the code
    input holds the `preparation` folder as one zip (the CDK asset), the config input its
    config.json. The container's fixed paths are moved under ``tmp_path``."""
    app = processing_request()["AppSpecification"]
    assert isinstance(app, dict)
    moved = {
        preparation.CODE_DIR: tmp_path / "input/code",
        preparation.CONFIG_DIR: tmp_path / "input/config",
        preparation.CORPUS_DIR: tmp_path / "input/corpus",
        preparation.OUTPUT_DIR: tmp_path / "output",
        "/tmp/code": tmp_path / "unpacked",
    }

    def local(text: str) -> str:
        for container_path, path in moved.items():
            text = text.replace(container_path, str(path))
        return text

    for path in moved.values():
        path.mkdir(parents=True)
    with zipfile.ZipFile(moved[preparation.CODE_DIR] / "asset.zip", "w") as archive:
        for source in sorted(PACKAGE.rglob("*.py")):
            if "__pycache__" not in source.parts:
                archive.write(source, source.relative_to(PACKAGE).as_posix())
    (moved[preparation.CONFIG_DIR] / "config.json").write_text(config)
    if isinstance(corpus, Path):
        shutil.copytree(corpus, moved[preparation.CORPUS_DIR], dirs_exist_ok=True)
    else:
        for name, text in corpus.items():
            (moved[preparation.CORPUS_DIR] / name).write_text(text)
    entrypoint = [local(part) for part in app["ContainerEntrypoint"]]
    assert entrypoint[0] == "python3"
    result = subprocess.run(
        [sys.executable, *entrypoint[1:], *(local(arg) for arg in app["ContainerArguments"])],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={"PATH": "/usr/bin:/bin"},
        timeout=120,
    )
    return result.returncode


def test_the_bootstrap_unpacks_the_code_and_runs_the_job(tmp_path: Path) -> None:
    assert run_container(tmp_path, DEMO_CORPUS, "{}") == 0
    summary = json.loads((tmp_path / "output/dataset.json").read_text())
    assert summary["documents"]["total"] == 400
    assert (tmp_path / "output/auxiliary/vocab.txt").is_file()


def test_the_bootstrap_ends_normally_on_a_corpus_without_usable_documents(tmp_path: Path) -> None:
    # Exit 3 of the job is a normal end of the container: dataset.json tells the workflow why.
    assert run_container(tmp_path, {"empty.txt": ""}, "{}") == 0
    summary = json.loads((tmp_path / "output/dataset.json").read_text())
    assert summary["error"] == "no readable document in the input folder"


def test_the_bootstrap_fails_the_container_on_a_bad_config(tmp_path: Path) -> None:
    assert run_container(tmp_path, DEMO_CORPUS, '{"colour": "red"}') == 2


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


GOLDEN_PROCESSING = ROOT / "tests" / "golden" / "create-processing-job.json"


def test_the_processing_job_request_matches_its_golden_copy() -> None:
    # Every field SageMaker gets: channel names, modes, paths, entrypoint and arguments.
    request = processing_request()
    if os.environ.get("UPDATE_GOLDEN"):
        GOLDEN_PROCESSING.write_text(json.dumps(request, indent=2, sort_keys=True) + "\n")
    assert request == json.loads(GOLDEN_PROCESSING.read_text())


def test_an_instance_with_local_storage_gets_no_volume_key() -> None:
    request = preparation.build_processing_job(
        request_id="0123456789abcdef01234567",
        corpus=S3Location(DATA_BUCKET, "corpora/demo/"),
        settings=make_settings().model_copy(update={"processing_instance_type": "ml.m5d.xlarge"}),
        tags={},
    )
    cluster = request["ProcessingResources"]["ClusterConfig"]  # type: ignore[index]
    assert cluster == {"InstanceCount": 1, "InstanceType": "ml.m5d.xlarge", "VolumeSizeInGB": 30}
    assert request["Tags"] == []


@pytest.mark.parametrize(
    ("summary", "test"),
    [(None, "d/test/"), ({"documents": {"test": 4}}, "d/test/"), ({}, "d/test/")],
)
def test_a_test_channel_is_named_unless_the_split_is_empty(
    summary: dict[str, object] | None, test: str
) -> None:
    request = TuningRequest.model_validate({"corpus": {"prefix": "c/"}, "name": "raw"})
    prepared = preparation.prepared_request(request, S3Location(DATA_BUCKET, "d/"), summary)
    assert prepared.data is not None
    assert prepared.data.test == test
    assert prepared.data.validation == "d/validation/"
    assert prepared.data.content_type == "application/x-recordio-protobuf"
    assert prepared.name == "raw"


def test_a_requests_prepared_files_sit_side_by_side_under_its_id() -> None:
    settings = make_settings()
    prefix = f"{settings.prepared_prefix}0123"
    assert preparation.dataset_location("0123", settings) == S3Location(
        DATA_BUCKET, f"{prefix}/dataset/"
    )
    assert preparation.config_location("0123", settings) == S3Location(
        DATA_BUCKET, f"{prefix}/config.json"
    )
    assert preparation.request_location("0123", settings) == S3Location(
        DATA_BUCKET, f"{prefix}/request.json"
    )
