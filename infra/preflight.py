"""`make preflight`: before a deploy, check the target account and region without creating
anything.

With the credentials and region of the deploy (and the same ``-c key=value`` overrides), it
checks that

- the Powertools layer resolves: its public SSM parameter exists in the region (or the layer
  version pinned with ``-c ntm:powertoolsLayerArn=...`` can be read);
- the region has an entry in the NTM training image table and the scikit-learn processing
  image table;
- the account's SageMaker service quotas (Service Quotas, service code ``sagemaker``) cover
  what the configuration runs at once: ``maxConcurrentTuningJobs`` x ``maxParallelJobs`` x
  ``instanceCount`` training instances of each allowed instance type (every concurrent
  training instance of every tuning job counts against the account's quota for its type,
  "Resource Limits for Automatic Model Tuning", SageMaker Developer Guide), the same for spot
  training when ``useSpot`` is on, and one processing instance of ``processingInstanceType``.

It prints each finding, with how to fix what is missing, and exits 1 when something is.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from botocore.exceptions import BotoCoreError, ClientError

from infra.config import ConfigError, PipelineConfig, load_config
from infra.dataset_preparation import SKLEARN_IMAGE_ACCOUNTS
from infra.training_image import NTM_IMAGE_ACCOUNTS

ROOT = Path(__file__).resolve().parent.parent
SERVICE_CODE = "sagemaker"

Level = Literal["ok", "missing", "note"]


@dataclass(frozen=True)
class Finding:
    level: Level
    check: str
    message: str
    fix: str | None = None


def training_quota(instance_type: str) -> str:
    return f"{instance_type} for training job usage"


def spot_quota(instance_type: str) -> str:
    return f"{instance_type} for spot training job usage"


def processing_quota(instance_type: str) -> str:
    return f"{instance_type} for processing job usage"


def _pages(call: Callable[..., dict[str, Any]], **args: Any) -> Iterator[dict[str, Any]]:
    token: str | None = None
    while True:
        page = call(**args, **({"NextToken": token} if token else {}))
        yield from page.get("Quotas", [])
        token = page.get("NextToken")
        if not token:
            return


def sagemaker_quotas(quotas: Any) -> dict[str, dict[str, Any]]:
    """Quota name -> quota: the account's applied values, else AWS's defaults."""
    found = {
        q["QuotaName"]: q
        for q in _pages(quotas.list_aws_default_service_quotas, ServiceCode=SERVICE_CODE)
    }
    found.update(
        {q["QuotaName"]: q for q in _pages(quotas.list_service_quotas, ServiceCode=SERVICE_CODE)}
    )
    return found


def check_powertools(config: PipelineConfig, *, ssm: Any, lambda_: Any) -> Finding:
    check = "Powertools layer"
    if config.powertools_layer_arn:
        try:
            lambda_.get_layer_version_by_arn(Arn=config.powertools_layer_arn)
        except ClientError as error:
            return Finding(
                "missing",
                check,
                f"the pinned layer {config.powertools_layer_arn} cannot be read: "
                f"{error.response.get('Error', {}).get('Code')}",
                "pin a layer version of this region: -c ntm:powertoolsLayerArn=<ARN>",
            )
        return Finding("ok", check, f"pinned layer {config.powertools_layer_arn}")
    parameter = config.powertools_layer_parameter
    try:
        value = ssm.get_parameter(Name=parameter)["Parameter"]["Value"]
    except ClientError as error:
        code = error.response.get("Error", {}).get("Code")
        return Finding(
            "missing",
            check,
            f"SSM parameter {parameter} does not resolve here ({code})",
            "use another release's parameter (-c ntm:powertoolsLayerParameter=...) or pin "
            "the layer version ARN (-c ntm:powertoolsLayerArn=arn:aws:lambda:...)",
        )
    return Finding("ok", check, f"{parameter} -> {value}")


def check_images(region: str) -> list[Finding]:
    findings = []
    for name, table, where in (
        ("NTM training image", NTM_IMAGE_ACCOUNTS, "infra/training_image.py"),
        ("scikit-learn processing image", SKLEARN_IMAGE_ACCOUNTS, "infra/dataset_preparation.py"),
    ):
        if region in table:
            findings.append(Finding("ok", name, f"account {table[region]} in {region}"))
        else:
            findings.append(
                Finding(
                    "missing",
                    name,
                    f"no entry for {region} in {where}",
                    "deploy to a region the table lists, or add the region's account there",
                )
            )
    return findings


def check_quotas(config: PipelineConfig, region: str, quotas: Mapping[str, Any]) -> list[Finding]:
    tuning = config.tuning
    at_once = tuning.max_concurrent_jobs * tuning.max_parallel_jobs * tuning.instance_count
    basis = (
        f"maxConcurrentTuningJobs {tuning.max_concurrent_jobs} x maxParallelJobs "
        f"{tuning.max_parallel_jobs} x instanceCount {tuning.instance_count}"
    )
    wanted: list[tuple[str, int, str, bool]] = []
    for instance_type in tuning.allowed_instance_types:
        wanted.append((training_quota(instance_type), at_once, basis, True))
        wanted.append((spot_quota(instance_type), at_once, basis, tuning.use_spot))
    wanted.append(
        (processing_quota(config.processing_instance_type), 1, "one dataset preparation", True)
    )
    findings = []
    for name, need, why, required in wanted:
        quota = quotas.get(name)
        if quota is None:
            findings.append(
                Finding(
                    "missing" if required else "note",
                    name,
                    "no such SageMaker quota in this region (is the instance type offered here?)",
                    "choose instance types the region offers (-c ntm:allowedInstanceTypes=...)",
                )
            )
            continue
        value = float(quota.get("Value", 0))
        if value >= need:
            findings.append(Finding("ok", name, f"{value:g} >= {need} ({why})"))
            continue
        fix = (
            "aws service-quotas request-service-quota-increase --service-code "
            f"{SERVICE_CODE} --quota-code {quota.get('QuotaCode')} --desired-value {need} "
            f"--region {region}"
        )
        if need > 1:
            fix += " (or lower ntm:maxConcurrentTuningJobs, ntm:maxParallelJobs, ntm:instanceCount)"
        findings.append(
            Finding(
                "missing" if required else "note",
                name,
                f"{value:g} < {need} ({why})"
                + ("" if required else "; needed by requests with use_spot: true"),
                fix,
            )
        )
    return findings


def run_checks(
    config: PipelineConfig, region: str, *, ssm: Any, lambda_: Any, quotas: Any
) -> list[Finding]:
    """Every check, read-only: SSM GetParameter (or Lambda GetLayerVersionByArn) and the
    Service Quotas List calls."""
    findings = [check_powertools(config, ssm=ssm, lambda_=lambda_), *check_images(region)]
    try:
        known = sagemaker_quotas(quotas)
    except ClientError as error:
        findings.append(
            Finding(
                "missing",
                "SageMaker service quotas",
                f"cannot list them: {error.response.get('Error', {}).get('Code')}",
                "allow servicequotas:ListServiceQuotas and ListAWSDefaultServiceQuotas",
            )
        )
        return findings
    return findings + check_quotas(config, region, known)


def _context(overrides: Sequence[str]) -> dict[str, Any]:
    context: dict[str, Any] = json.loads((ROOT / "cdk.json").read_text())["context"]
    for item in overrides:
        key, sep, value = item.partition("=")
        if not sep:
            raise ConfigError(f"-c {item}: expected key=value")
        context[key] = value
    return context


def report(findings: Sequence[Finding], out: Any) -> int:
    marks = {"ok": "ok     ", "missing": "MISSING", "note": "note   "}
    for finding in findings:
        print(f"{marks[finding.level]} {finding.check}: {finding.message}", file=out)
        if finding.fix and finding.level != "ok":
            print(f"        fix: {finding.fix}", file=out)
    missing = sum(f.level == "missing" for f in findings)
    print(
        f"\n{missing} problem(s) found." if missing else "\nReady to deploy.",
        file=out,
    )
    return 1 if missing else 0


def main(argv: Sequence[str] | None = None, *, session: Any = None, out: Any = None) -> int:
    parser = argparse.ArgumentParser(
        prog="make preflight",
        description="Check the target account and region before a deploy, creating nothing.",
    )
    parser.add_argument("-c", "--context", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("--region", help="the deploy's region (default: the credentials')")
    args = parser.parse_args(argv)
    out = out or sys.stdout
    try:
        config = load_config(_context(args.context))
    except ConfigError as error:
        print(f"Invalid configuration: {error}", file=out)
        return 2
    if session is None:
        import boto3

        session = boto3.Session(region_name=args.region)
    region = args.region or session.region_name
    if not region:
        print("No region: configure one (aws configure, AWS_REGION) or pass --region", file=out)
        return 2
    try:
        identity = session.client("sts", region_name=region).get_caller_identity()
        print(f"Account {identity['Account']}, region {region}", file=out)
        findings = run_checks(
            config,
            region,
            ssm=session.client("ssm", region_name=region),
            lambda_=session.client("lambda", region_name=region),
            quotas=session.client("service-quotas", region_name=region),
        )
    except (BotoCoreError, ClientError) as error:
        print(f"Cannot check the account: {error}", file=out)
        return 2
    return report(findings, out)


if __name__ == "__main__":
    sys.exit(main())
