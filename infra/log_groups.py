"""CloudWatch log groups encrypted with the pipeline's key."""

from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from constructs import Construct

from infra.config import LOG_RETENTION_DAYS

# jsii exposes RetentionDays by member name only, so name the member of each day count
# CloudWatch Logs accepts (the configuration's LOG_RETENTION_DAYS, in the same order).
_RETENTION = dict(
    zip(
        LOG_RETENTION_DAYS,
        (
            logs.RetentionDays.ONE_DAY,
            logs.RetentionDays.THREE_DAYS,
            logs.RetentionDays.FIVE_DAYS,
            logs.RetentionDays.ONE_WEEK,
            logs.RetentionDays.TWO_WEEKS,
            logs.RetentionDays.ONE_MONTH,
            logs.RetentionDays.TWO_MONTHS,
            logs.RetentionDays.THREE_MONTHS,
            logs.RetentionDays.FOUR_MONTHS,
            logs.RetentionDays.FIVE_MONTHS,
            logs.RetentionDays.SIX_MONTHS,
            logs.RetentionDays.ONE_YEAR,
            logs.RetentionDays.THIRTEEN_MONTHS,
            logs.RetentionDays.EIGHTEEN_MONTHS,
            logs.RetentionDays.TWO_YEARS,
            logs.RetentionDays.THREE_YEARS,
            logs.RetentionDays.FIVE_YEARS,
            logs.RetentionDays.SIX_YEARS,
            logs.RetentionDays.SEVEN_YEARS,
            logs.RetentionDays.EIGHT_YEARS,
            logs.RetentionDays.NINE_YEARS,
            logs.RetentionDays.TEN_YEARS,
        ),
        strict=True,
    )
)


def retention(days: int) -> logs.RetentionDays:
    """The RetentionDays member for a CloudWatch Logs retention period in days."""
    try:
        return _RETENTION[days]
    except KeyError:
        raise ValueError(f"CloudWatch Logs cannot retain logs for {days} days") from None


def encrypted_log_group(
    scope: Construct,
    id: str,
    *,
    key: kms.IKey,
    retention_days: int,
    removal_policy: RemovalPolicy,
) -> logs.LogGroup:
    """A log group encrypted with ``key`` (whose policy must admit CloudWatch Logs)."""
    return logs.LogGroup(
        scope,
        id,
        encryption_key=key,
        retention=retention(retention_days),
        removal_policy=removal_policy,
    )
