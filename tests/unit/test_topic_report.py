"""The topics part of the report and of the Succeeded event, from read topics blocks and a
held-out channel in an in-memory store: which jobs are read, NPMI and every reason it is left
out, the Pareto front, each job's entry and the event's bounded share."""

from __future__ import annotations

import io
import json
from types import SimpleNamespace
from typing import Any

import pytest
from ntm_tuning import events, topic_report
from ntm_tuning.coherence import npmi
from ntm_tuning.topic_report import (
    WETC_UNAVAILABLE,
    NpmiResult,
    annotate,
    event_fields,
    pareto_front,
    read_all,
    score_npmi,
)
from ntm_tuning.topics import Topic, TopicsBlock
from ntm_tuning.training_logs import JobTopics

from preparation.recordio import SparseRow, write_sparse

BUCKET = "data-bucket"
TEST = "datasets/demo/test/"
URI = f"s3://{BUCKET}/{TEST}"
VOCABULARY_KEY = "datasets/demo/auxiliary/vocab.txt"
VOCABULARY_URI = f"s3://{BUCKET}/{VOCABULARY_KEY}"
RECORDIO = "application/x-recordio-protobuf"
DOCUMENTS = [[0, 1, 2], [0, 1], [2, 3, 4], [3, 4], [5, 6], [0, 5, 6, 7], [7, 8, 9], [1, 9]]
# Words 10 and 11 are in every document: a top word past the tenth would raise NPMI.
WITH_EXTRA = [[*d, 10, 11] for d in DOCUMENTS]


def recordio(documents: list[list[int]], values: float = 1.0) -> bytes:
    buffer = io.BytesIO()
    write_sparse(buffer, (SparseRow(tuple(d), tuple(values for _ in d), 12) for d in documents))
    return buffer.getvalue()


class Store:
    """The DataStore calls the report makes, on objects of one bucket; each call recorded."""

    def __init__(self, objects: dict[str, bytes]) -> None:
        self.objects = objects
        self.reads: list[tuple[str, str, str | None, int]] = []
        self.listed: list[tuple[str, str, int]] = []
        self.opened: list[str] = []
        self.closed: list[str] = []

    def read(self, bucket: str, key: str, version_id: str | None, *, limit: int) -> bytes | None:
        self.reads.append((bucket, key, version_id, limit))
        return self.objects.get(key) if bucket == BUCKET else None

    def sizes(self, bucket: str, prefix: str, *, up_to: int) -> dict[str, int]:
        self.listed.append((bucket, prefix, up_to))
        found = {k: len(v) for k, v in self.objects.items() if k.startswith(prefix) and v}
        return dict(list(found.items())[:up_to])

    def open(self, bucket: str, key: str) -> Any:
        store = self
        self.opened.append(key)

        class Body(io.BytesIO):
            def close(self) -> None:
                store.closed.append(key)
                super().close()

        return Body(self.objects[key])


def job_topics(name: str, *rows: list[str], wetc: float | None = None) -> JobTopics:
    topics = tuple(
        Topic(tuple(words), tu=0.5 + k / 10, wetc=None if wetc is None else wetc + k / 10)
        for k, words in enumerate(rows)
    )
    block = TopicsBlock("final", len(rows), wetc, 0.75, topics)
    return JobTopics(name, block=block, log_stream=f"{name}/algo-1-1", instances=1)


def ids(*rows: list[int]) -> list[list[str]]:
    return [[str(i) for i in row] for row in rows]


def best_job(**channels: tuple[str | None, str | None]) -> dict[str, Any]:
    config = []
    for name, (uri, content_type) in channels.items():
        channel: dict[str, Any] = {
            "ChannelName": name,
            "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": uri}},
        }
        if content_type is not None:
            channel["ContentType"] = content_type
        config.append(channel)
    return {"InputDataConfig": config}


BEST_JOB = best_job(
    train=(f"s3://{BUCKET}/datasets/demo/train/", RECORDIO),
    validation=(f"s3://{BUCKET}/datasets/demo/validation/", RECORDIO),
    test=(URI, RECORDIO),
)


def channel_store(**extra: bytes) -> Store:
    return Store(
        {
            f"{TEST}part-1": recordio(WITH_EXTRA[5:]),
            f"{TEST}part-0": recordio(WITH_EXTRA[:5]),
            "datasets/demo/validation/part-0": recordio([[0, 1]]),
            VOCABULARY_KEY: "".join(f"word{i}\n" for i in range(12)).encode(),
            **extra,
        }
    )


