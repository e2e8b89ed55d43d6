"""Reading a training job's topics block from CloudWatch Logs: the two bounded queries, the
stream chosen, the bounds, retries and every reason for topics being unavailable.

An in-memory FilterLogEvents stands in for CloudWatch Logs (the moto-backed summary tests
cover the real API's shape); it records each call so the queries themselves are read back.
"""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from botocore.exceptions import BotoCoreError, ClientError, EndpointConnectionError
from ntm_tuning import training_logs
from ntm_tuning.topics import TopicsBlock
from ntm_tuning.training_logs import (
    HEADER_PATTERN,
    TRAINING_LOG_GROUP,
    JobTopics,
    TrainingLogs,
    instance_number,
)

JOB = "ntm-0123456789abcdef01234567-002-bbbb"
GROUP = "/custom/training-logs"


def header(epoch: str, num_topics: int) -> str:
    return f"Topics from epoch:{epoch} (num_topics:{num_topics}) [tu 0.83]:"


def block(epoch: str, *topics: str) -> list[str]:
    return [header(epoch, len(topics)), *(f"[0.50] {words}" for words in topics)]


class FakeLogs:
    """FilterLogEvents over streams of messages (timestamps 1000, 1001... within a stream),
    paged ``page`` events at a time at most, each call recorded."""

    def __init__(
        self,
        streams: dict[str, list[str]],
        *,
        group: str = GROUP,
        page: int = 10_000,
        honour_prefix: bool = True,
        honour_limit: bool = True,
    ) -> None:
        self.events = sorted(
            (
                {"logStreamName": name, "timestamp": 1000 + number, "message": message}
                for name, messages in streams.items()
                for number, message in enumerate(messages)
            ),
            key=lambda e: (e["timestamp"], e["logStreamName"]),
        )
        self.group, self.page, self.honour_prefix = group, page, honour_prefix
        self.honour_limit = honour_limit
        self.calls: list[dict[str, Any]] = []

    def filter_log_events(self, **args: Any) -> dict[str, Any]:
        self.calls.append(dict(args))
        if args["logGroupName"] != self.group:
            raise ClientError(
                {"Error": {"Code": "ResourceNotFoundException", "Message": "no group"}},
                "FilterLogEvents",
            )
        prefix = args.get("logStreamNamePrefix") if self.honour_prefix else None
        names = args.get("logStreamNames")
        pattern = str(args.get("filterPattern", "")).strip('"')
        matching = [
            e
            for e in self.events
            if (prefix is None or e["logStreamName"].startswith(prefix))
            and (names is None or e["logStreamName"] in names)
            and pattern in e["message"]
            and e["timestamp"] >= args.get("startTime", 0)
        ]
        start = int(args.get("nextToken", "0"))
        end = start + (min(self.page, args["limit"]) if self.honour_limit else self.page)
        page: dict[str, Any] = {"events": matching[start:end]}
        if end < len(matching):
            page["nextToken"] = str(end)
        return page


def reader(client: Any, **options: Any) -> TrainingLogs:
    return TrainingLogs(client, log_group=GROUP, sleep=lambda _: None, **options)


def words(result: JobTopics) -> list[tuple[str, ...]]:
    assert result.block is not None
    return [topic.words for topic in result.block.topics]


