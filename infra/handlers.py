"""The Lambda functions behind the workflow and its clean-up, all built from `lambdas/`."""

from __future__ import annotations

import atexit
import shutil
import tempfile
from collections.abc import Mapping
from functools import cache
from pathlib import Path

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_ssm as ssm
from constructs import Construct
from ntm_tuning.settings import Settings

from infra.functions import FUNCTIONS
from infra.log_groups import encrypted_log_group
from infra.nag import acknowledge

ROOT = Path(__file__).resolve().parent.parent
LAMBDA_SOURCE = ROOT / "lambdas"
# The packages the functions import, each copied to the root of the code asset. `preparation`
# (standard library only) is there so that validation applies the preparation job's own rules
# to a corpus request's settings.
LAMBDA_PACKAGES = (LAMBDA_SOURCE / "ntm_tuning", ROOT / "preparation")
_IGNORED = shutil.ignore_patterns("__pycache__", "*.pyc", "README.md")


@cache
def lambda_code_source() -> Path:
    """A folder holding exactly the packages of ``LAMBDA_PACKAGES``, staged once per process
    (CDK copies it into the cloud assembly at synth; its hash is of the files' contents)."""
    staging = Path(tempfile.mkdtemp(prefix="ntm-lambda-code-"))
    atexit.register(shutil.rmtree, staging, ignore_errors=True)
    for package in LAMBDA_PACKAGES:
        shutil.copytree(package, staging / package.name, ignore=_IGNORED)
    return staging


class TuningHandlers(Construct):
    """Python 3.12 arm64 functions with Powertools, X-Ray and their own encrypted log groups.

    Each function has its own role that may write only to its own log group (so no managed
    policy is needed); the stack grants everything else.

    Attributes: ``functions`` (``lambda_.Function``) and ``log_groups``, by handler name: the
    name of the handler's module, which is named after the state that invokes it
    (``clean_up`` is invoked by EventBridge when an execution ends early).
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        settings: Settings,
        environment: Mapping[str, str],
        powertools_layer_parameter: str,
        powertools_layer_arn: str | None = None,
        key: kms.IKey,
        log_retention_days: int,
        removal_policy: RemovalPolicy,
        source: Path | None = None,
    ) -> None:
        super().__init__(scope, id)
        code = lambda_.Code.from_asset(
            str(source or lambda_code_source()), exclude=["**/__pycache__", "**/*.pyc"]
        )
        # Resolved by CloudFormation at deploy time, so synth needs no network or credentials;
        # or pinned to a layer version ARN given in the configuration.
        powertools = lambda_.LayerVersion.from_layer_version_arn(
            self,
            "PowertoolsLayer",
            powertools_layer_arn
            or ssm.StringParameter.value_for_string_parameter(self, powertools_layer_parameter),
        )

        self.functions: dict[str, lambda_.Function] = {}
        self.log_groups: dict[str, logs.LogGroup] = {}
        for spec in FUNCTIONS:
            # `prepare_start` -> `PrepareStart`
            construct_id = "".join(part.capitalize() for part in spec.name.split("_"))
            log_group = encrypted_log_group(
                self,
                f"{construct_id}LogGroup",
                key=key,
                retention_days=log_retention_days,
                removal_policy=removal_policy,
            )
            role = iam.Role(
                self,
                f"{construct_id}Role",
                description=f"{spec.description} (NTM tuning pipeline)",
                assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            )
            role.add_to_policy(
                iam.PolicyStatement(
                    actions=["logs:CreateLogStream", "logs:PutLogEvents"],
                    resources=[log_group.log_group_arn],
                )
            )
            function = lambda_.Function(
                self,
                f"{construct_id}Function",
                description=spec.description,
                code=code,
                handler=spec.handler,
                runtime=lambda_.Runtime.PYTHON_3_12,
                architecture=lambda_.Architecture.ARM_64,
                layers=[powertools],
                memory_size=spec.memory_size,
                timeout=Duration.seconds(spec.timeout_seconds),
                tracing=lambda_.Tracing.ACTIVE,
                environment={**environment, **spec.environment(settings)},
                role=role,
                log_group=log_group,
            )
            acknowledge(
                role,
                "AwsSolutions-IAM5",
                reason=(
                    "X-Ray active tracing: xray:PutTraceSegments and xray:PutTelemetryRecords "
                    "support no resource-level permissions."
                ),
                findings=["Resource::*"],
            )
            acknowledge(
                function,
                "AwsSolutions-L1",
                reason=(
                    "Pinned to python3.12 because the Powertools layer "
                    "(ntm:powertoolsLayerParameter) is built per Python version; the runtime "
                    "moves together with the layer."
                ),
            )
            self.functions[spec.name] = function
            self.log_groups[spec.name] = log_group
