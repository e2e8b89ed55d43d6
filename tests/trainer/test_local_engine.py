"""The local tuner: SageMaker's calls and shapes, its limits and strategies, on real worker
processes. The training jobs run cheap stand-in runners (tests/trainer/fakes.py); the real
trainer runs in test_end_to_end.py."""

from __future__ import annotations

import copy
import re
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError
from botocore.session import Session
from botocore.validate import ParamValidator

from offline.local_engine import LocalTuner

from . import fakes
from .conftest import ARTIFACTS_BUCKET, golden_request

MODEL = Session().get_service_model("sagemaker")


def conforms(operation: str, response: dict[str, Any]) -> None:
    """The response fits botocore's output shape for ``operation``."""
    shape = MODEL.operation_model(operation).output_shape
    assert shape is not None
    report = ParamValidator().validate(response, shape)
    assert not report.has_errors(), report.generate_report()


def code(error: pytest.ExceptionInfo[ClientError]) -> str:
    return str(error.value.response["Error"]["Code"])


def run(tuner: LocalTuner, request: dict[str, Any], timeout: float = 60.0) -> dict[str, Any]:
    tuner.create_hyper_parameter_tuning_job(**request)
    name = request["HyperParameterTuningJobName"]
    tuner.wait(name, timeout)
    return tuner.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName=name)


def training_jobs(tuner: LocalTuner, name: str) -> list[dict[str, Any]]:
    summaries = tuner.list_training_jobs_for_hyper_parameter_tuning_job(
        HyperParameterTuningJobName=name, MaxResults=100
    )["TrainingJobSummaries"]
    return [tuner.describe_training_job(TrainingJobName=s["TrainingJobName"]) for s in summaries]


def named(request: dict[str, Any], name: str) -> dict[str, Any]:
    request = copy.deepcopy(request)
    request["HyperParameterTuningJobName"] = name
    return request


@pytest.fixture
def tuner(s3: Any, tmp_path: Path) -> Any:
    with LocalTuner(s3, workdir=tmp_path / "work", runner=fakes.quadratic) as local:
        yield local