def test_the_lowest_instances_final_block_is_read_with_two_bounded_queries() -> None:
    stream = f"{JOB}/algo-1-1700000000"
    lines = ["noise", *block("1", "a b", "c d"), "noise", *block("final", "e f", "g h")]
    client = FakeLogs(
        {
            stream: [*lines, *(f"after {n}" for n in range(50))],
            f"{JOB}/algo-2-1700000000": block("final", "x y", "z w"),
            # Another training job whose name extends this one's.
            f"{JOB}0/algo-1-1700000000": block("final", "p q", "r s"),
        },
        page=2,
    )
    result = reader(client).job_topics(JOB)
    assert words(result) == [("e", "f"), ("g", "h")]
    assert (result.job_name, result.log_stream, result.instances) == (JOB, stream, 2)
    assert (result.unavailable, result.message, result.available) == (None, None, True)
    assert result.block is not None and result.block.epoch == "final"
    headers = [c for c in client.calls if "filterPattern" in c]
    assert headers[0] == {
        "logGroupName": GROUP,
        "limit": 10_000,
        "logStreamNamePrefix": f"{JOB}/",
        "filterPattern": '"Topics from epoch"',
    }
    assert headers[1] == {**headers[0], "nextToken": "2"}
    lines_read = [c for c in client.calls if "logStreamNames" in c]
    # From the final header (the 6th message: timestamp 1005) until the block is complete:
    # header and two topics, two pages of two; the 50 lines after it are never asked for.
    assert lines_read == [
        {"logGroupName": GROUP, "limit": 10_000, "logStreamNames": [stream], "startTime": 1005},
        {
            "logGroupName": GROUP,
            "limit": 10_000,
            "logStreamNames": [stream],
            "startTime": 1005,
            "nextToken": "2",
        },
    ]


def test_the_constants_of_the_documented_log() -> None:
    assert TRAINING_LOG_GROUP == "/aws/sagemaker/TrainingJobs"
    assert HEADER_PATTERN == '"Topics from epoch"'
    assert TrainingLogs().log_group == TRAINING_LOG_GROUP


def test_streams_of_other_jobs_are_ignored_even_if_the_api_returned_them() -> None:
    client = FakeLogs(
        {
            f"{JOB}/algo-1-100": block("final", "a b"),
            f"{JOB}0/algo-1-900": block("final", "p q"),
        },
        honour_prefix=False,
    )
    result = reader(client).job_topics(JOB)
    assert (result.log_stream, result.instances, words(result)) == (
        f"{JOB}/algo-1-100",
        1,
        [("a", "b")],
    )
    blind = PatternBlind(
        {f"{JOB}/algo-1-100": block("final", "a b"), f"{JOB}0/algo-1-900": block("final", "p q")},
        honour_prefix=False,
    )
    result = reader(blind).job_topics(JOB)
    assert (result.log_stream, result.instances, words(result)) == (
        f"{JOB}/algo-1-100",
        1,
        [("a", "b")],
    )


def test_of_a_retried_jobs_attempts_the_latest_with_a_final_block_wins() -> None:
    client = FakeLogs(
        {
            f"{JOB}/algo-1-100": block("final", "old"),
            f"{JOB}/algo-1-900": block("final", "new"),
            f"{JOB}/algo-1-9000": block("2", "unfinished"),
            f"{JOB}/algo-2-950": block("final", "other"),
        }
    )
    result = reader(client).job_topics(JOB)
    assert (result.log_stream, result.instances, words(result)) == (
        f"{JOB}/algo-1-900",
        2,
        [("new",)],
    )


def test_an_upper_case_final_epoch_is_the_final_block() -> None:
    client = FakeLogs(
        {f"{JOB}/algo-1-100": block("FINAL", "last"), f"{JOB}/algo-1-900": block("2", "later")}
    )
    result = reader(client).job_topics(JOB)
    assert (result.log_stream, words(result)) == (f"{JOB}/algo-1-100", [("last",)])


def test_the_last_final_header_of_the_stream_is_read_from() -> None:
    stream = f"{JOB}/algo-1-100"
    client = FakeLogs({stream: [*block("final", "first"), *block("final", "second")]})
    result = reader(client).job_topics(JOB)
    assert words(result) == [("second",)]
    assert [c.get("startTime") for c in client.calls] == [None, 1002]


def test_without_a_final_block_the_last_header_of_the_stream_is_read_from() -> None:
    stream = f"{JOB}/algo-1-100"
    client = FakeLogs({stream: [*block("1", "one"), *block("2", "two"), "after"]})
    result = reader(client).job_topics(JOB)
    assert result.block is not None and result.block.epoch == "2"
    assert (words(result), result.available) == ([("two",)], True)
    assert client.calls[1]["startTime"] == 1002


