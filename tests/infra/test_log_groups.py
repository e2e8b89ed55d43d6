"""Every retention the configuration accepts is the one CloudWatch Logs is given."""

from __future__ import annotations

import pytest
from aws_cdk import App, RemovalPolicy, Stack
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs

from infra.config import LOG_RETENTION_DAYS, ConfigError, load_config
from infra.log_groups import encrypted_log_group, retention


def test_each_accepted_retention_is_synthesized_as_that_many_days() -> None:
    stack = Stack(App(), "Retention")
    key = kms.Key(stack, "Key")
    for days in LOG_RETENTION_DAYS:
        assert load_config({"ntm:logRetentionDays": days}).log_retention_days == days
        group = encrypted_log_group(
            stack, f"Days{days}", key=key, retention_days=days, removal_policy=RemovalPolicy.DESTROY
        )
        cfn = group.node.default_child
        assert isinstance(cfn, logs.CfnLogGroup)
        assert stack.resolve(cfn.retention_in_days) == days


@pytest.mark.parametrize("days", [0, 2, 31, 3654])
def test_other_day_counts_are_refused_by_both(days: int) -> None:
    with pytest.raises(ConfigError, match="ntm:logRetentionDays"):
        load_config({"ntm:logRetentionDays": days})
    with pytest.raises(ValueError, match=f"cannot retain logs for {days} days"):
        retention(days)
