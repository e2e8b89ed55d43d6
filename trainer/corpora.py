"""Bag-of-words corpora with known topics, for benchmarks and tests (numpy only).

``planted_corpus`` follows LDA's generative story: each topic is a sparse distribution over
the vocabulary (a Dirichlet draw with a small concentration), each document mixes a few topics
(a Dirichlet draw over topics) and draws a Poisson number of words from the mixture.

``themed_topics`` and ``short_texts`` make short texts from real vocabularies: given the word
counts of texts on a few themes (one row per theme), each topic is what sets its theme apart,
the theme's word distribution minus the distribution of all the themes together (its positive
part, renormalised), and the distribution of all the themes together is the background, the
words every theme uses. Each short text draws a sparse mixture of topics and its words from it
and from the background, as real short texts on distinct themes have distinct vocabularies
plus words shared by all (the background-plus-deviation view of SAGE: Eisenstein, Ahmed and
Xing, "Sparse Additive Generative Models of Text", 2011).
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


def themed_topics(theme_counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Topics (themes x vocabulary, rows summing to 1) and the background (vocabulary) from
    word counts of texts on each theme: a topic is its theme's excess over the background."""
    counts = np.asarray(theme_counts, dtype=np.float64)
    if counts.ndim != 2 or np.any(counts.sum(axis=1) <= 0) or np.any(counts < 0):
        raise ValueError("theme_counts: a themes x vocabulary matrix of counts, no empty row")
    themes = counts / counts.sum(axis=1, keepdims=True)
    background = counts.sum(axis=0) / counts.sum()
    excess = np.clip(themes - background, 0.0, None)
    if np.any(excess.sum(axis=1) <= 0):
        raise ValueError("a theme uses no word more often than the background does")
    return excess / excess.sum(axis=1, keepdims=True), background


def short_texts(
    topic_word: np.ndarray,
    background: np.ndarray,
    documents: int,
    *,
    shortest: int = 20,
    longest: int = 80,
    background_share: float = 0.2,
    mixture_concentration: float = 0.1,
    seed: int = 0,
) -> Corpus:
    """``documents`` documents of ``shortest`` to ``longest`` words (uniformly): each word comes
    from ``background`` with probability ``background_share``, otherwise from a topic drawn from
    the document's mixture, itself drawn from a symmetric Dirichlet of ``mixture_concentration``
    (0.1 over 20 topics: one or two topics a document). Deterministic for a seed."""
    topics, vocabulary_size = topic_word.shape
    rng = np.random.default_rng(seed)
    mixtures = rng.dirichlet(np.full(topics, mixture_concentration), size=documents)
    lengths = rng.integers(shortest, longest + 1, size=documents)
    document_of = np.repeat(np.arange(documents), lengths)
    # Component of each word: a topic (0 .. K-1, from the document's mixture) or the background (K).
    cumulative = np.cumsum(mixtures, axis=1)
    draws = rng.random(len(document_of)) * cumulative[document_of, -1]
    component = (draws[:, None] > cumulative[document_of]).sum(axis=1)
    component[rng.random(len(document_of)) < background_share] = topics
    sources = np.vstack([topic_word, background[None, :]])
    sources = np.cumsum(sources / sources.sum(axis=1, keepdims=True), axis=1)
    words = np.empty(len(document_of), dtype=np.int64)
    for k in range(topics + 1):
        at = np.flatnonzero(component == k)
        picked = np.searchsorted(sources[k], rng.random(len(at)) * sources[k, -1], side="right")
        words[at] = np.minimum(picked, vocabulary_size - 1)
    cells = document_of * vocabulary_size + words
    unique, counts = np.unique(cells, return_counts=True)
    rows, columns = np.divmod(unique, vocabulary_size)
    indptr = np.zeros(documents + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=documents), out=indptr[1:])
    return Corpus(indptr, columns.astype(np.int32), counts.astype(np.float32), vocabulary_size)
