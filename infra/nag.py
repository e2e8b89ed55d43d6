"""Acknowledging cdk-nag findings, as narrowly as cdk-nag reports them.

cdk-nag 3 is a CDK policy-validation plugin: an unacknowledged finding fails synth.
A finding that names a resource (IAM5) is acknowledged per finding, `Rule[Finding]`,
so a new wildcard elsewhere still fails.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import cast

from aws_cdk import Acknowledgment, CfnElement, Stack, Validations
from constructs import IConstruct


def acknowledge(
    construct: IConstruct, rule: str, *, reason: str, findings: Sequence[str] = ()
) -> None:
    """Acknowledge ``rule`` on ``construct`` and everything below it, with a reason.

    With ``findings`` (e.g. ``"Resource::*"``), only those findings are acknowledged.
    """
    if not reason.strip():
        raise ValueError(f"acknowledging {rule} needs a reason")
    ids = [f"{rule}[{finding}]" for finding in findings] if findings else [rule]
    Validations.of(construct).acknowledge(*(Acknowledgment(id=i, reason=reason) for i in ids))


def arn_ref(construct: IConstruct) -> str:
    """How cdk-nag writes `Fn::GetAtt <resource>.Arn` in a finding: `<LogicalId.Arn>`."""
    element = cast(CfnElement, construct.node.default_child)
    return f"<{Stack.of(construct).get_logical_id(element)}.Arn>"
