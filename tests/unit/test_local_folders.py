"""A local folder loaded into the emulated bucket: S3 holds its files, jobs read the folder."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws
from moto.s3.models import s3_backends

from offline.processing import LocalFolders

ACCOUNT = "123456789012"


@pytest.fixture
def s3(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    with mock_aws():
        client = boto3.client("s3")
        client.create_bucket(Bucket="data")
        yield client


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    folder = tmp_path / "my corpus"
    (folder / "sub").mkdir(parents=True)
    (folder / "a.txt").write_bytes(b"alpha beta gamma")
    (folder / "sub" / "b.jsonl").write_bytes(b'{"text": "delta"}\n')
    (folder / "sub" / "c.bin").write_bytes(b"\x00\x01")
    return folder


def _backend() -> Any:
    return s3_backends[ACCOUNT]["aws"]


def test_the_bucket_holds_every_file_with_its_bytes_and_etag(s3: Any, corpus: Path) -> None:
    folders = LocalFolders()
    files = folders.load(corpus, "data", "corpora/x/", _backend())
    assert files == {
        "corpora/x/a.txt": corpus / "a.txt",
        "corpora/x/sub/b.jsonl": corpus / "sub" / "b.jsonl",
        "corpora/x/sub/c.bin": corpus / "sub" / "c.bin",
    }
    listed = s3.list_objects_v2(Bucket="data", Prefix="corpora/x/")["Contents"]
    assert [item["Key"] for item in listed] == sorted(files)
    for key, path in files.items():
        got = s3.get_object(Bucket="data", Key=key)
        assert got["Body"].read() == path.read_bytes()
        assert got["ETag"].strip('"') == hashlib.md5(path.read_bytes()).hexdigest()
        assert got["ContentLength"] == path.stat().st_size


@pytest.mark.parametrize(
    ("uri", "relative"),
    [
        ("s3://data/corpora/x/", "."),
        ("s3://data/corpora/x/sub/", "sub"),
        ("s3://data/corpora/x/su", None),  # a key prefix that is no folder of the corpus
        ("s3://data/corpora/", None),  # wider than what was loaded
        ("s3://other/corpora/x/", None),
        ("s3://data/corpora/x/missing/", None),
    ],
)
def test_jobs_are_served_the_folder_for_the_loaded_prefix_or_a_folder_of_it(
    s3: Any, corpus: Path, uri: str, relative: str | None
) -> None:
    folders = LocalFolders()
    folders.load(corpus, "data", "corpora/x/", _backend())
    served = folders.folder_for(uri, _backend())
    assert served == (None if relative is None else corpus / relative)


@pytest.mark.parametrize(
    "change",
    [
        lambda s3: s3.put_object(Bucket="data", Key="corpora/x/new.txt", Body=b"added later"),
        lambda s3: s3.put_object(Bucket="data", Key="corpora/x/a.txt", Body=b"overwritten"),
        lambda s3: s3.delete_object(Bucket="data", Key="corpora/x/sub/b.jsonl"),
    ],
    ids=["added", "overwritten", "deleted"],
)
def test_a_bucket_changed_since_loading_is_read_from_s3_again(
    s3: Any, corpus: Path, change: Any
) -> None:
    folders = LocalFolders()
    folders.load(corpus, "data", "corpora/x/", _backend())
    s3.put_object(Bucket="data", Key="corpora/y/other.txt", Body=b"elsewhere")  # not under it
    assert folders.folder_for("s3://data/corpora/x/", _backend()) == corpus
    change(s3)
    assert folders.folder_for("s3://data/corpora/x/", _backend()) is None


def test_local_path_names_the_users_own_file(s3: Any, corpus: Path) -> None:
    folders = LocalFolders()
    folders.load(corpus, "data", "corpora/x/", _backend())
    assert folders.local_path("data", "corpora/x/sub/b.jsonl") == corpus / "sub" / "b.jsonl"
    assert folders.local_path("data", "corpora/x/") == corpus
    assert folders.local_path("data", "elsewhere/a.txt") is None
