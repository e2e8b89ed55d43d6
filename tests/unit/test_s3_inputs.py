"""Offline jobs get their S3 inputs laid out as SageMaker lays them out."""

from __future__ import annotations

from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from offline.sagemaker import download_s3_prefix


@pytest.mark.parametrize(
    ("uri", "expected"),
    [
        ("s3://inputs/data/train/", {"part-0", "nested/part-1"}),
        ("s3://inputs/data/train", {"train/part-0", "train/nested/part-1", "train-extra/x"}),
        ("s3://inputs/data/config.json", {"config.json"}),
    ],
)
def test_keys_land_relative_to_the_prefix(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, uri: str, expected: set[str]
) -> None:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    with mock_aws():
        s3 = boto3.client("s3")
        s3.create_bucket(Bucket="inputs")
        for key in (
            "data/train/part-0",
            "data/train/nested/part-1",
            "data/train-extra/x",
            "data/config.json",
            "data/train/",
        ):
            s3.put_object(Bucket="inputs", Key=key, Body=b"x")
        count = download_s3_prefix(s3, uri, tmp_path)
    found = {p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file()}
    assert found == expected
    assert count == len(expected)
