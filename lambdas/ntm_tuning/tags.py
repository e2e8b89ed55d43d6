"""SageMaker's tag contract, for the tags of the tuning and preparation jobs.

SageMaker's ``Tag`` (CreateHyperParameterTuningJob, CreateProcessingJob, AddTags): ``Key``
1-128 characters, ``Value`` 0-256, each matching ``^([\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*)$``
(botocore's sagemaker model, shapes ``TagKey`` and ``TagValue``; lengths in UTF-16 code
units, as the service counts them). A test proves these constants equal the model's.

User tags are checked against it (a request breaking it is rejected on ``tags.<key>``);
the pipeline's own tag values, which come from object keys, event sources and names, are
made to fit it with ``tag_value``.
"""

from __future__ import annotations

import unicodedata
from typing import Annotated, Any

from pydantic import AfterValidator, Field
from pydantic_core import PydanticCustomError

from .events import EventOrigin, S3Origin, origin_of_dict

TAG_CHARACTERS = r"\p{L}\p{Z}\p{N}_.:/=+\-@"
TAG_PATTERN = rf"^([{TAG_CHARACTERS}]*)$"
TAG_KEY_MAX = 128
TAG_VALUE_MAX = 256
# The pipeline's own tags on the jobs it starts; a request's tags may not use the prefix.
TAG_PREFIX = "ntm-tuning:"
EXECUTION_TAG = f"{TAG_PREFIX}execution"
REQUEST_ID_TAG = f"{TAG_PREFIX}request-id"
_PUNCTUATION = frozenset("_.:/=+-@")
_ELLIPSIS = "..."


def allowed(char: str) -> bool:
    """Whether ``char`` is in TAG_PATTERN's class (Unicode letters, separators, numbers, and
    ``_.:/=+-@``)."""
    return char in _PUNCTUATION or unicodedata.category(char)[0] in ("L", "Z", "N")


def java_length(text: str) -> int:
    """The length AWS's limits count: UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


def fits(text: str, limit: int) -> bool:
    return java_length(text) <= limit and all(allowed(char) for char in text)


def tag_value(text: str, limit: int = TAG_VALUE_MAX) -> str:
    """``text`` as a valid tag value: each character SageMaker refuses becomes ``_``, and a
    value over the limit is cut, ending in ``...``. (The untouched text belongs in events.)"""
    safe = "".join(char if allowed(char) else "_" for char in text)
    if java_length(safe) <= limit:
        return safe
    kept, units = [], 0
    for char in safe:
        width = java_length(char)
        if units + width > limit - len(_ELLIPSIS):
            break
        kept.append(char)
        units += width
    return "".join(kept) + _ELLIPSIS


def check_tag_text(value: str, limit: int) -> str:
    """``value`` if SageMaker would accept it as a tag key or value of at most ``limit``
    UTF-16 code units; else a pydantic error naming the rule (``tag_length``, ``tag_pattern``).

    Called when a request is validated, not made into a closure at import, so that the
    mutation tests (tools/mutation.py) reach it."""
    if java_length(value) > limit:
        raise PydanticCustomError(
            "tag_length",
            "is {length} UTF-16 code units long; SageMaker allows at most {limit}",
            {"length": java_length(value), "limit": limit},
        )
    refused = sorted({char for char in value if not allowed(char)})
    if refused:
        raise PydanticCustomError(
            "tag_pattern",
            "holds {refused}: SageMaker's tags allow only letters, numbers, spaces and "
            "_ . : / = + - @ (pattern {pattern})",
            {"refused": ", ".join(repr(char) for char in refused[:10]), "pattern": TAG_PATTERN},
        )
    return value


_RULE = f"Letters, numbers, spaces and _.:/=+-@ only (SageMaker's {TAG_PATTERN})"
TagKey = Annotated[
    str,
    Field(min_length=1, max_length=TAG_KEY_MAX, description=_RULE),
    AfterValidator(lambda value: check_tag_text(value, TAG_KEY_MAX)),
]
TagValue = Annotated[
    str,
    Field(max_length=TAG_VALUE_MAX, description=_RULE),
    AfterValidator(lambda value: check_tag_text(value, TAG_VALUE_MAX)),
]


def job_tags(request: dict[str, Any], execution_id: str) -> dict[str, str]:
    """The pipeline's tags on a request's jobs: its id, execution, origin and name.

    ``request``: the state's ``request_id``, ``request_name`` and ``origin``. Object keys and
    event sources may hold characters SageMaker refuses in a tag; the events carry them
    untouched."""
    tags = {
        REQUEST_ID_TAG: request["request_id"],
        EXECUTION_TAG: execution_id,
        f"{TAG_PREFIX}origin": origin_text(origin_of_dict(request["origin"])),
    }
    if request.get("request_name"):
        tags[f"{TAG_PREFIX}name"] = request["request_name"]
    return {key: tag_value(value) for key, value in tags.items()}


def origin_text(origin: S3Origin | EventOrigin) -> str:
    if isinstance(origin, S3Origin):
        return f"s3://{origin.bucket}/{origin.key}"
    return f"event:{origin.source}:{origin.event_id}"
