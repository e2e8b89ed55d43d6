"""cdk-nag (AwsSolutions) runs on every synth, finds nothing unacknowledged, and every
acknowledgment says why."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from aws_cdk import App, Stack, Validations
from aws_cdk import aws_s3 as s3
from cdk_nag import AwsSolutionsChecks
from constructs import IConstruct

from infra.pipeline import build_pipeline
from tests.infra.conftest import Synthesized


def _acknowledgments(root: IConstruct) -> dict[str, dict[str, str]]:
    """Rule id -> reason, per construct path."""
    found: dict[str, dict[str, str]] = {}
    for construct in root.node.find_all():
        for entry in construct.node.metadata:
            if entry.type == Validations.ACKNOWLEDGED_RULES_METADATA_KEY:
                found.setdefault(construct.node.path, {}).update(entry.data)
    return found


def test_aws_solutions_finds_nothing(synthesized: Synthesized) -> None:
    report = AwsSolutionsChecks(verbose=True).validate_scope(synthesized.stack)
    violations = [
        (v.rule_name, [r.construct_path for r in v.violating_resources]) for v in report.violations
    ]
    assert violations == []
    assert report.success


def test_synth_ran_the_nag_plugin(synthesized: Synthesized) -> None:
    # CDK writes the validation report only when a validation plugin is registered.
    assert (Path(synthesized.assembly.directory) / "validation-report.json").is_file()


def test_every_acknowledgment_has_a_reason(synthesized: Synthesized) -> None:
    acknowledgments = _acknowledgments(synthesized.stack)
    assert acknowledgments
    for path, rules in acknowledgments.items():
        for rule, reason in rules.items():
            assert rule.removeprefix("Annotation::").startswith("AwsSolutions-"), (path, rule)
            assert len(reason.strip()) >= 20, (path, rule)


def test_wildcard_acknowledgments_name_their_findings(synthesized: Synthesized) -> None:
    """IAM5 is acknowledged per finding, never wholesale."""
    for rules in _acknowledgments(synthesized.stack).values():
        for rule in rules:
            if "AwsSolutions-IAM5" in rule:
                assert rule.endswith("]") and "[Resource::" in rule, rule


def test_every_acknowledgment_matches_a_real_finding(
    synthesized: Synthesized, cdk_context: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Rebuild without acknowledgments: the findings are exactly what the stack acknowledges."""
    monkeypatch.setattr(Validations, "acknowledge", lambda self, *rules: None)
    bare = build_pipeline(App(context=cdk_context))
    findings = {
        (v.rule_name, r.construct_path or "")
        for v in AwsSolutionsChecks().validate_scope(bare).violations
        for r in v.violating_resources
    }
    acknowledged = {
        (rule.removeprefix("Annotation::"), path)
        for path, rules in _acknowledgments(synthesized.stack).items()
        for rule in rules
    }
    unmatched_findings = {
        (rule, path)
        for rule, path in findings
        if not any(rule == r and (path == p or path.startswith(p + "/")) for r, p in acknowledged)
    }
    stale_acknowledgments = {
        (rule, path)
        for rule, path in acknowledged
        if not any(rule == r and (p == path or p.startswith(path + "/")) for r, p in findings)
    }
    assert unmatched_findings == set()
    assert stale_acknowledgments == set()


def test_a_new_finding_fails_synth(cdk_context: dict[str, Any], tmp_path: Path) -> None:
    app = App(context=cdk_context, outdir=str(tmp_path))
    stack: Stack = build_pipeline(app)
    # No TLS enforcement and no access logs: AwsSolutions-S1 and -S10.
    s3.Bucket(stack, "CarelessBucket")
    report = AwsSolutionsChecks().validate_scope(stack)
    assert {"AwsSolutions-S1", "AwsSolutions-S10"} <= {v.rule_name for v in report.violations}
    assert all(
        (r.construct_path or "").startswith(f"{stack.node.path}/CarelessBucket")
        for v in report.violations
        for r in v.violating_resources
    )
    with pytest.raises(Exception, match="AwsSolutions-S10"):
        app.synth()
