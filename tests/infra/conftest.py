"""One synthesized stack for the whole infra suite: jsii start-up and synth cost seconds."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import App, Stack
from aws_cdk.assertions import Template
from aws_cdk.cx_api import CloudAssembly

from infra.config import PipelineConfig, load_config
from infra.pipeline import build_pipeline

ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Synthesized:
    app: App
    stack: Stack
    config: PipelineConfig
    assembly: CloudAssembly
    template: Template

    @cached_property
    def json(self) -> dict[str, Any]:
        # Read once: every `to_json()` is a round trip through jsii. Treat it as read-only.
        return dict(self.template.to_json())

    def resources(self, type_: str) -> dict[str, dict[str, Any]]:
        return {k: v for k, v in self.json["Resources"].items() if v["Type"] == type_}

    def logical_id(self, type_: str, **properties: Any) -> str:
        """The one resource of ``type_`` whose properties include ``properties``."""
        matches = [
            k
            for k, v in self.resources(type_).items()
            if all(v.get("Properties", {}).get(p) == want for p, want in properties.items())
        ]
        assert len(matches) == 1, (type_, properties, matches)
        return matches[0]


@pytest.fixture(scope="session")
def cdk_context() -> dict[str, Any]:
    """The defaults and feature flags from cdk.json, exactly as `cdk synth` passes them."""
    context: dict[str, Any] = json.loads((ROOT / "cdk.json").read_text())["context"]
    return context


@pytest.fixture(scope="session")
def synthesized(
    cdk_context: dict[str, Any], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Synthesized]:
    app = App(context=cdk_context, outdir=str(tmp_path_factory.mktemp("cdk.out")))
    stack = build_pipeline(app)
    # Synth runs the cdk-nag plugin registered by build_pipeline; a finding fails it here.
    assembly = app.synth()
    template = Template.from_json(assembly.get_stack_by_name(stack.stack_name).template)
    yield Synthesized(app, stack, load_config(cdk_context), assembly, template)


@pytest.fixture(scope="session")
def template(synthesized: Synthesized) -> Template:
    return synthesized.template
