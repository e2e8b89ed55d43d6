"""Reading channels (recordIO-protobuf sparse and dense, CSV), the hyperparameter table, and
the topic-quality measures. No torch needed."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from preparation.recordio import SparseRow, write_sparse
from trainer.data import Corpus, DataError, read_channel, read_vocabulary
from trainer.hyperparameters import HyperparameterError, parse_hyperparameters
from trainer.quality import (
    ACTIVE_UNIT_VARIANCE,
    WARNING_METRIC_PREFIX,
    WARNINGS,
    active_units,
    barely_trained,
    collapse_warnings,
    npmi,
    shared_top_words,
    top_word_ids,
    topic_quality,
    topic_uniqueness,
    topics_collapsed,
)

MATRIX = np.array([[0, 2, 0, 1], [3, 0, 0, 0], [0, 0, 0, 0], [1, 1, 1, 1]], dtype=np.float32)


def sparse_rows(matrix: np.ndarray) -> list[SparseRow]:
    rows = []
    for row in matrix:
        keys = tuple(int(k) for k in np.nonzero(row)[0])
        rows.append(SparseRow(keys, tuple(float(row[k]) for k in keys), matrix.shape[1]))
    return rows


def test_recordio_sparse_in_several_files(tmp_path: Path) -> None:
    channel = tmp_path / "train"
    channel.mkdir()
    rows = sparse_rows(MATRIX)
    with (channel / "part-00001.pbr").open("wb") as stream:
        write_sparse(stream, rows[2:])
    with (channel / "part-00000.pbr").open("wb") as stream:
        write_sparse(stream, rows[:2])
    (channel / ".hidden").write_bytes(b"not data")
    corpus = read_channel(channel, "application/x-recordio-protobuf")
    assert np.array_equal(corpus.dense(), MATRIX)  # files in name order
    assert corpus.vocabulary_size == 4 and len(corpus) == 4
    assert np.array_equal(read_channel(channel).dense(), MATRIX)  # recognised without a type


def test_recordio_dense_records(tmp_path: Path) -> None:
    rows = [SparseRow((), tuple(float(v) for v in row), 4) for row in MATRIX]
    with (tmp_path / "dense.pbr").open("wb") as stream:
        write_sparse(stream, rows)  # no keys: every position holds a value
    assert np.array_equal(read_channel(tmp_path / "dense.pbr").dense(), MATRIX)


def test_csv_dense_rows(tmp_path: Path) -> None:
    np.savetxt(tmp_path / "docs.csv", MATRIX, delimiter=",", fmt="%g")
    corpus = read_channel(tmp_path, "text/csv", vocabulary_size=4)
    assert np.array_equal(corpus.dense(), MATRIX)
    assert corpus.nnz == int((MATRIX > 0).sum())
    with pytest.raises(DataError, match="expected 5"):
        read_channel(tmp_path, "text/csv", vocabulary_size=5)


def test_bad_data_is_refused_with_the_reason(tmp_path: Path) -> None:
    with (tmp_path / "a.pbr").open("wb") as stream:
        write_sparse(stream, [SparseRow((0,), (1.0,), 4), SparseRow((0,), (1.0,), 5)])
    with pytest.raises(DataError, match="dimension 5"):
        read_channel(tmp_path / "a.pbr")
    with pytest.raises(DataError, match="non-negative"):
        Corpus.from_dense(np.array([[1.0, -1.0]]))
    with (tmp_path / "b.pbr").open("wb") as stream:
        write_sparse(stream, [SparseRow((0,), (1.0,), 4)])
    with pytest.raises(DataError, match=r"b\.pbr: document 0 has dimension 4, expected 9"):
        read_channel(tmp_path / "b.pbr", vocabulary_size=9)
    with pytest.raises(DataError, match="not supported"):
        read_channel(tmp_path / "b.pbr", "application/json")


def test_corpus_take_and_lengths() -> None:
    corpus = Corpus.from_dense(MATRIX)
    assert np.array_equal(corpus.take(np.array([3, 0])).dense(), MATRIX[[3, 0]])
    assert np.array_equal(corpus.document_lengths(), MATRIX.sum(axis=1))
    assert np.array_equal(corpus.word_counts(), MATRIX.sum(axis=0))


def test_vocabulary_from_the_auxiliary_channel(tmp_path: Path) -> None:
    (tmp_path / "auxiliary").mkdir()
    (tmp_path / "auxiliary" / "vocab.txt").write_text("alpha\nbeta\n", encoding="utf-8")
    assert read_vocabulary(tmp_path / "auxiliary") == ["alpha", "beta"]
    assert read_vocabulary(tmp_path / "missing") is None


def test_hyperparameters_defaults_strings_and_refusals() -> None:
    hp = parse_hyperparameters(
        {"feature_dim": "130", "num_topics": "5", "_tuning_objective_metric": "x"}
    )
    assert (hp.batch_norm, hp.encoder_layers_activation, hp.epochs, hp.optimizer) == (
        False,
        "sigmoid",
        50,
        "adadelta",
    )
    assert (hp.learning_rate, hp.mini_batch_size, hp.num_patience_epochs) == (0.001, 256, 3)
    assert (hp.rescale_gradient, hp.sub_sample, hp.tolerance, hp.weight_decay) == (
        1.0,
        1.0,
        0.001,
        0.0,
    )
    assert math.isinf(hp.clip_gradient) and hp.hidden_sizes == (15, 10)
    assert parse_hyperparameters(hp.as_strings()) == hp
    assert (
        parse_hyperparameters(
            {**hp.as_strings(), "clip_gradient": "0.5", "batch_norm": "True"}
        ).clip_gradient
        == 0.5
    )
    for bad, message in [
        ({"num_topics": "1"}, "num_topics must be in"),
        ({"optimizer": "lbfgs"}, "optimizer must be one of"),
        ({"learning_rate": "2"}, "learning_rate must be in"),
        ({"sub_sample": "0"}, "sub_sample must be in"),
        ({"encoder_layers": "10,0"}, "positive"),
        ({"clip_gradient": "0.0001"}, "clip_gradient"),
        ({"mini_batch_size": "2.5"}, "integer"),
        ({"colour": "red"}, "unknown hyperparameter"),
    ]:
        with pytest.raises(HyperparameterError, match=message):
            parse_hyperparameters({"feature_dim": "130", "num_topics": "5", **bad})
    with pytest.raises(HyperparameterError, match="missing required"):
        parse_hyperparameters({"num_topics": "5"})


def test_npmi_of_words_always_never_and_sometimes_together() -> None:
    # Words 0 and 1 always together (in half the documents), 2 and 3 never together.
    docs = np.array([[1, 1, 1, 0], [1, 1, 1, 0], [0, 0, 0, 1], [0, 0, 0, 1]], dtype=np.float32)
    corpus = Corpus.from_dense(docs)
    scores = npmi(np.array([[0, 1], [2, 3], [0, 2]]), corpus)
    assert scores[0] == pytest.approx(1.0)  # log(0.5 / 0.25) / -log(0.5)
    assert scores[1] == pytest.approx(-1.0)
    assert scores[2] == pytest.approx(1.0)


def test_topic_uniqueness_ranges_from_one_over_k_to_one() -> None:
    assert topic_uniqueness(np.array([[0, 1, 2], [3, 4, 5]])) == 1.0
    assert topic_uniqueness(np.array([[0, 1, 2]] * 4)) == pytest.approx(0.25)
    assert topic_uniqueness(np.array([[0, 1], [0, 2]])) == pytest.approx(0.75)


def test_top_words_and_quality_of_a_topic_word_matrix() -> None:
    weights = np.array([[0.1, 0.5, 0.4, 0.0], [0.7, 0.0, 0.1, 0.2]])
    assert top_word_ids(weights, 2).tolist() == [[1, 2], [0, 3]]
    quality = topic_quality(weights, Corpus.from_dense(MATRIX), n=2)
    assert -1.0 <= quality.npmi <= 1.0 and quality.uniqueness == 1.0
    assert set(quality.as_metrics()) == {"topics:npmi", "topics:uniqueness"}


def _topics_over(words_per_topic: list[list[int]], vocabulary: int = 60) -> np.ndarray:
    """A topic-word matrix whose topic k puts decreasing weights on words_per_topic[k]."""
    matrix = np.full((len(words_per_topic), vocabulary), 1e-4)
    for k, words in enumerate(words_per_topic):
        for rank, word in enumerate(words):
            matrix[k, word] = 1.0 - rank / 20
    return matrix / matrix.sum(axis=1, keepdims=True)


def test_a_collapsed_topic_word_matrix_is_detected() -> None:
    rng = np.random.default_rng(3)
    common = rng.dirichlet(np.full(60, 0.1))
    collapsed = common + rng.normal(0, 1e-6, size=(8, 60)) ** 2  # eight copies of one topic
    assert shared_top_words(top_word_ids(collapsed, 10)) == 1.0
    assert topics_collapsed(collapsed)
    assert collapse_warnings(collapsed) == ["topics_collapsed"]


def test_healthy_topics_are_not_collapsed() -> None:
    healthy = _topics_over([list(range(10 * k, 10 * k + 10)) for k in range(6)])
    assert shared_top_words(top_word_ids(healthy, 10)) == 0.0
    assert not topics_collapsed(healthy)
    assert collapse_warnings(healthy, np.eye(6) * 3) == []


def test_collapse_is_more_than_half_of_the_top_words_common_to_most_topics() -> None:
    def matrix(common: int, sharing: int, topics: int = 4) -> np.ndarray:
        """``sharing`` of the topics have the same ``common`` top words, the rest are unique."""
        words = []
        for k in range(topics):
            shared = list(range(common)) if k < sharing else []
            own = list(range(10 + 10 * k, 10 + 10 * k + 10 - len(shared)))
            words.append(shared + own)
        return _topics_over(words, vocabulary=60)

    # A word in the top words of exactly half of the topics is not common to most of them.
    assert shared_top_words(top_word_ids(matrix(10, sharing=2), 10)) == 0.0
    # Every topic has exactly half of its top words common to all: not collapsed; one more word is.
    exactly_half = matrix(5, sharing=4)
    assert shared_top_words(top_word_ids(exactly_half, 10)) == pytest.approx(0.5)
    assert not topics_collapsed(exactly_half)
    just_over = matrix(6, sharing=4)
    assert shared_top_words(top_word_ids(just_over, 10)) == pytest.approx(0.6)
    assert topics_collapsed(just_over)
    # Three of four topics share 7 words (more than half of the topics): 3 x 0.7 / 4.
    assert shared_top_words(top_word_ids(matrix(7, sharing=3), 10)) == pytest.approx(0.525)
    assert topics_collapsed(matrix(7, sharing=3))


def test_posterior_collapse_is_no_active_unit() -> None:
    healthy = _topics_over([list(range(10 * k, 10 * k + 10)) for k in range(6)])
    rng = np.random.default_rng(4)
    # Each column's variance over documents: 4 columns just under the threshold, 1 just over.
    base = rng.standard_normal((2000, 5))
    base = (base - base.mean(axis=0)) / base.std(axis=0)
    scale = np.sqrt([0.99, 0.99, 0.99, 0.99, 1.01] * np.array(ACTIVE_UNIT_VARIANCE))
    means = base * scale + 3.0  # the same offset for every document is not activity
    assert active_units(means) == 1
    assert collapse_warnings(healthy, means) == []
    assert active_units(means[:, :4]) == 0
    assert collapse_warnings(healthy, means[:, :4]) == ["posterior_collapsed"]
    assert collapse_warnings(healthy, None) == []


def test_a_model_never_better_than_its_first_epoch_is_barely_trained() -> None:
    healthy = _topics_over([list(range(10 * k, 10 * k + 10)) for k in range(6)])
    assert barely_trained(best_epoch=1, epochs_run=11)
    assert barely_trained(best_epoch=1, epochs_run=2)
    assert not barely_trained(best_epoch=1, epochs_run=1)  # nothing after it to improve
    assert not barely_trained(best_epoch=2, epochs_run=12)
    assert collapse_warnings(healthy, best_epoch=1, epochs_run=11) == ["barely_trained"]
    assert collapse_warnings(healthy, best_epoch=2, epochs_run=11) == []


def test_the_trainers_warning_codes_are_the_events() -> None:
    from typing import get_args

    from ntm_tuning import events

    assert tuple(events.MODEL_WARNINGS) == WARNINGS
    assert get_args(events.ModelWarning.model_fields["code"].annotation) == WARNINGS
    assert events.WARNING_METRIC_PREFIX == WARNING_METRIC_PREFIX
