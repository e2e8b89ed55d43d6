"""NTM's topics block: how SageMaker's Neural Topic Model reports its topics in its training log.

The format is the one AWS documents in the blog post "Amazon SageMaker Neural Topic Model now
supports auxiliary vocabulary channel, new topic evaluation metrics, and training subsampling"
(AWS Machine Learning Blog, 2018-10-03): at the end of training NTM logs a header, then one
line per topic with that topic's scores and its top words, each line with the algorithm's log
prefix (here ``[09/07/2018 12:55:38 INFO 139989295474496]``, left out)::

    Topics from epoch:final (num_topics:20) [wetc 0.37, tu 0.75]:
    [0.39, 0.72] game season september released power episode novel player ign jack ...
    [0.31, 0.75] single hit design tube speed tropical maximum final nuclear storm mm ...

- WETC (word-embedding topic coherence, GloVe 6B 50d, 0..1) is computed only when ``vocab.txt``
  is given in the auxiliary channel; TU (topic uniqueness, 1/K..1) always is. A topic line then
  reads ``[wetc, tu] words`` or, without WETC, ``[tu] words``; the header names its scores.
- Without a vocabulary the top "words" are word ids (integers).
- AWS's own notebooks show the header without the trailing colon, so the colon is optional.

The parser is tolerant of spacing, of the log prefix being there or not, of other log lines
between and around the block's lines, and of several blocks (one per evaluated epoch): the
block of the ``final`` epoch wins, else the last complete one. A block cut short (a truncated
log) is reported as incomplete, never silently used as complete.

``format_topics_block`` writes the same lines; the local trainer logs with it, so offline runs
exercise this parser on the lines it will see on AWS.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

# The prefix MXNet-based algorithms put on every log line: "[date time LEVEL thread] ".
_PREFIX = re.compile(
    r"^\s*\[[^\]]*?\b(?:DEBUG|INFO|WARNING|WARN|ERROR|CRITICAL)\b[^\]]*\]\s*", re.IGNORECASE
)
_HEADER = re.compile(
    r"Topics\s+from\s+epoch\s*:\s*(?P<epoch>[\w.-]+)\s*"
    r"\(\s*num_topics\s*:\s*(?P<num_topics>\d+)\s*\)\s*"
    r"(?:\[(?P<scores>[^\]]*)\])?\s*:?\s*$",
    re.IGNORECASE,
)
_SCORE = re.compile(
    r"(?P<name>[a-z_]+)\s*[:=]?\s*(?P<value>[-+]?(?:\d+\.?\d*|\.\d+)(?:e[-+]?\d+)?|nan)"
)
_NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?|nan"
_TOPIC = re.compile(
    rf"^\[\s*(?P<first>{_NUMBER})\s*(?:,\s*(?P<second>{_NUMBER})\s*)?\]\s*(?P<words>\S.*)?$",
    re.IGNORECASE,
)
FINAL_EPOCH = "final"


@dataclass(frozen=True)
class Topic:
    words: tuple[str, ...]
    tu: float | None
    wetc: float | None = None


@dataclass(frozen=True)
class TopicsBlock:
    """One ``Topics from epoch:...`` block."""

    epoch: str
    num_topics: int
    wetc: float | None
    tu: float | None
    topics: tuple[Topic, ...] = field(default_factory=tuple)

    @property
    def complete(self) -> bool:
        return len(self.topics) == self.num_topics

    @property
    def word_ids(self) -> bool:
        """Whether the top words are word ids (NTM trained without a vocabulary)."""
        return all(word.isdigit() for topic in self.topics for word in topic.words)


def strip_prefix(line: str) -> str:
    # _PREFIX is anchored at the start: it matches once at most, whatever the count.
    return _PREFIX.sub("", line, count=1).strip()  # pragma: no mutate


def _float(text: str | None) -> float | None:
    if text is None:
        return None
    value = float(text)
    return value if math.isfinite(value) else None


def _header_scores(text: str | None) -> dict[str, float | None]:
    if not text:
        return {}
    return {m["name"].lower(): _float(m["value"]) for m in _SCORE.finditer(text.lower())}


def parse_blocks(lines: Iterable[str]) -> list[TopicsBlock]:
    """Every topics block in ``lines`` (log messages, in order), complete or not."""
    blocks: list[TopicsBlock] = []
    current: TopicsBlock | None = None
    # Both are set by each header before a topic line can be read.
    topics: list[Topic] = []  # pragma: no mutate
    with_wetc = False  # pragma: no mutate

    def close() -> None:
        if current is not None:
            blocks.append(
                TopicsBlock(
                    current.epoch, current.num_topics, current.wetc, current.tu, tuple(topics)
                )
            )

    for raw in lines:
        for line in raw.splitlines() or [raw]:
            message = strip_prefix(line)
            header = _HEADER.search(message)
            if header:
                close()
                scores = _header_scores(header["scores"])
                current = TopicsBlock(
                    epoch=header["epoch"].lower(),
                    num_topics=int(header["num_topics"]),
                    wetc=scores.get("wetc"),
                    tu=scores.get("tu"),
                )
                with_wetc = "wetc" in scores
                topics = []
                continue
            if current is None or len(topics) >= current.num_topics:
                continue
            match = _TOPIC.match(message)
            if not match:
                continue  # another log line in between: not part of the block
            first, second = _float(match["first"]), _float(match["second"])
            two = match["second"] is not None
            # Two scores are [wetc, tu]; one is TU, unless the header says WETC is all there is.
            if two:
                wetc, tu = first, second
            elif with_wetc and current.tu is None:
                wetc, tu = first, None
            else:
                wetc, tu = None, first
            words = tuple((match["words"] or "").split())
            topics.append(Topic(words=words, tu=tu, wetc=wetc))
    close()
    return blocks


def final_block(lines: Iterable[str]) -> TopicsBlock | None:
    """The block to report: the ``final`` epoch's (the last one logged, if several), else the
    last complete block, else the last block (incomplete); None when there is none."""
    blocks = parse_blocks(lines)
    if not blocks:
        return None
    finals = [b for b in blocks if b.epoch == FINAL_EPOCH]
    if finals:
        return finals[-1]
    complete = [b for b in blocks if b.complete]
    return complete[-1] if complete else blocks[-1]


def topic_uniqueness(topics: Sequence[Sequence[str]]) -> tuple[float, list[float]]:
    """TU as NTM defines it (Nan et al. 2019): for each topic, the mean over its top words of
    1 / (how many topics' top words include that word); the model's TU is the mean over topics.
    Returns (mean, per topic); 1/K (all topics alike) .. 1 (no word shared)."""
    counts: dict[str, int] = {}
    for words in topics:
        for word in set(words):
            counts[word] = counts.get(word, 0) + 1
    per_topic = [
        sum(1.0 / counts[word] for word in words) / len(words) if words else 0.0 for words in topics
    ]
    return (sum(per_topic) / len(per_topic) if per_topic else 0.0), per_topic


def format_topics_block(
    topics: Sequence[Sequence[str]],
    *,
    epoch: str = FINAL_EPOCH,
    wetc: Sequence[float] | None = None,
    prefix: str = "",
) -> list[str]:
    """The lines NTM logs for ``topics`` (top words each), TU computed here; WETC only when
    given (it needs word embeddings)."""
    tu, per_topic = topic_uniqueness(topics)
    scores = f"[wetc {sum(wetc) / len(wetc):.2f}, tu {tu:.2f}]" if wetc else f"[tu {tu:.2f}]"
    lines = [f"{prefix}Topics from epoch:{epoch} (num_topics:{len(topics)}) {scores}:"]
    for k, words in enumerate(topics):
        score = f"[{wetc[k]:.2f}, {per_topic[k]:.2f}]" if wetc else f"[{per_topic[k]:.2f}]"
        lines.append(f"{prefix}{score} {' '.join(words)}")
    return lines
