"""Deployment configuration, resolved once from CDK context into a frozen, validated object.

Every setting has a flat context key under the ``ntm:`` prefix (cdk.json ``context`` holds the
defaults; ``cdk synth -c ntm:maxJobs=40`` overrides one). Values given with ``-c`` arrive as
strings, so each key is coerced to its field's type before validation, and every error names
the key that caused it.

The settings the handlers also read are declared once, with their context keys and environment
variables, in ``ntm_tuning.settings`` (``TuningDefaults``, ``DeploymentSettings``); the ones only
the stack reads are declared here, the same way. The context keys are taken from their KEYS.
"""

from __future__ import annotations

import json
import math
import re
import types
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Literal, Union, get_args, get_origin

from ntm_tuning.settings import (
    CONTEXT_PREFIX,
    DeploymentSettings,
    Key,
    Settings,
    TuningDefaults,
)
from pydantic import (
    Field,
    ValidationError,
    field_validator,
)

# Fixed parts of the contract with the handlers, taken from their settings model; not
# configurable because the IAM policies are scoped to them.
OUTPUT_PREFIX: str = Settings.model_fields["output_prefix"].default
REPORT_PREFIX: str = Settings.model_fields["report_prefix"].default

# The values CloudWatch Logs accepts for RetentionInDays.
# fmt: off
LOG_RETENTION_DAYS = (
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731,
    1096, 1827, 2192, 2557, 2922, 3288, 3653,
)
# fmt: on

# Deliberately simple: SNS itself checks the address when the subscription is confirmed.
EMAIL = re.compile(
    r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}"
)


class ConfigError(ValueError):
    """A context value is missing, malformed or inconsistent; the message names the key."""


class PipelineConfig(DeploymentSettings):
    """Everything the stack needs to know, validated before any construct is created."""

    stack_name: str = Field(default="NtmTuning", pattern=r"^[A-Za-z][A-Za-z0-9-]{0,127}$")
    results_bus_name: str = Field(
        default="ntm-tuning-results", pattern=r"^[/\.\-_A-Za-z0-9]{1,256}$"
    )
    poll_interval_seconds: int = Field(default=60, ge=10, le=3600)
    removal_policy: Literal["retain", "destroy"] = "retain"
    archive_retention_days: int = Field(default=30, ge=1, le=3653)
    log_retention_days: int = 30
    # How long an execution waits before asking again for one of the concurrent job slots.
    capacity_wait_seconds: int = Field(default=60, ge=10, le=3600)
    # Where alarm notifications go (an email subscription to the alarm topic); none if null.
    alarm_email: str | None = None
    powertools_layer_parameter: str = Field(
        default="/aws/service/powertools/python/arm64/python3.12/3.37.0",
        pattern=r"^/[A-Za-z0-9_.\-/]+$",
    )
    # A Powertools layer version ARN to use as it is, instead of resolving the parameter above
    # at deploy time (some releases' versioned parameters were published late or not at all).
    powertools_layer_arn: str | None = Field(
        default=None,
        pattern=r"^arn:aws[a-z-]*:lambda:[a-z0-9-]+:\d{12}:layer:[A-Za-z0-9_-]+:\d+$",
    )

    KEYS: ClassVar[Mapping[str, Key]] = {
        **DeploymentSettings.KEYS,
        "stack_name": Key("stackName"),
        "results_bus_name": Key("resultsBusName"),
        "poll_interval_seconds": Key("pollIntervalSeconds"),
        "removal_policy": Key("removalPolicy"),
        "archive_retention_days": Key("archiveRetentionDays"),
        "log_retention_days": Key("logRetentionDays"),
        "capacity_wait_seconds": Key("capacityWaitSeconds"),
        "alarm_email": Key("alarmEmail"),
        "powertools_layer_parameter": Key("powertoolsLayerParameter"),
        "powertools_layer_arn": Key("powertoolsLayerArn"),
    }

    @field_validator("results_bus_name")
    @classmethod
    def _not_default_bus(cls, value: str) -> str:
        if value == "default":
            raise ValueError("must name a custom bus, not the default bus")
        return value

    @field_validator("alarm_email")
    @classmethod
    def _email(cls, value: str | None) -> str | None:
        if value is not None and not EMAIL.fullmatch(value):
            raise ValueError("must be an email address, e.g. 'ops@example.com', or null")
        return value

    @field_validator("log_retention_days")
    @classmethod
    def _cloudwatch_retention(cls, value: int) -> int:
        if value not in LOG_RETENTION_DAYS:
            raise ValueError(f"must be one of {', '.join(map(str, LOG_RETENTION_DAYS))}")
        return value


