"""How good the topics are, beyond the loss: NPMI coherence and topic uniqueness.

Both work on any topic-word matrix (NTM's decoder, LDA's components), so the benchmarks
score other models with the same code.

- NPMI (normalized pointwise mutual information) of a topic: the mean, over pairs of its top
  words, of ``log(p(i, j) / (p(i) p(j))) / -log p(i, j)``, with probabilities counted as the
  fraction of reference documents that contain the words. -1 (never together) .. 1 (always
  together); a pair that never co-occurs scores -1.
- Topic uniqueness (TU, Nan et al. 2019, what NTM logs): for each topic, the mean over its top
  words of 1 / (number of topics whose top words include that word); averaged over topics.
  1/K (all topics alike) .. 1 (no word shared).

Two failures the loss alone does not reveal, detected here and reported as warnings (codes in
``WARNINGS``; the Succeeded event carries them):

- ``topics_collapsed``: the topics share most of their top words. A word is *common* when it
  is among the top words of more than half of the topics; topics have collapsed when, on
  average, more than half of each topic's top words are common.
- ``posterior_collapsed``: the encoder ignores the document, so every document is decoded from
  the same topic mixture and the topic-word weights are whatever the decoder's initialisation
  left them: the topics' top words are noise, or the background's frequent words. Measured
  by active units (Burda, Grosse and Salakhutdinov, "Importance Weighted Autoencoders", 2016):
  a latent dimension is active when the variance over documents of its posterior mean
  exceeds ``ACTIVE_UNIT_VARIANCE``; the posterior has collapsed when no dimension is active.
  (A KL divergence of about 0 is one way to get there; a posterior that is the same for every
  document but not the prior is another.)
- ``barely_trained``: the validation loss never improved after the first epoch, so early
  stopping kept the first epoch's weights, one epoch from the initialisation: the topics' top
  words are noise. (With ``batch_norm`` the posterior means are normalised, so such a model
  has active units all the same; settings that move the model too slowly end this way.)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .data import Corpus

TOP_WORDS = 10
# More than this fraction of a topic's top words common to most topics: the topics collapsed.
COLLAPSED_SHARED_FRACTION = 0.5
# A latent dimension whose posterior mean varies less than this over documents is inactive.
ACTIVE_UNIT_VARIANCE = 0.01
TOPICS_COLLAPSED = "topics_collapsed"
POSTERIOR_COLLAPSED = "posterior_collapsed"
BARELY_TRAINED = "barely_trained"
WARNINGS = (TOPICS_COLLAPSED, POSTERIOR_COLLAPSED, BARELY_TRAINED)
# A trainer reports a warning as the metric "warning:<code>" = 1.
WARNING_METRIC_PREFIX = "warning:"


@dataclass(frozen=True)
class TopicQuality:
    npmi: float
    uniqueness: float
    npmi_per_topic: tuple[float, ...]

    def as_metrics(self) -> dict[str, float]:
        return {"topics:npmi": self.npmi, "topics:uniqueness": self.uniqueness}


def top_word_ids(topic_word: np.ndarray, n: int = TOP_WORDS) -> np.ndarray:
    """The ``n`` highest-weighted word ids of each topic (rows), best first."""
    weights = np.asarray(topic_word)
    n = min(n, weights.shape[1])
    part = np.argpartition(-weights, n - 1, axis=1)[:, :n]
    order = np.argsort(-np.take_along_axis(weights, part, axis=1), axis=1, kind="stable")
    return np.take_along_axis(part, order, axis=1)


def npmi(top_ids: np.ndarray, reference: Corpus) -> np.ndarray:
    """NPMI of each topic (row of word ids) on the reference corpus's document co-occurrence."""
    top = np.asarray(top_ids, dtype=np.int64)
    words = np.unique(top)
    column = {word: position for position, word in enumerate(words)}
    # Binary document-word incidence, restricted to the words that matter.
    keep = np.isin(reference.indices, words) & (reference.values > 0)
    row_ids = np.repeat(np.arange(len(reference)), np.diff(reference.indptr))[keep]
    cols = np.searchsorted(words, reference.indices[keep])
    incidence = np.zeros((len(reference), len(words)), dtype=np.float32)
    incidence[row_ids, cols] = 1.0
    documents = max(len(reference), 1)
    together = (incidence.T @ incidence) / documents
    alone = np.diag(together).copy()
    scores = np.empty(len(top))
    for k, topic in enumerate(top):
        ids = [column[w] for w in topic]
        pairs = [(a, b) for i, a in enumerate(ids) for b in ids[i + 1 :]]
        values = [_pair_npmi(together[a, b], alone[a], alone[b]) for a, b in pairs]
        scores[k] = float(np.mean(values)) if values else 0.0
    return scores


