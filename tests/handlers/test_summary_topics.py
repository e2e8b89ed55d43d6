"""The summary reads every training job's topics from moto's CloudWatch Logs, scores them on
the held-out channel, and never fails the request for a log it cannot use."""

from __future__ import annotations

import contextlib
import io
import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import jsonschema
import pytest
from botocore.exceptions import ClientError
from ntm_tuning import results
from ntm_tuning.state import SummarizeInput, dump
from ntm_tuning.training_logs import TRAINING_LOG_GROUP, TrainingLogs

from offline.moto_patches import strict_filter_log_events
from preparation.recordio import SparseRow, write_sparse
from tests.handlers.conftest import Aws
from tests.settings_factory import ARTIFACTS_BUCKET, DATA_BUCKET, REGION, make_settings

SCHEMAS = Path(__file__).resolve().parents[2] / "schemas"
TUNING = "ntm-0123456789abcdef01234567"
BEST, SECOND, FAILED = (f"{TUNING}-00{n}-{h}" for n, h in ((2, "bbbb"), (1, "aaaa"), (3, "cccc")))
PREFIX = "[09/07/2018 12:55:38 INFO 139989295474496] "
VOCABULARY = [f"word{i}" for i in range(30)]
DATASET = "datasets/demo/"
# Held-out documents (word ids); NPMI of the topics below is computed on them.
DOCUMENTS = [[0, 1, 2], [0, 1], [2, 3, 4], [3, 4], [5, 6], [0, 5, 6, 7], [7, 8, 9], [1, 9]]


class Jobs:
    """The SageMaker side of a completed tuning job (SageMaker itself is not under test)."""

    def __init__(self, summaries: list[dict[str, Any]]) -> None:
        self.summaries = summaries

    def describe(self, name: str) -> dict[str, Any]:
        best = next(s for s in self.summaries if s["TrainingJobName"] == BEST)
        return {
            "HyperParameterTuningJobName": name,
            "HyperParameterTuningJobArn": f"arn:aws:sagemaker:{REGION}:1:hyper-parameter-tuning-job/{name}",
            "HyperParameterTuningJobStatus": "Completed",
            "HyperParameterTuningJobConfig": {"Strategy": "Bayesian"},
            "CreationTime": datetime(2026, 11, 27, 12, tzinfo=UTC),
            "TrainingJobStatusCounters": {"Completed": 2, "NonRetryableError": 1},
            "BestTrainingJob": best,
        }

    def training_jobs(self, name: str) -> list[dict[str, Any]]:
        return self.summaries

    def describe_training_job(self, name: str) -> dict[str, Any]:
        return {
            "TrainingJobName": name,
            "TrainingJobArn": f"arn:aws:sagemaker:{REGION}:1:training-job/{name}",
            "HyperParameters": {"num_topics": "3", "feature_dim": str(len(VOCABULARY))},
            "InputDataConfig": [
                _channel("train"),
                _channel("validation"),
                _channel("test"),
                {**_channel("auxiliary"), "ContentType": "text/plain"},
            ],
            "BillableTimeInSeconds": 60,
        }


def _channel(name: str) -> dict[str, Any]:
    return {
        "ChannelName": name,
        "ContentType": "application/x-recordio-protobuf",
        "DataSource": {
            "S3DataSource": {
                "S3DataType": "S3Prefix",
                "S3Uri": f"s3://{DATA_BUCKET}/{DATASET}{name}/",
            }
        },
    }


def _summary(name: str, loss: float | None, status: str = "Completed") -> dict[str, Any]:
    summary: dict[str, Any] = {
        "TrainingJobName": name,
        "TrainingJobArn": f"arn:aws:sagemaker:{REGION}:1:training-job/{name}",
        "TrainingJobStatus": status,
        "TunedHyperParameters": {"learning_rate": "0.01"},
    }
    if loss is not None:
        summary["FinalHyperParameterTuningJobObjectiveMetric"] = {
            "MetricName": "validation:total_loss",
            "Value": loss,
        }
    return summary


JOBS = [_summary(SECOND, 7.5), _summary(BEST, 6.25), _summary(FAILED, None, "Failed")]


def _recordio(documents: list[list[int]]) -> bytes:
    buffer = io.BytesIO()
    write_sparse(
        buffer,
        (SparseRow(tuple(d), tuple(1.0 for _ in d), len(VOCABULARY)) for d in documents),
    )
    return buffer.getvalue()


