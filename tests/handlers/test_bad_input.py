"""Bad input, generated: whatever arrives, the request path ends in exactly one Rejected
event naming the field and the rule (or, for objects that are not requests, in nothing),
never in an unhandled error, never in a tuning job."""

from __future__ import annotations

import itertools
import json
import math
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ntm_tuning.handlers import publish_outcome, validate_request
from ntm_tuning.ntm import HYPERPARAMETERS, Kind

from tests.handlers.conftest import Aws, LambdaContext
from tests.settings_factory import example_request

EXECUTION = "arn:aws:states:us-east-1:123456789012:execution:ntm:property"
property_settings = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
_keys = itertools.count()

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=20,
)


def handle(
    aws: Aws, context: LambdaContext, body: bytes | str, key: str | None = None
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Validate one upload, publish its outcome if it has one; the result and the events."""
    delivery = aws.put_request(body, key=key or f"requests/property-{next(_keys)}.json")
    result = validate_request.handler({"delivery": delivery, "execution_id": EXECUTION}, context)
    if result["outcome"] == "rejected":
        publish_outcome.handler(
            {
                "detail_type": "NTM Tuning Request Rejected",
                "state": result,
                "execution_id": EXECUTION,
            },
            context,
        )
    return result, aws.published()


def assert_rejected(result: dict[str, Any], events: list[dict[str, Any]]) -> list[dict[str, str]]:
    assert result["outcome"] == "rejected", result
    assert [e["detail-type"] for e in events] == ["NTM Tuning Request Rejected"]
    violations: list[dict[str, str]] = events[0]["detail"]["violations"]
    assert violations and all(v["field"] and v["rule"] and v["message"] for v in violations)
    return violations


def no_jobs(aws: Aws) -> None:
    assert (
        aws.sagemaker.list_hyper_parameter_tuning_jobs()["HyperParameterTuningJobSummaries"] == []
    )


@property_settings
@given(body=json_values)
def test_arbitrary_json_is_rejected(aws: Aws, context: LambdaContext, body: Any) -> None:
    assert_rejected(*handle(aws, context, json.dumps(body)))
    no_jobs(aws)


@property_settings
@given(body=st.binary(max_size=300))
def test_arbitrary_bytes_are_rejected(aws: Aws, context: LambdaContext, body: bytes) -> None:
    violations = assert_rejected(*handle(aws, context, body))
    assert (
        violations[0]["field"] in {"request", "data"} or violations[0]["rule"] == "extra_forbidden"
    )


WRONG_TYPES = st.one_of(
    st.none(),
    st.booleans(),
    st.text(max_size=5),
    st.lists(st.integers(), max_size=2),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)
BAD_NUMBERS = st.one_of(
    st.sampled_from([math.inf, -math.inf, math.nan, 10**400, -(10**30), 1e308, -1]),
    st.integers(max_value=-1),
)


@st.composite
def broken_requests(draw: st.DrawFn) -> tuple[dict[str, Any], str]:
    """A valid request with one thing broken; the top-level field that was broken."""
    body = example_request()
    kind = draw(st.sampled_from(["type", "number", "unknown", "static", "range"]))
    if kind == "type":
        field = draw(
            st.sampled_from(
                [
                    "data",
                    "hyperparameters",
                    "ranges",
                    "resources",
                    "resource_limits",
                    "tags",
                    "strategy",
                    "random_seed",
                    "name",
                ]
            )
        )
        if field in {"strategy", "random_seed", "name"}:
            # Optional scalars: anything but null and the valid values.
            value = draw(
                st.one_of(
                    st.booleans(),
                    st.lists(st.integers(), max_size=2),
                    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
                    st.floats(allow_nan=True),
                )
                | (
                    st.text(max_size=5).filter(
                        lambda t: t not in {"Bayesian", "Random", "Hyperband", "Grid"}
                    )
                    if field == "strategy"
                    else st.nothing()
                )
            )
        else:
            value = draw(WRONG_TYPES.filter(lambda v: not isinstance(v, dict)))
        body[field] = value
        return body, field
    if kind == "number":
        field, sub = draw(
            st.sampled_from(
                [
                    ("resources", "instance_count"),
                    ("resources", "max_runtime_seconds"),
                    ("resource_limits", "max_jobs"),
                    ("resource_limits", "max_parallel_jobs"),
                    ("resources", "volume_size_gb"),
                    ("random_seed", None),
                ]
            )
        )
        value = draw(BAD_NUMBERS)
        if sub is None:
            body[field] = value
        else:
            body[field] = {sub: value}
        return body, field
    if kind == "unknown":
        key = draw(
            st.text(min_size=1, max_size=12).filter(
                lambda k: (
                    k not in body
                    and k
                    not in {
                        "idempotency_key",
                        "early_stopping",
                        "completion_criteria",
                        "warm_start",
                        "hyperband",
                    }
                )
            )
        )
        body[key] = draw(json_values)
        return body, key
    if kind == "static":
        name = draw(
            st.sampled_from(
                sorted(
                    n for n, h in HYPERPARAMETERS.items() if h.kind in (Kind.INTEGER, Kind.FLOAT)
                )
            )
        )
        spec = HYPERPARAMETERS[name]
        over = (
            (spec.maximum or 1e6) * draw(st.sampled_from([2, 10, 1e6]))
            if spec.maximum is not None
            else None
        )
        choices = [
            v for v in [over, (spec.minimum or 0) - 1, math.inf, math.nan, "ten"] if v is not None
        ]
        body["hyperparameters"] = {name: draw(st.sampled_from(choices))}
        return body, "hyperparameters"
    name = draw(
        st.sampled_from(["learning_rate", "rescale_gradient", "weight_decay", "mini_batch_size"])
    )
    low, high = draw(
        st.sampled_from([(0.5, 0.1), (-1.0, 0.5), (0.0, 1e9), (math.nan, 1.0), (1.0, math.inf)])
    )
    kind_name = "Integer" if name == "mini_batch_size" else "Continuous"
    if kind_name == "Integer":
        body["ranges"] = {
            name: {
                "type": kind_name,
                "min": int(low) if math.isfinite(low) else low,
                "max": int(high) if math.isfinite(high) and high < 1e18 else high,
            }
        }
    else:
        body["ranges"] = {name: {"type": kind_name, "min": low, "max": high}}
    return body, "ranges"


@property_settings
@given(case=broken_requests())
def test_a_broken_field_is_named_in_the_rejection(
    aws: Aws, context: LambdaContext, case: tuple[dict[str, Any], str]
) -> None:
    body, field = case
    aws.put_dataset()
    violations = assert_rejected(*handle(aws, context, json.dumps(body)))
    assert any(v["field"] == field or v["field"].startswith(f"{field}.") for v in violations), (
        violations
    )
    no_jobs(aws)


def test_huge_and_empty_documents_are_rejected(aws: Aws, context: LambdaContext) -> None:
    huge = json.dumps({**example_request(), "name": "x", "tags": {"pad": "y"}}) + " " * (256 * 1024)
    assert assert_rejected(*handle(aws, context, huge))[0]["rule"] == "max_size"
    assert assert_rejected(*handle(aws, context, b""))[0]["rule"] == "json"
    assert assert_rejected(*handle(aws, context, "{}"))[0]["field"] == "data"


def test_deeply_nested_json_is_rejected_not_crashed(aws: Aws, context: LambdaContext) -> None:
    body = "[" * 100_000 + "]" * 100_000
    assert assert_rejected(*handle(aws, context, body))[0]["field"] == "request"


@property_settings
@given(
    key=st.text(
        alphabet=st.characters(codec="utf-8", exclude_characters="\x00"), min_size=1, max_size=40
    )
)
def test_objects_outside_the_request_prefix_produce_no_event(
    aws: Aws, context: LambdaContext, key: str
) -> None:
    result, events = handle(aws, context, json.dumps(example_request()), key=f"incoming/{key}")
    assert result["outcome"] == "ignored"
    assert events == []


@property_settings
@given(
    bucket=st.from_regex(r"[a-z0-9][a-z0-9-]{2,40}", fullmatch=True),
    channel=st.sampled_from(["train", "validation", "test", "auxiliary"]),
)
def test_data_outside_the_stacks_buckets_is_rejected(
    aws: Aws, context: LambdaContext, bucket: str, channel: str
) -> None:
    body = example_request()
    body["data"][channel] = f"s3://{bucket}x/datasets/"
    violations = assert_rejected(*handle(aws, context, json.dumps(body)))
    assert {"field": f"data.{channel}", "rule": "inside_data_bucket"} in [
        {k: v[k] for k in ("field", "rule")} for v in violations
    ]


@property_settings
@given(
    lines=st.integers(min_value=1, max_value=300),
    offset=st.integers(min_value=-50, max_value=50).filter(bool),
)
def test_vocabulary_that_does_not_match_feature_dim_is_rejected(
    aws: Aws, context: LambdaContext, lines: int, offset: int
) -> None:
    aws.put_dataset(vocabulary=lines)
    body = example_request(hyperparameters={"num_topics": 5, "feature_dim": max(1, lines + offset)})
    if lines + offset < 1:
        return
    violations = assert_rejected(*handle(aws, context, json.dumps(body)))
    assert ("hyperparameters.feature_dim", "matches_vocabulary") in [
        (v["field"], v["rule"]) for v in violations
    ]
