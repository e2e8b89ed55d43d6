"""The scripted stand-in for SageMaker tuning: tests and ``make local-run`` use it.

``ScriptedSageMaker`` is a ``TuningEngine`` (``offline.sagemaker``) that drives each tuning job
through the states a ``Scenario`` asks for: it trains nothing, and says so in its events
(``detail.engine``) and in the placeholder artifacts it writes.
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import random
import tarfile
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from ntm_tuning.locations import split_uri

from .sagemaker import check_shape, check_warm_start_parents, client_error

Outcome = Literal["Completed", "Failed", "Stopped"]


@dataclass
class Scenario:
    """How the stand-in plays each tuning job."""

    outcome: Outcome = "Completed"
    describes_in_progress: int = 2
    throttle_creates: int = 0
    failure_reason: str = "All training jobs failed. AlgorithmError: see the training job logs"
    training_jobs: int | None = None
    seed: int = 7
    # Concurrent tuning jobs the account allows; past it, creates get ResourceLimitExceeded.
    account_job_limit: int | None = None
    # The first describes of each job fail with an error the workflow does not retry.
    describe_failures: int = 0


@dataclass
class _Job:
    request: dict[str, Any]
    arn: str
    created: datetime
    status: str = "InProgress"
    describes: int = 0
    ended: datetime | None = None
    failure_reason: str | None = None
    training_jobs: list[dict[str, Any]] = field(default_factory=list)


class ScriptedSageMaker:
    """A test stand-in for SageMaker tuning: plays a scenario, trains nothing.

    Completed jobs get training jobs with tuned hyperparameters drawn from the request's
    ranges, an objective value, and a placeholder model archive (``ARTIFACT``) written to the
    request's output path, so everything downstream (ranking, report, event) runs on
    realistic data, and says it is a stand-in.
    """

    STAND_IN = "scripted stand-in: no model was trained"
    # Its events say so (``detail.engine``), and its artifacts are named for what they are.
    ENGINE = "scripted"
    ARTIFACT = "placeholder-model.tar.gz"

    def __init__(
        self, s3: Any, *, scenario: Scenario | None = None, region: str, account: str
    ) -> None:
        self.s3 = s3
        self.scenario = scenario or Scenario()
        self.region = region
        self.account = account
        self.jobs: dict[str, _Job] = {}
        self.create_calls = 0
        # The most tuning jobs that were running at the same time.
        self.most_running = 0
        self.refused_for_capacity = 0
        self._lock = threading.Lock()

    # -- the TuningEngine calls ----------------------------------------------------------
    def create_hyper_parameter_tuning_job(self, **request: Any) -> dict[str, Any]:
        operation = "CreateHyperParameterTuningJob"
        check_shape(operation, request)
        with self._lock:
            self.create_calls += 1
            if self.create_calls <= self.scenario.throttle_creates:
                raise client_error(operation, "ThrottlingException", "Rate exceeded")
            name = request["HyperParameterTuningJobName"]
            running = sum(job.status in ("InProgress", "Stopping") for job in self.jobs.values())
            limit = self.scenario.account_job_limit
            if limit is not None and running >= limit:
                self.refused_for_capacity += 1
                raise client_error(
                    operation,
                    "ResourceLimitExceeded",
                    f"The account-level service limit 'Number of concurrent hyperparameter "
                    f"tuning jobs' is {limit}",
                )
            if name.lower() in {existing.lower() for existing in self.jobs}:
                raise client_error(
                    operation, "ResourceInUse", f"Hyperparameter tuning job {name} already exists"
                )
            check_warm_start_parents(
                operation, request, {name: job.status for name, job in self.jobs.items()}
            )
            arn = self._arn("hyper-parameter-tuning-job", name)
            self.jobs[name] = _Job(request=request, arn=arn, created=datetime.now(UTC))
            running = sum(job.status in ("InProgress", "Stopping") for job in self.jobs.values())
            self.most_running = max(self.most_running, running)
        return {"HyperParameterTuningJobArn": arn}

    def describe_hyper_parameter_tuning_job(self, **request: Any) -> dict[str, Any]:
        with self._lock:
            job = self._job(
                "DescribeHyperParameterTuningJob", request["HyperParameterTuningJobName"]
            )
            job.describes += 1
            if job.describes <= self.scenario.describe_failures:
                raise client_error(
                    "DescribeHyperParameterTuningJob", "InternalFailure", "injected fault"
                )
            self._advance(job)
            return self._describe(job)

    def list_tags(self, **request: Any) -> dict[str, Any]:
        arn = request["ResourceArn"]
        for job in self.jobs.values():
            if job.arn == arn:
                return {"Tags": list(job.request.get("Tags", []))}
        raise client_error("ListTags", "ValidationException", f"{arn} not found")

    def list_training_jobs_for_hyper_parameter_tuning_job(self, **request: Any) -> dict[str, Any]:
        job = self._job(
            "ListTrainingJobsForHyperParameterTuningJob", request["HyperParameterTuningJobName"]
        )
        return {"TrainingJobSummaries": [self._summary(t) for t in job.training_jobs]}

    def describe_training_job(self, **request: Any) -> dict[str, Any]:
        name = request["TrainingJobName"]
        for job in self.jobs.values():
            for training in job.training_jobs:
                if training["TrainingJobName"] == name:
                    return dict(training)
        raise client_error("DescribeTrainingJob", "ValidationException", f"{name} not found")

    def stop_hyper_parameter_tuning_job(self, **request: Any) -> dict[str, Any]:
        with self._lock:
            job = self._job("StopHyperParameterTuningJob", request["HyperParameterTuningJobName"])
            if job.status != "InProgress":
                raise client_error(
                    "StopHyperParameterTuningJob", "ValidationException", f"job is {job.status}"
                )
            job.status = "Stopping"
        return {}

    # -- playing the scenario ------------------------------------------------------------
    def _job(self, operation: str, name: str) -> _Job:
        if name not in self.jobs:
            raise client_error(operation, "ResourceNotFound", f"tuning job {name} not found")
        return self.jobs[name]

    def _arn(self, kind: str, name: str) -> str:
        return f"arn:aws:sagemaker:{self.region}:{self.account}:{kind}/{name.lower()}"

    def _advance(self, job: _Job) -> None:
        if job.status == "Stopping":
            job.status, job.ended = "Stopped", datetime.now(UTC)
            return
        in_progress_for = self.scenario.describes_in_progress + self.scenario.describe_failures
        if job.status != "InProgress" or job.describes <= in_progress_for:
            return
        job.ended = datetime.now(UTC)
        job.status = self.scenario.outcome
        if job.status == "Completed":
            job.training_jobs = self._train(job)
            job.ended = max(t["TrainingEndTime"] for t in job.training_jobs)
        elif job.status == "Failed":
            job.failure_reason = self.scenario.failure_reason

    def _planned_jobs(self, job: _Job) -> int:
        limits = job.request["HyperParameterTuningJobConfig"]["ResourceLimits"]
        planned = self.scenario.training_jobs or limits.get("MaxNumberOfTrainingJobs", 4)
        return max(1, min(int(planned), 50))

    def _train(self, job: _Job) -> list[dict[str, Any]]:
        name = job.request["HyperParameterTuningJobName"]
        rng = random.Random(f"{self.scenario.seed}:{name}")
        definition = job.request["TrainingJobDefinition"]
        output = definition["OutputDataConfig"]["S3OutputPath"].rstrip("/")
        trained = []
        for number in range(1, self._planned_jobs(job) + 1):
            tuned = _sample(job.request["HyperParameterTuningJobConfig"]["ParameterRanges"], rng)
            suffix = hashlib.sha256(f"{name}{number}".encode()).hexdigest()[:8]
            training_name = f"{name}-{number:03d}-{suffix}"
            artifact = f"{output}/{training_name}/output/{self.ARTIFACT}"
            self._write_artifact(artifact, training_name, tuned)
            self._write_log(training_name, {**definition["StaticHyperParameters"], **tuned})
            started = job.created + timedelta(minutes=5 * number)
            seconds = rng.randint(240, 900)
            trained.append(
                {
                    "TrainingJobName": training_name,
                    "TrainingJobArn": self._arn("training-job", training_name),
                    "TuningJobArn": job.arn,
                    "TrainingJobStatus": "Completed",
                    "SecondaryStatus": "Completed",
                    "HyperParameters": {**definition["StaticHyperParameters"], **tuned},
                    "TunedHyperParameters": tuned,
                    "ModelArtifacts": {"S3ModelArtifacts": artifact},
                    "CreationTime": started,
                    "TrainingStartTime": started,
                    "TrainingEndTime": started + timedelta(seconds=seconds),
                    "TrainingTimeInSeconds": seconds,
                    # Wall-clock seconds; SageMaker bills them once per instance.
                    "BillableTimeInSeconds": seconds,
                    "FinalMetricDataList": [
                        {"MetricName": "validation:total_loss", "Value": rng.uniform(5.5, 9.5)}
                    ],
                }
            )
        return trained

    def _write_log(self, training_name: str, hyperparameters: dict[str, str]) -> None:
        """The job's log stream, where SageMaker creates it; it has no topics block, since
        no model was trained (the summary then says ``no_topics_block``)."""
        import boto3

        from .cloudwatch import TrainingLogWriter

        now = time.time()  # CloudWatch Logs takes events of the last 14 days only
        TrainingLogWriter(boto3.client("logs", region_name=self.region)).write(
            training_name,
            started=now,
            ended=now,
            hyperparameters=hyperparameters,
            epochs=[],
            topics=None,
            failure_reason=None,
        )

    def _write_artifact(self, uri: str, training_name: str, tuned: dict[str, str]) -> None:
        bucket, key = split_uri(uri)
        manifest = json.dumps(
            {"training_job": training_name, "hyperparameters": tuned, "note": self.STAND_IN}
        ).encode()
        buffer = io.BytesIO()
        with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
            info = tarfile.TarInfo("model.json")
            info.size = len(manifest)
            archive.addfile(info, io.BytesIO(manifest))
        self.s3.put_object(Bucket=bucket, Key=key, Body=buffer.getvalue())

    def _summary(self, training: dict[str, Any]) -> dict[str, Any]:
        loss = training["FinalMetricDataList"][0]["Value"]
        return {
            "TrainingJobName": training["TrainingJobName"],
            "TrainingJobArn": training["TrainingJobArn"],
            "CreationTime": training["CreationTime"],
            "TrainingStartTime": training["TrainingStartTime"],
            "TrainingEndTime": training["TrainingEndTime"],
            "TrainingJobStatus": training["TrainingJobStatus"],
            "TunedHyperParameters": training["TunedHyperParameters"],
            "FinalHyperParameterTuningJobObjectiveMetric": {
                "MetricName": "validation:total_loss",
                "Value": loss,
            },
            "ObjectiveStatus": "Succeeded",
        }

    def _describe(self, job: _Job) -> dict[str, Any]:
        planned = self._planned_jobs(job)
        done = len(job.training_jobs)
        running = (
            0
            if job.status != "InProgress"
            else min(
                planned,
                job.request["HyperParameterTuningJobConfig"]["ResourceLimits"][
                    "MaxParallelTrainingJobs"
                ],
            )
        )
        described: dict[str, Any] = {
            "HyperParameterTuningJobName": job.request["HyperParameterTuningJobName"],
            "HyperParameterTuningJobArn": job.arn,
            "HyperParameterTuningJobConfig": job.request["HyperParameterTuningJobConfig"],
            "TrainingJobDefinition": job.request["TrainingJobDefinition"],
            "HyperParameterTuningJobStatus": job.status,
            "CreationTime": job.created,
            "LastModifiedTime": job.ended or job.created,
            "TrainingJobStatusCounters": {
                "Completed": done,
                "InProgress": running,
                "RetryableError": 0,
                "NonRetryableError": planned if job.status == "Failed" else 0,
                "Stopped": planned - done if job.status == "Stopped" else 0,
            },
            "ObjectiveStatusCounters": {"Succeeded": done, "Pending": running, "Failed": 0},
        }
        if job.ended:
            described["HyperParameterTuningEndTime"] = job.ended
        if job.failure_reason:
            described["FailureReason"] = job.failure_reason
        if job.training_jobs:
            best = min(job.training_jobs, key=lambda t: t["FinalMetricDataList"][0]["Value"])
            described["BestTrainingJob"] = self._summary(best)
        return described


def _sample(ranges: dict[str, list[dict[str, Any]]], rng: random.Random) -> dict[str, str]:
    """One point of the search space, as SageMaker passes tuned values: strings."""
    tuned: dict[str, str] = {}
    for entry in ranges.get("CategoricalParameterRanges", []):
        tuned[entry["Name"]] = rng.choice(entry["Values"])
    for entry in ranges.get("IntegerParameterRanges", []):
        tuned[entry["Name"]] = str(rng.randint(int(entry["MinValue"]), int(entry["MaxValue"])))
    for entry in ranges.get("ContinuousParameterRanges", []):
        low, high = float(entry["MinValue"]), float(entry["MaxValue"])
        if entry.get("ScalingType") == "Logarithmic":
            value = math.exp(rng.uniform(math.log(low), math.log(high)))
        else:
            value = rng.uniform(low, high)
        tuned[entry["Name"]] = f"{value:.6g}"
    return tuned