def test_a_final_header_followed_by_another_epoch_is_read_from() -> None:
    stream = f"{JOB}/algo-1-100"
    client = FakeLogs({stream: [*block("final", "last"), *block("9", "nine")]})
    result = reader(client).job_topics(JOB)
    assert result.block is not None and result.block.epoch == "final"
    assert words(result) == [("last",)]
    assert client.calls[1]["startTime"] == 1000


def test_a_line_that_only_mentions_the_header_is_no_block() -> None:
    stream = f"{JOB}/algo-1-100"
    client = FakeLogs({stream: ["Topics from epoch summary follows", "noise"]})
    result = reader(client).job_topics(JOB)
    assert (result.unavailable, result.log_stream, result.block) == ("truncated", stream, None)


def test_the_deadline_holds_for_every_query() -> None:
    # Each call looks at the clock once: 0, 10, 20...; the deadline 5 passes after the first.
    stream = f"{JOB}/algo-1-100"
    clock = itertools.count(0.0, 10.0)
    client = FakeLogs({stream: block("final", "a")})
    result = reader(client, clock=lambda: next(clock)).job_topics(JOB, deadline=5.0)
    assert (result.unavailable, len(client.calls)) == ("log_read_limit", 1)
    clock = itertools.count(0.0, 10.0)
    blind = PatternBlind({stream: block("final", "a")})
    result = reader(blind, clock=lambda: next(clock)).job_topics(JOB, deadline=5.0)
    assert (result.unavailable, len(blind.calls)) == ("log_read_limit", 1)


def test_a_header_without_its_lines_is_truncated() -> None:
    # The filter pattern matches, but this is no header the parser reads.
    stream = f"{JOB}/algo-3-100"
    client = FakeLogs({stream: ["Topics from epoch:final is next", "noise"]})
    result = reader(client).job_topics(JOB)
    assert result == JobTopics(
        JOB,
        log_stream=stream,
        instances=1,
        unavailable="truncated",
        message="the topics block's header was found but not its lines",
    )


def test_a_block_cut_short_is_kept_but_unavailable() -> None:
    stream = f"{JOB}/algo-1-100"
    client = FakeLogs({stream: block("final", "a b", "c d", "e f")[:2]})
    result = reader(client).job_topics(JOB)
    assert (result.unavailable, result.available, words(result)) == (
        "truncated",
        False,
        [("a", "b")],
    )
    assert result.message == "the log ends 1 of 3 topic lines into the block of epoch final"
    assert (result.job_name, result.log_stream, result.instances) == (JOB, stream, 1)


def test_a_block_in_one_message_is_found_within_64_events() -> None:
    """A message may hold several lines: counting messages cannot tell when the block is
    complete, so it is parsed every 64 events, and the read stops there."""
    stream = f"{JOB}/algo-1-100"
    topics = [f"w{n}" for n in range(100)]
    message = "\n".join(block("final", *topics))
    client = FakeLogs({stream: [message, *(f"after {n}" for n in range(200))]}, page=1)
    result = reader(client).job_topics(JOB)
    assert words(result) == [(w,) for w in topics]
    assert len([c for c in client.calls if "logStreamNames" in c]) == 64


def test_a_block_of_its_own_lines_stops_the_read_at_its_last_line() -> None:
    stream = f"{JOB}/algo-1-100"
    client = FakeLogs({stream: [*block("final", "a", "b", "c"), *["after"] * 100]}, page=1)
    result = reader(client).job_topics(JOB)
    assert words(result) == [("a",), ("b",), ("c",)]
    assert len([c for c in client.calls if "logStreamNames" in c]) == 4


class PatternBlind(FakeLogs):
    """A filter pattern that matches nothing: the job's log itself is then read."""

    def filter_log_events(self, **args: Any) -> dict[str, Any]:
        if "filterPattern" in args:
            self.calls.append(dict(args))
            return {}  # no "events" at all
        return super().filter_log_events(**args)


