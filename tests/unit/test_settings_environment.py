"""The deployment's settings written as environment variables (``Settings.environment``) and
read back (``Settings.from_env``): the whole set, the required ones only, and a function's own
subset, whose absent settings raise ``MissingSetting`` naming their variable."""

from __future__ import annotations

import json
from typing import ClassVar

import pytest
from ntm_tuning.settings import Key, MissingSetting, Settings, TuningDefaults
from pydantic import ValidationError

NAMES = {
    "DATA_BUCKET": "data-b",
    "ARTIFACTS_BUCKET": "artifacts-b",
    "KMS_KEY_ARN": "arn:aws:kms:eu-west-1:210987654321:key/k",
    "SAGEMAKER_ROLE_ARN": "arn:aws:iam::210987654321:role/training",
    "TRAINING_IMAGE": "image-t",
    "EVENT_BUS_NAME": "bus-e",
    "LEDGER_TABLE": "table-l",
    "PROCESSING_ROLE_ARN": "arn:aws:iam::210987654321:role/processing",
    "PROCESSING_IMAGE": "image-p",
    "PREPARATION_CODE_URI": "s3://code/p.zip",
}
# Every configurable setting away from its default, each value distinct.
CONFIGURED = {
    "EVENT_SOURCE": "ntm.custom",
    "REQUEST_PREFIX": "incoming/",
    "LEDGER_TTL_DAYS": "45",
    "PROCESSING_INSTANCE_TYPE": "ml.c5.2xlarge",
    "PROCESSING_VOLUME_SIZE_GB": "55",
    "PROCESSING_MAX_RUNTIME_SECONDS": "5400",
    "PREPARED_PREFIX": "ready/",
    "OUTPUT_PREFIX": "jobs-out/",
    "REPORT_PREFIX": "reports-out/",
}
TUNING = TuningDefaults(max_jobs=12, max_parallel_jobs=3, num_topics=7, epochs=9)


def full_environment() -> dict[str, str]:
    return {
        **NAMES,
        **CONFIGURED,
        "TUNING_DEFAULTS": json.dumps(TUNING.model_dump(mode="json")),
    }


def test_every_variable_is_read_into_its_own_field() -> None:
    settings = Settings.from_env(full_environment())
    assert settings.data_bucket == "data-b"
    assert settings.artifacts_bucket == "artifacts-b"
    assert settings.kms_key_arn == NAMES["KMS_KEY_ARN"]
    assert settings.sagemaker_role_arn == NAMES["SAGEMAKER_ROLE_ARN"]
    assert settings.training_image == "image-t"
    assert settings.event_bus_name == "bus-e"
    assert settings.ledger_table == "table-l"
    assert settings.processing_role_arn == NAMES["PROCESSING_ROLE_ARN"]
    assert settings.processing_image == "image-p"
    assert settings.preparation_code_uri == "s3://code/p.zip"
    assert settings.event_source == "ntm.custom"
    assert settings.request_prefix == "incoming/"
    assert settings.ledger_ttl_days == 45
    assert settings.processing_instance_type == "ml.c5.2xlarge"
    assert settings.processing_volume_size_gb == 55
    assert settings.processing_max_runtime_seconds == 5400
    assert settings.prepared_prefix == "ready/"
    assert settings.output_prefix == "jobs-out/"
    assert settings.report_prefix == "reports-out/"
    assert settings.tuning == TUNING


def test_the_environment_written_is_the_environment_read() -> None:
    settings = Settings.from_env(full_environment())
    written = settings.environment()
    assert written.keys() == full_environment().keys()
    assert {name: written[name] for name in [*NAMES, *CONFIGURED]} == {**NAMES, **CONFIGURED}
    assert json.loads(written["TUNING_DEFAULTS"]) == TUNING.model_dump(mode="json")
    assert Settings.from_env(written) == settings


def test_with_the_required_variables_only_the_rest_take_their_defaults() -> None:
    settings = Settings.from_env(NAMES)
    assert settings.event_source == "ntm.tuning"
    assert settings.request_prefix == "requests/"
    assert settings.ledger_ttl_days == 30
    assert settings.prepared_prefix == "datasets/prepared/"
    assert settings.output_prefix == "tuning-jobs/"
    assert settings.tuning == TuningDefaults()
    assert settings.data_bucket == "data-b"