@pytest.fixture
def logs(aws: Aws) -> Iterator[Any]:
    client = boto3.client("logs", region_name=REGION)
    aws.put(f"{DATASET}auxiliary/vocab.txt", "".join(f"{w}\n" for w in VOCABULARY))
    aws.put(f"{DATASET}test/part-0.pbr", _recordio(DOCUMENTS[:5]))
    aws.put(f"{DATASET}test/part-1.pbr", _recordio(DOCUMENTS[5:]))
    aws.put(f"{DATASET}validation/part-0.pbr", _recordio([[0, 1]]))
    with strict_filter_log_events():
        yield client


def put_log(client: Any, stream: str, lines: list[str]) -> None:
    # CloudWatch Logs takes events of the last 14 days only.
    start_ms = int(time.time() * 1000) - 60_000
    with contextlib.suppress(client.exceptions.ResourceAlreadyExistsException):
        client.create_log_group(logGroupName=TRAINING_LOG_GROUP)
    client.create_log_stream(logGroupName=TRAINING_LOG_GROUP, logStreamName=stream)
    client.put_log_events(
        logGroupName=TRAINING_LOG_GROUP,
        logStreamName=stream,
        logEvents=[
            {"timestamp": start_ms + number, "message": PREFIX + line}
            for number, line in enumerate(lines)
        ],
    )


def block(epoch: str, topics: list[list[int]], scores: list[tuple[float, ...]]) -> list[str]:
    wetc = len(scores[0]) == 2
    header = "[wetc 0.41, tu 0.83]" if wetc else "[tu 0.83]"
    lines = [f"Topics from epoch:{epoch} (num_topics:{len(topics)}) {header}:"]
    for topic, score in zip(topics, scores, strict=True):
        numbers = ", ".join(f"{s:.2f}" for s in score)
        lines.append(f"[{numbers}] " + " ".join(VOCABULARY[i] for i in topic))
    return lines


BEST_TOPICS = [[0, 1, 2], [3, 4, 5], [6, 7, 8]]
SECOND_TOPICS = [[0, 1, 9], [0, 3, 4], [5, 6, 7]]
NOISE = [
    "#quality_metric: host=algo-1, epoch=1, validation total_loss <loss>=9.1",
    "69 out of 30 in vocabulary do not have embeddings! Default vector used.",
]


def summarize(
    aws: Aws, logs: Any, jobs: list[dict[str, Any]] = JOBS, **tuning: Any
) -> tuple[dict[str, Any], dict[str, Any]]:
    given = SummarizeInput.model_validate(
        {
            "tuning_job_name": TUNING,
            "request_id": "0123456789abcdef01234567",
            "origin": {"type": "event", "event_id": "e-1", "source": "com.example"},
            "vocabulary_uri": f"s3://{DATA_BUCKET}/{DATASET}auxiliary/vocab.txt",
            # None planned: the best job's own are the static ones.
            "static_hyperparameters": {},
            "strategy": "Bayesian",
            "cost_estimate": None,
            "dataset": None,
        }
    )
    summary = results.summarize_results(
        given,
        make_settings(**tuning),
        Jobs(jobs),  # type: ignore[arg-type]
        aws_store(),
        TrainingLogs(logs, sleep=lambda _: None),
        seconds_left=120,
    )
    result = dump(summary)
    report = json.loads(
        aws.s3.get_object(Bucket=ARTIFACTS_BUCKET, Key=f"reports/{TUNING}.json")["Body"].read()
    )
    jsonschema.validate(
        result["detail"],
        json.loads((SCHEMAS / "ntm-tuning-job-succeeded.schema.json").read_text()),
    )
    return result["detail"], report


def aws_store() -> Any:
    from ntm_tuning.aws import DataStore

    return DataStore(boto3.client("s3", region_name=REGION))