def score(found: dict[str, JobTopics], store: Store, **options: Any) -> NpmiResult:
    training_job = options.pop("best_training_job", BEST_JOB)
    given: dict[str, Any] = {
        "vocabulary_uri": VOCABULARY_URI,
        "store": store,
        "max_bytes": 10**6,
        "deadline": None,
        **options,
    }
    return score_npmi(found, training_job, **given)


def test_every_jobs_first_ten_words_are_scored_on_the_test_channel() -> None:
    twelve = list(range(12))
    found = {
        "best": job_topics("best", *ids(twelve, [3, 4, 9])),
        "second": job_topics("second", [f"word{i}" for i in [0, 1, 9]], ["word7", "word8"]),
        "failed": JobTopics("failed", unavailable="not_completed", message="Failed"),
    }
    store = channel_store()
    total = sum(len(store.objects[f"{TEST}part-{n}"]) for n in (0, 1))
    result = score(found, store, max_bytes=total)  # exactly at the limit
    assert (result.channel, result.uri, result.unavailable, result.problems) == (
        "test",
        URI,
        None,
        {},
    )
    assert set(result.scores) == {"best", "second"}
    best = npmi([twelve[:10], [3, 4, 9]], WITH_EXTRA)
    assert result.scores["best"] == best
    assert best != npmi([twelve[:11], [3, 4, 9]], WITH_EXTRA)
    assert result.scores["second"] == npmi([[0, 1, 9], [7, 8]], WITH_EXTRA)
    assert result.scores["best"].documents == len(DOCUMENTS)
    assert store.listed == [(BUCKET, TEST, 10_000)]
    assert store.reads == [(BUCKET, VOCABULARY_KEY, None, 64 * 1024 * 1024)]
    assert store.opened == store.closed == [f"{TEST}part-0", f"{TEST}part-1"]


def test_a_word_counted_zero_times_is_not_in_the_document() -> None:
    found = {"best": job_topics("best", ["0", "1"])}
    store = Store({f"{TEST}part-0": recordio([[0, 1]], values=0.0) + recordio([[0], [1]])})
    result = score(found, store)
    assert result.scores["best"].per_topic == (-1.0,)
    assert result.scores["best"].documents == 3


def test_word_ids_need_no_vocabulary() -> None:
    store = channel_store()
    result = score({"best": job_topics("best", ["0", "1"])}, store)
    assert set(result.scores) == {"best"} and store.reads == []


@pytest.mark.parametrize("vocabulary_uri", [None, "", f"s3://{BUCKET}/missing/vocab.txt"])
def test_words_without_a_vocabulary_cannot_be_scored(vocabulary_uri: str | None) -> None:
    found = {"best": job_topics("best", ["word0", "word1"])}
    result = score(found, channel_store(), vocabulary_uri=vocabulary_uri)
    assert result.unavailable == events.Unavailable(
        reason="unknown_words",
        message="no vocabulary (vocab.txt) to map the logged words to word ids",
    )
    assert result.scores == {}


def test_unknown_words_of_one_job_leave_the_others_scored() -> None:
    unknown = ["u1", "u2", "u3", "u4", "u5", "u6"]
    found = {
        "best": job_topics("best", ["word0", "word1"], ["word2", *unknown]),
        "second": job_topics("second", ["word0", "word2"]),
    }
    result = score(found, channel_store())
    assert result.problems == {"best": "words not in vocab.txt: u1, u2, u3, u4, u5"}
    assert set(result.scores) == {"second"} and result.unavailable is None
    alone = score({"best": found["best"]}, channel_store())
    assert alone.unavailable == events.Unavailable(
        reason="unknown_words", message="words not in vocab.txt: u1, u2, u3, u4, u5"
    )


def test_the_vocabulary_maps_each_line_to_its_first_number() -> None:
    store = Store({VOCABULARY_KEY: b"alpha\n beta \nalpha\ngamma"})
    assert topic_report._vocabulary(VOCABULARY_URI, store) == {"alpha": 0, "beta": 1, "gamma": 3}


def test_without_readable_topics_nothing_is_scored() -> None:
    found = {"a": JobTopics("a", unavailable="no_log", message="none")}
    result = score(found, channel_store())
    assert result.unavailable == events.Unavailable(
        reason="no_topics", message="no training job's topics could be read"
    )
    assert (result.scores, result.channel, result.uri) == ({}, None, None)


