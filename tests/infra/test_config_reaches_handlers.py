"""Any configuration synth accepts, the handlers accept: every context key at its bounds goes
through the environment the stack gives the handlers and back through their settings."""

from __future__ import annotations

from typing import Any

import annotated_types
import pytest
from ntm_tuning.settings import PROCESSING_MAX_RUNTIME_SECONDS, Settings, TuningDefaults

from infra.config import CONTEXT_KEYS, LOG_RETENTION_DAYS, ConfigError, ContextKey, load_config
from infra.config import PipelineConfig as Config
from infra.stack import handler_environment

NAMES = {
    "data_bucket": "data",
    "artifacts_bucket": "artifacts",
    "kms_key_arn": "arn:aws:kms:us-east-1:123456789012:key/k",
    "sagemaker_role_arn": "arn:aws:iam::123456789012:role/sagemaker",
    "training_image": "382416733822.dkr.ecr.us-east-1.amazonaws.com/ntm:1",
    "event_bus_name": "bus",
    "ledger_table": "ledger",
    "processing_image": "683313688378.dkr.ecr.us-east-1.amazonaws.com/sklearn:1",
    "processing_role_arn": "arn:aws:iam::123456789012:role/processing",
    "preparation_code_uri": "s3://assets/code.zip",
}
# Values of the keys that have no numeric bounds: the longest or most unusual ones synth takes.
EXTREMES: dict[str, list[Any]] = {
    "ntm:eventSource": ["a", "x" * 256, "com.example.ntm-tuning"],
    "ntm:requestPrefix": ["r/", "incoming/requests/v1/"],
    "ntm:preparedPrefix": ["p/", "datasets/prepared/v1/"],
    "ntm:processingInstanceType": ["ml.m5.large", "ml.m5.24xlarge", "ml.c5d.xlarge"],
    "ntm:logRetentionDays": [min(LOG_RETENTION_DAYS), max(LOG_RETENTION_DAYS)],
    "ntm:stackName": ["N", "N" + "a" * 127],
    "ntm:resultsBusName": ["b", "b" * 256],
    "ntm:alarmEmail": [None, "ops@example.com"],
    "ntm:removalPolicy": ["retain", "destroy"],
    "ntm:powertoolsLayerParameter": ["/aws/service/powertools/python/arm64/python3.12/latest"],
    "ntm:powertoolsLayerArn": [
        None,
        "arn:aws:lambda:us-east-1:017000801446:layer:AWSLambdaPowertoolsPythonV3-python312-arm64:7",
    ],
    "ntm:maxJobs": [100],
    "ntm:maxWaitSeconds": [60, 3600],
}
# Keys whose bounds depend on others: the values that let their extremes through.
COMPANIONS: dict[str, dict[str, Any]] = {
    "ntm:maxJobs": {"ntm:maxParallelJobs": 1},
    "ntm:maxWaitSeconds": {"ntm:useSpot": True, "ntm:maxRuntimeSeconds": 60},
}


def _bounds(spec: ContextKey) -> list[Any]:
    model = TuningDefaults if spec.tuning else Config
    info = model.model_fields[spec.field]
    values: list[Any] = []
    for item in info.metadata:
        if isinstance(item, annotated_types.Ge | annotated_types.Gt):
            values.append(item.ge if isinstance(item, annotated_types.Ge) else item.gt + 1)
        if isinstance(item, annotated_types.Le):
            values.append(item.le)
    if spec.kind in ("int", "optional_int") and not any(
        isinstance(item, annotated_types.Le) for item in info.metadata
    ):
        values.append(10**7)  # no upper bound of its own: whatever synth lets through
    return values


def _candidates(spec: ContextKey) -> list[Any]:
    return EXTREMES.get(spec.key, []) + _bounds(spec)


def _accepted(spec: ContextKey) -> list[tuple[Any, Config]]:
    accepted = []
    for value in _candidates(spec):
        try:
            context = {**COMPANIONS.get(spec.key, {}), spec.key: value}
            accepted.append((value, load_config(context)))
        except ConfigError:
            continue  # synth refuses it (a cross-field rule): nothing reaches the handlers
    return accepted


@pytest.mark.parametrize("spec", CONTEXT_KEYS, ids=lambda spec: spec.key)
def test_every_value_synth_accepts_the_handlers_accept(spec: ContextKey) -> None:
    accepted = _accepted(spec)
    for value, config in accepted:
        env = handler_environment(config, **NAMES)
        settings = Settings.from_env(env)  # raises if the handlers refuse it
        assert settings.tuning == config.tuning, (spec.key, value)
        assert settings.event_source == config.event_source
        assert settings.request_prefix == config.request_prefix
        assert settings.prepared_prefix == config.prepared_prefix
        assert settings.ledger_ttl_days == config.ledger_retention_days
        assert settings.processing_instance_type == config.processing_instance_type
        assert settings.processing_volume_size_gb == config.processing_volume_size_gb
        assert settings.processing_max_runtime_seconds == config.processing_max_runtime_seconds


def test_each_bounded_key_is_accepted_at_its_bounds() -> None:
    """Guards the test above against checking nothing: synth takes the bounds themselves."""
    untested = []
    for spec in CONTEXT_KEYS:
        accepted = [value for value, _ in _accepted(spec)]
        if not accepted:
            untested.append(spec.key)
    # Keys of kinds with no bounds to probe (lists, prices, floats) take their defaults.
    assert set(untested) <= {
        "ntm:allowedInstanceTypes",
        "ntm:instancePrices",
        "ntm:pricesAsOf",
        "ntm:maxRequestCostUsd",
        "ntm:instanceType",
        "ntm:strategy",
        "ntm:earlyStopping",
        "ntm:useSpot",
    }, untested
    processing = [v for v, _ in _accepted(_key("ntm:processingMaxRuntimeSeconds"))]
    assert PROCESSING_MAX_RUNTIME_SECONDS in processing
    assert PROCESSING_MAX_RUNTIME_SECONDS == 777_600  # ProcessingStoppingCondition's maximum
    assert 16_384 in [v for v, _ in _accepted(_key("ntm:processingVolumeSizeGb"))]
    assert 3653 in [v for v, _ in _accepted(_key("ntm:ledgerRetentionDays"))]


def test_just_over_the_processing_runtime_bound_is_refused_at_synth() -> None:
    with pytest.raises(ConfigError, match="ntm:processingMaxRuntimeSeconds"):
        load_config({"ntm:processingMaxRuntimeSeconds": PROCESSING_MAX_RUNTIME_SECONDS + 1})


def _key(name: str) -> ContextKey:
    (spec,) = [spec for spec in CONTEXT_KEYS if spec.key == name]
    return spec
