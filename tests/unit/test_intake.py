"""State "Validate request" against fakes: reading the delivered request, what each way of
being wrong says, the claim, and what a corpus request leaves in S3."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from ntm_tuning import naming
from ntm_tuning.errors import Violation
from ntm_tuning.intake import (
    MAX_REQUEST_BYTES,
    assess,
    request_violations,
    validate_request,
    violations_of,
)
from ntm_tuning.request import TuningRequest
from ntm_tuning.tags import REQUEST_ID_TAG
from pydantic import ValidationError

from tests.settings_factory import DATA_BUCKET, make_settings
from tests.settings_factory import example_request as body
from tests.unit.step_fakes import FakeJobs, FakeLedger, FakeStore

NOW = datetime(2026, 11, 27, 12, 30, tzinfo=UTC)
EXECUTION = "execution-1"
SETTINGS = make_settings()
KEY = "requests/run.json"


def s3_delivery(key: str = KEY, bucket: str = DATA_BUCKET, **fields: Any) -> dict[str, Any]:
    return {
        "origin": "s3",
        "event_id": "e-1",
        "bucket": bucket,
        "key": key,
        "version_id": "v-7",
        "etag": "tag",
        **fields,
    }


S3_ID = naming.request_id(naming.s3_identity(DATA_BUCKET, KEY, "v-7", "tag"))
S3_ORIGIN = {"type": "s3", "bucket": DATA_BUCKET, "key": KEY, "version_id": "v-7", "etag": "tag"}


def store_with(request: Any = None, *, raw: bytes | None = None) -> FakeStore:
    store = FakeStore(
        {
            (DATA_BUCKET, "datasets/demo/train/part-0"): b"x",
            (DATA_BUCKET, "datasets/demo/validation/part-0"): b"x",
            (DATA_BUCKET, "datasets/demo/auxiliary/vocab.txt"): b"a\nb\nc\n",
            (DATA_BUCKET, "corpora/demo/doc-1.txt"): b"words",
        }
    )
    if request is not None or raw is not None:
        store.objects[(DATA_BUCKET, KEY)] = (
            raw if raw is not None else json.dumps(request).encode("utf-8")
        )
    return store


def run_assess(delivery: dict[str, Any], store: FakeStore) -> dict[str, Any]:
    return assess(delivery, EXECUTION, SETTINGS, store, jobs=FakeJobs(), now=NOW)


def violations(result: dict[str, Any]) -> list[dict[str, str]]:
    assert result["outcome"] == "rejected", result
    found: list[dict[str, str]] = result["rejection"]["violations"]
    return found


def test_a_request_is_read_at_its_version_with_the_size_limit() -> None:
    store = store_with(body())
    result = run_assess(s3_delivery(), store)
    assert result["outcome"] == "accepted"
    assert store.reads[0] == (DATA_BUCKET, KEY, "v-7", 256 * 1024)
    assert MAX_REQUEST_BYTES == 256 * 1024
    assert result["request_id"] == S3_ID
    assert result["request_name"] == "demo"
    assert result["origin"] == S3_ORIGIN
    assert result["tuning_job_name"] == naming.tuning_job_name(S3_ID)
    static = result["create_request"]["TrainingJobDefinition"]["StaticHyperParameters"]
    assert static["feature_dim"] == "3"


@pytest.mark.parametrize(
    ("raw", "rule", "message"),
    [
        (b"\xff\xfe", "utf8", "is not UTF-8 text (byte 0)"),
        (b'{"a": \xff}', "utf8", "is not UTF-8 text (byte 6)"),
        (b'{\n"a": }', "json", "is not JSON: Expecting value at line 2"),
        (b"[" * 100_000, "json_depth", "nests arrays or objects too deeply"),
        (b"[1, 2]", "json_object", "must be a JSON object"),
        (b" " * (256 * 1024 + 1), "max_size", f"is {256 * 1024 + 1} bytes; at most {256 * 1024}"),
    ],
    ids=["not-utf8", "not-utf8-inside", "not-json", "too-deep", "array", "over-the-limit"],
)
def test_a_request_that_is_no_json_object_is_rejected_saying_why(
    raw: bytes, rule: str, message: str
) -> None:
    result = run_assess(s3_delivery(), store_with(raw=raw))
    assert violations(result) == [{"field": "request", "rule": rule, "message": message}]
    assert result["request_id"] == S3_ID
    assert result["request_name"] is None
    assert result["rejection"]["origin"] == S3_ORIGIN


def test_a_request_at_the_size_limit_is_read() -> None:
    raw = json.dumps(body()).encode("utf-8")
    raw += b" " * (MAX_REQUEST_BYTES - len(raw))
    assert run_assess(s3_delivery(), store_with(raw=raw))["outcome"] == "accepted"


def test_a_request_gone_before_it_was_read_is_rejected_naming_it() -> None:
    result = run_assess(s3_delivery(), store_with())
    assert violations(result) == [
        {"field": "request", "rule": "exists", "message": f"s3://{DATA_BUCKET}/{KEY} is gone"}
    ]


@pytest.mark.parametrize(
    "delivery",
    [
        s3_delivery(bucket="another-bucket"),
        s3_delivery(key="other/run.json"),
        s3_delivery(key="requests/run.txt"),
        s3_delivery(key="requestsrun.json"),
    ],
)
def test_an_object_that_is_no_request_is_ignored_unread(delivery: dict[str, Any]) -> None:
    store = store_with(body())
    result = run_assess(delivery, store)
    assert result["outcome"] == "ignored"
    assert result["request_name"] is None
    assert store.reads == []


def event_delivery(request: Any) -> dict[str, Any]:
    return {"origin": "event", "event_id": "e-5", "source": "tests", "request": request}


def test_an_event_request_is_named_after_its_event() -> None:
    result = run_assess(event_delivery(body()), store_with())
    assert result["outcome"] == "accepted"
    assert result["request_id"] == naming.request_id(naming.event_identity("e-5"))
    assert result["origin"] == {"type": "event", "event_id": "e-5", "source": "tests"}


def test_an_idempotency_key_names_the_request() -> None:
    result = run_assess(event_delivery(body(idempotency_key="k-1")), store_with())
    assert result["request_id"] == naming.request_id(naming.key_identity("k-1"))
    # A rejected request keeps its delivery's id: its key was not checked.
    bad = run_assess(event_delivery(body(idempotency_key="k-1", random_seed=-1)), store_with())
    assert bad["request_id"] == naming.request_id(naming.event_identity("e-5"))


def test_a_rejected_request_keeps_its_name_cut_to_64_characters() -> None:
    result = run_assess(event_delivery({"name": "n" * 80, "data": 5}), store_with())
    assert result["request_name"] == "n" * 64
    assert result["rejection"]["request_name"] == "n" * 64
    nameless = run_assess(event_delivery({"name": 7, "data": 5}), store_with())
    assert nameless["request_name"] is None


def test_the_checks_before_any_data_name_each_field_and_rule() -> None:
    assert request_violations([1]) == [Violation("request", "json_object", "must be a JSON object")]
    assert request_violations(body()) == []
    assert request_violations({}) == [
        Violation(
            "data",
            "data_or_corpus",
            "give exactly one of data (prepared channels) and corpus (raw documents)",
        )
    ]
    # The tag of a range's type is no field of the request.
    ranges = {
        "learning_rate": {"type": "Continuous", "min": "a", "max": 1},
        "mini_batch_size": {"type": "Integer", "min": "x", "max": 2},
        "optimizer": {"type": "Categorical", "values": []},
    }
    assert request_violations(body(ranges=ranges)) == [
        Violation("ranges.learning_rate.min", "float_type", "Input should be a valid number"),
        Violation("ranges.mini_batch_size.min", "int_type", "Input should be a valid integer"),
        Violation(
            "ranges.optimizer.values",
            "too_short",
            "List should have at least 1 item after validation, not 0",
        ),
    ]
    # A wrong key is named as the key.
    assert request_violations(body(tags={5: "x"})) == [
        Violation("tags.5", "string_type", "the key: Input should be a valid string")
    ]
    # A corpus setting the preparation job refuses: the setting and the job's own rule.
    assert request_violations({"corpus": {"prefix": "c/", "min_df": -1}}) == [
        Violation("corpus.min_df", "corpus_setting", "a document count must be >= 1")
    ]


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        ({"Integer": 1}, Violation("Integer", "extra_forbidden", "Extra inputs are not permitted")),
        ({"[key]": 1}, Violation("[key]", "extra_forbidden", "Extra inputs are not permitted")),
        (
            {"tags": {"Categorical": 5}},
            Violation("tags.Categorical", "string_type", "Input should be a valid string"),
        ),
        (
            {"ranges": {"Continuous": {"type": "Integer", "min": "x", "max": 2}}},
            Violation("ranges.Continuous.min", "int_type", "Input should be a valid integer"),
        ),
        # A range that is no object: its path ends at its name, with no tag after it.
        (
            {"ranges": {"learning_rate": 5}},
            Violation(
                "ranges.learning_rate",
                "model_attributes_type",
                "Input should be a valid dictionary or object to extract fields from",
            ),
        ),
    ],
)
def test_a_key_named_like_a_tag_or_a_key_marker_is_named_as_given(
    extra: dict[str, Any], expected: Violation
) -> None:
    assert request_violations(body(**extra)) == [expected]


def test_a_refused_corpus_setting_is_listed_with_the_requests_other_problems() -> None:
    assert request_violations(
        {"name": 5, "corpus": {"prefix": "c/", "min_df": -1}, "random_seed": -1}
    ) == [
        Violation("name", "string_type", "Input should be a valid string"),
        Violation("corpus.min_df", "corpus_setting", "a document count must be >= 1"),
        Violation(
            "random_seed", "greater_than_equal", "Input should be greater than or equal to 0"
        ),
    ]


def test_an_error_of_the_whole_request_is_named_as_the_request() -> None:
    error = ValidationError.from_exception_data(
        "TuningRequest",
        [{"type": "value_error", "loc": (), "input": {}, "ctx": {"error": ValueError("broken")}}],
    )
    assert violations_of(error) == [Violation("request", "value_error", "Value error, broken")]
    with pytest.raises(ValidationError) as raised:
        TuningRequest.model_validate({"data": 5, "corpus": {"prefix": "c/"}})
    assert [v.field for v in violations_of(raised.value)] == ["data"]


def validate(
    delivery: dict[str, Any], store: FakeStore, ledger: FakeLedger, execution: str = EXECUTION
) -> dict[str, Any]:
    result = validate_request(
        delivery, execution, SETTINGS, store, ledger, jobs=FakeJobs(), now=NOW
    )
    return result.model_dump(mode="json")


REQUEST_BLOCK = {"request_id": S3_ID, "request_name": "demo", "origin": S3_ORIGIN}


def test_an_accepted_request_is_claimed_and_recorded_for_its_execution() -> None:
    ledger = FakeLedger()
    result = validate(s3_delivery(), store_with(body()), ledger)
    assert result["outcome"] == "accepted"
    # Planned at the time given: two waves of an hour at most, and an hour of slack.
    assert result["watch_deadline"] == (NOW + timedelta(hours=3)).isoformat()
    assert ledger.calls == [
        ("claim", (S3_ID, EXECUTION), {"now": NOW}),
        (
            "record_job",
            (EXECUTION, REQUEST_BLOCK),
            {"now": NOW, "tuning_job_name": None, "processing_job_name": None},
        ),
    ]


def test_a_second_execution_of_a_request_is_a_duplicate_and_records_nothing() -> None:
    ledger = FakeLedger()
    ledger.claims[S3_ID] = "first-execution"
    result = validate(s3_delivery(), store_with(body()), ledger)
    assert result == {**REQUEST_BLOCK, "outcome": "duplicate"}
    assert ledger.names() == ["claim"]


def test_a_rejected_request_is_claimed_too() -> None:
    ledger = FakeLedger()
    result = validate(s3_delivery(), store_with(body(random_seed=-1)), ledger)
    assert result["outcome"] == "rejected"
    assert ledger.names() == ["claim", "record_job"]


def test_an_ignored_object_claims_nothing() -> None:
    ledger = FakeLedger()
    result = validate(s3_delivery(key="other/x.json"), store_with(), ledger)
    assert result["outcome"] == "ignored"
    assert ledger.calls == []


def test_a_corpus_request_leaves_its_settings_in_s3_once_claimed() -> None:
    given = {"name": "c", "corpus": {"prefix": "corpora/demo/"}}
    ledger, store = FakeLedger(), store_with(given)
    result = validate(s3_delivery(), store, ledger)
    assert result["outcome"] == "prepare"
    assert "documents" not in result
    plan = result["preparation"]
    prefix = f"{SETTINGS.prepared_prefix}{S3_ID}"
    assert plan["config_uri"] == f"s3://{DATA_BUCKET}/{prefix}/config.json"
    assert plan["request_uri"] == f"s3://{DATA_BUCKET}/{prefix}/request.json"
    assert set(store.written) == {
        (DATA_BUCKET, f"{prefix}/config.json"),
        (DATA_BUCKET, f"{prefix}/request.json"),
    }
    saved = store.written[(DATA_BUCKET, f"{prefix}/request.json")]
    assert saved == TuningRequest.model_validate(given).model_dump(mode="json", exclude_none=True)
    assert saved["name"] == "c" and saved["corpus"]["prefix"] == "corpora/demo/"
    config = store.written[(DATA_BUCKET, f"{prefix}/config.json")]
    assert "prefix" not in config and config["max_vocabulary"] == 2000
    # A duplicate writes nothing.
    store.written.clear()
    assert validate(s3_delivery(), store, ledger, "another")["outcome"] == "duplicate"
    assert store.written == {}


PARENT = "ntm-00000000000000000000000a"
PARENT_ARN = f"arn:aws:sagemaker:us-east-1:1:hyper-parameter-tuning-job/{PARENT}"


def running_parent() -> FakeJobs:
    plan = run_assess(event_delivery(body()), store_with())
    jobs = FakeJobs()
    jobs.tuning[PARENT] = {
        "HyperParameterTuningJobName": PARENT,
        "HyperParameterTuningJobArn": PARENT_ARN,
        "HyperParameterTuningJobStatus": "InProgress",
        "HyperParameterTuningJobConfig": plan["create_request"]["HyperParameterTuningJobConfig"],
        "TrainingJobDefinition": plan["create_request"]["TrainingJobDefinition"],
    }
    jobs.tag_sets[PARENT_ARN] = {REQUEST_ID_TAG: "another-request"}
    return jobs


@pytest.mark.parametrize(
    "request_body",
    [
        body(warm_start={"parents": [PARENT], "type": "TransferLearning"}),
        {
            "corpus": {"prefix": "corpora/demo/"},
            "warm_start": {"parents": [PARENT], "type": "TransferLearning"},
        },
    ],
    ids=["data", "corpus"],
)
def test_validation_describes_warm_start_parents_with_the_jobs_given(
    request_body: dict[str, Any],
) -> None:
    jobs = running_parent()
    result = validate_request(
        event_delivery(request_body),
        EXECUTION,
        SETTINGS,
        store_with(),
        FakeLedger(),
        jobs=jobs,
        now=NOW,
    ).model_dump(mode="json")
    assert jobs.calls == [("describe", PARENT), ("tags", PARENT_ARN)]
    assert [(v["field"], v["rule"]) for v in violations(result)] == [
        ("warm_start.parents.0", "terminal_parent")
    ]
