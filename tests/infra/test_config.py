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
    ],
)
def test_bad_values_name_their_context_key(context: dict[str, Any], keys: list[str]) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(context)
    for key in keys:
        assert key in str(caught.value)


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
