"""Corpus requests: the SageMaker Processing job that prepares the dataset (states "Start
dataset preparation" and "Describe dataset preparation"), and the tuning request that follows
from what it wrote."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from .aws import SageMakerJobs, error_code
from .instances import has_instance_storage
from .ledger import Ledger
from .locations import S3Location
from .naming import processing_job_name

if TYPE_CHECKING:
    # Starting and describing the preparation job reads no request and no settings: only
    # planning does, and it loads both itself.
    from .request import TuningRequest
    from .settings import Settings
    from .state import PreparationPlan, PreparationStarted

CODE_DIR = "/opt/ml/processing/input/code"
CONFIG_DIR = "/opt/ml/processing/input/config"
CORPUS_DIR = "/opt/ml/processing/input/corpus"
OUTPUT_DIR = "/opt/ml/processing/output"
# The job's code arrives as the CDK asset's zip. This unpacks it and runs the job; a corpus
# with no usable document (exit 3) still ends the job normally, with dataset.json saying so,
# so the workflow can reject the request instead of failing it. (At most 256 characters.)
BOOTSTRAP = (
    "import glob,sys,zipfile;"
    f"zipfile.ZipFile(glob.glob('{CODE_DIR}/*.zip')[0]).extractall('/tmp/code/preparation');"
    "sys.path.insert(0,'/tmp/code');from preparation.job import main;"
    "c=main(sys.argv[1:]);sys.exit(0 if c==3 else c)"
)
assert len(BOOTSTRAP) <= 256, len(BOOTSTRAP)


def dataset_location(request_id: str, settings: Settings) -> S3Location:
    return S3Location(settings.data_bucket, f"{settings.prepared_prefix}{request_id}/dataset/")


def config_location(request_id: str, settings: Settings) -> S3Location:
    return S3Location(settings.data_bucket, f"{settings.prepared_prefix}{request_id}/config.json")


def request_location(request_id: str, settings: Settings) -> S3Location:
    """Where a corpus request is kept while its dataset is prepared."""
    return S3Location(settings.data_bucket, f"{settings.prepared_prefix}{request_id}/request.json")


def build_processing_job(
    *,
    request_id: str,
    corpus: S3Location,
    settings: Settings,
    tags: dict[str, str],
) -> dict[str, Any]:
    """The CreateProcessingJob request that prepares the corpus under ``corpus``."""

    def s3_input(name: str, uri: str, local: str) -> dict[str, Any]:
        return {
            "InputName": name,
            "S3Input": {
                "S3Uri": uri,
                "LocalPath": local,
                "S3DataType": "S3Prefix",
                "S3InputMode": "File",
                "S3DataDistributionType": "FullyReplicated",
            },
        }

    cluster: dict[str, Any] = {
        "InstanceCount": 1,
        "InstanceType": settings.processing_instance_type,
        "VolumeSizeInGB": settings.processing_volume_size_gb,
    }
    if not has_instance_storage(settings.processing_instance_type):
        cluster["VolumeKmsKeyId"] = settings.kms_key_arn
    return {
        "ProcessingJobName": processing_job_name(request_id),
        "ProcessingInputs": [
            s3_input("corpus", corpus.uri, CORPUS_DIR),
            s3_input("code", settings.preparation_code_uri, CODE_DIR),
            s3_input("config", config_location(request_id, settings).uri, CONFIG_DIR),
        ],
        "ProcessingOutputConfig": {
            "Outputs": [
                {
                    "OutputName": "dataset",
                    "S3Output": {
                        "S3Uri": dataset_location(request_id, settings).uri,
                        "LocalPath": OUTPUT_DIR,
                        "S3UploadMode": "EndOfJob",
                    },
                }
            ],
            "KmsKeyId": settings.kms_key_arn,
        },
        "ProcessingResources": {"ClusterConfig": cluster},
        "StoppingCondition": {"MaxRuntimeInSeconds": settings.processing_max_runtime_seconds},
        "AppSpecification": {
            "ImageUri": settings.processing_image,
            "ContainerEntrypoint": ["python3", "-c", BOOTSTRAP],
            "ContainerArguments": [
                "--config-file",
                f"{CONFIG_DIR}/config.json",
                "--input",
                CORPUS_DIR,
                "--output",
                OUTPUT_DIR,
            ],
        },
        "NetworkConfig": {
            "EnableNetworkIsolation": True,
            "EnableInterContainerTrafficEncryption": True,
        },
        "RoleArn": settings.processing_role_arn,
        "Tags": [{"Key": key, "Value": value} for key, value in sorted(tags.items())],
    }


def prepared_request(
    request: TuningRequest, dataset: S3Location, summary: dict[str, Any] | None = None
) -> TuningRequest:
    """The request as if it had named the prepared channels itself."""
    from .request import DataChannels

    documents = (summary or {}).get("documents") or {}
    # A summary without a test count: the channel is named (any non-zero default says so).
    test = f"{dataset.key}test/" if documents.get("test", 1) else None  # pragma: no mutate
    data = DataChannels(
        train=f"{dataset.key}train/",
        validation=f"{dataset.key}validation/",
        test=test,
        auxiliary=f"{dataset.key}auxiliary/vocab.txt",
        # Also DataChannels' default; named because the prepared data is always RecordIO.
        content_type="application/x-recordio-protobuf",  # pragma: no mutate
    )
    return request.model_copy(update={"data": data, "corpus": None})


def start_dataset_preparation(
    plan: PreparationPlan,
    execution_id: str,
    request: dict[str, Any],
    jobs: SageMakerJobs,
    ledger: Ledger,
    *,
    now: datetime | None = None,
) -> PreparationStarted:
    """Start the preparation job once (its settings are in S3 since validation)."""
    from .state import PreparationStarted

    try:
        arn = jobs.create_processing(plan.create_request)
    except ClientError as error:
        if error_code(error) != "ResourceInUse":
            raise
        arn = str(jobs.describe_processing(plan.processing_job_name)["ProcessingJobArn"])
    ledger.record_job(
        execution_id,
        request,
        now=now or datetime.now(UTC),
        processing_job_name=plan.processing_job_name,
    )
    return PreparationStarted(processing_job_arn=arn)


def describe_dataset_preparation(processing_job_name: str, jobs: SageMakerJobs) -> dict[str, Any]:
    """``state.PreparationStatus``, as a dict: this state's handler loads no pydantic (the tests
    hold it to the model)."""
    job = jobs.describe_processing(processing_job_name)
    return {
        "status": job["ProcessingJobStatus"],
        "failure_reason": job.get("FailureReason"),
        "exit_message": job.get("ExitMessage"),
    }
