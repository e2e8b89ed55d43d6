"""Objects and prefixes in S3, and the one parser of ``s3://`` URIs."""

from __future__ import annotations

from dataclasses import dataclass

SCHEME = "s3://"


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
