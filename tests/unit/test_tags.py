"""The tag contract is SageMaker's: the constants equal botocore's model, the character test
agrees with the model's pattern on every code point, and every value the pipeline makes fits."""

from __future__ import annotations

import sys
import unicodedata

import pytest
from botocore.exceptions import ClientError
from hypothesis import given
from hypothesis import strategies as st
from ntm_tuning import tags
from ntm_tuning.request import TuningRequest
from pydantic import ValidationError

from offline import strict

MODEL = strict.service_model("sagemaker")
ARN = "arn:aws:sagemaker:us-east-1:123456789012:hyper-parameter-tuning-job/ntm-0123"


@pytest.mark.parametrize(
    ("shape", "limit"), [("TagKey", tags.TAG_KEY_MAX), ("TagValue", tags.TAG_VALUE_MAX)]
)
def test_the_constants_are_the_service_models(shape: str, limit: int) -> None:
    meta = MODEL.shape_for(shape).metadata
    assert f"^{meta['pattern']}$" == tags.TAG_PATTERN
    assert meta["max"] == limit


def test_the_character_test_agrees_with_the_pattern_on_every_code_point() -> None:
    """Unicode versions differ (Python's, the regex package's, the service's): a character
    assigned only in a newer version is refused here (never accepted where AWS refuses)."""
    pattern = strict.java_pattern(MODEL.shape_for("TagValue").metadata["pattern"])
    accepted_wrongly, disagree = [], []
    for point in range(sys.maxunicode + 1):
        if 0xD800 <= point <= 0xDFFF:
            continue
        char = chr(point)
        here, there = tags.allowed(char), bool(pattern.fullmatch(char))
        if here and not there:
            accepted_wrongly.append(hex(point))
        elif here != there and unicodedata.category(char) != "Cn":
            disagree.append(hex(point))
    assert accepted_wrongly == []
    assert disagree == []


@pytest.mark.parametrize(
    "text",
    [
        "s3://bucket/requests/my request (1).json",
        "s3://bucket/requests/a&b.json",
        "s3://bucket/requests/bob's.json",
        "s3://bucket/requests/tab\there\nand newline.json",
        "s3://bucket/" + "\U0001d400" * 600,
        "event:com.example.$weird source!:0f8e",
    ],
    ids=["parentheses", "ampersand", "apostrophe", "tab-newline", "long-astral", "event"],
)
def test_pipeline_values_always_fit(text: str) -> None:
    value = tags.tag_value(text)
    assert tags.fits(value, tags.TAG_VALUE_MAX)
    strict.check(
        "sagemaker",
        "AddTags",
        {
            "ResourceArn": ARN,
            "Tags": [{"Key": "k", "Value": value}],
        },
    )


@given(st.text(max_size=400))
def test_any_text_becomes_a_valid_tag_value(text: str) -> None:
    value = tags.tag_value(text)
    assert tags.fits(value, tags.TAG_VALUE_MAX)
    if tags.fits(text, tags.TAG_VALUE_MAX):
        assert value == text


def test_each_refused_character_becomes_one_underscore() -> None:
    assert tags.tag_value("a (b)!") == "a _b__"


def test_a_text_fits_exactly_at_its_limit() -> None:
    assert tags.fits("\U0001d400" * 128, 256)
    assert not tags.fits("\U0001d400" * 128 + "x", 256)


def test_a_long_value_is_cut_at_the_limit_in_utf16_units() -> None:
    # Two units each, from the first character past U+FFFF: 126 of them and "..." fill 255.
    for astral in ("\U0001d400", "\U00010000"):
        value = tags.tag_value(astral * 200)  # 400 units
        assert value == astral * 126 + "..."
        assert tags.java_length(value) == 255
    assert tags.tag_value("x" * 256) == "x" * 256
    assert tags.tag_value("x" * 257) == "x" * 253 + "..."