def test_runs_in_parallel_within_the_limits_and_answers_as_sagemaker(
    s3: Any, tmp_path: Path
) -> None:
    progress: list[tuple[int, int, float | None]] = []
    request = golden_request(
        ResourceLimits={"MaxNumberOfTrainingJobs": 6, "MaxParallelTrainingJobs": 2},
        Strategy="Random",
        RandomSeed=4,
    )
    name = request["HyperParameterTuningJobName"]
    with LocalTuner(
        s3,
        workdir=tmp_path / "work",
        runner=fakes.slow_quadratic,
        on_progress=lambda *args: progress.append(args),
    ) as tuner:
        assert tuner.create_hyper_parameter_tuning_job(**request) == {
            "HyperParameterTuningJobArn": f"arn:aws:sagemaker:us-east-1:123456789012:hyper-parameter-tuning-job/{name}"
        }
        live = tuner.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName=name)
        assert live["HyperParameterTuningJobStatus"] == "InProgress"
        conforms("DescribeHyperParameterTuningJob", live)
        assert tuner.wait(name, 60) == "Completed"
        described = tuner.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName=name)
        conforms("DescribeHyperParameterTuningJob", described)
        first_page = tuner.list_training_jobs_for_hyper_parameter_tuning_job(
            HyperParameterTuningJobName=name, MaxResults=4
        )
        conforms("ListTrainingJobsForHyperParameterTuningJob", first_page)
        second_page = tuner.list_training_jobs_for_hyper_parameter_tuning_job(
            HyperParameterTuningJobName=name, MaxResults=4, NextToken=first_page["NextToken"]
        )
        ranked = tuner.list_training_jobs_for_hyper_parameter_tuning_job(
            HyperParameterTuningJobName=name,
            SortBy="FinalObjectiveMetricValue",
            SortOrder="Ascending",
        )["TrainingJobSummaries"]
        jobs = training_jobs(tuner, name)
        peak = tuner.peak_concurrency(name)
        local = tuner.jobs[name]

    assert described["TrainingJobStatusCounters"] == {
        "Completed": 6,
        "InProgress": 0,
        "RetryableError": 0,
        "NonRetryableError": 0,
        "Stopped": 0,
    }
    assert described["ObjectiveStatusCounters"] == {"Succeeded": 6, "Pending": 0, "Failed": 0}
    assert (
        len(first_page["TrainingJobSummaries"]) == 4
        and len(second_page["TrainingJobSummaries"]) == 2
    )
    assert "NextToken" not in second_page
    # Never more than MaxParallelTrainingJobs at once, and really two at once, in two processes.
    assert peak == 2 and local.peak_running == 2
    assert len({t.pid for t in local.training_jobs.values()}) == 2
    best = described["BestTrainingJob"]
    assert best["TrainingJobName"] == ranked[0]["TrainingJobName"]
    assert best["FinalHyperParameterTuningJobObjectiveMetric"]["Value"] == min(
        j["FinalMetricDataList"][0]["Value"] for j in jobs
    )
    assert progress[-1] == (6, 6, best["FinalHyperParameterTuningJobObjectiveMetric"]["Value"])
    assert [p[0] for p in progress] == [1, 2, 3, 4, 5, 6]

    output = request["TrainingJobDefinition"]["OutputDataConfig"]
    for job in jobs:
        conforms("DescribeTrainingJob", job)
        assert re.fullmatch(rf"{name}-\d{{3}}-[0-9a-f]{{8}}", job["TrainingJobName"])
        assert len(job["TrainingJobName"]) <= 63
        assert job["TuningJobArn"] == described["HyperParameterTuningJobArn"]
        hp = job["HyperParameters"]
        assert hp["num_topics"] == "6" and hp["_tuning_objective_metric"] == "validation:total_loss"
        assert 0.0001 <= float(hp["learning_rate"]) <= 0.1
        assert 16 <= int(hp["mini_batch_size"]) <= 2048
        assert hp["optimizer"] in ("sgd", "adam", "adadelta")
        # Training time is the job's wall time, measured from its own start and end stamps;
        # one local on-demand instance bills exactly that.
        wall = (job["TrainingEndTime"] - job["TrainingStartTime"]).total_seconds()
        assert wall > 0
        assert abs(job["TrainingTimeInSeconds"] - max(1.0, wall)) <= 0.501
        assert job["BillableTimeInSeconds"] == job["TrainingTimeInSeconds"]
        assert {m["MetricName"] for m in job["FinalMetricDataList"]} >= {
            "validation:total_loss",
            "topics:npmi",
            "topics:uniqueness",
        }
        uri = job["ModelArtifacts"]["S3ModelArtifacts"]
        assert uri == f"{output['S3OutputPath']}{job['TrainingJobName']}/output/model.tar.gz"
        key = uri.removeprefix(f"s3://{ARTIFACTS_BUCKET}/")
        head = s3.head_object(Bucket=ARTIFACTS_BUCKET, Key=key)
        assert (
            head["ServerSideEncryption"] == "aws:kms" and head["SSEKMSKeyId"] == output["KmsKeyId"]
        )
        assert isinstance(job["TrainingStartTime"], datetime)
        tags = tuner.list_tags(ResourceArn=job["TrainingJobArn"])["Tags"]
        assert tags == request["Tags"]

    # Channels were laid out as SageMaker lays out /opt/ml/input/data.
    data = tmp_path / "work" / name / "input" / "data"
    assert (data / "train" / "part-00000.pbr").is_file() and (
        data / "train" / "part-00001.pbr"
    ).is_file()
    assert (data / "auxiliary" / "vocab.txt").is_file() and (
        data / "test" / "part-00000.pbr"
    ).is_file()


