"""NPMI coherence on held-out documents, computed by hand on small corpora."""

from __future__ import annotations

import math

import pytest
from ntm_tuning.coherence import Incidence, npmi, pair_npmi


def test_a_pair_in_every_document_scores_one_and_one_never_together_minus_one() -> None:
    assert pair_npmi(1.0, 1.0, 1.0) == 1.0
    assert pair_npmi(0.0, 0.5, 0.5) == -1.0
    # Independent words: p(i, j) = p(i) p(j) scores 0.
    assert pair_npmi(0.25, 0.5, 0.5) == pytest.approx(0.0)


def test_npmi_of_each_topic_and_their_mean() -> None:
    documents = [[0, 1], [0, 1, 2], [2], [3]]
    result = npmi([[0, 1], [1, 2], [3]], documents)
    # Topic 0: 0 and 1 share 2 of 4 documents, each in 2: log(0.5 / 0.25) / -log(0.5) = 1.
    # Topic 1: 1 and 2 share 1 of 4, each in 2: log(0.25 / 0.25) / -log(0.25) = 0.
    # Topic 2: one word, no pair: 0.
    assert result.per_topic == pytest.approx((1.0, 0.0, 0.0))
    assert result.npmi == pytest.approx(1.0 / 3)
    assert result.documents == 4


def test_a_word_in_every_document_with_its_partner() -> None:
    result = npmi([[5, 6]], [[5, 6, 9]] * 3)
    assert result.per_topic == (1.0,)


def test_without_documents_or_topics() -> None:
    assert npmi([[0, 1]], []).per_topic == (-1.0,)
    empty = npmi([], [[0, 1]])
    assert (empty.npmi, empty.per_topic, empty.documents) == (0.0, (), 1)


def test_documents_past_the_first_bytes_of_a_bit_set_are_counted() -> None:
    # 17 documents span three bytes: the last one holds both words, the others neither.
    documents = [[9]] * 16 + [[0, 1]]
    incidence = Incidence([0, 1])
    for document in documents:
        incidence.add(document)
    (value,) = incidence.coherence([[0, 1]]).per_topic
    expected = math.log((1 / 17) / (1 / 17) ** 2) / -math.log(1 / 17)
    assert value == pytest.approx(expected) == pytest.approx(1.0)
    # Adding a document after scoring counts it too.
    incidence.add([0])
    (value,) = incidence.coherence([[0, 1]]).per_topic
    assert value == pytest.approx(math.log((1 / 18) / (2 / 18 / 18)) / -math.log(1 / 18))


def test_documents_in_different_bytes_of_a_bit_set_are_told_apart() -> None:
    # Document 0 holds one word, document 8 (the next byte, same bit) the other: never together.
    documents = [[0], *[[9]] * 7, [1]]
    assert npmi([[0, 1]], documents).per_topic == (-1.0,)
    # And documents 0 and 16 (two bytes apart) both holding both words are counted twice.
    documents = [[0, 1], *[[9]] * 15, [0, 1], [0]]
    (value,) = npmi([[0, 1]], documents).per_topic
    assert value == pytest.approx(math.log((2 / 18) / (3 / 18 * 2 / 18)) / -math.log(2 / 18))
