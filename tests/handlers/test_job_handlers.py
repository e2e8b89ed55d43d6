"""Handlers start, poll, stop and summarize against moto (and botocore's Stubber where moto
has no SageMaker API: training-job listings and StopHyperParameterTuningJob)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import jsonschema
import pytest
from botocore.stub import ANY, Stubber
from ntm_tuning.aws import SageMakerJobs
from ntm_tuning.errors import SageMakerThrottled
from ntm_tuning.handlers import (
    _runtime,
    acquire_capacity,
    clean_up,
    describe_dataset_preparation,
    describe_tuning_job,
    publish_outcome,
    release_capacity,
    start_tuning_job,
    stop_tuning_job,
    summarize_results,
    validate_request,
)
from ntm_tuning.ledger import Ledger
from ntm_tuning.state import (
    AcquireInput,
    DescribeInput,
    DescribePreparationInput,
    PreparationStatus,
    StartInput,
    StopInput,
    StopResult,
    SummarizeInput,
    dump,
)

from tests.handlers.conftest import Aws, Clients, LambdaContext, handler_input
from tests.settings_factory import ARTIFACTS_BUCKET, LEDGER, REGION, example_request

SCHEMAS = __import__("pathlib").Path(__file__).resolve().parents[2] / "schemas"
EXECUTION = "arn:aws:states:us-east-1:123456789012:execution:ntm:run-1"


def accepted(aws: Aws, context: LambdaContext) -> dict[str, Any]:
    aws.put_dataset(vocabulary=100)
    state = validate_request.handler(
        {"delivery": aws.put_request(example_request()), "execution_id": EXECUTION}, context
    )
    assert state["outcome"] == "accepted"
    return state


def start_event(state: dict[str, Any], execution: str = EXECUTION) -> dict[str, Any]:
    return handler_input(StartInput, state, execution_id=execution)


def admit(execution: str) -> dict[str, Any]:
    return dump(AcquireInput(execution_id=execution, request_id="r", tuning_job_name="ntm-r"))


def test_start_creates_one_job_however_often_it_is_delivered(
    aws: Aws, context: LambdaContext
) -> None:
    state = accepted(aws, context)
    first = start_tuning_job.handler(start_event(state), context)
    assert first["duplicate"] is False
    assert first["tuning_job_arn"].endswith(
        f"hyper-parameter-tuning-job/{state['tuning_job_name']}"
    )
    # The same execution retrying the step owns the job; another execution is a duplicate.
    assert start_tuning_job.handler(start_event(state), context)["duplicate"] is False
    assert (
        start_tuning_job.handler(start_event(state, "another-execution"), context)["duplicate"]
        is True
    )
    jobs = aws.sagemaker.list_hyper_parameter_tuning_jobs()["HyperParameterTuningJobSummaries"]
    assert [j["HyperParameterTuningJobName"] for j in jobs] == [state["tuning_job_name"]]


def stubbed_sagemaker(clients: Clients) -> Stubber:
    """The handlers' SageMaker client, answering as the test scripts it (botocore Stubber)."""
    client = boto3.client("sagemaker", region_name=REGION)
    stubber = Stubber(client)
    stubber.activate()
    clients(sagemaker=client)
    return stubber


def test_start_turns_throttling_into_a_retryable_error(
    aws: Aws, context: LambdaContext, clients: Clients
) -> None:
    state = accepted(aws, context)
    stubber = stubbed_sagemaker(clients)
    stubber.add_client_error(
        "create_hyper_parameter_tuning_job", "ThrottlingException", "slow down"
    )
    with pytest.raises(SageMakerThrottled):
        start_tuning_job.handler(start_event(state), context)


def test_start_lets_sagemaker_refusals_fail_the_step(
    aws: Aws, context: LambdaContext, clients: Clients
) -> None:
    state = accepted(aws, context)
    stubber = stubbed_sagemaker(clients)
    stubber.add_client_error("create_hyper_parameter_tuning_job", "ValidationException", "bad role")
    with pytest.raises(Exception, match="bad role"):
        start_tuning_job.handler(start_event(state), context)