def test_every_jobs_final_topics_are_read_and_scored(aws: Aws, logs: Any) -> None:
    best_scores = [(0.40, 1.0), (0.45, 0.67), (0.38, 0.83)]
    put_log(
        logs,
        f"{BEST}/algo-1-1700000000",
        NOISE
        + block("1", [[9, 8, 7], [6, 5, 4], [3, 2, 1]], [(0.1, 0.5)] * 3)
        + NOISE
        + block("final", BEST_TOPICS, best_scores)
        + ["Serializing model"],
    )
    # A second instance logs the same model; its words differ here to show which is read.
    put_log(logs, f"{BEST}/algo-2-1700000000", block("final", SECOND_TOPICS, best_scores))
    put_log(logs, f"{SECOND}/algo-1-1700000001", block("final", SECOND_TOPICS, [(0.9,)] * 3))
    # Another tuning job's training job whose name extends this one's: never read.
    put_log(logs, f"{BEST}0/algo-1-1700000002", block("final", [[1, 2, 3]] * 3, [(0.2,)] * 3))

    detail, report = summarize(aws, logs)

    assert [t["words"] for t in detail["topics"]] == [
        [VOCABULARY[i] for i in topic] for topic in BEST_TOPICS
    ]
    assert [(t["wetc"], t["tu"]) for t in detail["topics"]] == best_scores
    assert (detail["wetc"], detail["tu"]) == (0.41, 0.83)
    assert detail["topics_unavailable"] is None
    source = detail["topics_source"]
    assert source["log_group"] == "/aws/sagemaker/TrainingJobs"
    assert source["log_stream"] == f"{BEST}/algo-1-1700000000"
    assert (source["epoch"], source["instances"]) == ("final", 2)
    assert (source["topics_total"], source["topics_shown"]) == (3, 3)
    assert source["wetc_unavailable"] is None
    assert source["npmi_channel"] == "test"
    assert source["npmi_uri"] == f"s3://{DATA_BUCKET}/{DATASET}test/"
    assert source["npmi_documents"] == len(DOCUMENTS)
    # NPMI by hand: topic [0,1,2]: p0=3/8 p1=3/8 p2=2/8; p01=2/8, p02=1/8, p12=1/8.
    assert detail["npmi"] == pytest.approx(_npmi(BEST_TOPICS, DOCUMENTS), abs=1e-6)

    jobs = {job["name"]: job for job in report["training_jobs"]}
    assert jobs[SECOND]["tu"] == 0.83 and jobs[SECOND]["wetc"] is None
    assert jobs[SECOND]["npmi"] == pytest.approx(_npmi(SECOND_TOPICS, DOCUMENTS), abs=1e-6)
    assert jobs[SECOND]["topics"][0] == {
        "words": ["word0", "word1", "word9"],
        "tu": 0.9,
        "wetc": None,
    }
    assert jobs[BEST]["log_stream"] == f"{BEST}/algo-1-1700000000"
    assert jobs[FAILED]["topics_unavailable"]["reason"] == "not_completed"
    assert jobs[FAILED]["tu"] is None and jobs[FAILED]["npmi"] is None
    # Loss against TU (WETC is not on every job): the best loss, and nothing beats both.
    assert report["pareto_front"]["criteria"] == ["objective (min)", "tu (max)"]
    assert report["pareto_front"]["jobs"] == [BEST]
    assert [job["pareto"] for job in report["training_jobs"]] == [True, False, False]


def _npmi(topics: list[list[int]], documents: list[list[int]]) -> float:
    """NPMI written out from its definition, independently of the code under test."""
    import math

    n = len(documents)
    sets = [set(d) for d in documents]

    def p(*words: int) -> float:
        return sum(all(w in s for w in words) for s in sets) / n

    scores = []
    for topic in topics:
        pairs = []
        for i, a in enumerate(topic):
            for b in topic[i + 1 :]:
                joint = p(a, b)
                pairs.append(
                    -1.0 if joint == 0 else math.log(joint / (p(a) * p(b))) / -math.log(joint)
                )
        scores.append(sum(pairs) / len(pairs))
    return sum(scores) / len(scores)


def test_the_pareto_front_keeps_a_job_with_more_unique_topics(aws: Aws, logs: Any) -> None:
    put_log(
        logs,
        f"{BEST}/algo-1-1",
        ["Topics from epoch:final (num_topics:1) [tu 0.5]:", "[0.5] word0 word1"],
    )
    put_log(
        logs,
        f"{SECOND}/algo-1-1",
        ["Topics from epoch:final (num_topics:1) [tu 0.9]:", "[0.9] word1 word2"],
    )
    _, report = summarize(aws, logs)
    # The second job's loss is higher, but its topics are more unique: both are on the front.
    assert report["pareto_front"]["jobs"] == [BEST, SECOND]