Kind = Literal[
    "str", "optional_str", "int", "optional_int", "optional_float", "bool", "str_list", "prices"
]


@dataclass(frozen=True)
class ContextKey:
    """How one context key maps onto the configuration."""

    key: str
    field: str
    kind: Kind
    tuning: bool = False


def _kind(annotation: Any) -> Kind:
    """How a context value of a field of this type is read (from JSON, or a `-c` string)."""
    optional = False
    if get_origin(annotation) in (Union, types.UnionType):
        members = [arg for arg in get_args(annotation) if arg is not type(None)]
        optional = len(members) < len(get_args(annotation))
        if len(members) != 1:
            raise TypeError(f"no context kind for {annotation!r}")
        (annotation,) = members
    origin = get_origin(annotation)
    if origin is Literal and all(isinstance(arg, str) for arg in get_args(annotation)):
        annotation = str
        origin = None
    kinds: dict[Any, Kind] = {
        (str, False): "str",
        (str, True): "optional_str",
        (int, False): "int",
        (int, True): "optional_int",
        (float, True): "optional_float",
        (bool, False): "bool",
    }
    if origin is None and (annotation, optional) in kinds:
        return kinds[(annotation, optional)]
    if not optional and origin is tuple and get_args(annotation) == (str, ...):
        return "str_list"
    if not optional and origin is dict and get_args(annotation) == (str, float):
        return "prices"
    raise TypeError(f"no context kind for {annotation!r}")


def _context_keys(
    model: type[TuningDefaults | PipelineConfig], *, tuning: bool
) -> tuple[ContextKey, ...]:
    keys = []
    for name, field in model.model_fields.items():
        key = model.KEYS.get(name)
        if key is not None and key.context is not None:
            keys.append(
                ContextKey(CONTEXT_PREFIX + key.context, name, _kind(field.annotation), tuning)
            )
    return tuple(keys)


CONTEXT_KEYS: tuple[ContextKey, ...] = _context_keys(TuningDefaults, tuning=True) + _context_keys(
    PipelineConfig, tuning=False
)
_BY_FIELD = {(k.tuning, k.field): k for k in CONTEXT_KEYS}

_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off"}
_NONE = {"", "null", "none"}


def _coerce(spec: ContextKey, value: Any) -> Any:
    """Turn a context value (JSON from cdk.json, or a string from `-c`) into the field's type."""
    if spec.kind.startswith("optional_") and (
        value is None or (isinstance(value, str) and value.strip().lower() in _NONE)
    ):
        return None
    if spec.kind == "optional_float":
        return _number(spec, value)
    if spec.kind == "prices":
        return _prices(spec, value)
    if spec.kind in ("int", "optional_int"):
        if isinstance(value, bool):
            raise ConfigError(f"{spec.key}: expected an integer, got {value!r}")
        if isinstance(value, int):
            return value
        if isinstance(value, str) and re.fullmatch(r"\s*[+-]?\d+\s*", value):
            return int(value)
        raise ConfigError(f"{spec.key}: expected an integer, got {value!r}")
    if spec.kind == "bool":
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
            return value.strip().lower() in _TRUE
        raise ConfigError(f"{spec.key}: expected true or false, got {value!r}")
    if spec.kind == "str_list":
        items = value
        if isinstance(value, str):
            text = value.strip()
            if text.startswith("["):
                try:
                    items = json.loads(text)
                except json.JSONDecodeError as err:
                    raise ConfigError(f"{spec.key}: not a valid JSON list ({err.msg})") from err
            else:
                items = [part.strip() for part in text.split(",") if part.strip()]
        if not isinstance(items, list) or not all(isinstance(i, str) and i for i in items):
            raise ConfigError(
                f"{spec.key}: expected a list of strings (JSON or comma-separated), got {value!r}"
            )
        return tuple(items)
    if not isinstance(value, str):
        raise ConfigError(f"{spec.key}: expected a string, got {value!r}")
    return value


NUMBER = re.compile(r"\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*")


