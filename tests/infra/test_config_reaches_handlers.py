"""Any configuration synth accepts, the handlers accept: every context key at its bounds goes
through the environment the stack gives the handlers and back through their settings; just
over a bound, synth refuses it (naming the key) and so would the handlers; and each key reaches
its own environment variable, and no other."""

from __future__ import annotations

import json
from typing import Any

import annotated_types
import pytest
from ntm_tuning.settings import (
    MAX_RETENTION_DAYS,
    MAX_VOLUME_SIZE_GB,
    PROCESSING_MAX_RUNTIME_SECONDS,
    DeploymentSettings,
    MissingSetting,
    Settings,
    TuningDefaults,
)
from pydantic import ValidationError

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
    # Up to the default ntm:maxInstanceCount.
    "ntm:instanceCount": [4],
    "ntm:maxWaitSeconds": [60, 3600],
    "ntm:instanceType": ["ml.g5.xlarge", "ml.p3.2xlarge"],
    "ntm:allowedInstanceTypes": [["ml.g4dn.xlarge"], ["ml.g4dn.xlarge", "ml.c5.xlarge"]],
    # Prices must be above 0 and below a million dollars an hour.
    "ntm:instancePrices": [
        {"ml.g4dn.xlarge": 0.001, "ml.g5.xlarge": 999_999.0, "ml.p3.2xlarge": 3.0},
    ],
    "ntm:pricesAsOf": ["x", "2027-01-01 eu-west-1"],
    "ntm:maxRequestCostUsd": [None, 0.01, 1e9],
    "ntm:strategy": ["Random", "Hyperband", "Grid"],
    "ntm:earlyStopping": ["Auto"],
    "ntm:useSpot": [True],
}
# Values just past a rule that is not a numeric bound: refused by synth and by the handlers.
JUST_OVER: dict[str, list[Any]] = {
    "ntm:eventSource": ["aws.tuning"],
    "ntm:requestPrefix": ["requests", "/requests/", "req*/", "requests//"],
    "ntm:preparedPrefix": ["datasets/prepared", "requests/prepared/"],
    "ntm:processingInstanceType": ["ml.m5", "m5.xlarge"],
    "ntm:logRetentionDays": [0, 2, 3654],
    "ntm:stackName": ["N" + "a" * 128, "1stack"],
    "ntm:resultsBusName": ["b" * 257, "default"],
    "ntm:alarmEmail": ["ops@example"],
    "ntm:removalPolicy": ["snapshot"],
    "ntm:powertoolsLayerParameter": ["no-slash", "/with space"],
    "ntm:strategy": ["Genetic"],
    "ntm:earlyStopping": ["On"],
    "ntm:instanceType": ["ml.m5.large"],
    "ntm:instancePrices": [
        {"ml.g4dn.xlarge": 0.0, "ml.g5.xlarge": 1.0, "ml.p3.2xlarge": 3.0},
        {"ml.g4dn.xlarge": 1e6, "ml.g5.xlarge": 1.0, "ml.p3.2xlarge": 3.0},
    ],
}
# Keys whose bounds depend on others: the values that let their extremes through.
COMPANIONS: dict[str, dict[str, Any]] = {
    "ntm:maxJobs": {"ntm:maxParallelJobs": 1},
    "ntm:maxWaitSeconds": {"ntm:useSpot": True, "ntm:maxRuntimeSeconds": 60},
}
SHARED = set(DeploymentSettings.model_fields)


def _model(spec: ContextKey) -> type[TuningDefaults] | type[Config]:
    return TuningDefaults if spec.tuning else Config


def _bounds(spec: ContextKey) -> tuple[list[Any], list[Any]]:
    """The values at each numeric bound of the key's field, and those just over each."""
    info = _model(spec).model_fields[spec.field]
    at: list[Any] = []
    over: list[Any] = []
    for item in info.metadata:
        bound: Any = getattr(item, "ge", getattr(item, "gt", getattr(item, "le", None)))
        if isinstance(item, annotated_types.Ge):
            at.append(bound)
            over.append(bound - 1)
        if isinstance(item, annotated_types.Gt):
            at.append(bound + 1)
            over.append(bound)
        if isinstance(item, annotated_types.Le):
            at.append(bound)
            over.append(bound + 1)
        if isinstance(item, annotated_types.MinLen):
            at.append("x" * item.min_length)
            if item.min_length > 0:
                over.append("x" * (item.min_length - 1))
        if isinstance(item, annotated_types.MaxLen):
            at.append("x" * item.max_length)
            over.append("x" * (item.max_length + 1))
    if spec.kind in ("int", "optional_int") and not any(
        isinstance(item, annotated_types.Le) for item in info.metadata
    ):
        at.append(10**7)  # no upper bound of its own: whatever synth lets through
    return at, over


def _candidates(spec: ContextKey) -> list[Any]:
    default = _model(spec).model_fields[spec.field].get_default(call_default_factory=True)
    return [default, *EXTREMES.get(spec.key, []), *_bounds(spec)[0]]


def _accepted(spec: ContextKey) -> list[tuple[Any, Config]]:
    accepted = []
    for value in _candidates(spec):
        try:
            context = {**COMPANIONS.get(spec.key, {}), spec.key: value}
            accepted.append((value, load_config(context)))
        except ConfigError:
            continue  # synth refuses it (a cross-field rule): nothing reaches the handlers
    return accepted


def _value(config: DeploymentSettings, spec: ContextKey) -> Any:
    return getattr(config.tuning if spec.tuning else config, spec.field)


def _variable(field: str) -> str:
    return Settings.variable(field)