def test_start_out_of_sagemaker_capacity_gives_its_slot_back(
    aws: Aws, context: LambdaContext, clients: Clients
) -> None:
    state = accepted(aws, context)
    assert acquire_capacity.handler(admit(EXECUTION), context)["admitted"]
    stubber = stubbed_sagemaker(clients)
    stubber.add_client_error("create_hyper_parameter_tuning_job", "ResourceLimitExceeded", "quota")
    result = start_tuning_job.handler(start_event(state), context)
    assert result == {"tuning_job_arn": None, "duplicate": False, "capacity_exhausted": True}
    assert release_capacity.handler({"execution_id": EXECUTION}, context) == {
        "released": False,
        "in_flight": 0,
    }


def test_admission_never_exceeds_the_limit(aws: Aws, context: LambdaContext) -> None:
    results = [acquire_capacity.handler(admit(f"e-{i}"), context) for i in range(4)]
    assert [r["admitted"] for r in results] == [True, True, False, False]  # limit 2
    assert acquire_capacity.handler(admit("e-1"), context)["admitted"] is True  # a retry
    assert release_capacity.handler({"execution_id": "e-0"}, context) == {
        "released": True,
        "in_flight": 1,
    }
    assert acquire_capacity.handler(admit("e-3"), context) == {
        "admitted": True,
        "in_flight": 2,
        "limit": 2,
    }


def status_change(
    execution: str, status: str, delivery: dict[str, Any] | None = None
) -> dict[str, Any]:
    return {
        "source": "aws.states",
        "detail-type": "Step Functions Execution Status Change",
        "detail": {
            "executionArn": execution,
            "stateMachineArn": "arn:aws:states:us-east-1:123456789012:stateMachine:ntm",
            "status": status,
            "input": json.dumps(delivery or {}),
        },
    }


@pytest.mark.parametrize(
    ("status", "published"),
    [
        ("ABORTED", "NTM Tuning Job Stopped"),
        ("TIMED_OUT", "NTM Tuning Job Stopped"),
        ("FAILED", "NTM Tuning Job Failed"),
    ],
)
def test_cleanup_stops_the_orphaned_job_and_frees_capacity(
    aws: Aws, context: LambdaContext, clients: Clients, status: str, published: str
) -> None:
    state = accepted(aws, context)
    acquire_capacity.handler(admit(EXECUTION), context)
    start_tuning_job.handler(start_event(state), context)
    name = state["tuning_job_name"]
    stubber = stubbed_sagemaker(clients)
    stubber.add_response(
        "describe_hyper_parameter_tuning_job",
        described_job(name, "InProgress"),
        {"HyperParameterTuningJobName": name},
    )
    stubber.add_response(
        "stop_hyper_parameter_tuning_job", {}, {"HyperParameterTuningJobName": name}
    )
    result = clean_up.handler(status_change(EXECUTION, status), context)
    stubber.assert_no_pending_responses()
    assert result["stopped"] is True and result["released"] is True
    events = aws.published()
    # The execution ended without publishing anything: the clean-up gives the request its
    # one terminal event.
    assert [e["detail-type"] for e in events] == [published]
    detail = events[0]["detail"]
    schema_name = published.lower().replace(" ", "-")
    jsonschema.validate(detail, json.loads((SCHEMAS / f"{schema_name}.schema.json").read_text()))
    assert (
        detail["reason"]["code"]
        == {
            "ABORTED": "ExecutionAborted",
            "TIMED_OUT": "ExecutionTimedOut",
            "FAILED": "ExecutionFailed",
        }[status]
    )
    assert detail["tuning_job_name"] == name
    assert detail["request_id"] == state["request_id"]
    # Delivered again (EventBridge retries a target), it publishes nothing more.
    stubber.add_response(
        "describe_hyper_parameter_tuning_job",
        described_job(name, "Stopped"),
        {"HyperParameterTuningJobName": name},
    )
    again = clean_up.handler(status_change(EXECUTION, status), context)
    assert again.get("already_published") is True
    assert aws.published() == []


def test_cleanup_of_a_failed_execution_that_published_its_outcome_publishes_nothing(
    aws: Aws, context: LambdaContext
) -> None:
    state = validate_request.handler(
        {"delivery": aws.put_request("{}"), "execution_id": EXECUTION}, context
    )
    publish_outcome.handler(
        {"detail_type": "NTM Tuning Request Rejected", "state": state, "execution_id": EXECUTION},
        context,
    )
    assert [e["detail-type"] for e in aws.published()] == ["NTM Tuning Request Rejected"]
    result = clean_up.handler(status_change(EXECUTION, "FAILED"), context)
    assert result.get("already_published") is True
    assert aws.published() == []