def test_one_job_at_a_time_and_the_same_seed_samples_the_same_points(tuner: LocalTuner) -> None:
    request = golden_request(
        ResourceLimits={"MaxNumberOfTrainingJobs": 5, "MaxParallelTrainingJobs": 1}, RandomSeed=11
    )
    tuned = []
    for name in ("seeded-first", "seeded-again"):
        assert run(tuner, named(request, name))["HyperParameterTuningJobStatus"] == "Completed"
        assert tuner.peak_concurrency(name) == 1
        jobs = sorted(tuner.jobs[name].training_jobs.values(), key=lambda t: t.number)
        tuned.append([t.tuned for t in jobs])
    assert tuned[0] == tuned[1] and len(tuned[0]) == 5
    assert len({tuple(sorted(t.items())) for t in tuned[0]}) == 5

    warm = named(request, "warm-started")
    warm["WarmStartConfig"] = {
        "ParentHyperParameterTuningJobs": [{"HyperParameterTuningJobName": "seeded-first"}],
        "WarmStartType": "IdenticalDataAndAlgorithm",
    }
    described = run(tuner, warm)
    assert described["HyperParameterTuningJobStatus"] == "Completed"
    assert described["WarmStartConfig"] == warm["WarmStartConfig"]
    with pytest.raises(ClientError) as unknown:
        orphan = named(warm, "orphan")
        orphan["WarmStartConfig"]["ParentHyperParameterTuningJobs"] = [
            {"HyperParameterTuningJobName": "nope"}
        ]
        tuner.create_hyper_parameter_tuning_job(**orphan)
    assert code(unknown) == "ValidationException"


def test_grid_runs_every_combination_once(tuner: LocalTuner) -> None:
    request = golden_request(
        Strategy="Grid",
        ParameterRanges={
            "CategoricalParameterRanges": [
                {"Name": "optimizer", "Values": ["sgd", "adam"]},
                {"Name": "encoder_layers_activation", "Values": ["sigmoid", "tanh", "relu"]},
            ]
        },
        ResourceLimits={"MaxParallelTrainingJobs": 2},
    )
    described = run(tuner, request)
    assert described["TrainingJobStatusCounters"]["Completed"] == 6
    combos = [
        (t.tuned["optimizer"], t.tuned["encoder_layers_activation"])
        for t in tuner.jobs[request["HyperParameterTuningJobName"]].training_jobs.values()
    ]
    assert sorted(combos) == sorted(
        (o, a) for o in ("sgd", "adam") for a in ("sigmoid", "tanh", "relu")
    )


def test_hyperband_stops_poor_jobs_early(tuner: LocalTuner) -> None:
    request = golden_request(
        Strategy="Hyperband",
        StrategyConfig={"HyperbandStrategyConfig": {"MinResource": 1, "MaxResource": 9}},
        ParameterRanges={
            "ContinuousParameterRanges": [
                {
                    "Name": "learning_rate",
                    "MinValue": "0.0001",
                    "MaxValue": "0.1",
                    "ScalingType": "Logarithmic",
                }
            ]
        },
        ResourceLimits={"MaxNumberOfTrainingJobs": 14, "MaxParallelTrainingJobs": 2},
        RandomSeed=5,
    )
    request["TrainingJobDefinition"]["StaticHyperParameters"]["epochs"] = "20"
    described = run(tuner, request)
    jobs = list(tuner.jobs[request["HyperParameterTuningJobName"]].training_jobs.values())
    pruned = [t for t in jobs if t.status == "Stopped"]
    assert pruned, "Hyperband stopped no job"
    assert all(len(t.epochs) < 9 for t in pruned)
    assert all(len(t.epochs) <= 9 for t in jobs)  # MaxResource caps the epochs (static: 20)
    assert any(t.status == "Completed" and len(t.epochs) == 9 for t in jobs)
    assert described["HyperParameterTuningJobStatus"] == "Completed"
    assert described["ObjectiveStatusCounters"]["Succeeded"] == 14  # stopped jobs keep their metric


def test_auto_early_stopping_stops_jobs_worse_than_the_median(tuner: LocalTuner) -> None:
    request = golden_request(
        TrainingJobEarlyStoppingType="Auto",
        ParameterRanges={
            "ContinuousParameterRanges": [
                {
                    "Name": "learning_rate",
                    "MinValue": "0.0001",
                    "MaxValue": "0.1",
                    "ScalingType": "Logarithmic",
                }
            ]
        },
        ResourceLimits={"MaxNumberOfTrainingJobs": 10, "MaxParallelTrainingJobs": 1},
        Strategy="Random",
        RandomSeed=3,
    )
    described = run(tuner, request)
    stopped = [
        t
        for t in tuner.jobs[request["HyperParameterTuningJobName"]].training_jobs.values()
        if t.status == "Stopped"
    ]
    assert stopped and described["TrainingJobStatusCounters"]["Stopped"] == len(stopped)
    assert all(1 < len(t.epochs) < 5 for t in stopped)  # never in the first (warm-up) epoch


