"""The topics of every training job of a completed tuning job: words, uniqueness, coherence.

For each completed training job (the best first, so a time budget covers it first), the final
topics block of its training log (``training_logs``); NPMI of every job's topics on one held-out
channel (test, else validation), streamed once (``coherence``); the jobs on the Pareto front of
loss against TU (and WETC where every job has it); and the event's bounded share of all that.
Nothing here fails the request: whatever cannot be read is reported as unavailable, with why.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any

from . import events
from .aws import DataStore
from .coherence import Coherence, Incidence
from .locations import split_uri
from .training_logs import JobTopics, TrainingLogs

# The event carries at most this many words a topic, and topics up to this many bytes of JSON
# (at num_topics 1000 that is about a third of them), so the detail stays far below
# EventBridge's and Step Functions' 256 KiB; the report carries everything.
EVENT_WORDS_PER_TOPIC = 10
EVENT_WORD_CHARACTERS = 64
EVENT_TOPICS_BYTES = 48 * 1024
# NPMI over each topic's first words, as many as the local trainer uses (trainer.quality).
NPMI_TOP_WORDS = 10
NPMI_CHANNELS = ("test", "validation")
RECORDIO = "application/x-recordio-protobuf"
MAX_CHANNEL_OBJECTS = 10_000
MAX_VOCABULARY_BYTES = 64 * 1024 * 1024
WETC_UNAVAILABLE = (
    "NTM logs WETC only when vocab.txt is in the auxiliary channel (GloVe word embeddings); "
    "the local trainer never logs it (no word embeddings offline)"
)


@dataclass
class NpmiResult:
    scores: dict[str, Coherence] = field(default_factory=dict)
    channel: str | None = None
    uri: str | None = None
    unavailable: events.Unavailable | None = None
    # Jobs whose topics could not be scored while others were, and why.
    problems: dict[str, str] = field(default_factory=dict)


def read_all(
    ranked: list[dict[str, Any]],
    logs: TrainingLogs,
    *,
    deadline: float | None,
) -> dict[str, JobTopics]:
    """Each completed (or stopped: early stopping keeps a stopped job's objective, and it may
    be the best) job's topics; ``ranked`` is best first."""
    found: dict[str, JobTopics] = {}
    for job in ranked:
        if job.get("status") not in ("Completed", "Stopped"):
            found[job["name"]] = JobTopics(
                job["name"],
                unavailable="not_completed",
                message=f"the training job is {job.get('status')}",
            )
            continue
        found[job["name"]] = logs.job_topics(job["name"], deadline=deadline)
    return found


def _held_out(training_job: dict[str, Any]) -> tuple[str, str, str | None] | None:
    channels = {
        channel.get("ChannelName"): channel for channel in training_job.get("InputDataConfig", [])
    }
    for name in NPMI_CHANNELS:
        channel = channels.get(name)
        source = (channel or {}).get("DataSource", {}).get("S3DataSource") or {}
        if source.get("S3Uri"):
            return name, source["S3Uri"], (channel or {}).get("ContentType")
    return None


def _vocabulary(uri: str | None, store: DataStore) -> dict[str, int] | None:
    if not uri:
        return None
    bucket, key = split_uri(uri)
    data = store.read(bucket, key, None, limit=MAX_VOCABULARY_BYTES)
    if data is None:
        return None
    ids: dict[str, int] = {}
    for number, line in enumerate(data.decode().splitlines()):  # UTF-8, bytes.decode's default
        ids.setdefault(line.strip(), number)
    return ids


def _word_ids(topics: JobTopics, vocabulary: dict[str, int] | None) -> list[list[int]] | str:
    """Each topic's first NPMI_TOP_WORDS word ids, or why they cannot be known."""
    assert topics.block is not None
    rows: list[list[int]] = []
    for topic in topics.block.topics:
        words = topic.words[:NPMI_TOP_WORDS]
        if topics.block.word_ids:
            rows.append([int(word) for word in words])
            continue
        if vocabulary is None:
            return "no vocabulary (vocab.txt) to map the logged words to word ids"
        unknown = [word for word in words if word not in vocabulary]
        if unknown:
            return f"words not in vocab.txt: {', '.join(unknown[:5])}"
        rows.append([vocabulary[word] for word in words])
    return rows