def test_the_held_out_channel_is_test_else_validation() -> None:
    found = {"best": job_topics("best", ["0", "1"])}
    validation = f"s3://{BUCKET}/datasets/demo/validation/"
    only_validation = best_job(test=(None, RECORDIO), validation=(validation, None))
    result = score(found, channel_store(), best_training_job=only_validation)
    assert (result.channel, result.uri, result.unavailable) == ("validation", validation, None)
    assert result.scores["best"].documents == 1
    neither = best_job(train=(f"s3://{BUCKET}/datasets/demo/train/", RECORDIO))
    for job in (neither, {}):
        result = score(found, channel_store(), best_training_job=job)
        assert result.unavailable == events.Unavailable(
            reason="no_held_out_channel",
            message="the training jobs have no test or validation channel",
        )
        assert (result.channel, result.uri) == (None, None)


@pytest.mark.parametrize(
    "content_type", [RECORDIO, f"{RECORDIO}; charset=binary", f" {RECORDIO} ;x", None]
)
def test_a_recordio_channel_is_read(content_type: str | None) -> None:
    found = {"best": job_topics("best", ["0", "1"])}
    result = score(found, channel_store(), best_training_job=best_job(test=(URI, content_type)))
    assert result.unavailable is None and set(result.scores) == {"best"}


def test_another_content_type_is_not_read() -> None:
    found = {"best": job_topics("best", ["0", "1"])}
    store = channel_store()
    result = score(found, store, best_training_job=best_job(test=(URI, "text/csv")))
    assert result.unavailable == events.Unavailable(
        reason="content_type", message=f"the test channel is text/csv, not {RECORDIO}"
    )
    assert (result.channel, result.uri, store.listed) == ("test", URI, [])


def test_a_limit_of_one_byte_is_a_limit_not_off() -> None:
    result = score({"best": job_topics("best", ["0", "1"])}, channel_store(), max_bytes=1)
    assert result.unavailable is not None and result.unavailable.reason == "channel_too_large"


@pytest.mark.parametrize("max_bytes", [0, -1])
def test_npmi_can_be_switched_off(max_bytes: int) -> None:
    store = channel_store()
    result = score({"best": job_topics("best", ["0", "1"])}, store, max_bytes=max_bytes)
    assert result.unavailable == events.Unavailable(
        reason="disabled", message="ntm:npmiMaxChannelBytes is 0"
    )
    assert store.listed == []


def test_a_channel_over_the_limit_is_not_read() -> None:
    store = channel_store()
    total = sum(len(store.objects[f"{TEST}part-{n}"]) for n in (0, 1))
    result = score({"best": job_topics("best", ["0", "1"])}, store, max_bytes=total - 1)
    assert result.unavailable == events.Unavailable(
        reason="channel_too_large",
        message=(
            f"the test channel {URI} holds {total} bytes; NPMI is computed on at most "
            f"{total - 1} (ntm:npmiMaxChannelBytes)"
        ),
    )
    assert store.opened == [] and result.scores == {}
    # Far below the byte limit, but not fewer than 10,000 objects (these are not readable).
    many = Store({f"{TEST}part-{n:05}": b"x" for n in range(10_001)})
    result = score({"best": job_topics("best", ["0", "1"])}, many, max_bytes=10**9)
    assert result.unavailable == events.Unavailable(
        reason="channel_too_large",
        message=(
            f"the test channel {URI} holds 10000 bytes or more; NPMI is computed on at most "
            "1000000000 (ntm:npmiMaxChannelBytes)"
        ),
    )


def test_an_empty_channel_has_nothing_to_score() -> None:
    result = score({"best": job_topics("best", ["0", "1"])}, Store({}))
    assert result.unavailable == events.Unavailable(
        reason="no_held_out_channel", message=f"no objects under {URI}"
    )


def test_a_reason_is_at_most_1000_characters() -> None:
    uri = f"s3://{BUCKET}/{'k' * 1200}/"
    result = score(
        {"best": job_topics("best", ["0"])}, Store({}), best_training_job=best_job(test=(uri, None))
    )
    assert result.unavailable is not None
    assert result.unavailable.message == f"no objects under {uri}"[:1000]
    assert len(result.unavailable.message) == 1000