def test_completion_criteria_end_the_search_early(s3: Any, tmp_path: Path) -> None:
    one_at_a_time = {"MaxNumberOfTrainingJobs": 12, "MaxParallelTrainingJobs": 1}
    with LocalTuner(s3, workdir=tmp_path, runner=fakes.worse_each_job) as tuner:
        target = run(
            tuner,
            named(
                golden_request(
                    ResourceLimits=one_at_a_time,
                    TuningJobCompletionCriteria={"TargetObjectiveMetricValue": 101.5},
                ),
                "target",
            ),
        )
        stale = run(
            tuner,
            named(
                golden_request(
                    ResourceLimits=one_at_a_time,
                    TuningJobCompletionCriteria={
                        "BestObjectiveNotImproving": {"MaxNumberOfTrainingJobsNotImproving": 3}
                    },
                ),
                "stale",
            ),
        )
    with LocalTuner(s3, workdir=tmp_path, runner=fakes.constant) as tuner:
        converged = run(
            tuner,
            named(
                golden_request(
                    ResourceLimits={"MaxNumberOfTrainingJobs": 30, "MaxParallelTrainingJobs": 1},
                    TuningJobCompletionCriteria={
                        "ConvergenceDetected": {"CompleteOnConvergence": "Enabled"}
                    },
                ),
                "converged",
            ),
        )
    assert target["HyperParameterTuningJobStatus"] == "Completed"
    assert target["TrainingJobStatusCounters"]["Completed"] == 1  # the first job reaches 101
    assert stale["TrainingJobStatusCounters"]["Completed"] == 4
    assert stale["TuningJobCompletionDetails"]["NumberOfTrainingJobsObjectiveNotImproving"] == 3
    assert converged["TrainingJobStatusCounters"]["Completed"] == 10
    assert "ConvergenceDetectedTime" in converged["TuningJobCompletionDetails"]


def test_stop_stops_the_running_jobs(s3: Any, tmp_path: Path) -> None:
    request = golden_request()
    name = request["HyperParameterTuningJobName"]
    with LocalTuner(s3, workdir=tmp_path, runner=fakes.endless) as tuner:
        tuner.create_hyper_parameter_tuning_job(**request)
        deadline = time.monotonic() + 30
        while (
            not all(t.epochs for t in tuner.jobs[name].training_jobs.values())
            or len(tuner.jobs[name].training_jobs) < 2
        ):
            assert time.monotonic() < deadline
            time.sleep(0.05)
        assert tuner.stop_hyper_parameter_tuning_job(HyperParameterTuningJobName=name) == {}
        stopping = tuner.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName=name)
        assert stopping["HyperParameterTuningJobStatus"] in ("Stopping", "Stopped")
        assert tuner.wait(name, 30) == "Stopped"
        described = tuner.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName=name)
        with pytest.raises(ClientError) as again:
            tuner.stop_hyper_parameter_tuning_job(HyperParameterTuningJobName=name)
    assert code(again) == "ValidationException"
    assert described["TrainingJobStatusCounters"]["Stopped"] == 2
    assert described["TrainingJobStatusCounters"]["InProgress"] == 0
    assert len(tuner.jobs[name].training_jobs) == 2  # nothing new started after the stop


def test_every_job_failing_fails_the_tuning_job(s3: Any, tmp_path: Path) -> None:
    request = golden_request(
        ResourceLimits={"MaxNumberOfTrainingJobs": 3, "MaxParallelTrainingJobs": 3}
    )
    with LocalTuner(s3, workdir=tmp_path, runner=fakes.broken) as tuner:
        described = run(tuner, request)
        job = training_jobs(tuner, request["HyperParameterTuningJobName"])[0]
    assert described["HyperParameterTuningJobStatus"] == "Failed"
    assert "No training job succeeded after 3 attempts" in described["FailureReason"]
    assert "AlgorithmError: RuntimeError: the algorithm crashed" in described["FailureReason"]
    assert described["TrainingJobStatusCounters"]["NonRetryableError"] == 3
    assert described["ObjectiveStatusCounters"]["Failed"] == 3
    assert "BestTrainingJob" not in described
    assert job["TrainingJobStatus"] == "Failed" and "ModelArtifacts" not in job