def test_with_every_variable_the_cross_field_rules_apply() -> None:
    overlapping = {**full_environment(), "PREPARED_PREFIX": "incoming/prepared/"}
    with pytest.raises(ValidationError, match="must not contain one another"):
        Settings.from_env(overlapping)


def test_a_functions_own_subset_is_read_field_by_field() -> None:
    given = {
        "LEDGER_TTL_DAYS": "45",
        "DATA_BUCKET": "data-b",
        "TUNING_DEFAULTS": json.dumps(TUNING.model_dump(mode="json")),
        # Each alone is a valid prefix; together they would break a cross-field rule, which
        # ran at synth and is not run again on a subset.
        "REQUEST_PREFIX": "incoming/",
        "PREPARED_PREFIX": "incoming/ready/",
    }
    settings = Settings.from_env(given)
    assert settings.ledger_ttl_days == 45
    assert settings.data_bucket == "data-b"
    assert settings.tuning == TUNING
    assert settings.request_prefix == "incoming/"
    assert settings.prepared_prefix == "incoming/ready/"
    assert settings.model_fields_set == {
        "ledger_ttl_days",
        "data_bucket",
        "tuning",
        "request_prefix",
        "prepared_prefix",
    }


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("LEDGER_TTL_DAYS", "0"),
        ("LEDGER_TTL_DAYS", "3654"),
        ("LEDGER_TTL_DAYS", "forty-five"),
        ("PROCESSING_VOLUME_SIZE_GB", "16385"),
        ("PROCESSING_MAX_RUNTIME_SECONDS", "777601"),
        ("EVENT_SOURCE", ""),
        ("TUNING_DEFAULTS", '{"max_jobs": 0}'),
    ],
)
def test_a_subset_still_holds_each_value_to_its_type_and_bounds(variable: str, value: str) -> None:
    with pytest.raises(ValidationError):
        Settings.from_env({"DATA_BUCKET": "data-b", variable: value})


@pytest.mark.parametrize(
    ("name", "variable"),
    [
        ("event_source", "EVENT_SOURCE"),
        ("ledger_table", "LEDGER_TABLE"),
        ("tuning", "TUNING_DEFAULTS"),
    ],
)
def test_a_setting_outside_the_subset_names_its_variable(name: str, variable: str) -> None:
    settings = Settings.from_env({"DATA_BUCKET": "data-b"})
    with pytest.raises(MissingSetting) as raised:
        getattr(settings, name)
    assert str(raised.value) == (
        f"{variable} is not in this function's environment: declare {name!r} in its "
        "settings (infra/functions.py)"
    )


def test_an_attribute_that_is_no_setting_is_a_plain_attribute_error() -> None:
    settings = Settings.from_env({"DATA_BUCKET": "data-b"})
    with pytest.raises(AttributeError) as raised:
        settings.not_a_setting  # noqa: B018
    assert type(raised.value) is AttributeError
    assert str(raised.value) == "'Settings' object has no attribute 'not_a_setting'"


def test_each_setting_has_its_variable() -> None:
    assert Settings.variable("ledger_ttl_days") == "LEDGER_TTL_DAYS"
    assert Settings.variable("tuning") == "TUNING_DEFAULTS"
    assert Settings.variable("report_prefix") == "REPORT_PREFIX"
    with pytest.raises(TypeError) as raised:
        Settings.variable("not_a_setting")
    assert str(raised.value) == "Settings.not_a_setting has no environment variable (KEYS)"


class _ContextOnly(Settings):
    """A key with a context key and no variable (as the stack-only settings have)."""

    KEYS: ClassVar = {**Settings.KEYS, "stack_only": Key("stackOnly")}


def test_a_key_without_a_variable_has_none() -> None:
    with pytest.raises(TypeError, match=r"^Settings\.stack_only has no environment variable"):
        _ContextOnly.variable("stack_only")