def test_cleanup_of_a_failed_execution_names_the_error(aws: Aws, context: LambdaContext) -> None:
    aws.put_dataset()
    delivery = aws.put_request(example_request())
    validate_request.handler({"delivery": delivery, "execution_id": EXECUTION}, context)
    event = status_change(EXECUTION, "FAILED", delivery)
    event["detail"]["error"] = "States.DataLimitExceeded"
    event["detail"]["cause"] = "The state/task 'Validate request' returned a result too large."
    result = clean_up.handler(event, context)
    assert result["published"] == "NTM Tuning Job Failed"
    (published,) = aws.published()
    reason = published["detail"]["reason"]
    assert reason["code"] == "ExecutionFailed"
    assert reason["error"] == "States.DataLimitExceeded"
    assert "Validate request" in reason["message"]


def test_cleanup_of_a_duplicate_execution_publishes_nothing(
    aws: Aws, context: LambdaContext
) -> None:
    aws.put_dataset()
    delivery = aws.put_request(example_request())
    validate_request.handler({"delivery": delivery, "execution_id": EXECUTION}, context)
    duplicate = validate_request.handler({"delivery": delivery, "execution_id": "other"}, context)
    assert duplicate["outcome"] == "duplicate"
    clean_up.handler(status_change("other", "FAILED", delivery), context)
    assert aws.published() == []


def test_cleanup_of_an_execution_aborted_before_its_job_publishes_a_failure(
    aws: Aws, context: LambdaContext
) -> None:
    aws.put_dataset()
    delivery = aws.put_request(example_request())
    result = clean_up.handler(status_change("aborted-early", "ABORTED", delivery), context)
    assert result["published"] == "NTM Tuning Job Failed"
    (event,) = aws.published()
    assert event["detail"]["reason"]["code"] == "ExecutionAborted"
    assert event["detail"]["origin"]["key"] == delivery["key"]


def poll_event(state: dict[str, Any], deadline: str, execution: str = EXECUTION) -> dict[str, Any]:
    return handler_input(DescribeInput, state, watch_deadline=deadline, execution_id=execution)