def test_missing_data_fails_the_tuning_job(tuner: LocalTuner) -> None:
    request = golden_request()
    request["TrainingJobDefinition"]["InputDataConfig"][0]["DataSource"]["S3DataSource"][
        "S3Uri"
    ] = "s3://ntm-data-bucket/nothing/"
    described = run(tuner, request)
    assert described["HyperParameterTuningJobStatus"] == "Failed"
    assert (
        described["FailureReason"]
        == "ClientError: no objects under s3://ntm-data-bucket/nothing/ for channel train"
    )


def test_requests_sagemaker_refuses(tuner: LocalTuner) -> None:
    def refused(request: dict[str, Any]) -> str:
        with pytest.raises(ClientError) as error:
            tuner.create_hyper_parameter_tuning_job(**request)
        return f"{code(error)}: {error.value.response['Error']['Message']}"

    good = golden_request()
    no_limits = copy.deepcopy(good)
    del no_limits["HyperParameterTuningJobConfig"]["ResourceLimits"]
    assert refused(no_limits) == (
        'ValidationException: Missing required parameter in HyperParameterTuningJobConfig: "ResourceLimits"'
    )
    # SageMaker's own pattern for the name (botocore's model, checked by offline.strict).
    assert "Member must satisfy regular expression pattern" in refused(named(good, "bad_name!"))
    hyperband_auto = golden_request(Strategy="Hyperband", TrainingJobEarlyStoppingType="Auto")
    assert "Hyperband needs TrainingJobEarlyStoppingType Off" in refused(hyperband_auto)
    grid_continuous = golden_request(Strategy="Grid")
    assert "categorical ranges only" in refused(grid_continuous)
    other_metric = golden_request(
        HyperParameterTuningJobObjective={"MetricName": "train:total_loss", "Type": "Minimize"}
    )
    assert "objective is validation:total_loss" in refused(other_metric)
    both = copy.deepcopy(good)
    both["TrainingJobDefinition"]["StaticHyperParameters"]["optimizer"] = "adam"
    assert "static and tuned at once: optimizer" in refused(both)
    bad_static = copy.deepcopy(good)
    bad_static["TrainingJobDefinition"]["StaticHyperParameters"]["num_topics"] = "1"
    assert "num_topics must be in" in refused(bad_static)
    assert not tuner.jobs

    tuner.create_hyper_parameter_tuning_job(**good)
    assert refused(named(good, good["HyperParameterTuningJobName"].upper())).startswith(
        "ResourceInUse"
    )
    with pytest.raises(ClientError) as missing:
        tuner.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName="nope")
    assert code(missing) == "ResourceNotFound"
    with pytest.raises(ClientError) as missing_training:
        tuner.describe_training_job(TrainingJobName="nope")
    assert code(missing_training) == "ValidationException"


def test_a_jobs_quality_warnings_are_among_its_final_metrics(s3: Any, tmp_path: Path) -> None:
    request = golden_request(
        ResourceLimits={"MaxNumberOfTrainingJobs": 3, "MaxParallelTrainingJobs": 1}, RandomSeed=3
    )
    with LocalTuner(s3, workdir=tmp_path / "work", runner=fakes.collapsed_odd_jobs) as local:
        assert run(local, request)["HyperParameterTuningJobStatus"] == "Completed"
        jobs = training_jobs(local, request["HyperParameterTuningJobName"])
    warned = {}
    for job in jobs:
        conforms("DescribeTrainingJob", job)
        names = {m["MetricName"] for m in job["FinalMetricDataList"]}
        warned[int(job["TrainingJobName"].split("-")[-2])] = "warning:posterior_collapsed" in names
    assert warned == {1: True, 2: False, 3: True}
