"""Corpora with planted topics, channel folders, emulated S3 and the synthesized stack."""

from __future__ import annotations

import copy
import json
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from preparation import synthetic
from preparation.recordio import SparseRow, write_sparse
from trainer.data import Corpus

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE_DATA = ROOT / "examples" / "data"
GOLDEN_REQUEST = ROOT / "tests" / "golden" / "create-tuning-job.json"
DATA_BUCKET = "ntm-data-bucket"
ARTIFACTS_BUCKET = "ntm-artifacts-bucket"
WORDS = synthetic.vocabulary()


def planted_rows(count: int, seed: int) -> list[SparseRow]:
    """Documents drawn from the synthetic themes (one or two per document)."""
    rng = random.Random(seed)
    index = {word: position for position, word in enumerate(WORDS)}
    return [synthetic.document(rng, index) for _ in range(count)]


@pytest.fixture(scope="session")
def planted() -> dict[str, Corpus]:
    return {
        "train": Corpus.from_rows(planted_rows(1200, seed=1)),
        "validation": Corpus.from_rows(planted_rows(300, seed=2)),
        "test": Corpus.from_rows(planted_rows(300, seed=3)),
    }


def write_channels(root: Path, splits: dict[str, list[SparseRow]], vocabulary: list[str]) -> Path:
    for name, rows in splits.items():
        folder = root / name
        folder.mkdir(parents=True, exist_ok=True)
        with (folder / "part-00000.pbr").open("wb") as stream:
            write_sparse(stream, rows)
    (root / "auxiliary").mkdir(parents=True, exist_ok=True)
    (root / "auxiliary" / "vocab.txt").write_text("".join(f"{w}\n" for w in vocabulary))
    return root


def golden_request(**config_changes: Any) -> dict[str, Any]:
    """The pipeline's golden CreateHyperParameterTuningJob request, small and fast."""
    request: dict[str, Any] = json.loads(GOLDEN_REQUEST.read_text())
    definition = request["TrainingJobDefinition"]
    definition["StaticHyperParameters"] = {"epochs": "5", "feature_dim": "130", "num_topics": "6"}
    config = request["HyperParameterTuningJobConfig"]
    config["ResourceLimits"] = {"MaxNumberOfTrainingJobs": 4, "MaxParallelTrainingJobs": 2}
    config.update(copy.deepcopy(config_changes))
    return request


@pytest.fixture
def s3() -> Iterator[Any]:
    """Emulated S3 with the example dataset in the data bucket, as the golden request names."""
    with mock_aws():
        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket=DATA_BUCKET)
        client.create_bucket(Bucket=ARTIFACTS_BUCKET)
        for path in sorted(p for p in EXAMPLE_DATA.rglob("*") if p.is_file()):
            key = path.relative_to(EXAMPLE_DATA).as_posix()
            client.put_object(Bucket=DATA_BUCKET, Key=key, Body=path.read_bytes())
        yield client


@pytest.fixture(scope="session")
def template() -> dict[str, Any]:
    from offline.template import synthesize

    return synthesize()
