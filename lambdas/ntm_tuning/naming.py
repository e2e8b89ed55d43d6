"""Deterministic names: the same request always maps to the same tuning job.

SageMaker refuses a second tuning job with an existing name (names are unique per account
and region, case-insensitively), so a deterministic name is what makes a repeated delivery
harmless.
"""

from __future__ import annotations

import hashlib
import re

JOB_NAME_PREFIX = "ntm-"
# 24 hex digits (96 bits) keep the name at 28 characters, inside SageMaker's 32.
_DIGEST_CHARS = 24
JOB_NAME_PATTERN = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,31}$")


def s3_identity(bucket: str, key: str, version_id: str | None, etag: str | None) -> str:
    """One uploaded object version; the ETag stands in where the bucket is unversioned."""
    marker = f"version={version_id}" if version_id else f"etag={(etag or '').strip(chr(34))}"
    return f"s3://{bucket}/{key}#{marker}"


def event_identity(event_id: str) -> str:
    return f"event:{event_id}"


def key_identity(idempotency_key: str) -> str:
    return f"key:{idempotency_key}"


def request_id(identity: str) -> str:
    """A short, stable id for a request identity, safe in names, tags and keys."""
    return hashlib.sha256(identity.encode("utf-8")).hexdigest()[:_DIGEST_CHARS]


def tuning_job_name(request_id_: str) -> str:
    name = f"{JOB_NAME_PREFIX}{request_id_}"
    assert JOB_NAME_PATTERN.fullmatch(name), name
    return name
