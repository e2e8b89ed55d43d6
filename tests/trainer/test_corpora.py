"""The generated corpora of the benchmarks: topics from themed word counts, short texts."""

from __future__ import annotations

import numpy as np
import pytest

from trainer.corpora import short_texts, themed_topics
from trainer.quality import top_word_ids, topic_uniqueness

# Three themes of 60 words over seven words: words 0-1 belong to theme 0, 2-3 to theme 1, 4 and
# 6 to theme 2, and word 5 is a third of every theme.
THEMES = np.array(
    [
        [30, 10, 0, 0, 0, 20, 0],
        [0, 0, 25, 15, 0, 20, 0],
        [1, 0, 0, 0, 29, 20, 10],
    ],
    dtype=float,
)


def test_a_topic_is_its_themes_excess_over_the_background() -> None:
    topics, background = themed_topics(THEMES)
    assert np.allclose(background, THEMES.sum(axis=0) / THEMES.sum())
    assert np.allclose(topics.sum(axis=1), 1.0)
    # The word every theme uses as often as the background does is in no topic.
    assert np.all(topics[:, 5] == 0.0)
    # Each theme's own words carry its topic, in the theme's order of frequency.
    assert list(np.argsort(-topics[0])[:2]) == [0, 1]
    assert list(np.argsort(-topics[1])[:2]) == [2, 3]
    assert list(np.argsort(-topics[2])[:2]) == [4, 6]
    # A word a theme uses less often than the background (word 0 in theme 2) is not its own.
    assert topics[2, 0] == 0.0
    # Raw theme distributions share word 5 at the top; the topics share nothing.
    assert topic_uniqueness(top_word_ids(THEMES, 2)) < 1.0
    assert topic_uniqueness(top_word_ids(topics, 2)) == 1.0


def test_themes_that_cannot_make_topics_are_refused() -> None:
    with pytest.raises(ValueError, match="no empty row"):
        themed_topics(np.array([[1.0, 2.0], [0.0, 0.0]]))
    with pytest.raises(ValueError, match="no word more often"):
        themed_topics(np.array([[1.0, 2.0], [1.0, 2.0]]))


def test_short_texts_lengths_mixtures_and_background() -> None:
    topics, background = themed_topics(THEMES)
    corpus = short_texts(topics, background, 4_000, background_share=0.25, seed=3)
    assert len(corpus) == 4_000 and corpus.vocabulary_size == 7
    lengths = corpus.document_lengths()
    # Uniform from 20 to 80 words: both ends reached, nothing outside.
    assert lengths.min() == 20 and lengths.max() == 80
    assert 45 < lengths.mean() < 55
    # Word 5 comes from the background only: its share of all words is background_share x 1/3.
    counts = corpus.word_counts()
    assert counts[5] / counts.sum() == pytest.approx(0.25 / 3, rel=0.1)


def test_short_texts_mix_few_topics_at_a_low_concentration() -> None:
    topics, background = themed_topics(THEMES)

    def one_theme(concentration: float) -> float:
        """The fraction of documents with 90% of their words from one theme's words."""
        dense = short_texts(
            topics,
            background,
            2_000,
            background_share=0.0,
            mixture_concentration=concentration,
            seed=4,
        ).dense()
        per_theme = np.stack(
            [dense[:, [0, 1]].sum(1), dense[:, [2, 3]].sum(1), dense[:, [4, 6]].sum(1)], axis=1
        )
        return float(np.mean(per_theme.max(axis=1) > 0.9 * per_theme.sum(axis=1)))

    assert one_theme(0.1) > 0.6
    assert one_theme(100.0) < 0.05


def test_short_texts_are_deterministic_for_a_seed() -> None:
    topics, background = themed_topics(THEMES)
    first = short_texts(topics, background, 500, seed=1)
    again = short_texts(topics, background, 500, seed=1)
    other = short_texts(topics, background, 500, seed=2)
    assert np.array_equal(first.dense(), again.dense())
    assert not np.array_equal(first.dense(), other.dense())
    shorter = short_texts(topics, background, 500, shortest=5, longest=5, seed=1)
    assert np.all(shorter.document_lengths() == 5)