def test_without_a_header_match_the_log_is_read_and_a_final_block_preferred() -> None:
    client = PatternBlind(
        {
            f"{JOB}/algo-1-100": block("1", "early"),
            f"{JOB}/algo-2-100": ["noise", *block("final", "last")],
            f"{JOB}/algo-3-100": ["no block here"],
        }
    )
    result = reader(client).job_topics(JOB)
    assert (result.log_stream, result.instances, words(result)) == (
        f"{JOB}/algo-2-100",
        2,
        [("last",)],
    )
    assert client.calls[1] == {
        "logGroupName": GROUP,
        "limit": 10_000,
        "logStreamNamePrefix": f"{JOB}/",
    }


def test_without_a_header_match_the_latest_attempt_of_the_lowest_instance_wins() -> None:
    client = PatternBlind(
        {
            f"{JOB}/algo-1-100": block("final", "old"),
            f"{JOB}/algo-1-900": block("final", "new"),
            f"{JOB}/algo-10-950": block("final", "ten"),
        }
    )
    result = reader(client).job_topics(JOB)
    assert (result.job_name, result.log_stream, result.instances, words(result)) == (
        JOB,
        f"{JOB}/algo-1-900",
        2,
        [("new",)],
    )


def test_without_a_header_match_or_a_final_block_the_lowest_instance_wins() -> None:
    client = PatternBlind(
        {f"{JOB}/algo-2-100": block("1", "two"), f"{JOB}/algo-1-100": block("1", "one")}
    )
    result = reader(client).job_topics(JOB)
    assert (result.log_stream, result.instances, words(result)) == (
        f"{JOB}/algo-1-100",
        2,
        [("one",)],
    )


def test_without_a_header_match_a_truncated_block_is_reported() -> None:
    client = PatternBlind({f"{JOB}/algo-1-100": block("final", "a", "b")[:2]})
    result = reader(client).job_topics(JOB)
    assert (result.job_name, result.unavailable, words(result)) == (JOB, "truncated", [("a",)])
    assert result.message == "the log ends 1 of 2 topic lines into the block of epoch final"


def test_a_job_without_log_streams() -> None:
    client = FakeLogs({"another-job/algo-1-100": block("final", "a")})
    result = reader(client).job_topics(JOB)
    assert result == JobTopics(
        JOB, unavailable="no_log", message=f"no log stream {JOB}/* in {GROUP}"
    )


@pytest.mark.parametrize(
    ("events", "suffix"),
    [
        (3, ""),
        (19_999, ""),
        (20_000, "; read its first 20000 events"),
        (20_001, "; read its first 20000 events"),
    ],
)
def test_a_log_without_a_block_says_how_much_of_it_was_read(events: int, suffix: str) -> None:
    client = FakeLogs({f"{JOB}/algo-1-100": ["noise"] * events}, page=7_000)
    result = reader(client).job_topics(JOB)
    assert result == JobTopics(
        JOB,
        unavailable="no_topics_block",
        message=(
            "the training log has no topics block (an image that does not log topics, "
            "or a job that ended before its final epoch)" + suffix
        ),
    )
    if events >= 20_000:
        # Pages of at most 10,000 asked for, and never more than 20,000 events in all.
        assert [c["limit"] for c in client.calls[1:]] == [10_000, 10_000, 6_000]


def test_a_page_longer_than_asked_for_is_cut_at_the_bound() -> None:
    client = FakeLogs({f"{JOB}/algo-1-100": ["noise"] * 25_000}, page=15_000, honour_limit=False)
    result = reader(client).job_topics(JOB)
    assert result.message is not None
    assert result.message.endswith("; read its first 20000 events")