def score_npmi(
    found: dict[str, JobTopics],
    best_training_job: dict[str, Any],
    *,
    vocabulary_uri: str | None,
    store: DataStore,
    max_bytes: int,
    deadline: float | None,
) -> NpmiResult:
    """NPMI of every job's topics on the best job's held-out channel, streamed once."""
    result = NpmiResult()

    def unavailable(reason: str, message: str) -> NpmiResult:
        result.unavailable = events.Unavailable(reason=reason, message=message[:1000])
        result.scores = {}
        return result

    available = {name: t for name, t in found.items() if t.available}
    if not available:
        return unavailable("no_topics", "no training job's topics could be read")
    held_out = _held_out(best_training_job)
    if held_out is None:
        return unavailable(
            "no_held_out_channel", "the training jobs have no test or validation channel"
        )
    channel, uri, content_type = held_out
    result.channel, result.uri = channel, uri
    if content_type and content_type.split(";")[0].strip() != RECORDIO:
        return unavailable(
            "content_type", f"the {channel} channel is {content_type}, not {RECORDIO}"
        )
    if max_bytes <= 0:
        return unavailable("disabled", "ntm:npmiMaxChannelBytes is 0")
    bucket, prefix = split_uri(uri)
    sizes = store.sizes(bucket, prefix, up_to=MAX_CHANNEL_OBJECTS)
    total = sum(sizes.values())
    if not sizes:
        return unavailable("no_held_out_channel", f"no objects under {uri}")
    if total > max_bytes or len(sizes) >= MAX_CHANNEL_OBJECTS:
        return unavailable(
            "channel_too_large",
            f"the {channel} channel {uri} holds {total} bytes"
            f"{' or more' if len(sizes) >= MAX_CHANNEL_OBJECTS else ''}; NPMI is computed on "
            f"at most {max_bytes} (ntm:npmiMaxChannelBytes)",
        )
    needs_vocabulary = any(not t.block.word_ids for t in available.values() if t.block)
    vocabulary = _vocabulary(vocabulary_uri, store) if needs_vocabulary else None
    rows: dict[str, list[list[int]]] = {}
    problems: dict[str, str] = {}
    for name, topics in available.items():
        ids = _word_ids(topics, vocabulary)
        if isinstance(ids, str):
            problems[name] = ids
        else:
            rows[name] = ids
    if not rows:
        return unavailable("unknown_words", next(iter(problems.values())))
    result.problems = problems
    from preparation.recordio import read_sparse  # standard library; shipped with the handlers

    incidence = Incidence({word for topics in rows.values() for topic in topics for word in topic})
    try:
        for key in sorted(sizes):
            body = store.open(bucket, key)
            try:
                for number, row in enumerate(read_sparse(body)):
                    if len(row.keys) != len(row.values):
                        raise ValueError(
                            f"record {number} of {key} has {len(row.keys)} word ids and "
                            f"{len(row.values)} counts"
                        )
                    incidence.add(row.keys[i] for i, count in enumerate(row.values) if count > 0)
                    if number % 4096 == 0 and deadline is not None and time.monotonic() > deadline:
                        return unavailable(
                            "time_limit", f"reading {uri} took longer than the time set aside"
                        )
            finally:
                body.close()
    except ValueError as error:
        return unavailable("unreadable_channel", f"{uri}: {error}")
    result.scores = {name: incidence.coherence(topics) for name, topics in rows.items()}
    return result