@pytest.mark.parametrize("spec", CONTEXT_KEYS, ids=lambda spec: spec.key)
def test_every_value_synth_accepts_the_handlers_accept(spec: ContextKey) -> None:
    accepted = _accepted(spec)
    # Every key is probed: its default, its bounds, or the extremes above.
    assert len(accepted) >= 2, spec.key
    for value, config in accepted:
        env = handler_environment(config, **NAMES)
        settings = Settings.from_env(env)  # raises if the handlers refuse it
        assert settings.tuning == config.tuning, (spec.key, value)
        # Every setting the handlers share with the stack, read back field by field.
        assert settings.model_dump(include=SHARED) == config.model_dump(include=SHARED)
        if spec.tuning or spec.field in SHARED:
            assert _value(settings, spec) == _value(config, spec)


@pytest.mark.parametrize("spec", CONTEXT_KEYS, ids=lambda spec: spec.key)
def test_just_over_each_bound_synth_and_the_handlers_refuse(spec: ContextKey) -> None:
    over = _bounds(spec)[1] + JUST_OVER.get(spec.key, [])
    assert over or spec.kind in ("bool", "str_list", "optional_str"), spec.key
    default_env = handler_environment(load_config({}), **NAMES)
    for value in over:
        with pytest.raises(ConfigError, match=spec.key):
            load_config({**COMPANIONS.get(spec.key, {}), spec.key: value})
        env = dict(default_env)
        if spec.tuning:
            tuning = json.loads(env[_variable("tuning")])
            env[_variable("tuning")] = json.dumps({**tuning, spec.field: value})
        elif spec.field in SHARED:
            env[_variable(spec.field)] = str(value)
        else:
            continue  # only the stack reads it
        with pytest.raises(ValidationError, match=spec.field):
            Settings.from_env(env)


@pytest.mark.parametrize("spec", CONTEXT_KEYS, ids=lambda spec: spec.key)
def test_each_context_key_reaches_its_environment_variable(spec: ContextKey) -> None:
    default_env = handler_environment(load_config({}), **NAMES)
    default = _value(load_config({}), spec)
    changed = [
        (value, config) for value, config in _accepted(spec) if _value(config, spec) != default
    ]
    assert changed, spec.key
    _, config = changed[0]
    env = handler_environment(config, **NAMES)
    differs = {name for name in env if env[name] != default_env[name]}
    if spec.tuning:
        # Tuning keys travel together, as one JSON object of the handlers' TuningDefaults.
        assert differs <= {_variable("tuning")}, (spec.key, differs)
        assert json.loads(env[_variable("tuning")])[spec.field] == json.loads(
            json.dumps(_value(config, spec))
        )
    elif spec.field in SHARED:
        assert differs == {_variable(spec.field)}, (spec.key, differs)
        assert _value(Settings.from_env(env), spec) == _value(config, spec)
    else:
        assert not differs, f"{spec.key} is read only by the stack, yet changes {differs}"


def test_every_field_has_its_key_and_every_key_its_field() -> None:
    for model in (TuningDefaults, DeploymentSettings, Config, Settings):
        assert set(model.KEYS) == set(model.model_fields), model.__name__
    contexts = [spec.key for spec in CONTEXT_KEYS]
    assert (
        len(set(contexts))
        == len(contexts)
        == len(TuningDefaults.model_fields) + len(Config.model_fields) - 1
    )  # all but `tuning`, whose fields have keys of their own


def test_every_setting_of_the_handlers_has_its_own_environment_variable() -> None:
    variables = [_variable(field) for field in Settings.model_fields]
    assert len(set(variables)) == len(variables)
    settings = Settings.from_env(handler_environment(load_config({}), **NAMES))
    assert Settings.from_env(settings.environment()) == settings
    # A missing resource name is named by its variable when read, not reported as a pydantic
    # field; the others read as before, and a missing optional one takes no default.
    env = settings.environment()
    del env["LEDGER_TABLE"], env["REQUEST_PREFIX"]
    partial = Settings.from_env(env)
    with pytest.raises(MissingSetting, match="LEDGER_TABLE"):
        _ = partial.ledger_table
    with pytest.raises(MissingSetting, match="REQUEST_PREFIX"):
        _ = partial.request_prefix
    assert (partial.data_bucket, partial.tuning) == (settings.data_bucket, settings.tuning)


def test_the_handlers_defaults_are_the_synth_defaults() -> None:
    """An optional variable left out gives the handlers the same value synth would give."""
    config = load_config({})
    names_only = {_variable(field): value for field, value in NAMES.items()}
    settings = Settings.from_env(names_only)
    assert settings.model_dump(include=SHARED) == config.model_dump(include=SHARED)


def test_the_bounds_are_sagemakers_and_dynamodbs() -> None:
    """Guards the tests above against probing bounds other than the documented ones."""
    processing = [v for v, _ in _accepted(_key("ntm:processingMaxRuntimeSeconds"))]
    assert PROCESSING_MAX_RUNTIME_SECONDS in processing
    assert PROCESSING_MAX_RUNTIME_SECONDS == 777_600  # ProcessingStoppingCondition's maximum
    assert MAX_VOLUME_SIZE_GB == 16_384
    assert MAX_VOLUME_SIZE_GB in [v for v, _ in _accepted(_key("ntm:processingVolumeSizeGb"))]
    assert MAX_RETENTION_DAYS == 3653
    assert MAX_RETENTION_DAYS in [v for v, _ in _accepted(_key("ntm:ledgerRetentionDays"))]
    assert _bounds(_key("ntm:processingMaxRuntimeSeconds"))[1] == [0, 777_601]


def _key(name: str) -> ContextKey:
    (spec,) = [spec for spec in CONTEXT_KEYS if spec.key == name]
    return spec
