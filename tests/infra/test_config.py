"""The configuration loader: context in, validated config out, errors that name the key."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

import pytest
from ntm_tuning.settings import TuningDefaults

from infra.config import CONTEXT_KEYS, ConfigError, PipelineConfig, load_config
from tests.infra.conftest import ROOT


def test_cdk_json_defaults_are_the_model_defaults(cdk_context: dict[str, Any]) -> None:
    assert load_config(cdk_context) == PipelineConfig()
    assert load_config({}) == PipelineConfig()


def test_cdk_json_names_every_key(cdk_context: dict[str, Any]) -> None:
    assert {k for k in cdk_context if k.startswith("ntm:")} == {s.key for s in CONTEXT_KEYS}


def test_every_tuning_default_has_a_key() -> None:
    tuning_fields = {s.field for s in CONTEXT_KEYS if s.tuning}
    assert tuning_fields == set(TuningDefaults.model_fields)


def test_command_line_strings_are_coerced() -> None:
    config = load_config(
        {
            "ntm:instanceCount": "2",
            "ntm:useSpot": "true",
            "ntm:maxRuntimeSeconds": "1800",
            "ntm:maxWaitSeconds": "3600",
            "ntm:allowedInstanceTypes": "ml.c5.xlarge, ml.g4dn.xlarge",
            "ntm:instanceType": "ml.c5.xlarge",
            "ntm:pollIntervalSeconds": "30",
            "ntm:removalPolicy": "destroy",
        }
    )
    assert config.tuning.instance_count == 2
    assert config.tuning.use_spot is True
    assert config.tuning.max_wait_seconds == 3600
    assert config.tuning.allowed_instance_types == ("ml.c5.xlarge", "ml.g4dn.xlarge")
    assert config.poll_interval_seconds == 30
    assert config.removal_policy == "destroy"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ('["ml.g5.xlarge","ml.g4dn.xlarge"]', ("ml.g5.xlarge", "ml.g4dn.xlarge")),
        ("ml.g5.xlarge,ml.g4dn.xlarge", ("ml.g5.xlarge", "ml.g4dn.xlarge")),
        (["ml.g5.xlarge", "ml.g4dn.xlarge"], ("ml.g5.xlarge", "ml.g4dn.xlarge")),
    ],
)
def test_lists_accept_json_or_commas(value: Any, expected: tuple[str, ...]) -> None:
    config = load_config({"ntm:allowedInstanceTypes": value, "ntm:instanceType": "ml.g5.xlarge"})
    assert config.tuning.allowed_instance_types == expected


@pytest.mark.parametrize("value", [None, "null", "", "none"])
def test_optional_max_wait_accepts_null(value: Any) -> None:
    assert load_config({"ntm:maxWaitSeconds": value}).tuning.max_wait_seconds is None


def test_config_is_frozen() -> None:
    config = load_config({})
    with pytest.raises(ValueError, match="frozen"):
        config.poll_interval_seconds = 5


@pytest.mark.parametrize(
    ("context", "keys"),
    [
        ({"ntm:instanceCount": "0"}, ["ntm:instanceCount"]),
        ({"ntm:instanceCount": "two"}, ["ntm:instanceCount"]),
        ({"ntm:instanceType": "ml.m5.large"}, ["ntm:instanceType", "ntm:allowedInstanceTypes"]),
        (
            {"ntm:useSpot": "true", "ntm:maxRuntimeSeconds": "7200"},
            ["ntm:maxRuntimeSeconds", "ntm:useSpot"],
        ),
        ({"ntm:maxWaitSeconds": "600"}, ["ntm:maxWaitSeconds", "ntm:useSpot"]),
        ({"ntm:useSpot": "maybe"}, ["ntm:useSpot"]),
        ({"ntm:maxJobs": "200"}, ["ntm:maxJobs", "ntm:maxJobsCap"]),
        ({"ntm:strategy": "Genetic"}, ["ntm:strategy"]),
        ({"ntm:allowedInstanceTypes": "[not json"}, ["ntm:allowedInstanceTypes"]),
        ({"ntm:pollIntervalSeconds": "5"}, ["ntm:pollIntervalSeconds"]),
        ({"ntm:removalPolicy": "snapshot"}, ["ntm:removalPolicy"]),
        ({"ntm:logRetentionDays": "31"}, ["ntm:logRetentionDays"]),
        ({"ntm:archiveRetentionDays": "0"}, ["ntm:archiveRetentionDays"]),
        ({"ntm:requestPrefix": "requests"}, ["ntm:requestPrefix"]),
        ({"ntm:requestPrefix": "req*/"}, ["ntm:requestPrefix"]),
        ({"ntm:eventSource": "aws.tuning"}, ["ntm:eventSource"]),
        ({"ntm:resultsBusName": "default"}, ["ntm:resultsBusName"]),
        ({"ntm:stackName": "1stack"}, ["ntm:stackName"]),
        ({"ntm:powertoolsLayerParameter": "no-slash"}, ["ntm:powertoolsLayerParameter"]),
        ({"ntm:instanceTyp": "ml.g5.xlarge"}, ["ntm:instanceTyp"]),
        # Prices, the cost cap and concurrency.
        (
            {"ntm:allowedInstanceTypes": "ml.g4dn.xlarge,ml.m5.large"},
            ["ntm:instancePrices", "ntm:allowedInstanceTypes"],
        ),
        ({"ntm:instancePrices": "{not json"}, ["ntm:instancePrices"]),
        ({"ntm:instancePrices": "[0.5]"}, ["ntm:instancePrices"]),
        ({"ntm:instancePrices": {}}, ["ntm:instancePrices"]),
        ({"ntm:instancePrices": {"g4dn.xlarge": 0.7}}, ["ntm:instancePrices"]),
        ({"ntm:instancePrices": {"ml.g4dn.xlarge": "cheap"}}, ["ntm:instancePrices"]),
        ({"ntm:instancePrices": {"ml.g4dn.xlarge": True}}, ["ntm:instancePrices"]),
        (
            {"ntm:instancePrices": {"ml.g4dn.xlarge": -1, "ml.g5.xlarge": 1, "ml.p3.2xlarge": 1}},
            ["ntm:instancePrices"],
        ),
        ({"ntm:pricesAsOf": ""}, ["ntm:pricesAsOf"]),
        ({"ntm:pricesAsOf": 2026}, ["ntm:pricesAsOf"]),
        ({"ntm:maxRequestCostUsd": "0"}, ["ntm:maxRequestCostUsd"]),
        ({"ntm:maxRequestCostUsd": "-5"}, ["ntm:maxRequestCostUsd"]),
        ({"ntm:maxRequestCostUsd": "lots"}, ["ntm:maxRequestCostUsd"]),
        ({"ntm:maxRequestCostUsd": "inf"}, ["ntm:maxRequestCostUsd"]),
        ({"ntm:maxRequestCostUsd": True}, ["ntm:maxRequestCostUsd"]),
        ({"ntm:maxConcurrentTuningJobs": "0"}, ["ntm:maxConcurrentTuningJobs"]),
        ({"ntm:maxConcurrentTuningJobs": "101"}, ["ntm:maxConcurrentTuningJobs"]),
        ({"ntm:maxConcurrentTuningJobs": "1.5"}, ["ntm:maxConcurrentTuningJobs"]),
        # Capacity waits, alarms and the ledger.
        ({"ntm:capacityWaitSeconds": "9"}, ["ntm:capacityWaitSeconds"]),
        ({"ntm:capacityWaitSeconds": "3601"}, ["ntm:capacityWaitSeconds"]),
        ({"ntm:capacityWaitSeconds": "soon"}, ["ntm:capacityWaitSeconds"]),
        ({"ntm:alarmEmail": "ops"}, ["ntm:alarmEmail"]),
        ({"ntm:alarmEmail": "ops@example"}, ["ntm:alarmEmail"]),
        ({"ntm:alarmEmail": "a b@example.com"}, ["ntm:alarmEmail"]),
        ({"ntm:alarmEmail": 42}, ["ntm:alarmEmail"]),
        ({"ntm:ledgerRetentionDays": "0"}, ["ntm:ledgerRetentionDays"]),
        ({"ntm:ledgerRetentionDays": "3654"}, ["ntm:ledgerRetentionDays"]),
        ({"ntm:ledgerRetentionDays": "month"}, ["ntm:ledgerRetentionDays"]),
        # Dataset preparation.
        ({"ntm:processingInstanceType": "m5.xlarge"}, ["ntm:processingInstanceType"]),
        ({"ntm:processingInstanceType": "ml.m5"}, ["ntm:processingInstanceType"]),
        ({"ntm:processingInstanceType": 4}, ["ntm:processingInstanceType"]),
        ({"ntm:processingVolumeSizeGb": "0"}, ["ntm:processingVolumeSizeGb"]),
        ({"ntm:processingVolumeSizeGb": "16385"}, ["ntm:processingVolumeSizeGb"]),
        ({"ntm:processingVolumeSizeGb": "big"}, ["ntm:processingVolumeSizeGb"]),
        ({"ntm:processingMaxRuntimeSeconds": "0"}, ["ntm:processingMaxRuntimeSeconds"]),
        ({"ntm:processingMaxRuntimeSeconds": "777601"}, ["ntm:processingMaxRuntimeSeconds"]),
        ({"ntm:processingMaxRuntimeSeconds": "1.5"}, ["ntm:processingMaxRuntimeSeconds"]),
        ({"ntm:preparedPrefix": "datasets/prepared"}, ["ntm:preparedPrefix"]),
        ({"ntm:preparedPrefix": "/datasets/"}, ["ntm:preparedPrefix"]),
        ({"ntm:preparedPrefix": "data*/"}, ["ntm:preparedPrefix"]),
        ({"ntm:preparedPrefix": "datasets//"}, ["ntm:preparedPrefix"]),
        ({"ntm:preparedPrefix": ""}, ["ntm:preparedPrefix"]),
        # A prepared dataset's dataset.json must not look like a request, and the reverse.
        ({"ntm:preparedPrefix": "requests/prepared/"}, ["ntm:preparedPrefix", "ntm:requestPrefix"]),
        (
            {"ntm:requestPrefix": "datasets/prepared/in/"},
            ["ntm:preparedPrefix", "ntm:requestPrefix"],
        ),
        ({"ntm:preparedPrefix": "requests/"}, ["ntm:preparedPrefix", "ntm:requestPrefix"]),
    ],
)
def test_bad_values_name_their_context_key(context: dict[str, Any], keys: list[str]) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(context)
    for key in keys:
        assert key in str(caught.value)


def test_new_keys_have_their_documented_defaults(cdk_context: dict[str, Any]) -> None:
    config = load_config(cdk_context)
    assert config.capacity_wait_seconds == 60
    assert config.alarm_email is None
    assert config.ledger_ttl_days == 30
    tuning = config.tuning
    assert tuning.allowed_instance_types == ("ml.g4dn.xlarge", "ml.g5.xlarge", "ml.p3.2xlarge")
    assert set(tuning.allowed_instance_types) <= set(tuning.instance_prices)
    assert cdk_context["ntm:instancePrices"] == tuning.instance_prices
    assert cdk_context["ntm:pricesAsOf"] == tuning.prices_as_of
    assert cdk_context["ntm:maxRequestCostUsd"] == tuning.max_request_cost_usd
    assert cdk_context["ntm:maxConcurrentTuningJobs"] == tuning.max_concurrent_jobs


def test_preparation_keys_have_their_documented_defaults(cdk_context: dict[str, Any]) -> None:
    for config in (load_config(cdk_context), load_config({})):
        assert config.processing_instance_type == "ml.m5.xlarge"
        assert config.processing_volume_size_gb == 30
        assert config.processing_max_runtime_seconds == 7200
        assert config.prepared_prefix == "datasets/prepared/"


def test_preparation_keys_from_the_command_line() -> None:
    config = load_config(
        {
            "ntm:processingInstanceType": "ml.m5.4xlarge",
            "ntm:processingVolumeSizeGb": "100",
            "ntm:processingMaxRuntimeSeconds": "86400",
            "ntm:preparedPrefix": "corpora/ready/",
        }
    )
    assert config.processing_instance_type == "ml.m5.4xlarge"
    assert config.processing_volume_size_gb == 100
    assert config.processing_max_runtime_seconds == 86400
    assert config.prepared_prefix == "corpora/ready/"


def test_prices_cost_cap_and_email_from_the_command_line() -> None:
    config = load_config(
        {
            "ntm:instancePrices": '{"ml.g4dn.xlarge": 0.5, "ml.g5.xlarge": 1, "ml.p3.2xlarge": 3}',
            "ntm:pricesAsOf": "2025-01-01 eu-west-1",
            "ntm:maxRequestCostUsd": "12.5",
            "ntm:maxConcurrentTuningJobs": "4",
            "ntm:capacityWaitSeconds": "300",
            "ntm:alarmEmail": "ops@example.com",
            "ntm:ledgerRetentionDays": "90",
        }
    )
    assert config.tuning.instance_prices == {
        "ml.g4dn.xlarge": 0.5,
        "ml.g5.xlarge": 1.0,
        "ml.p3.2xlarge": 3.0,
    }
    assert config.tuning.prices_as_of == "2025-01-01 eu-west-1"
    assert config.tuning.max_request_cost_usd == 12.5
    assert config.tuning.max_concurrent_jobs == 4
    assert config.capacity_wait_seconds == 300
    assert config.alarm_email == "ops@example.com"
    assert config.ledger_ttl_days == 90


@pytest.mark.parametrize("value", [None, "null", "", "none"])
def test_null_cost_cap_means_no_cap(value: Any) -> None:
    """An explicit null turns the guardrail off; it does not fall back to the default."""
    assert load_config({"ntm:maxRequestCostUsd": value}).tuning.max_request_cost_usd is None
    assert load_config({}).tuning.max_request_cost_usd == 50.0


@pytest.mark.parametrize("value", [None, "null", ""])
def test_null_alarm_email_means_no_subscription(value: Any) -> None:
    assert load_config({"ntm:alarmEmail": value}).alarm_email is None


def test_try_get_context_style_lookup() -> None:
    context = {"ntm:numTopics": "50"}
    assert load_config(context.get).tuning.num_topics == 50


def test_app_exits_with_the_key_in_the_message() -> None:
    """`cdk synth -c ntm:instanceCount=0` reaches app.py as CDK_CONTEXT_JSON."""
    env = {
        **os.environ,
        "CDK_CONTEXT_JSON": json.dumps({"ntm:instanceCount": "0"}),
        "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
    }
    result = subprocess.run(
        [sys.executable, str(ROOT / "app.py")],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode != 0
    assert "Invalid configuration: ntm:instanceCount" in result.stderr
    assert "Traceback" not in result.stderr


def _documented_defaults() -> dict[str, str]:
    """The README's configuration table: context key -> its default as written there."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text[text.index("## Configuration") : text.index("## What a run costs")]
    documented: dict[str, str] = {}
    for line in section.splitlines():
        if not line.startswith("| `ntm:"):
            continue
        keys_cell, default_cell = line.split("|")[1:3]
        keys = [key.strip().strip("`") for key in keys_cell.split(" / ")]
        defaults = [value.strip() for value in default_cell.split(" / ")]
        if len(defaults) != len(keys):
            defaults = [default_cell.strip()]
        documented.update(zip(keys, defaults, strict=True))
    return documented


def _as_documented(value: Any) -> str:
    if value is None or isinstance(value, bool):
        return json.dumps(value)
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, tuple):
        return ", ".join(value)
    if isinstance(value, dict):
        return ", ".join(f"{k.removeprefix('ml.')} {v:g}" for k, v in value.items())
    return str(value)


def test_the_readme_documents_every_key_with_its_default() -> None:
    documented = _documented_defaults()
    assert set(documented) == {spec.key for spec in CONTEXT_KEYS}
    config = PipelineConfig()
    for spec in CONTEXT_KEYS:
        default = getattr(config.tuning if spec.tuning else config, spec.field)
        # The first word of the cell, without code quotes ("67108864 (64 MiB)").
        written = documented[spec.key].strip("`")
        assert written == _as_documented(default) or written.split(" (")[0] == str(default), (
            spec.key,
            written,
            default,
        )
