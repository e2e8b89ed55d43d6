"""Bag-of-words corpora with known topics, for benchmarks and tests (numpy only).

Documents follow LDA's generative story: each topic is a sparse distribution over the
vocabulary (a Dirichlet draw with a small concentration), each document mixes a few topics
(a Dirichlet draw over topics) and draws a Poisson number of words from the mixture.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .data import Corpus


@dataclass(frozen=True)
class PlantedCorpus:
    train: Corpus
    validation: Corpus
    test: Corpus
    topic_word: np.ndarray  # the true K x V topics
    vocabulary: list[str]


def planted_corpus(
    documents: int = 20_000,
    vocabulary_size: int = 2_000,
    topics: int = 20,
    *,
    mean_length: float = 80.0,
    topic_concentration: float = 0.05,
    mixture_concentration: float = 0.1,
    held_out: float = 0.1,
    seed: int = 0,
) -> PlantedCorpus:
    """``documents`` documents in all; ``held_out`` of them each for validation and test."""
    rng = np.random.default_rng(seed)
    topic_word = rng.dirichlet(np.full(vocabulary_size, topic_concentration), size=topics)
    rows: list[np.ndarray] = []
    chunk = 2_000
    for start in range(0, documents, chunk):
        count = min(chunk, documents - start)
        mixtures = rng.dirichlet(np.full(topics, mixture_concentration), size=count)
        probabilities = mixtures @ topic_word
        probabilities /= probabilities.sum(axis=1, keepdims=True)
        lengths = np.maximum(rng.poisson(mean_length, size=count), 1)
        rows.append(rng.multinomial(lengths, probabilities).astype(np.float32))
    counts = np.concatenate(rows)
    held = round(held_out * documents)
    train_end = documents - 2 * held
    words = [f"w{i:05d}" for i in range(vocabulary_size)]
    return PlantedCorpus(
        train=Corpus.from_dense(counts[:train_end]),
        validation=Corpus.from_dense(counts[train_end : train_end + held]),
        test=Corpus.from_dense(counts[train_end + held :]),
        topic_word=topic_word,
        vocabulary=words,
    )
