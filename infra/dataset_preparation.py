"""The dataset preparation stage's parts: image, code and role of its SageMaker Processing job.

A corpus request is turned into an NTM dataset by `preparation/job.py`, run as a SageMaker
Processing job on AWS's prebuilt scikit-learn image (the package needs only the standard
library). The `preparation` folder ships as one zip asset in the CDK bootstrap bucket; the job
gets the zip as an input and extracts it itself. The handlers start and watch the job; this
module only provides what they name in the request: the image URI, the code URI and the role.
"""

from __future__ import annotations

from pathlib import Path

from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_assets as s3_assets
from constructs import Construct

from infra.nag import acknowledge, arn_ref
from infra.sagemaker_role import (
    acknowledge_job_runtime,
    grant_pass_to_sagemaker,
    job_runtime_statements,
    sagemaker_job_role,
)
from infra.training_image import RegionalImage

PREPARATION_SOURCE = Path(__file__).resolve().parent.parent / "preparation"
# Caches and the package's own documentation are not needed to run the job.
PREPARATION_EXCLUDE = ("**/__pycache__", "**/*.pyc", "README.md")

# The ECR registry account of AWS's prebuilt scikit-learn images per region, from the
# SageMaker Python SDK's image configuration (src/sagemaker/image_uri_config/sklearn.json,
# aws/sagemaker-python-sdk at ef7c5a006a09ad382183070ba8bf068d070c122d; the same for every
# version and job type it lists). The SDK tags images `<version>-<processor>-<py_version>`.
SKLEARN_IMAGE_ACCOUNTS: dict[str, str] = {
    "af-south-1": "510948584623",
    "ap-east-1": "651117190479",
    "ap-northeast-1": "354813040037",
    "ap-northeast-2": "366743142698",
    "ap-northeast-3": "867004704886",
    "ap-south-1": "720646828776",
    "ap-south-2": "628508329040",
    "ap-southeast-1": "121021644041",
    "ap-southeast-2": "783357654285",
    "ap-southeast-3": "951798379941",
    "ap-southeast-4": "106583098589",
    "ca-central-1": "341280168497",
    "ca-west-1": "190319476487",
    "cn-north-1": "450853457545",
    "cn-northwest-1": "451049120500",
    "eu-central-1": "492215442770",
    "eu-central-2": "680994064768",
    "eu-north-1": "662702820516",
    "eu-south-1": "978288397137",
    "eu-south-2": "104374241257",
    "eu-west-1": "141502667606",
    "eu-west-2": "764974769150",
    "eu-west-3": "659782779980",
    "il-central-1": "898809789911",
    "me-central-1": "272398656194",
    "me-south-1": "801668240914",
    "sa-east-1": "737474898029",
    "us-east-1": "683313688378",
    "us-east-2": "257758044811",
    "us-gov-east-1": "237065988967",
    "us-gov-west-1": "414596584902",
    "us-iso-east-1": "833128469047",
    "us-isob-east-1": "281123927165",
    "us-west-1": "746614075791",
    "us-west-2": "246618743249",
}
SKLEARN_REPOSITORY = "sagemaker-scikit-learn"
# The newest 1.x version the SDK lists (scikit-learn 1.2, container release 1), CPU, Python 3.
SKLEARN_VERSION = "1.2-1"
SKLEARN_IMAGE_TAG = f"{SKLEARN_VERSION}-cpu-py3"


class ProcessingImage(RegionalImage):
    """AWS's prebuilt scikit-learn image for the region the stack is deployed to."""

    def __init__(self, scope: Construct, id: str) -> None:
        super().__init__(
            scope,
            id,
            mapping_id="ScikitLearnImageAccounts",
            accounts=SKLEARN_IMAGE_ACCOUNTS,
            repository=SKLEARN_REPOSITORY,
            tag=SKLEARN_IMAGE_TAG,
        )


class DatasetPreparation(Construct):
    """Image, code asset and least-privilege role of the dataset preparation job.

    The role reads the corpus anywhere in the data bucket, writes only under
    ``prepared_prefix``, reads the code asset object (and nothing else of the bootstrap
    bucket), uses the key for S3 objects and the processing volume, logs, publishes metrics
    and pulls the scikit-learn image. Nothing else; no managed policies.

    Attributes: ``image``, ``code`` (the asset), ``code_uri`` (its ``s3://`` URL), ``role``,
    ``policy``.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        data_bucket: s3.IBucket,
        prepared_prefix: str,
        key: kms.IKey,
        source: Path = PREPARATION_SOURCE,
    ) -> None:
        super().__init__(scope, id)
        self.image = ProcessingImage(self, "Image")
        self.code = s3_assets.Asset(
            self, "Code", path=str(source), exclude=list(PREPARATION_EXCLUDE)
        )
        self.code_uri = self.code.s3_object_url

        self.role = sagemaker_job_role(
            self,
            "Role",
            description="Runs the dataset preparation processing jobs of the NTM tuning pipeline",
        )
        prepared_objects = data_bucket.arn_for_objects(f"{prepared_prefix}*")
        statements = [
            iam.PolicyStatement(
                sid="ReadCorpus",
                actions=["s3:GetObject"],
                resources=[data_bucket.arn_for_objects("*")],
            ),
            iam.PolicyStatement(
                sid="ListCorpus",
                actions=["s3:ListBucket"],
                resources=[data_bucket.bucket_arn],
            ),
            iam.PolicyStatement(
                sid="WritePreparedDataset",
                actions=["s3:PutObject", "s3:AbortMultipartUpload"],
                resources=[prepared_objects],
            ),
            iam.PolicyStatement(
                sid="ReadPreparationCode",
                actions=["s3:GetObject"],
                resources=[self.code.bucket.arn_for_objects(self.code.s3_object_key)],
            ),
            # SageMaker lists an S3Prefix input before downloading it; the listing is limited
            # to the code object's own key.
            iam.PolicyStatement(
                sid="ListPreparationCode",
                actions=["s3:ListBucket"],
                resources=[self.code.bucket.bucket_arn],
                conditions={"StringEquals": {"s3:prefix": self.code.s3_object_key}},
            ),
            *job_runtime_statements(
                self,
                job="Processing",
                key=key,
                image="ScikitLearn",
                image_repository_arn=self.image.repository_arn,
            ),
        ]
        self.policy = iam.Policy(self, "Policy", statements=statements)
        self.policy.attach_to_role(self.role)

        acknowledge(
            self.policy,
            "AwsSolutions-IAM5",
            reason=(
                "Processing jobs read the corpus a request names, which may be anywhere in the "
                "data bucket (and the job's config file); the wildcard is limited to that bucket."
            ),
            findings=[f"Resource::{arn_ref(data_bucket)}/*"],
        )
        acknowledge(
            self.policy,
            "AwsSolutions-IAM5",
            reason=(
                f"SageMaker uploads the prepared dataset under {prepared_prefix}<request>/..., "
                "names it only knows at run time; writes are limited to that prefix."
            ),
            findings=[f"Resource::{arn_ref(data_bucket)}/{prepared_prefix}*"],
        )
        acknowledge_job_runtime(self.policy, job="Processing")

    def grant_pass_to_sagemaker(self, grantee: iam.IGrantable) -> None:
        """Let ``grantee`` hand the processing role to SageMaker, and to no other service."""
        grant_pass_to_sagemaker(grantee, self.role)