def pareto_front(jobs: list[dict[str, Any]]) -> tuple[list[str], list[str]]:
    """Jobs no other job beats on every criterion: lower loss, higher TU, and higher WETC when
    every candidate has it. Returns (criteria, job names, in ranking order)."""
    candidates = [j for j in jobs if j.get("objective") is not None and j.get("tu") is not None]
    with_wetc = bool(candidates) and all(j.get("wetc") is not None for j in candidates)
    criteria = ["objective (min)", "tu (max)"] + (["wetc (max)"] if with_wetc else [])

    def key(job: dict[str, Any]) -> tuple[float, ...]:
        values = (-float(job["objective"]), float(job["tu"]))
        return values + ((float(job["wetc"]),) if with_wetc else ())

    front = []
    for job in candidates:
        mine = key(job)
        dominated = any(
            all(o >= m for o, m in zip(key(other), mine, strict=True)) and key(other) != mine
            for other in candidates
            if other is not job
        )
        if not dominated:
            front.append(job["name"])
    return criteria, front


def annotate(
    ranked: list[dict[str, Any]], found: dict[str, JobTopics], npmi: NpmiResult
) -> dict[str, Any]:
    """Put each job's topics and scores into its report entry; the report's Pareto section."""
    for job in ranked:
        topics = found.get(job["name"])
        block = topics.block if topics and topics.available else None
        job["tu"] = block.tu if block else None
        job["wetc"] = block.wetc if block else None
        score = npmi.scores.get(job["name"])
        job["npmi"] = round(score.npmi, 6) if score else None
        job["log_stream"] = topics.log_stream if topics else None
        job["npmi_unavailable"] = npmi.problems.get(job["name"])
        job["topics"] = (
            [{"words": list(t.words), "tu": t.tu, "wetc": t.wetc} for t in block.topics]
            if block
            else None
        )
        job["topics_unavailable"] = (
            {"reason": topics.unavailable, "message": topics.message}
            if topics and topics.unavailable
            else None
        )
    criteria, front = pareto_front(ranked)
    on_front = set(front)
    for job in ranked:
        job["pareto"] = job["name"] in on_front
    return {
        "criteria": criteria,
        "jobs": front,
        "npmi_channel": npmi.channel,
        "npmi_uri": npmi.uri,
        "npmi_unavailable": npmi.unavailable.model_dump() if npmi.unavailable else None,
    }


def event_fields(
    best_name: str, found: dict[str, JobTopics], npmi: NpmiResult, log_group: str
) -> dict[str, Any]:
    """The Succeeded detail's topics fields, for the best job, bounded in size."""
    topics = found.get(best_name)
    if topics is None or not topics.available or topics.block is None:
        reason = (topics.unavailable if topics else None) or "no_log"
        message = (topics.message if topics else None) or "the best job's log was not read"
        return {"topics_unavailable": events.Unavailable(reason=reason, message=message[:1000])}
    block = topics.block
    shown: list[events.TopicWords] = []
    used = 0
    for topic in block.topics:
        entry = events.TopicWords(
            words=[w[:EVENT_WORD_CHARACTERS] for w in topic.words[:EVENT_WORDS_PER_TOPIC]],
            tu=topic.tu,
            wetc=topic.wetc,
        )
        size = len(json.dumps(entry.model_dump(mode="json"))) + 2
        if used + size > EVENT_TOPICS_BYTES:
            break
        shown.append(entry)
        used += size
    score = npmi.scores.get(best_name)
    npmi_unavailable = npmi.unavailable
    if score is None and npmi_unavailable is None:
        npmi_unavailable = events.Unavailable(
            reason="unknown_words",
            message=npmi.problems.get(best_name, "the best job's topics could not be scored"),
        )
    return {
        "topics": shown,
        "wetc": block.wetc,
        "tu": block.tu,
        "npmi": round(score.npmi, 6) if score else None,
        "topics_source": events.TopicsSource(
            log_group=log_group,
            log_stream=topics.log_stream or "",
            epoch=block.epoch,
            instances=topics.instances,
            topics_total=block.num_topics,
            topics_shown=len(shown),
            wetc_unavailable=None if block.wetc is not None else WETC_UNAVAILABLE,
            npmi_channel=npmi.channel if score else None,
            npmi_uri=npmi.uri if score else None,
            npmi_documents=score.documents if score else None,
            npmi_top_words=NPMI_TOP_WORDS if score else None,
            npmi_unavailable=npmi_unavailable if score is None else None,
        ),
    }
