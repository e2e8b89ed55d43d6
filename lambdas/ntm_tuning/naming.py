"""Deterministic names: the same request always maps to the same tuning job.

SageMaker refuses a second tuning job with an existing name (names are unique per account
and region, case-insensitively), so a deterministic name is what makes a repeated delivery
harmless.
"""

from __future__ import annotations

import hashlib
import re

# Every job the pipeline starts (tuning and processing; SageMaker names the training jobs after
# their tuning job) begins with this, and the handlers' IAM permissions are scoped to
# `<job type>/ntm-*` (infra/grants.py imports it from here).
JOB_NAME_PREFIX = "ntm-"
# 24 hex digits (96 bits) keep the name at 28 characters, inside SageMaker's 32.
_DIGEST_CHARS = 24
JOB_NAME_PATTERN = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,31}$")
# CreateProcessingJob's ProcessingJobName: 1-63 characters of this pattern (the SageMaker API
# reference, and the ProcessingJobName shape of botocore's service model).
PROCESSING_JOB_NAME_PATTERN = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$")


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
    return hashlib.sha256(identity.encode()).hexdigest()[:_DIGEST_CHARS]


def tuning_job_name(request_id_: str) -> str:
    name = f"{JOB_NAME_PREFIX}{request_id_}"
    assert JOB_NAME_PATTERN.fullmatch(name), name
    return name


def processing_job_name(request_id_: str) -> str:
    """The dataset preparation job of a corpus request."""
    name = f"{JOB_NAME_PREFIX}{request_id_}-prep"
    assert PROCESSING_JOB_NAME_PATTERN.fullmatch(name), name
    return name
