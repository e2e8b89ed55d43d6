"""Where AWS's prebuilt images live, resolved per region at deploy time."""

from __future__ import annotations

from collections.abc import Mapping

from aws_cdk import Aws, CfnMapping, Fn
from constructs import Construct

# The SageMaker-owned ECR registry account of the NTM image, per region.
NTM_IMAGE_ACCOUNTS: dict[str, str] = {
    "af-south-1": "455444449433",
    "ap-east-1": "286214385809",
    "ap-northeast-1": "351501993468",
    "ap-northeast-2": "835164637446",
    "ap-northeast-3": "867004704886",
    "ap-south-1": "991648021394",
    "ap-south-2": "628508329040",
    "ap-southeast-1": "475088953585",
    "ap-southeast-2": "712309505854",
    "ap-southeast-3": "951798379941",
    "ap-southeast-4": "106583098589",
    "ca-central-1": "469771592824",
    "ca-west-1": "190319476487",
    "cn-north-1": "390948362332",
    "cn-northwest-1": "387376663083",
    "eu-central-1": "664544806723",
    "eu-central-2": "680994064768",
    "eu-north-1": "669576153137",
    "eu-south-1": "257386234256",
    "eu-south-2": "104374241257",
    "eu-west-1": "438346466558",
    "eu-west-2": "644912444149",
    "eu-west-3": "749696950732",
    "il-central-1": "898809789911",
    "me-central-1": "272398656194",
    "me-south-1": "249704162688",
    "sa-east-1": "855470959533",
    "us-east-1": "382416733822",
    "us-east-2": "404615174143",
    "us-gov-east-1": "237065988967",
    "us-gov-west-1": "226302683700",
    "us-west-1": "632365934929",
    "us-west-2": "174872318107",
}
NTM_REPOSITORY = "ntm"
NTM_IMAGE_TAG = "1"


class RegionalImage(Construct):
    """An AWS-owned ECR image whose registry account depends on the region.

    The region is unknown at synth time, so the account comes from a CloudFormation mapping
    keyed on AWS::Region; deploying to a region without an entry fails at deploy time.

    Attributes: ``mapping``, ``registry_account``, ``image_uri``, ``repository_arn``.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        mapping_id: str,
        accounts: Mapping[str, str],
        repository: str,
        tag: str,
    ) -> None:
        super().__init__(scope, id)
        self.mapping = CfnMapping(
            self,
            mapping_id,
            mapping={region: {"account": account} for region, account in accounts.items()},
            lazy=False,
        )
        self.registry_account = self.mapping.find_in_map(Aws.REGION, "account")
        self.image_uri = Fn.join(
            "",
            [
                self.registry_account,
                ".dkr.ecr.",
                Aws.REGION,
                ".",
                Aws.URL_SUFFIX,
                f"/{repository}:{tag}",
            ],
        )
        self.repository_arn = Fn.join(
            "",
            [
                "arn:",
                Aws.PARTITION,
                ":ecr:",
                Aws.REGION,
                ":",
                self.registry_account,
                f":repository/{repository}",
            ],
        )


class TrainingImage(RegionalImage):
    """The built-in NTM algorithm image (``ntm:1``) for the region the stack is deployed to."""

    def __init__(self, scope: Construct, id: str) -> None:
        super().__init__(
            scope,
            id,
            mapping_id="NtmImageAccounts",
            accounts=NTM_IMAGE_ACCOUNTS,
            repository=NTM_REPOSITORY,
            tag=NTM_IMAGE_TAG,
        )