def test_an_unreadable_channel_is_reported_and_closed() -> None:
    store = Store({f"{TEST}part-0": b"garbage!"})
    result = score({"best": job_topics("best", ["0", "1"])}, store)
    assert result.unavailable == events.Unavailable(
        reason="unreadable_channel", message=f"{URI}: bad RecordIO magic 0x62726167"
    )
    assert result.scores == {} and store.closed == [f"{TEST}part-0"]


def test_a_record_with_more_word_ids_than_counts_is_unreadable() -> None:
    good = SparseRow((0, 1), (1.0, 1.0), 12)
    bad = SparseRow((0, 1, 2), (1.0, 1.0), 12)
    buffer = io.BytesIO()
    write_sparse(buffer, [good, bad])
    store = Store({f"{TEST}part-0": buffer.getvalue()})
    result = score({"best": job_topics("best", ["0", "1"])}, store)
    assert result.unavailable == events.Unavailable(
        reason="unreadable_channel",
        message=f"{URI}: record 1 of {TEST}part-0 has 3 word ids and 2 counts",
    )


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """time.monotonic as topic_report sees it: the values it returns, in order."""
    values: list[float] = []
    read = iter(values)
    monkeypatch.setattr(topic_report, "time", SimpleNamespace(monotonic=lambda: next(read)))
    return values


def test_reading_the_channel_stops_at_the_deadline(clock: list[float]) -> None:
    # The clock is looked at every 4,096 documents: at the 1st and the 4,097th.
    clock.extend([50.0, 50.1])
    store = Store({f"{TEST}part-0": recordio([[0, 1]] * 4097)})
    result = score({"best": job_topics("best", ["0", "1"])}, store, deadline=50.0)
    assert result.unavailable == events.Unavailable(
        reason="time_limit", message=f"reading {URI} took longer than the time set aside"
    )
    assert result.scores == {} and store.closed == [f"{TEST}part-0"]


def test_exactly_at_the_deadline_the_channel_is_read(clock: list[float]) -> None:
    clock.extend([50.0, 50.0])
    store = Store({f"{TEST}part-0": recordio([[0, 1]] * 4097)})
    result = score({"best": job_topics("best", ["0", "1"])}, store, deadline=50.0)
    assert result.unavailable is None
    assert result.scores["best"].documents == 4097


def test_without_a_deadline_the_clock_is_not_read(clock: list[float]) -> None:
    store = Store({f"{TEST}part-0": recordio([[0, 1]] * 2)})
    result = score({"best": job_topics("best", ["0", "1"])}, store, deadline=None)
    assert result.scores["best"].documents == 2


class Logs:
    def __init__(self) -> None:
        self.asked: list[tuple[str, float | None]] = []

    def job_topics(self, name: str, *, deadline: float | None = None) -> JobTopics:
        self.asked.append((name, deadline))
        return job_topics(name, ["0"])


def test_completed_and_stopped_jobs_are_read_in_ranking_order() -> None:
    ranked = [
        {"name": "stopped", "status": "Stopped"},
        {"name": "failed", "status": "Failed"},
        {"name": "completed", "status": "Completed"},
        {"name": "unknown"},
    ]
    logs = Logs()
    found = read_all(ranked, logs, deadline=42.5)  # type: ignore[arg-type]
    assert logs.asked == [("stopped", 42.5), ("completed", 42.5)]
    assert list(found) == ["stopped", "failed", "completed", "unknown"]
    assert found["failed"] == JobTopics(
        "failed", unavailable="not_completed", message="the training job is Failed"
    )
    assert found["unknown"] == JobTopics(
        "unknown", unavailable="not_completed", message="the training job is None"
    )
    assert found["completed"] == job_topics("completed", ["0"])


def test_the_pareto_front_on_loss_and_uniqueness() -> None:
    jobs = [
        {"name": "best", "objective": 6.0, "tu": 0.5, "wetc": 0.1},
        {"name": "unique", "objective": 7.0, "tu": 0.9, "wetc": None},
        {"name": "beaten", "objective": 7.5, "tu": 0.5, "wetc": 0.9},
        {"name": "tie", "objective": 6.0, "tu": 0.5},
        {"name": "worse on one", "objective": 6.0, "tu": 0.4},
        {"name": "no loss", "objective": None, "tu": 1.0},
        {"name": "no tu", "objective": 1.0, "tu": None},
    ]
    criteria, front = pareto_front(jobs)
    assert criteria == ["objective (min)", "tu (max)"]
    # Equal on every criterion: neither beats the other.
    assert front == ["best", "unique", "tie"]


