"""NPMI coherence of topics on held-out documents, streamed from a recordIO-protobuf channel.

The definition is the local trainer's (``trainer.quality.npmi``), so offline and deployed figures
compare: for each topic, the mean over pairs of its top words of
``log(p(i, j) / (p(i) p(j))) / -log p(i, j)``, where p is the fraction of reference documents
containing the word(s); a pair that never co-occurs scores -1, one in every document 1. A topic
without pairs scores 0; a model's NPMI is the mean over its topics. A test proves both give the
same values on the same data.

This module uses the standard library only (it runs in Lambda, without NumPy): each relevant
word's documents become a bit set (a Python int), so a pair's joint count is one AND and a
popcount, whatever the number of topics.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Coherence:
    npmi: float
    per_topic: tuple[float, ...]
    documents: int


class Incidence:
    """Which reference documents contain each of a fixed set of words."""

    def __init__(self, words: Iterable[int]) -> None:
        self._postings: dict[int, list[int]] = {word: [] for word in words}
        self.documents = 0
        self._bits: dict[int, int] | None = None

    def add(self, word_ids: Iterable[int]) -> None:
        """One document, by the ids of the words it contains (count > 0)."""
        document = self.documents
        self.documents += 1
        postings = self._postings
        for word in set(word_ids):
            found = postings.get(word)
            if found is not None:
                found.append(document)
        self._bits = None

    def _bitsets(self) -> dict[int, int]:
        if self._bits is None:
            size = self.documents // 8 + 1
            bits: dict[int, int] = {}
            for word, documents in self._postings.items():
                buffer = bytearray(size)
                for document in documents:
                    buffer[document >> 3] |= 1 << (document & 7)
                bits[word] = int.from_bytes(buffer, "little")
            self._bits = bits
        return self._bits

    def coherence(self, topics: Sequence[Sequence[int]]) -> Coherence:
        """NPMI of each topic (its top word ids, best first) on the documents added."""
        bits = self._bitsets()
        total = max(self.documents, 1)
        alone = {word: mask.bit_count() / total for word, mask in bits.items()}
        per_topic = []
        for topic in topics:
            values = [
                pair_npmi((bits[a] & bits[b]).bit_count() / total, alone[a], alone[b])
                for i, a in enumerate(topic)
                for b in topic[i + 1 :]
            ]
            per_topic.append(sum(values) / len(values) if values else 0.0)
        mean = sum(per_topic) / len(per_topic) if per_topic else 0.0
        return Coherence(npmi=mean, per_topic=tuple(per_topic), documents=self.documents)


def pair_npmi(joint: float, first: float, second: float) -> float:
    if joint <= 0.0:
        return -1.0
    if joint >= 1.0:
        return 1.0
    return math.log(joint / (first * second)) / -math.log(joint)


def npmi(topics: Sequence[Sequence[int]], documents: Iterable[Iterable[int]]) -> Coherence:
    """NPMI of ``topics`` (rows of word ids) on ``documents`` (each the ids of its words)."""
    incidence = Incidence({word for topic in topics for word in topic})
    for document in documents:
        incidence.add(document)
    return incidence.coherence(topics)