@pytest.fixture
def training_jobs(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """moto has no ListTrainingJobsForHyperParameterTuningJob: the listing the poll sees."""
    listed: list[dict[str, Any]] = []
    monkeypatch.setattr(SageMakerJobs, "training_jobs", lambda self, name: list(listed))
    return listed


def test_poll_reports_status_and_deadline(
    aws: Aws, context: LambdaContext, training_jobs: list[dict[str, Any]]
) -> None:
    state = accepted(aws, context)
    start_tuning_job.handler(start_event(state), context)
    future = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    result = describe_tuning_job.handler(poll_event(state, future), context)
    assert result["status"] == "Completed"  # moto's tuning jobs complete at once
    assert result["deadline_passed"] is False
    assert result["counters"]["completed"] == 1
    past = (datetime.now(UTC) - timedelta(seconds=1)).isoformat()
    late = describe_tuning_job.handler(poll_event(state, past), context)
    assert late["deadline_passed"] is True


def test_poll_publishes_progress_once_per_change(
    aws: Aws, context: LambdaContext, training_jobs: list[dict[str, Any]]
) -> None:
    state = accepted(aws, context)
    start_tuning_job.handler(start_event(state), context)
    began = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
    training_jobs.extend(
        [
            {"TrainingStartTime": began, "TrainingEndTime": began + timedelta(seconds=300)},
            {"TrainingStartTime": began, "TrainingEndTime": began + timedelta(seconds=61)},
            {"TrainingJobStatus": "InProgress"},  # not started yet: nothing billed
        ]
    )
    future = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    assert (
        describe_tuning_job.handler(poll_event(state, future), context)["progress"] == "published"
    )
    assert (
        describe_tuning_job.handler(poll_event(state, future), context)["progress"] == "unchanged"
    )
    (event,) = aws.published()
    assert event["detail-type"] == "NTM Tuning Job Progress"
    assert event["resources"] == [event["detail"]["tuning_job_arn"]]
    detail = event["detail"]
    assert detail["request_id"] == state["request_id"]
    assert detail["request_name"] == "demo"
    assert detail["tuning_job_name"] == state["tuning_job_name"]
    assert detail["counters"]["completed"] == 1
    assert detail["max_jobs"] == 4
    assert detail["billable_seconds"] == 361
    price = state["cost_estimate"]["hourly_price_usd"] * state["cost_estimate"]["instance_count"]
    assert detail["cost_usd"] == round(361 * price / 3600, 4)
    jsonschema.validate(
        detail, json.loads((SCHEMAS / "ntm-tuning-job-progress.schema.json").read_text())
    )
    # The ledger keeps what was published, for the next poll and for the CLI.
    assert Ledger(LEDGER, dynamodb=aws.dynamodb).progress(EXECUTION) == detail


def test_a_progress_event_that_cannot_be_published_does_not_fail_the_poll(
    aws: Aws,
    context: LambdaContext,
    monkeypatch: pytest.MonkeyPatch,
    training_jobs: list[dict[str, Any]],
) -> None:
    state = accepted(aws, context)
    start_tuning_job.handler(start_event(state), context)
    monkeypatch.setenv("EVENT_BUS_NAME", "no-such-bus")
    _runtime.reset()
    future = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    result = describe_tuning_job.handler(poll_event(state, future), context)
    assert result["status"] == "Completed"
    assert result["progress"].startswith("not published: ")
    # Nothing recorded: the next poll tries again.
    assert Ledger(LEDGER, dynamodb=aws.dynamodb).progress(EXECUTION) is None


def test_poll_turns_throttling_into_a_retryable_error(
    aws: Aws, context: LambdaContext, clients: Clients
) -> None:
    stubber = stubbed_sagemaker(clients)
    stubber.add_client_error(
        "describe_hyper_parameter_tuning_job", "ThrottlingException", "slow down"
    )
    with pytest.raises(SageMakerThrottled):
        describe_tuning_job.handler(
            {
                "tuning_job_name": "ntm-x",
                "watch_deadline": datetime.now(UTC).isoformat(),
                "execution_id": EXECUTION,
                "request": {
                    "request_id": "r",
                    "origin": {"type": "event", "event_id": "e", "source": "s"},
                },
                "cost_estimate": None,
            },
            context,
        )


@pytest.mark.parametrize(("status", "stops"), [("InProgress", True), ("Completed", False)])
def test_stop_stops_only_running_jobs(
    aws: Aws, context: LambdaContext, clients: Clients, status: str, stops: bool
) -> None:
    stubber = stubbed_sagemaker(clients)
    stubber.add_response(
        "describe_hyper_parameter_tuning_job",
        described_job("ntm-x", status),
        {"HyperParameterTuningJobName": "ntm-x"},
    )
    if stops:
        stubber.add_response(
            "stop_hyper_parameter_tuning_job", {}, {"HyperParameterTuningJobName": "ntm-x"}
        )
    given = dump(StopInput(tuning_job_name="ntm-x"))
    # The handler works on dicts (it loads no pydantic); its result is still a StopResult.
    result = StopResult.model_validate(stop_tuning_job.handler(given, context))
    assert result.stopped is stops
    assert result.status == ("Stopping" if stops else status)
    stubber.assert_no_pending_responses()


@pytest.mark.parametrize(
    ("status", "reason"), [("InProgress", None), ("Failed", "AlgorithmError: exit code 1")]
)
def test_describe_preparation_returns_its_status_model(
    aws: Aws, context: LambdaContext, clients: Clients, status: str, reason: str | None
) -> None:
    stubber = stubbed_sagemaker(clients)
    described: dict[str, Any] = {
        "ProcessingJobName": "ntm-prep-x",
        "ProcessingJobArn": "arn:aws:sagemaker:us-east-1:123456789012:processing-job/ntm-prep-x",
        "ProcessingJobStatus": status,
        "ProcessingResources": {
            "ClusterConfig": {
                "InstanceCount": 1,
                "InstanceType": "ml.m5.xlarge",
                "VolumeSizeInGB": 30,
            }
        },
        "AppSpecification": {"ImageUri": "img"},
        "CreationTime": datetime(2026, 11, 27, 12, tzinfo=UTC),
    }
    if reason:
        described["FailureReason"] = reason
    stubber.add_response("describe_processing_job", described, {"ProcessingJobName": "ntm-prep-x"})
    given = dump(DescribePreparationInput(processing_job_name="ntm-prep-x"))
    result = PreparationStatus.model_validate(describe_dataset_preparation.handler(given, context))
    assert (result.status, result.failure_reason, result.exit_message) == (status, reason, None)


def described_job(name: str, status: str) -> dict[str, Any]:
    now = datetime(2026, 11, 27, 12, tzinfo=UTC)
    return {
        "HyperParameterTuningJobName": name,
        "HyperParameterTuningJobArn": f"arn:aws:sagemaker:{REGION}:123456789012:hyper-parameter-tuning-job/{name}",
        "HyperParameterTuningJobConfig": {
            "Strategy": "Bayesian",
            "ResourceLimits": {"MaxNumberOfTrainingJobs": 3, "MaxParallelTrainingJobs": 2},
        },
        "HyperParameterTuningJobStatus": status,
        "CreationTime": now,
        "HyperParameterTuningEndTime": now + timedelta(hours=1),
        "TrainingJobStatusCounters": {
            "Completed": 2,
            "InProgress": 0,
            "RetryableError": 0,
            "NonRetryableError": 1,
            "Stopped": 0,
        },
        "ObjectiveStatusCounters": {"Succeeded": 2, "Pending": 0, "Failed": 1},
        "BestTrainingJob": {
            "TrainingJobName": f"{name}-002-bbbbbbbb",
            "TrainingJobArn": f"arn:aws:sagemaker:{REGION}:123456789012:training-job/{name}-002-bbbbbbbb",
            "CreationTime": now,
            "TrainingStartTime": now,
            "TrainingEndTime": now + timedelta(minutes=20),
            "TrainingJobStatus": "Completed",
            "TunedHyperParameters": {"learning_rate": "0.01", "optimizer": "adam"},
            "FinalHyperParameterTuningJobObjectiveMetric": {
                "MetricName": "validation:total_loss",
                "Value": 6.25,
            },
        },
    }


def training_summary(name: str, loss: float | None, status: str = "Completed") -> dict[str, Any]:
    summary: dict[str, Any] = {
        "TrainingJobName": name,
        "TrainingJobArn": f"arn:aws:sagemaker:{REGION}:123456789012:training-job/{name}",
        "CreationTime": datetime(2026, 11, 27, 12, tzinfo=UTC),
        "TrainingJobStatus": status,
        "TunedHyperParameters": {"learning_rate": "0.01"},
    }
    if loss is not None:
        summary["FinalHyperParameterTuningJobObjectiveMetric"] = {
            "MetricName": "validation:total_loss",
            "Value": loss,
        }
    return summary


def described_training(name: str, billable: int) -> dict[str, Any]:
    now = datetime(2026, 11, 27, 12, tzinfo=UTC)
    return {
        "TrainingJobName": name,
        "TrainingJobArn": f"arn:aws:sagemaker:{REGION}:123456789012:training-job/{name}",
        "ModelArtifacts": {
            "S3ModelArtifacts": f"s3://{ARTIFACTS_BUCKET}/tuning-jobs/x/{name}/output/model.tar.gz"
        },
        "TrainingJobStatus": "Completed",
        "SecondaryStatus": "Completed",
        "HyperParameters": {
            # Not the request's 100: the detail must take the planned static values.
            "feature_dim": "999",
            "num_topics": "5",
            "epochs": "50",
            "learning_rate": "0.01",
            "optimizer": "adam",
        },
        "AlgorithmSpecification": {"TrainingInputMode": "File", "TrainingImage": "img"},
        "ResourceConfig": {
            "InstanceType": "ml.g4dn.xlarge",
            "InstanceCount": 1,
            "VolumeSizeInGB": 30,
        },
        "StoppingCondition": {"MaxRuntimeInSeconds": 3600},
        "CreationTime": now,
        "TrainingTimeInSeconds": billable + 10,
        "BillableTimeInSeconds": billable,
    }


def test_summarize_ranks_jobs_writes_the_report_and_builds_a_valid_detail(
    aws: Aws, context: LambdaContext, clients: Clients
) -> None:
    state = accepted(aws, context)
    name = state["tuning_job_name"]
    stubber = stubbed_sagemaker(clients)
    stubber.add_response(
        "describe_hyper_parameter_tuning_job",
        described_job(name, "Completed"),
        {"HyperParameterTuningJobName": name},
    )
    jobs = [
        training_summary(f"{name}-001-aaaaaaaa", 7.5),
        training_summary(f"{name}-002-bbbbbbbb", 6.25),
        training_summary(f"{name}-003-cccccccc", None, status="Failed"),
    ]
    stubber.add_response(
        "list_training_jobs_for_hyper_parameter_tuning_job",
        {"TrainingJobSummaries": jobs},
        {"HyperParameterTuningJobName": name, "MaxResults": 100},
    )
    for job, billable in zip(jobs, (600, 900, 30), strict=True):
        stubber.add_response(
            "describe_training_job",
            described_training(job["TrainingJobName"], billable),
            {"TrainingJobName": ANY},
        )
    state["start"] = {"tuning_job_arn": "arn", "duplicate": False}

    result = summarize_results.handler(handler_input(SummarizeInput, state), context)

    detail = result["detail"]
    jsonschema.validate(
        detail, json.loads((SCHEMAS / "ntm-tuning-job-succeeded.schema.json").read_text())
    )
    best = detail["best_training_job"]
    assert best["name"] == f"{name}-002-bbbbbbbb"
    assert best["objective"] == {"metric_name": "validation:total_loss", "value": 6.25}
    assert best["model_artifact_uri"].endswith("model.tar.gz")
    assert best["tuned_hyperparameters"] == {"learning_rate": "0.01", "optimizer": "adam"}
    assert best["static_hyperparameters"]["feature_dim"] == "100"
    assert best["billable_seconds"] == 900
    assert detail["billable_seconds"] == 1530
    assert detail["tuning_job"]["counters"]["non_retryable_error"] == 1
    assert detail["vocabulary_uri"].endswith("auxiliary/vocab.txt")
    report = json.loads(
        aws.s3.get_object(Bucket=ARTIFACTS_BUCKET, Key=f"reports/{name}.json")["Body"].read()
    )
    assert [job["rank"] for job in report["training_jobs"]] == [1, 2, 3]
    assert [job["objective"] for job in report["training_jobs"]] == [6.25, 7.5, None]
    assert result["report_uri"] == f"s3://{ARTIFACTS_BUCKET}/reports/{name}.json"


@pytest.mark.parametrize(
    ("reported", "codes"),
    [
        ({}, []),
        ({"warning:topics_collapsed": 0.0}, []),
        ({"warning:posterior_collapsed": 1.0}, ["posterior_collapsed"]),
        (
            {
                "warning:barely_trained": 1.0,
                "warning:topics_collapsed": 1.0,
                "warning:posterior_collapsed": 1.0,
            },
            ["topics_collapsed", "posterior_collapsed", "barely_trained"],
        ),
    ],
)
def test_the_best_jobs_quality_warnings_reach_the_succeeded_detail(
    aws: Aws,
    context: LambdaContext,
    clients: Clients,
    reported: dict[str, float],
    codes: list[str],
) -> None:
    state = accepted(aws, context)
    name = state["tuning_job_name"]
    stubber = stubbed_sagemaker(clients)
    stubber.add_response(
        "describe_hyper_parameter_tuning_job",
        described_job(name, "Completed"),
        {"HyperParameterTuningJobName": name},
    )
    jobs = [training_summary(f"{name}-001-aaaaaaaa", 5.5)]
    stubber.add_response(
        "list_training_jobs_for_hyper_parameter_tuning_job",
        {"TrainingJobSummaries": jobs},
        {"HyperParameterTuningJobName": name, "MaxResults": 100},
    )
    described = described_training(jobs[0]["TrainingJobName"], 600)
    stamp = datetime(2026, 11, 27, 12, tzinfo=UTC)
    described["FinalMetricDataList"] = [
        {"MetricName": metric, "Value": value, "Timestamp": stamp}
        for metric, value in {"validation:total_loss": 5.5, **reported}.items()
    ]
    for _ in range(2):  # once to rank the jobs, once for the best one
        stubber.add_response("describe_training_job", described, {"TrainingJobName": ANY})
    state["start"] = {"tuning_job_arn": "arn", "duplicate": False}

    detail = summarize_results.handler(handler_input(SummarizeInput, state), context)["detail"]

    jsonschema.validate(
        detail, json.loads((SCHEMAS / "ntm-tuning-job-succeeded.schema.json").read_text())
    )
    assert [w["code"] for w in detail["warnings"]] == codes
    assert all(w["message"] for w in detail["warnings"])


def described_processing(name: str, status: str) -> dict[str, Any]:
    now = datetime(2026, 11, 27, 12, tzinfo=UTC)
    return {
        "ProcessingJobName": name,
        "ProcessingJobArn": f"arn:aws:sagemaker:{REGION}:123456789012:processing-job/{name}",
        "ProcessingJobStatus": status,
        "ProcessingResources": {
            "ClusterConfig": {
                "InstanceCount": 1,
                "InstanceType": "ml.m5.large",
                "VolumeSizeInGB": 30,
            }
        },
        "AppSpecification": {"ImageUri": "img"},
        "RoleArn": "arn:aws:iam::123456789012:role/ntm-processing",
        "CreationTime": now,
    }


@pytest.mark.parametrize(("status", "stops"), [("InProgress", True), ("Completed", False)])
def test_cleanup_of_an_execution_aborted_while_preparing_stops_its_processing_job(
    aws: Aws, context: LambdaContext, clients: Clients, status: str, stops: bool
) -> None:
    request = start_event(accepted(aws, context))["request"]
    clean_up.ledger().record_job(
        EXECUTION, request, now=datetime.now(UTC), processing_job_name="ntm-prep-req"
    )
    stubber = stubbed_sagemaker(clients)
    stubber.add_response(
        "describe_processing_job",
        described_processing("ntm-prep-req", status),
        {"ProcessingJobName": "ntm-prep-req"},
    )
    if stops:
        stubber.add_response("stop_processing_job", {}, {"ProcessingJobName": "ntm-prep-req"})
    result = clean_up.handler(status_change(EXECUTION, "ABORTED"), context)
    stubber.assert_no_pending_responses()
    assert result["processing_job_name"] == "ntm-prep-req"
    assert result["stopped"] is stops
    (event,) = aws.published()
    assert event["detail-type"] == "NTM Tuning Job Failed"
    assert event["detail"]["request_id"] == request["request_id"]
    assert event["detail"]["reason"]["code"] == "ExecutionAborted"
    assert event["detail"]["reason"]["message"].endswith("aborted") is not stops


# Five counters, five different values: a field read from the wrong counter shows.
DISTINCT_COUNTERS = {
    "Completed": 5,
    "InProgress": 4,
    "RetryableError": 3,
    "NonRetryableError": 2,
    "Stopped": 1,
}
DISTINCT_FIELDS = {
    "completed": 5,
    "in_progress": 4,
    "retryable_error": 3,
    "non_retryable_error": 2,
    "stopped": 1,
}


def test_poll_reads_each_counter_from_its_own_field(
    aws: Aws, context: LambdaContext, clients: Clients
) -> None:
    stubber = stubbed_sagemaker(clients)
    described = {
        **described_job("ntm-x", "InProgress"),
        "TrainingJobStatusCounters": DISTINCT_COUNTERS,
    }
    stubber.add_response(
        "describe_hyper_parameter_tuning_job", described, {"HyperParameterTuningJobName": "ntm-x"}
    )
    stubber.add_response(
        "list_training_jobs_for_hyper_parameter_tuning_job",
        {"TrainingJobSummaries": []},
        {"HyperParameterTuningJobName": "ntm-x", "MaxResults": 100},
    )
    future = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    state = {
        "tuning_job_name": "ntm-x",
        "request_id": "r",
        "request_name": None,
        "origin": {"type": "event", "event_id": "e", "source": "s"},
        "cost_estimate": None,
    }
    result = describe_tuning_job.handler(poll_event(state, future), context)
    assert result == {
        "status": "InProgress",
        "counters": DISTINCT_FIELDS,
        "failure_reason": None,
        "deadline_passed": False,
        "progress": "published",
    }
    # The progress event carries each counter in its own field too.
    (event,) = aws.published()
    assert event["detail"]["counters"] == DISTINCT_FIELDS


def test_cleanup_reports_each_counter_of_the_job_it_stopped(
    aws: Aws, context: LambdaContext, clients: Clients
) -> None:
    state = accepted(aws, context)
    start_tuning_job.handler(start_event(state), context)
    name = state["tuning_job_name"]
    stubber = stubbed_sagemaker(clients)
    stubber.add_response(
        "describe_hyper_parameter_tuning_job",
        {**described_job(name, "InProgress"), "TrainingJobStatusCounters": DISTINCT_COUNTERS},
        {"HyperParameterTuningJobName": name},
    )
    stubber.add_response(
        "stop_hyper_parameter_tuning_job", {}, {"HyperParameterTuningJobName": name}
    )
    clean_up.handler(status_change(EXECUTION, "ABORTED"), context)
    (event,) = aws.published()
    assert event["detail-type"] == "NTM Tuning Job Stopped"
    assert event["detail"]["counters"] == DISTINCT_FIELDS
    assert event["detail"]["status"] == "Stopping"