def test_at_most_20000_headers_are_read() -> None:
    lines = [header("1", 1), "[0.5] a"] * 20_001
    client = FakeLogs({f"{JOB}/algo-1-100": lines}, page=7_000)
    reader(client).job_topics(JOB)
    headers = [c for c in client.calls if "filterPattern" in c]
    assert [c["limit"] for c in headers] == [10_000, 10_000, 6_000]
    # The last of the 20,000 headers read (of 20,001) is the message 39,998.
    assert next(c["startTime"] for c in client.calls if "logStreamNames" in c) == 1000 + 39_998


def test_a_page_token_seen_twice_ends_the_read() -> None:
    class Looping(FakeLogs):
        def filter_log_events(self, **args: Any) -> dict[str, Any]:
            self.calls.append(dict(args))
            event = {"logStreamName": f"{JOB}/algo-1-1", "timestamp": 1, "message": "x"}
            # No header matches; the log itself is one line, its token the same every page.
            return {"events": [] if "filterPattern" in args else [event], "nextToken": "same"}

    client = Looping({})
    result = reader(client).job_topics(JOB)
    assert result.unavailable == "no_topics_block"
    # The header query and the log's: each stops when the token comes back unchanged.
    assert [c.get("nextToken") for c in client.calls] == [None, "same", None, "same"]


class Refusing(FakeLogs):
    """Answers with ``code`` the first ``times`` calls."""

    def __init__(self, code: str, times: int, message: str = "no") -> None:
        super().__init__({f"{JOB}/algo-1-100": block("final", "a")})
        self.code, self.times, self.text = code, times, message

    def filter_log_events(self, **args: Any) -> dict[str, Any]:
        if len(self.calls) < self.times:
            self.calls.append(dict(args))
            raise ClientError(
                {"Error": {"Code": self.code, "Message": self.text}}, "FilterLogEvents"
            )
        return super().filter_log_events(**args)


@pytest.fixture
def jitter(monkeypatch: pytest.MonkeyPatch) -> list[tuple[float, float]]:
    """random.uniform returns its upper bound; each call's bounds are recorded."""
    asked: list[tuple[float, float]] = []

    def uniform(low: float, high: float) -> float:
        asked.append((low, high))
        return high

    monkeypatch.setattr(training_logs.random, "uniform", uniform)
    return asked


def test_throttling_is_retried_with_exponential_back_off_up_to_six_calls(
    jitter: list[tuple[float, float]],
) -> None:
    slept: list[float] = []
    client = Refusing("ThrottlingException", 5)
    result = TrainingLogs(client, log_group=GROUP, sleep=slept.append).job_topics(JOB)
    assert result.available and words(result) == [("a",)]
    assert slept == [0.4, 0.8, 1.6, 3.2, 5.0]
    assert jitter == [(0, 0.4), (0, 0.8), (0, 1.6), (0, 3.2), (0, 5.0)]

    slept.clear()
    client = Refusing("ThrottlingException", 6, "slow down")
    result = TrainingLogs(client, log_group=GROUP, sleep=slept.append).job_topics(JOB)
    assert (result.unavailable, result.block) == ("log_error", None)
    assert result.message is not None
    assert result.message.startswith("ThrottlingException: ") and "slow down" in result.message
    assert len(client.calls) == 6 and len(slept) == 5


def test_another_error_is_not_retried_and_its_message_is_bounded(
    jitter: list[tuple[float, float]],
) -> None:
    client = Refusing("ValidationException", 1, "x" * 2000)
    result = reader(client).job_topics(JOB)
    assert (result.job_name, result.unavailable) == (JOB, "log_error")
    assert result.message is not None and len(result.message) == 500
    assert result.message.startswith("ValidationException: ")
    assert len(client.calls) == 1 and jitter == []


@pytest.mark.parametrize("code", ["AccessDeniedException", "AccessDenied", "UnauthorizedOperation"])
def test_a_refusal_is_no_permission(code: str) -> None:
    result = reader(Refusing(code, 1)).job_topics(JOB)
    assert result == JobTopics(
        JOB, unavailable="no_permission", message=f"not allowed to read {GROUP}: {code}"
    )