@pytest.mark.parametrize(
    ("lines", "reason"),
    [
        (None, "no_log"),
        ([*NOISE, "Training finished"], "no_topics_block"),
        (block("final", BEST_TOPICS, [(0.5,)] * 3)[:3], "truncated"),
    ],
)
def test_a_log_without_a_usable_block_makes_topics_unavailable_not_a_failure(
    aws: Aws, logs: Any, lines: list[str] | None, reason: str
) -> None:
    if lines is not None:
        put_log(logs, f"{BEST}/algo-1-1700000000", lines)
    detail, report = summarize(aws, logs)
    assert detail["topics_unavailable"]["reason"] == reason
    assert detail["topics_unavailable"]["message"]
    assert detail["topics"] is None and detail["tu"] is None and detail["npmi"] is None
    assert detail["best_training_job"]["name"] == BEST
    assert {j["name"]: j["topics_unavailable"]["reason"] for j in report["training_jobs"]}[
        BEST
    ] == reason


class Refusing:
    """A CloudWatch Logs client that answers with an error a number of times first."""

    def __init__(self, client: Any, code: str, times: int) -> None:
        self.client, self.code, self.times, self.calls = client, code, times, 0

    def filter_log_events(self, **kwargs: Any) -> Any:
        self.calls += 1
        if self.calls <= self.times:
            raise ClientError({"Error": {"Code": self.code, "Message": "no"}}, "FilterLogEvents")
        return self.client.filter_log_events(**kwargs)


def test_throttling_is_retried_and_a_refusal_is_reported(aws: Aws, logs: Any) -> None:
    put_log(logs, f"{BEST}/algo-1-1700000000", block("final", BEST_TOPICS, [(0.5,)] * 3))
    throttled = Refusing(logs, "ThrottlingException", 3)
    detail, _ = summarize(aws, throttled)
    assert detail["tu"] == 0.83 and throttled.calls > 3
    denied = Refusing(logs, "AccessDeniedException", 10**6)
    detail, _ = summarize(aws, denied)
    assert detail["topics_unavailable"]["reason"] == "no_permission"
    assert "/aws/sagemaker/TrainingJobs" in detail["topics_unavailable"]["message"]


def test_a_spent_time_budget_leaves_topics_out_with_the_reason(aws: Aws, logs: Any) -> None:
    put_log(logs, f"{BEST}/algo-1-1700000000", block("final", BEST_TOPICS, [(0.5,)] * 3))
    reader = TrainingLogs(logs, clock=lambda: 10.0**9)
    result = reader.job_topics(BEST, deadline=1.0)
    assert result.unavailable == "log_read_limit"


def test_npmi_is_left_out_above_the_configured_channel_size(aws: Aws, logs: Any) -> None:
    put_log(logs, f"{BEST}/algo-1-1700000000", block("final", BEST_TOPICS, [(0.5,)] * 3))
    size = sum(
        item["Size"]
        for item in aws.s3.list_objects_v2(Bucket=DATA_BUCKET, Prefix=f"{DATASET}test/")["Contents"]
    )
    detail, _ = summarize(aws, logs, npmi_max_channel_bytes=size)
    assert detail["npmi"] is not None  # exactly at the limit
    detail, report = summarize(aws, logs, npmi_max_channel_bytes=size - 1)
    assert detail["npmi"] is None and detail["tu"] == 0.83
    unavailable = detail["topics_source"]["npmi_unavailable"]
    assert unavailable["reason"] == "channel_too_large"
    assert (
        str(size) in unavailable["message"] and "ntm:npmiMaxChannelBytes" in unavailable["message"]
    )
    assert report["pareto_front"]["npmi_unavailable"]["reason"] == "channel_too_large"


def test_the_event_stays_far_below_256_kib_at_a_thousand_topics(aws: Aws, logs: Any) -> None:
    words = [f"{'w' * 40}{i}" for i in range(30)]
    lines = ["Topics from epoch:final (num_topics:1000) [wetc 0.41, tu 0.50]:"] + [
        f"[0.41, 0.50] {' '.join(words[(k + j) % 30] for j in range(20))}" for k in range(1000)
    ]
    put_log(logs, f"{BEST}/algo-1-1700000000", lines)
    detail, report = summarize(aws, logs)
    size = len(json.dumps(detail).encode())
    assert size < 64 * 1024, size
    source = detail["topics_source"]
    assert source["topics_total"] == 1000
    assert 0 < source["topics_shown"] == len(detail["topics"]) < 1000
    assert all(len(t["words"]) == 10 for t in detail["topics"])
    best = next(j for j in report["training_jobs"] if j["name"] == BEST)
    assert len(best["topics"]) == 1000 and len(best["topics"][0]["words"]) == 20


