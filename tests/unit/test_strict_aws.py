"""The offline world refuses what AWS refuses: the service models' constraints that botocore
leaves to the service (pattern, max length, list and map sizes, enums, maxima), and the
documented PutEvents entry size, checked on every client the handlers get."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError
from moto import mock_aws
from ntm_tuning import aws

from offline import strict
from offline.sagemaker import check_shape

GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "create-tuning-job.json"
TAG_VALUE = r"([\p{L}\p{Z}\p{N}_.:/=+\-@]*)"  # SageMaker's TagValue, as botocore models it


@pytest.fixture
def handler_clients(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(name, value)
    with mock_aws(), strict.strict_handler_clients():
        yield


def create_request(**tags: str) -> dict[str, Any]:
    request: dict[str, Any] = json.loads(GOLDEN.read_text())
    request["Tags"] = [{"Key": key, "Value": value} for key, value in tags.items()]
    return request


def refused(call: Any) -> str:
    with pytest.raises(ClientError) as raised:
        call()
    assert raised.value.response["Error"]["Code"] == "ValidationException"
    return str(raised.value.response["Error"]["Message"])


def test_the_tag_value_pattern_is_sagemakers() -> None:
    model = strict.service_model("sagemaker")
    assert model.shape_for("TagValue").metadata["pattern"] == TAG_VALUE
    assert model.shape_for("TagValue").metadata["max"] == 256


@pytest.mark.parametrize("value", ["my request (1).json", "tab\there", "new\nline", "a&b", "bob's"])
def test_sagemaker_refuses_a_tag_value_outside_its_pattern(value: str) -> None:
    message = refused(
        lambda: check_shape("CreateHyperParameterTuningJob", create_request(origin=value))
    )
    assert "Tags[0].Value" in message
    assert TAG_VALUE in message


@pytest.mark.parametrize(
    "value", ["", "s3://bucket/requests/run.json", "Zoë 東京 ١٢٣ a_b.c:d/e=f+g-h@i", "x" * 256]
)
def test_sagemaker_accepts_a_tag_value_inside_its_pattern(value: str) -> None:
    check_shape("CreateHyperParameterTuningJob", create_request(origin=value))


def test_lengths_are_counted_as_aws_counts_them() -> None:
    message = refused(
        lambda: check_shape("CreateHyperParameterTuningJob", create_request(origin="x" * 257))
    )
    assert "less than or equal to 256" in message
    # One emoji is two UTF-16 code units: 128 of them are 256 units, 129 are over.
    check_shape("CreateHyperParameterTuningJob", create_request(origin="x" * 254 + "ab"))
    astral = {"Key": "k", "Value": "\U0001f600" * 129}
    request = create_request()
    request["Tags"] = [astral]
    refused(lambda: check_shape("CreateHyperParameterTuningJob", request))


def test_list_and_map_sizes_enums_and_maxima_are_checked() -> None:
    tags = {f"k{i}": "v" for i in range(50)}
    check_shape("CreateHyperParameterTuningJob", create_request(**tags))
    over = refused(
        lambda: check_shape("CreateHyperParameterTuningJob", create_request(**tags, k50="v"))
    )
    assert "Tags" in over and "less than or equal to 50" in over

    request = create_request()
    request["TrainingJobDefinition"]["StaticHyperParameters"] = {f"h{i}": "1" for i in range(101)}
    assert "less than or equal to 100" in refused(
        lambda: check_shape("CreateHyperParameterTuningJob", request)
    )

    request = create_request()
    request["HyperParameterTuningJobConfig"]["Strategy"] = "Genetic"
    assert "enum value set" in refused(
        lambda: check_shape("CreateHyperParameterTuningJob", request)
    )

    listing = {"HyperParameterTuningJobName": "ntm-0123456789abcdef01234567", "MaxResults": 101}
    assert "less than or equal to 100" in refused(
        lambda: check_shape("ListTrainingJobsForHyperParameterTuningJob", listing)
    )
    check_shape("ListTrainingJobsForHyperParameterTuningJob", {**listing, "MaxResults": 100})


def test_every_pattern_of_the_services_used_compiles() -> None:
    for service in ("sagemaker", "s3", "events", "dynamodb", "logs"):
        model = strict.service_model(service)
        for name in model.shape_names:
            pattern = model.shape_for(name).metadata.get("pattern")
            if pattern:
                strict.java_pattern(pattern)


def test_utf16_surrogate_ranges_become_code_points() -> None:
    # DynamoDB's and SageMaker's "any XML character" pattern writes U+10000..U+10FFFF as a
    # UTF-16 surrogate range.
    pattern = strict.java_pattern(
        "[\\u0020-\\uD7FF\\uE000-\\uFFFD\\uD800\\uDC00-\\uDBFF\\uDFFF\\t]*"
    )
    assert pattern.fullmatch("ok \U0001f600\t")
    assert not pattern.fullmatch("bell\x07")


def test_handler_clients_refuse_before_sending(handler_clients: None) -> None:
    dynamodb = aws.client("dynamodb")
    assert "enum value set" in refused(
        lambda: dynamodb.put_item(
            TableName="ledger", Item={"pk": {"S": "x"}}, ReturnValues="EVERYTHING"
        )
    )
    events = aws.client("events")
    assert "regular expression pattern" in refused(
        lambda: events.describe_rule(Name="no spaces allowed")
    )
    sagemaker = aws.client("sagemaker")
    assert "MaxResults" in refused(
        lambda: sagemaker.list_training_jobs_for_hyper_parameter_tuning_job(
            HyperParameterTuningJobName="ntm-0123456789abcdef01234567", MaxResults=500
        )
    )


def test_put_events_entries_must_total_less_than_256_kib(handler_clients: None) -> None:
    events = aws.client("events")
    source, detail_type = "ntm.tuning", "NTM Tuning Job Failed"
    resource = "arn:aws:sagemaker:us-east-1:123456789012:hyper-parameter-tuning-job/x"

    def entry(detail_bytes: int) -> dict[str, Any]:
        padding = detail_bytes - len('{"p": ""}')
        return {
            "Source": source,
            "DetailType": detail_type,
            "Detail": json.dumps(
                {"p": "é" * (padding // 2) + "x" * (padding % 2)}, ensure_ascii=False
            ),
            "Resources": [resource],
        }

    overhead = len(source) + len(detail_type) + len(resource)
    largest = entry(strict.PUT_EVENTS_LIMIT - 1 - overhead)
    assert strict.put_events_entry_size(largest) == 256 * 1024 - 1
    assert events.put_events(Entries=[largest])["FailedEntryCount"] == 0
    over = entry(strict.PUT_EVENTS_LIMIT - overhead)
    assert strict.put_events_entry_size(over) == 256 * 1024
    assert refused(lambda: events.put_events(Entries=[over])) == (
        "Total size of the entries in the request is over the limit."
    )
    # Two entries that each fit, but not together.
    half = entry(strict.PUT_EVENTS_LIMIT // 2 - overhead)
    refused(lambda: events.put_events(Entries=[half, half]))
    # Time counts 14 bytes, whatever its value.
    timed = {**entry(strict.PUT_EVENTS_LIMIT - 14 - overhead), "Time": "2026-12-01"}
    assert strict.put_events_entry_size(timed) == 256 * 1024
    refused(lambda: events.put_events(Entries=[timed]))