def test_the_pareto_front_adds_wetc_when_every_candidate_has_it() -> None:
    jobs = [
        {"name": "best", "objective": 6.0, "tu": 0.5, "wetc": 0.1},
        {"name": "coherent", "objective": 7.5, "tu": 0.5, "wetc": 0.9},
        {"name": "beaten", "objective": 7.5, "tu": 0.5, "wetc": 0.8},
        {"name": "no loss", "objective": None, "tu": 1.0},
    ]
    assert pareto_front(jobs) == (
        ["objective (min)", "tu (max)", "wetc (max)"],
        ["best", "coherent"],
    )
    assert pareto_front([]) == (["objective (min)", "tu (max)"], [])


def npmi_of(**scores: list[list[int]]) -> NpmiResult:
    return NpmiResult(
        scores={name: npmi(topics, DOCUMENTS) for name, topics in scores.items()},
        channel="test",
        uri=URI,
    )


def test_each_jobs_entry_and_the_pareto_section() -> None:
    ranked: list[dict[str, Any]] = [
        {"name": "best", "objective": 6.0},
        {"name": "second", "objective": 7.0},
        {"name": "truncated", "objective": 8.0},
        {"name": "unread", "objective": 9.0},
    ]
    cut = job_topics("truncated", ["word0"], wetc=0.3)
    found = {
        "best": job_topics("best", ["0", "1", "2"], ["3", "4"], wetc=0.4),
        "second": JobTopics(
            "second",
            block=TopicsBlock("final", 1, None, 0.9, (Topic(("5", "6"), tu=0.9),)),
            log_stream="second/algo-1-2",
        ),
        "truncated": JobTopics(
            "truncated",
            block=cut.block,
            log_stream="t/algo-1-1",
            unavailable="truncated",
            message="cut",
        ),
    }
    result = npmi_of(best=[[0, 1, 2], [3, 4]])
    result.problems = {"second": "words not in vocab.txt: x"}
    pareto = annotate(ranked, found, result)
    best, second, truncated, unread = ranked
    assert best["npmi"] == round(npmi([[0, 1, 2], [3, 4]], DOCUMENTS).npmi, 6)
    assert best["npmi"] != npmi([[0, 1, 2], [3, 4]], DOCUMENTS).npmi  # rounded
    assert (best["tu"], best["wetc"], best["log_stream"]) == (0.75, 0.4, "best/algo-1-1")
    assert best["topics"] == [
        {"words": ["0", "1", "2"], "tu": 0.5, "wetc": 0.4},
        {"words": ["3", "4"], "tu": 0.6, "wetc": 0.5},
    ]
    assert (best["topics_unavailable"], best["npmi_unavailable"]) == (None, None)
    assert (second["tu"], second["wetc"], second["npmi"]) == (0.9, None, None)
    assert second["npmi_unavailable"] == "words not in vocab.txt: x"
    assert second["log_stream"] == "second/algo-1-2"
    assert (truncated["tu"], truncated["wetc"], truncated["topics"]) == (None, None, None)
    assert truncated["log_stream"] == "t/algo-1-1"
    assert truncated["topics_unavailable"] == {"reason": "truncated", "message": "cut"}
    assert (unread["tu"], unread["topics"], unread["log_stream"]) == (None, None, None)
    assert unread["topics_unavailable"] is None
    assert [job["pareto"] for job in ranked] == [True, True, False, False]
    assert pareto == {
        "criteria": ["objective (min)", "tu (max)"],
        "jobs": ["best", "second"],
        "npmi_channel": "test",
        "npmi_uri": URI,
        "npmi_unavailable": None,
    }
    left_out = NpmiResult(unavailable=events.Unavailable(reason="disabled", message="off"))
    pareto = annotate([{"name": "best", "objective": 1.0}], found, left_out)
    assert pareto["npmi_unavailable"] == {"reason": "disabled", "message": "off"}
    assert (pareto["npmi_channel"], pareto["npmi_uri"]) == (None, None)


