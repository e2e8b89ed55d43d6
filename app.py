#!/usr/bin/env python3
"""CDK app: `cdk synth` / `cdk deploy` the NTM tuning pipeline (configuration in cdk.json)."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent
# The tuning defaults model lives with the handlers, so synth validates exactly what they parse.
sys.path.insert(0, str(ROOT / "lambdas"))
sys.path.insert(0, str(ROOT))

from aws_cdk import App  # noqa: E402

from infra.config import ConfigError  # noqa: E402
from infra.pipeline import build_pipeline  # noqa: E402


def main() -> None:
    app = App()
    try:
        build_pipeline(app)
    except ConfigError as err:
        sys.exit(f"Invalid configuration: {err}")
    app.synth()


if __name__ == "__main__":
    main()
