"""Objects and prefixes in S3, the one parser of ``s3://`` URIs, and where a request's
channels are in the data bucket."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from .errors import RequestRejected, Violation

if TYPE_CHECKING:
    from .request import TuningRequest
    from .settings import Settings

SCHEME = "s3://"
CHANNELS = ("train", "validation", "test", "auxiliary")
VOCABULARY_FILE = "vocab.txt"


@dataclass(frozen=True)
class S3Location:
    bucket: str
    key: str

    @property
    def uri(self) -> str:
        return f"{SCHEME}{self.bucket}/{self.key}"

    @classmethod
    def parse(cls, uri: str) -> S3Location:
        """``s3://bucket/key`` (the key may be empty or a prefix)."""
        if not uri.startswith(SCHEME):
            raise ValueError(f"not an {SCHEME} URI: {uri!r}")
        bucket, _, key = uri.removeprefix(SCHEME).partition("/")
        return cls(bucket, key)


def split_uri(uri: str) -> tuple[str, str]:
    """``s3://bucket/key`` as ``(bucket, key)``."""
    location = S3Location.parse(uri)
    return location.bucket, location.key


def resolve_location(field_name: str, value: str, settings: Settings) -> S3Location:
    """A key in the data bucket, or an s3:// URI that points inside it."""
    if value.startswith("s3://"):
        bucket, key = split_uri(value)
        if bucket != settings.data_bucket:
            raise RequestRejected(
                [
                    Violation(
                        field_name,
                        "inside_data_bucket",
                        f"must be in the data bucket {settings.data_bucket!r}, not {bucket!r}",
                    )
                ]
            )
    elif "://" in value:
        raise RequestRejected(
            [Violation(field_name, "s3_location", "must be a key or an s3:// URI")]
        )
    else:
        key = value
    key = key.lstrip("/")
    if not key or any(part in ("", ".", "..") for part in key.rstrip("/").split("/")):
        raise RequestRejected(
            [
                Violation(
                    field_name,
                    "s3_location",
                    f"{value!r} is not a usable S3 key or prefix",
                )
            ]
        )
    return S3Location(settings.data_bucket, key)


def resolve_channels(request: TuningRequest, settings: Settings) -> dict[str, S3Location]:
    """The S3 location of each channel the request names, all inside the data bucket."""
    violations: list[Violation] = []
    locations: dict[str, S3Location] = {}
    if request.data is None:
        return {}
    for channel in CHANNELS:
        value = getattr(request.data, channel)
        if value is None:
            continue
        try:
            locations[channel] = resolve_location(f"data.{channel}", value, settings)
        except RequestRejected as rejected:
            violations.extend(rejected.violations)
    if violations:
        raise RequestRejected(violations)
    return locations


def vocabulary_location(auxiliary: S3Location) -> S3Location:
    """vocab.txt itself: the auxiliary value may name the file or the prefix holding it."""
    if auxiliary.key.rpartition("/")[2] == VOCABULARY_FILE:
        return auxiliary
    prefix = auxiliary.key if auxiliary.key.endswith("/") else auxiliary.key + "/"
    return S3Location(auxiliary.bucket, prefix + VOCABULARY_FILE)