def test_the_events_topics_fields_for_the_best_job() -> None:
    found = {"best": job_topics("best", ["0", "1", "2"], ["3", "4"], wetc=0.4)}
    found["best"] = JobTopics(
        "best", block=found["best"].block, log_stream="best/algo-1-7", instances=3
    )
    result = npmi_of(best=[[0, 1, 2], [3, 4]])
    fields = event_fields("best", found, result, "/the/group")
    value = npmi([[0, 1, 2], [3, 4]], DOCUMENTS)
    assert fields["topics"] == [
        events.TopicWords(words=["0", "1", "2"], tu=0.5, wetc=0.4),
        events.TopicWords(words=["3", "4"], tu=0.6, wetc=0.5),
    ]
    assert (fields["wetc"], fields["tu"], fields["npmi"]) == (0.4, 0.75, round(value.npmi, 6))
    assert fields["topics_source"] == events.TopicsSource(
        log_group="/the/group",
        log_stream="best/algo-1-7",
        epoch="final",
        instances=3,
        topics_total=2,
        topics_shown=2,
        wetc_unavailable=None,
        npmi_channel="test",
        npmi_uri=URI,
        npmi_documents=len(DOCUMENTS),
        npmi_top_words=10,
        npmi_unavailable=None,
    )


def test_without_wetc_or_npmi_the_event_says_why() -> None:
    found = {"best": job_topics("best", ["0", "1"])}
    left_out = events.Unavailable(reason="disabled", message="off")
    left_out_result = NpmiResult(unavailable=left_out, channel="test", uri=URI)
    fields = event_fields("best", found, left_out_result, "/g")
    source = fields["topics_source"]
    assert (fields["wetc"], fields["npmi"], source.wetc_unavailable) == (
        None,
        None,
        WETC_UNAVAILABLE,
    )
    assert (source.npmi_channel, source.npmi_uri, source.npmi_documents) == (None, None, None)
    assert (source.npmi_top_words, source.npmi_unavailable) == (None, left_out)
    unscored = NpmiResult(problems={"best": "words not in vocab.txt: x"}, channel="test")
    source = event_fields("best", found, unscored, "/g")["topics_source"]
    assert source.npmi_unavailable == events.Unavailable(
        reason="unknown_words", message="words not in vocab.txt: x"
    )
    source = event_fields("best", found, NpmiResult(), "/g")["topics_source"]
    assert source.npmi_unavailable == events.Unavailable(
        reason="unknown_words", message="the best job's topics could not be scored"
    )
    bare = JobTopics("best", block=found["best"].block)
    assert (
        event_fields("best", {"best": bare}, NpmiResult(), "/g")["topics_source"].log_stream == ""
    )


def test_without_the_best_jobs_topics_the_event_says_why() -> None:
    assert event_fields("best", {}, NpmiResult(), "/g") == {
        "topics_unavailable": events.Unavailable(
            reason="no_log", message="the best job's log was not read"
        )
    }
    cut = JobTopics("best", unavailable="truncated", message="m" * 1500)
    assert event_fields("best", {"best": cut}, NpmiResult(), "/g") == {
        "topics_unavailable": events.Unavailable(reason="truncated", message="m" * 1000)
    }
    # A block that is there but unavailable is not shown either.
    kept = JobTopics("best", block=job_topics("best", ["0"]).block, unavailable="truncated")
    assert event_fields("best", {"best": kept}, NpmiResult(), "/g")["topics_unavailable"] == (
        events.Unavailable(reason="truncated", message="the best job's log was not read")
    )


def test_the_event_shows_ten_words_of_64_characters_a_topic() -> None:
    words = [f"{n:02}" + "w" * 70 for n in range(12)]
    fields = event_fields("best", {"best": job_topics("best", words)}, NpmiResult(), "/g")
    (shown,) = fields["topics"]
    assert shown.words == [w[:64] for w in words[:10]]
    assert len(shown.words[0]) == 64


def test_the_events_topics_stop_at_48_kib() -> None:
    # Each topic's JSON plus 2 bytes is exactly 128 bytes here: 384 of them are 48 KiB.
    words = ["a" * 41, "b" * 41]
    entry = events.TopicWords(words=words, tu=0.5, wetc=None)
    assert len(json.dumps(entry.model_dump(mode="json"))) + 2 == 128
    topics = tuple(Topic(tuple(words), tu=0.5) for _ in range(385))
    for count, shown in ((384, 384), (385, 384), (383, 383)):
        block = TopicsBlock("final", count, None, 0.5, topics[:count])
        fields = event_fields("best", {"best": JobTopics("best", block=block)}, NpmiResult(), "/g")
        assert len(fields["topics"]) == fields["topics_source"].topics_shown == shown
        assert fields["topics_source"].topics_total == count
