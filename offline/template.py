"""The deployed stack as CloudFormation sees it: synthesized in-process from the CDK code,
with its references resolved to names of emulated resources."""

from __future__ import annotations

import json
import re
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def synthesize(overrides: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The stack's template, synthesized from the CDK code with cdk.json's context.

    ``overrides`` are context values as ``-c key=value`` would give them.
    """
    from aws_cdk import App

    from infra.pipeline import build_pipeline

    context = json.loads((ROOT / "cdk.json").read_text())["context"]
    context.update(overrides or {})
    with tempfile.TemporaryDirectory(prefix="ntm-synth-") as outdir:
        app = App(context=context, outdir=outdir)
        stack = build_pipeline(app)
        template: dict[str, Any] = app.synth().get_stack_by_name(stack.stack_name).template
    return template


def load(path: Path) -> dict[str, Any]:
    """A template synthesized earlier (``cdk.out/<stack>.template.json``)."""
    return dict(json.loads(path.read_text()))


@dataclass
class Resolver:
    """Resolves CloudFormation intrinsics against the names given to emulated resources."""

    template: dict[str, Any]
    region: str
    account: str
    stack_name: str = "NtmTuning"
    names: dict[str, str] = field(default_factory=dict)
    attributes: dict[tuple[str, str], str] = field(default_factory=dict)

    def resources(self, kind: str) -> dict[str, dict[str, Any]]:
        return {
            logical: resource
            for logical, resource in self.template["Resources"].items()
            if resource["Type"] == kind
        }

    def only(self, kind: str) -> tuple[str, dict[str, Any]]:
        found = self.resources(kind)
        if len(found) != 1:
            raise ValueError(f"expected one {kind}, found {sorted(found)}")
        return next(iter(found.items()))

    def pseudo(self, name: str) -> str:
        return {
            "AWS::Region": self.region,
            "AWS::AccountId": self.account,
            "AWS::Partition": "aws",
            "AWS::URLSuffix": "amazonaws.com",
            "AWS::StackName": self.stack_name,
            "AWS::NoValue": "",
        }[name]

    def ref(self, logical: str) -> str:
        if logical.startswith("AWS::"):
            return self.pseudo(logical)
        if logical in self.names:
            return self.names[logical]
        parameter = self.template.get("Parameters", {}).get(logical)
        if parameter is not None:
            return str(parameter.get("Default", logical))
        raise KeyError(f"no emulated resource for Ref {logical}")

    def get_att(self, logical: str, attribute: str) -> str:
        if (logical, attribute) in self.attributes:
            return self.attributes[(logical, attribute)]
        raise KeyError(f"no emulated value for Fn::GetAtt {logical}.{attribute}")

    def resolve(self, node: Any) -> Any:
        if isinstance(node, list):
            return [self.resolve(item) for item in node]
        if not isinstance(node, dict):
            return node
        if len(node) == 1:
            ((key, value),) = node.items()
            if key == "Ref":
                return self.ref(value)
            if key == "Fn::GetAtt":
                logical, attribute = value if isinstance(value, list) else value.split(".", 1)
                return self.get_att(logical, attribute)
            if key == "Fn::Join":
                separator, parts = value
                return separator.join(str(self.resolve(part)) for part in parts)
            if key == "Fn::Sub":
                return self._sub(value)
            if key == "Fn::FindInMap":
                mapping, first, second = (self.resolve(part) for part in value)
                return self.template["Mappings"][mapping][first][second]
            if key == "Fn::Select":
                index, items = value
                return self.resolve(items)[int(index)]
            if key == "Fn::Split":
                separator, text = value
                return str(self.resolve(text)).split(separator)
        return {key: self.resolve(value) for key, value in node.items()}

    def _sub(self, value: Any) -> str:
        text, variables = (value, {}) if isinstance(value, str) else value
        resolved = {name: self.resolve(item) for name, item in variables.items()}

        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name in resolved:
                return str(resolved[name])
            if "." in name:
                logical, attribute = name.split(".", 1)
                return self.get_att(logical, attribute)
            return self.ref(name)

        return re.sub(r"\$\{([^}!]+)\}", replace, text)
