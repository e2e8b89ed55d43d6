"""The deployed summary's NPMI and topic uniqueness are the local trainer's: same data, same
values, so offline and deployed figures compare."""

from __future__ import annotations

import io
import random
from typing import Any

import boto3
import numpy as np
import pytest
from moto import mock_aws
from ntm_tuning import coherence, topic_report
from ntm_tuning.aws import DataStore
from ntm_tuning.topics import Topic, TopicsBlock, topic_uniqueness
from ntm_tuning.training_logs import JobTopics

from preparation.recordio import SparseRow, write_sparse
from tests.trainer.conftest import planted_rows
from trainer import quality
from trainer.data import Corpus


def _random_corpus(seed: int, documents: int, vocabulary: int) -> list[SparseRow]:
    rng = random.Random(seed)
    rows = []
    for _ in range(documents):
        keys = sorted(rng.sample(range(vocabulary), rng.randint(0, 12)))
        # Some zero counts: a word with count 0 is not in the document.
        rows.append(
            SparseRow(tuple(keys), tuple(float(rng.choice([0, 1, 2, 5])) for _ in keys), vocabulary)
        )
    return rows


def _topics(seed: int, k: int, vocabulary: int, n: int = 10) -> np.ndarray:
    weights = np.random.default_rng(seed).random((k, vocabulary))
    return quality.top_word_ids(weights, n)


@pytest.mark.parametrize(
    ("seed", "documents", "vocabulary", "k"), [(1, 300, 60, 8), (2, 50, 400, 20), (3, 1, 30, 3)]
)
def test_npmi_equals_the_trainers_on_the_same_documents(
    seed: int, documents: int, vocabulary: int, k: int
) -> None:
    rows = _random_corpus(seed, documents, vocabulary)
    top = _topics(seed, k, vocabulary)
    expected = quality.npmi(top, Corpus.from_rows(rows, vocabulary))
    got = coherence.npmi(
        top.tolist(),
        ([key for key, v in zip(r.keys, r.values, strict=True) if v > 0] for r in rows),
    )
    # The trainer counts in float32; equal to its precision.
    assert got.per_topic == pytest.approx(expected.tolist(), abs=1e-5)
    assert got.npmi == pytest.approx(float(expected.mean()), abs=1e-5)
    assert got.documents == documents


def test_uniqueness_equals_the_trainers() -> None:
    top = _topics(7, 25, 40)
    mean, _ = topic_uniqueness([[str(w) for w in row] for row in top.tolist()])
    assert mean == pytest.approx(quality.topic_uniqueness(top), abs=1e-12)


def test_both_score_the_same_number_of_top_words() -> None:
    assert topic_report.NPMI_TOP_WORDS == quality.TOP_WORDS


def test_the_summarys_npmi_step_streams_the_channel_and_agrees_with_the_trainer() -> None:
    """The step as the summary runs it: topics as logged (words), the vocabulary, the test
    channel as recordIO-protobuf shards in S3; against the trainer on the same documents."""
    rows = planted_rows(400, seed=5)
    vocabulary = rows[0].dimension
    words = [f"w{i}" for i in range(vocabulary)]
    top = _topics(11, 12, vocabulary)
    expected = quality.npmi(top, Corpus.from_rows(rows, vocabulary))
    block = TopicsBlock(
        epoch="final",
        num_topics=len(top),
        wetc=None,
        tu=0.9,
        topics=tuple(Topic(words=tuple(words[i] for i in row), tu=0.9) for row in top.tolist()),
    )
    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket="data")
        for shard in range(3):
            buffer = io.BytesIO()
            write_sparse(buffer, rows[shard::3])
            s3.put_object(Bucket="data", Key=f"d/test/part-{shard}.pbr", Body=buffer.getvalue())
        s3.put_object(
            Bucket="data", Key="d/auxiliary/vocab.txt", Body="".join(f"{w}\n" for w in words)
        )
        best: dict[str, Any] = {
            "InputDataConfig": [
                {
                    "ChannelName": "test",
                    "ContentType": "application/x-recordio-protobuf",
                    "DataSource": {"S3DataSource": {"S3Uri": "s3://data/d/test/"}},
                }
            ]
        }
        result = topic_report.score_npmi(
            {"job": JobTopics("job", block=block, log_stream="job/algo-1-1", instances=1)},
            best,
            vocabulary_uri="s3://data/d/auxiliary/vocab.txt",
            store=DataStore(s3),
            max_bytes=64 * 1024 * 1024,
            deadline=None,
        )
    assert result.unavailable is None and result.channel == "test"
    score = result.scores["job"]
    # Shards are read in key order, not document order: the counts do not depend on it.
    assert score.documents == len(rows)
    assert score.per_topic == pytest.approx(expected.tolist(), abs=1e-5)
    assert score.npmi == pytest.approx(float(expected.mean()), abs=1e-5)