def _number(spec: ContextKey, value: Any) -> float:
    """A finite number, from JSON or from a `-c` string."""
    is_number = isinstance(value, int | float) and not isinstance(value, bool)
    if not (is_number or (isinstance(value, str) and NUMBER.fullmatch(value))):
        raise ConfigError(f"{spec.key}: expected a number, got {value!r}")
    number = float(value)
    if not math.isfinite(number):
        raise ConfigError(f"{spec.key}: expected a number, got {value!r}")
    return number


def _prices(spec: ContextKey, value: Any) -> dict[str, float]:
    """A JSON object of instance type -> USD per instance-hour (a `-c` value is JSON text)."""
    prices = value
    if isinstance(value, str):
        try:
            prices = json.loads(value)
        except json.JSONDecodeError as err:
            raise ConfigError(f"{spec.key}: not a valid JSON object ({err.msg})") from err
    if not isinstance(prices, dict) or not prices:
        raise ConfigError(
            f"{spec.key}: expected a JSON object of instance type to USD per hour, "
            f'e.g. {{"ml.g4dn.xlarge": 0.736}}, got {value!r}'
        )
    result: dict[str, float] = {}
    for instance_type, price in prices.items():
        if not isinstance(instance_type, str) or not instance_type.startswith("ml."):
            raise ConfigError(
                f"{spec.key}: {instance_type!r} is not a SageMaker instance type (ml.*)"
            )
        if isinstance(price, bool) or not isinstance(price, int | float):
            raise ConfigError(f"{spec.key}: the price of {instance_type} must be a number")
        result[instance_type] = float(price)
    return result


# Keys a cross-field message concerns although it names only one of their fields.
_ALSO_CONCERNS = {"no price for": "allowed_instance_types"}


def _explain(err: ValidationError, *, tuning: bool) -> ConfigError:
    """Rephrase pydantic's errors in terms of context keys."""
    lines = []
    for detail in err.errors():
        loc = [str(part) for part in detail["loc"]]
        message = detail["msg"].removeprefix("Value error, ")
        if loc:
            spec = _BY_FIELD.get((tuning, loc[0]))
            keys = [spec.key] if spec else [".".join(loc)]
            message = f"{message} (got {detail['input']!r})"
        else:
            # Cross-field rules (TuningDefaults' model validator) name fields in their message.
            keys = [
                spec.key
                for spec in CONTEXT_KEYS
                if spec.tuning == tuning and re.search(rf"\b{spec.field}\b", message)
            ]
            if tuning and "spot" in message and _BY_FIELD[(True, "use_spot")].key not in keys:
                keys.append(_BY_FIELD[(True, "use_spot")].key)
            for phrase, field in _ALSO_CONCERNS.items():
                related = _BY_FIELD.get((tuning, field))
                if phrase in message and related and related.key not in keys:
                    keys.append(related.key)
        lines.append(f"{', '.join(keys) or 'configuration'}: {message}")
    return ConfigError("; ".join(lines))


def load_config(get: Callable[[str], Any] | Mapping[str, Any]) -> PipelineConfig:
    """Build the configuration from context: `get` is `node.try_get_context` or a mapping.

    Keys that are absent take the model defaults; `-c` strings are coerced per key.
    """
    lookup: Callable[[str], Any] = get.get if isinstance(get, Mapping) else get
    if isinstance(get, Mapping):
        known = {spec.key for spec in CONTEXT_KEYS}
        unknown = sorted(k for k in get if k.startswith(CONTEXT_PREFIX) and k not in known)
        if unknown:
            raise ConfigError(f"unknown context key(s): {', '.join(unknown)}")

    tuning_values: dict[str, Any] = {}
    pipeline_values: dict[str, Any] = {}
    for spec in CONTEXT_KEYS:
        raw = lookup(spec.key)
        # An explicit null means "none" for optional keys (e.g. no cost cap), not "default";
        # only a mapping tells an explicit null from an absent key.
        explicit_null = isinstance(get, Mapping) and spec.key in get
        if raw is None and not (explicit_null and spec.kind.startswith("optional_")):
            continue
        target = tuning_values if spec.tuning else pipeline_values
        target[spec.field] = _coerce(spec, raw)

    try:
        tuning = TuningDefaults(**tuning_values)
    except ValidationError as err:
        raise _explain(err, tuning=True) from None
    try:
        return PipelineConfig(tuning=tuning, **pipeline_values)
    except ValidationError as err:
        raise _explain(err, tuning=False) from None