@pytest.mark.parametrize(
    ("key", "value", "field", "rule", "says"),
    [
        ("team", "data (science)", "tags.team", "tag_pattern", "holds '(', ')': "),
        ("team", "tab\there", "tags.team", "tag_pattern", "holds '\\t': "),
        ("team", "line\nbreak", "tags.team", "tag_pattern", "holds '\\n': "),
        ("bad\tkey", "v", "tags.bad\tkey", "tag_pattern", "holds '\\t': "),
        # Over the limit in UTF-16 code units, not in characters: the tag rule's own count.
        (
            "team",
            "\U0001d400" * 129,
            "tags.team",
            "tag_length",
            "is 258 UTF-16 code units long; SageMaker allows at most 256",
        ),
        (
            "\U0001d400" * 65,
            "v",
            "tags." + "\U0001d400" * 65,
            "tag_length",
            "is 130 UTF-16 code units long; SageMaker allows at most 128",
        ),
        (
            "k" * 129,
            "v",
            "tags." + "k" * 129,
            "string_too_long",
            "String should have at most 128 characters",
        ),
        # The first ten refused characters, in order, however many there are.
        (
            "team",
            "!#$%&*;<>?[]",
            "tags.team",
            "tag_pattern",
            "holds '!', '#', '$', '%', '&', '*', ';', '<', '>', '?': ",
        ),
    ],
)
def test_a_user_tag_sagemaker_would_refuse_is_refused_here(
    key: str, value: str, field: str, rule: str, says: str
) -> None:
    body = {"data": {"train": "a/", "validation": "b/"}, "tags": {key: value}}
    with pytest.raises(ValidationError) as raised:
        TuningRequest.model_validate(body)
    (error,) = raised.value.errors()
    assert ".".join(str(p) for p in error["loc"] if p != "[key]") == field
    assert error["type"] == rule
    assert error["msg"].startswith(says)
    if rule == "tag_pattern":
        assert error["msg"].endswith(f"(pattern {tags.TAG_PATTERN})")
    with pytest.raises(ClientError):
        strict.check(
            "sagemaker",
            "AddTags",
            {
                "ResourceArn": ARN,
                "Tags": [{"Key": key, "Value": value}],
            },
        )


def test_a_user_tag_sagemaker_accepts_is_accepted_here() -> None:
    # Each limit exactly reached, in characters and in UTF-16 code units.
    good = {
        "Zoë 東京": "a_b.c:d/e=f+g-h@i ١٢٣",
        "k" * 128: "\U0001d400" * 128,
        "\U0001d400" * 64: "",
    }
    request = TuningRequest.model_validate(
        {"data": {"train": "a/", "validation": "b/"}, "tags": good}
    )
    assert request.tags == good
    strict.check(
        "sagemaker",
        "AddTags",
        {
            "ResourceArn": ARN,
            "Tags": [{"Key": k, "Value": v} for k, v in good.items()],
        },
    )


def test_a_requests_jobs_are_tagged_with_its_id_execution_origin_and_name() -> None:
    s3 = {
        "request_id": "0123",
        "request_name": "weekly (news)",
        "origin": {"type": "s3", "bucket": "data", "key": "requests/a b!.json"},
    }
    assert tags.job_tags(s3, "arn:exec:1") == {
        "ntm-tuning:request-id": "0123",
        "ntm-tuning:execution": "arn:exec:1",
        "ntm-tuning:origin": "s3://data/requests/a b_.json",
        "ntm-tuning:name": "weekly _news_",
    }
    event = {
        "request_id": "4567",
        "request_name": None,
        "origin": {"type": "event", "event_id": "e-9", "source": "team.pipeline"},
    }
    assert tags.job_tags(event, "arn:exec:2") == {
        "ntm-tuning:request-id": "4567",
        "ntm-tuning:execution": "arn:exec:2",
        "ntm-tuning:origin": "event:team.pipeline:e-9",
    }


def test_the_pattern_rule_names_what_is_allowed_and_the_pattern() -> None:
    body = {"data": {"train": "a/", "validation": "b/"}, "tags": {"team": "data (science)"}}
    with pytest.raises(ValidationError) as raised:
        TuningRequest.model_validate(body)
    (error,) = raised.value.errors()
    assert error["msg"] == (
        "holds '(', ')': SageMaker's tags allow only letters, numbers, spaces and "
        f"_ . : / = + - @ (pattern {tags.TAG_PATTERN})"
    )


@pytest.mark.parametrize("char", ["a", "\u00e9", "\u4e2d", "7", "\u0663", " ", "\u3000", "_", "@"])
def test_letters_numbers_separators_and_the_punctuation_are_allowed(char: str) -> None:
    assert tags.allowed(char)


@pytest.mark.parametrize("char", ["(", "\t", "\u0301", "\u20ac", "\uffff", "!"])
def test_marks_symbols_controls_and_other_punctuation_are_not(char: str) -> None:
    assert not tags.allowed(char)