def test_cloudwatch_logs_rules_for_the_stream_prefix_hold_offline(logs: Any) -> None:
    put_log(logs, "job-a/algo-1-1", ["one"])
    put_log(logs, "job-b/algo-1-1", ["two"])
    found = logs.filter_log_events(logGroupName=TRAINING_LOG_GROUP, logStreamNamePrefix="job-a/")
    assert [e["message"] for e in found["events"]] == [PREFIX + "one"]
    none = logs.filter_log_events(logGroupName=TRAINING_LOG_GROUP, logStreamNamePrefix="job-c/")
    assert none["events"] == []
    with pytest.raises(ClientError, match="InvalidParameterException"):
        logs.filter_log_events(
            logGroupName=TRAINING_LOG_GROUP,
            logStreamNamePrefix="job-a/",
            logStreamNames=["job-a/algo-1-1"],
        )


def test_of_a_retried_jobs_attempts_the_latest_final_block_is_read(aws: Aws, logs: Any) -> None:
    """RetryStrategy reruns a job after an InternalServerError: one stream per attempt. The
    latest attempt with a final block wins over an older one and over one without."""
    put_log(logs, f"{BEST}/algo-1-1700000000", block("final", SECOND_TOPICS, [(0.5,)] * 3))
    put_log(logs, f"{BEST}/algo-1-1700000900", block("final", BEST_TOPICS, [(0.5,)] * 3))
    put_log(logs, f"{BEST}/algo-1-1700009000", block("2", SECOND_TOPICS, [(0.5,)] * 3))
    put_log(logs, f"{BEST}/algo-2-1700000900", block("final", SECOND_TOPICS, [(0.5,)] * 3))
    detail, _ = summarize(aws, logs)
    assert detail["topics_source"]["log_stream"] == f"{BEST}/algo-1-1700000900"
    assert detail["topics_source"]["instances"] == 2
    assert detail["topics"][0]["words"] == ["word0", "word1", "word2"]


def test_a_stopped_jobs_log_is_read_too_and_a_failed_ones_is_not(aws: Aws, logs: Any) -> None:
    """Early stopping keeps a stopped job's objective (it may even be the best)."""
    put_log(logs, f"{BEST}/algo-1-1", block("final", BEST_TOPICS, [(0.5,)] * 3))
    put_log(logs, f"{SECOND}/algo-1-1", block("final", SECOND_TOPICS, [(0.5,)] * 3))
    put_log(logs, f"{FAILED}/algo-1-1", block("final", SECOND_TOPICS, [(0.5,)] * 3))
    jobs = [
        _summary(SECOND, 7.5, "Stopped"),
        _summary(BEST, 6.25),
        _summary(FAILED, None, "Failed"),
    ]
    _, report = summarize(aws, logs, jobs)
    read = {
        j["name"]: (j["tu"], (j["topics_unavailable"] or {}).get("reason"))
        for j in report["training_jobs"]
    }
    assert read == {BEST: (0.83, None), SECOND: (0.83, None), FAILED: (None, "not_completed")}


class PatternBlind:
    """A CloudWatch Logs whose filter pattern matches nothing: the log itself is then read."""

    def __init__(self, client: Any) -> None:
        self.client = client

    def filter_log_events(self, **kwargs: Any) -> Any:
        if "filterPattern" in kwargs:
            return {"events": [], "searchedLogStreams": []}
        return self.client.filter_log_events(**kwargs)


def test_without_a_header_match_the_log_itself_is_read(aws: Aws, logs: Any) -> None:
    put_log(logs, f"{BEST}/algo-2-1", block("final", SECOND_TOPICS, [(0.5,)] * 3))
    put_log(logs, f"{BEST}/algo-1-1", [*NOISE, *block("final", BEST_TOPICS, [(0.5,)] * 3)])
    detail, _ = summarize(aws, PatternBlind(logs))
    assert detail["topics_source"]["log_stream"] == f"{BEST}/algo-1-1"
    assert detail["topics"][0]["words"] == ["word0", "word1", "word2"]
    assert detail["topics_source"]["instances"] == 2