def test_a_missing_log_group_is_no_log() -> None:
    client = FakeLogs({f"{JOB}/algo-1-100": block("final", "a")}, group="/another/group")
    result = reader(client).job_topics(JOB)
    assert result == JobTopics(JOB, unavailable="no_log", message=f"no log group {GROUP}")


def test_a_network_error_is_a_log_error() -> None:
    class Long(BotoCoreError):
        fmt = "y" * 900

    class Failing:
        def __init__(self, error: Exception) -> None:
            self.error = error

        def filter_log_events(self, **args: Any) -> dict[str, Any]:
            raise self.error

    result = reader(Failing(EndpointConnectionError(endpoint_url="https://logs"))).job_topics(JOB)
    assert result == JobTopics(
        JOB,
        unavailable="log_error",
        message='Could not connect to the endpoint URL: "https://logs"',
    )
    result = reader(Failing(Long())).job_topics(JOB)
    assert (result.unavailable, result.message) == ("log_error", "y" * 500)


def test_a_spent_time_budget_stops_before_the_call(jitter: list[tuple[float, float]]) -> None:
    client = FakeLogs({f"{JOB}/algo-1-100": block("final", "a")})
    result = reader(client, clock=lambda: 10.0).job_topics(JOB, deadline=10.0)
    assert result == JobTopics(
        JOB,
        unavailable="log_read_limit",
        message="the time set aside for reading training logs ran out",
    )
    assert client.calls == []
    result = reader(client, clock=lambda: 9.99).job_topics(JOB, deadline=10.0)
    assert result.available


def test_a_back_off_that_would_pass_the_deadline_is_not_slept(
    jitter: list[tuple[float, float]],
) -> None:
    slept: list[float] = []
    client = Refusing("ThrottlingException", 1)
    options: dict[str, Any] = {"log_group": GROUP, "sleep": slept.append, "clock": lambda: 8.0}
    # The first back-off is 0.4 s (at most): at 8.0 + 0.4 the deadline 8.4 is reached.
    result = TrainingLogs(client, **options).job_topics(JOB, deadline=8.4)
    assert (result.unavailable, slept, len(client.calls)) == ("log_read_limit", [], 1)
    client = Refusing("ThrottlingException", 1)
    result = TrainingLogs(client, **options).job_topics(JOB, deadline=8.41)
    assert result.available and slept == [0.4]


def test_the_client_is_the_handlers_logs_client_unless_given(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    made: list[str] = []

    def client(service: str) -> str:
        made.append(service)
        return "the logs client"

    monkeypatch.setattr(training_logs.aws, "client", client)
    assert TrainingLogs().logs == "the logs client" and made == ["logs"]
    given = FakeLogs({})
    assert TrainingLogs(given).logs is given and made == ["logs"]


def test_the_instance_of_a_stream_and_their_order() -> None:
    assert instance_number(f"{JOB}/algo-12-1700000000") == 12
    assert instance_number(f"{JOB}/algo-3") == 3
    assert instance_number(f"{JOB}/algo-2-17x") == 1_000_000
    assert instance_number(f"{JOB}/other") == 1_000_000
    streams = [f"{JOB}/algo-2-5", f"{JOB}/algo-1", f"{JOB}/algo-1-5", f"{JOB}/algo-1-1"]
    # A stream without its start counts as started at 0, before any other.
    assert sorted(streams, key=training_logs._stream_order) == [
        f"{JOB}/algo-1-5",
        f"{JOB}/algo-1-1",
        f"{JOB}/algo-1",
        f"{JOB}/algo-2-5",
    ]


def test_topics_are_available_only_with_a_block_and_no_reason() -> None:
    complete = TopicsBlock("final", 0, None, None)
    assert JobTopics(JOB, block=complete).available
    assert not JobTopics(JOB, block=complete, unavailable="truncated").available
    empty = JobTopics(JOB)
    assert (empty.block, empty.log_stream, empty.instances) == (None, None, 0)
    assert (empty.unavailable, empty.message, empty.available) == (None, None, False)
