"""Builds the stack from an App's context; shared by `app.py` and the infra tests."""

from __future__ import annotations

from aws_cdk import App, Validations
from cdk_nag import AwsSolutionsChecks

from infra.config import load_config
from infra.stack import NtmTuningStack


def build_pipeline(app: App) -> NtmTuningStack:
    """Resolve the configuration from context once, create the stack and check it with cdk-nag.

    Raises ConfigError (naming the context key) for a bad value.
    """
    config = load_config(app.node.get_all_context())
    stack = NtmTuningStack(
        app,
        config.stack_name,
        config=config,
        description="SageMaker NTM hyperparameter tuning for documents landed in S3",
    )
    # cdk-nag 3 is a policy-validation plugin: any unacknowledged finding fails synth.
    Validations.of(app).add_plugins(AwsSolutionsChecks(app, verbose=True))
    return stack