def _pair_npmi(joint: float, first: float, second: float) -> float:
    if joint <= 0.0:
        return -1.0
    if joint >= 1.0:
        return 1.0
    return float(np.log(joint / (first * second)) / -np.log(joint))


def _topics_per_word(top: np.ndarray) -> np.ndarray:
    """For each word id, how many topics have it among their top words."""
    counts = np.zeros(int(top.max()) + 1)
    for topic in top:
        counts[np.unique(topic)] += 1
    return counts


def topic_uniqueness(top_ids: np.ndarray) -> float:
    top = np.asarray(top_ids, dtype=np.int64)
    if top.size == 0:
        return 0.0
    counts = _topics_per_word(top)
    return float(np.mean([np.mean(1.0 / counts[topic]) for topic in top]))


def topic_quality(topic_word: np.ndarray, reference: Corpus, n: int = TOP_WORDS) -> TopicQuality:
    top = top_word_ids(topic_word, n)
    per_topic = npmi(top, reference)
    return TopicQuality(
        npmi=float(per_topic.mean()),
        uniqueness=topic_uniqueness(top),
        npmi_per_topic=tuple(float(v) for v in per_topic),
    )


def describe_topics(
    topic_word: np.ndarray, vocabulary: Sequence[str], n: int = TOP_WORDS
) -> list[dict[str, object]]:
    """Each topic's top words and their weights, as written to ``topics.json``."""
    top = top_word_ids(topic_word, n)
    return [
        {
            "topic": k,
            "words": [vocabulary[i] for i in ids],
            "weights": [round(float(topic_word[k, i]), 6) for i in ids],
        }
        for k, ids in enumerate(top)
    ]


def shared_top_words(top_ids: np.ndarray) -> float:
    """Mean fraction of each topic's top words that are among the top words of more than
    half of the topics: 0 (no word common to most topics) .. 1 (all topics alike)."""
    top = np.asarray(top_ids, dtype=np.int64)
    if top.size == 0:
        return 0.0
    common = _topics_per_word(top) > len(top) / 2
    return float(np.mean([np.mean(common[topic]) for topic in top]))


def topics_collapsed(topic_word: np.ndarray, n: int = TOP_WORDS) -> bool:
    """Whether the topics (rows of a topic-word matrix) share most of their top words."""
    return shared_top_words(top_word_ids(topic_word, n)) > COLLAPSED_SHARED_FRACTION


def active_units(posterior_means: np.ndarray) -> int:
    """How many latent dimensions (columns) have a posterior mean that varies over documents
    (rows) by more than ``ACTIVE_UNIT_VARIANCE``."""
    means = np.asarray(posterior_means, dtype=np.float64)
    if means.shape[0] < 2:
        return 0
    return int(np.sum(means.var(axis=0) > ACTIVE_UNIT_VARIANCE))


def barely_trained(best_epoch: int, epochs_run: int) -> bool:
    """Whether training ran past its first epoch without ever improving on it."""
    return best_epoch == 1 and epochs_run > 1


def collapse_warnings(
    topic_word: np.ndarray,
    posterior_means: np.ndarray | None = None,
    n: int = TOP_WORDS,
    *,
    best_epoch: int | None = None,
    epochs_run: int | None = None,
) -> list[str]:
    """The warning codes that apply to a model: its topic-word matrix and, when known, the
    posterior means of held-out documents (documents x topics) and its training's best epoch
    and number of epochs."""
    found = []
    if topics_collapsed(topic_word, n):
        found.append(TOPICS_COLLAPSED)
    if posterior_means is not None and active_units(posterior_means) == 0:
        found.append(POSTERIOR_COLLAPSED)
    if best_epoch is not None and epochs_run is not None and barely_trained(best_epoch, epochs_run):
        found.append(BARELY_TRAINED)
    return found
