"""A ``TuningEngine`` that really tunes: NTM trained locally, searched with Optuna.

``LocalTuner`` takes the CreateHyperParameterTuningJob request the workflow builds and runs
it on this machine: it checks the request as SageMaker would, downloads the channels from
(emulated) S3 once per tuning job, and hands the search to ``trainer.tuning.run_search`` (the
Optuna study and the pool of worker processes, at most ``MaxParallelTrainingJobs`` at once),
keeping the training jobs' records: each job's ``model.tar.gz`` is uploaded to
``<S3OutputPath>/<training job>/output/`` and its log written. This process keeps the S3
client, because moto's state lives here. A background thread drives the search, so the
describe calls see the job InProgress with live counters, as they would in SageMaker.

The answers have SageMaker's shapes and its errors (botocore ``ClientError``). Jobs stopped
early (Hyperband, Auto early stopping) are Stopped and keep the objective of their best epoch;
when a completion criterion is met, or ``MaxRuntimeInSeconds`` passes, running jobs are stopped
and the tuning job completes (it fails when no job reported an objective). What differs from
SageMaker: one local "instance" whatever ``ResourceConfig`` says, billable time is wall time,
``ConvergenceDetected`` follows a documented local rule (see ``trainer.search``), and only
S3Prefix channels are read. Each training job's log goes to the emulated CloudWatch Logs, where
SageMaker would put it (``offline.cloudwatch``), with NTM's topics block (TU, no WETC).

With ``OfflineWorkflow``, give it a ``Clock`` with a small scale (0.01): with waits scaled to
nothing, the state machine polls in a tight loop and takes a core from training. Call
``close()`` before the workflow's emulated AWS goes away.

Needs optuna (and torch for the default runner): ``pip install -r requirements-train.txt``.
"""

from __future__ import annotations

import copy
import hashlib
import logging
import math
import re
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ntm_tuning.locations import split_uri

from trainer.hyperparameters import HyperparameterError, parse_hyperparameters
from trainer.quality import WARNING_METRIC_PREFIX
from trainer.search import (
    OBJECTIVE_METRIC,
    Budget,
    CompletionCriteria,
    Parameter,
    SearchError,
    grid_size,
    hyperband_budget,
    make_sampler,
    search_space,
)
from trainer.tuning import SearchPlan, run_search
from trainer.worker import Channel, RunResult, TrainingOutcome, TrainingTask, run_ntm

from .cloudwatch import TrainingLogWriter
from .sagemaker import check_shape, check_warm_start_parents, client_error, download_s3_prefix

logger = logging.getLogger(__name__)

REGION = "us-east-1"
ACCOUNT = "123456789012"
TUNING_JOB_NAME = re.compile(r"[a-zA-Z0-9](-*[a-zA-Z0-9]){0,31}")
OBJECTIVE_TYPE = "Minimize"
TERMINAL = ("Completed", "Failed", "Stopped")

Progress = Callable[[int, int, float | None], None]
Runner = Callable[[TrainingTask, Callable[[int, dict[str, float]], str]], RunResult]


@dataclass
class _TrainingJob:
    name: str
    arn: str
    number: int
    tuned: dict[str, str]
    hyperparameters: dict[str, str]
    created: datetime
    slot: int
    status: str = "InProgress"
    secondary: str = "Starting"
    started: datetime | None = None
    ended: datetime | None = None
    wall_started: float | None = None
    wall_ended: float | None = None
    pid: int | None = None
    failure_reason: str | None = None
    epochs: list[dict[str, float]] = field(default_factory=list)
    metrics: dict[str, float] = field(default_factory=dict)
    artifact_uri: str | None = None
    stopped: str | None = None

    @property
    def objective(self) -> float | None:
        value = self.metrics.get(OBJECTIVE_METRIC)
        if value is None and self.status == "InProgress" and self.epochs:
            value = self.epochs[-1].get(OBJECTIVE_METRIC)
        return float(value) if value is not None and math.isfinite(value) else None

    @property
    def seconds(self) -> int:
        if self.wall_started is None:
            return 0
        end = self.wall_ended if self.wall_ended is not None else time.time()
        return max(1, round(end - self.wall_started))


@dataclass
class _TuningJob:
    request: dict[str, Any]
    arn: str
    created: datetime
    space: dict[str, Parameter]
    max_jobs: int
    budget: Budget
    criteria: CompletionCriteria
    status: str = "InProgress"
    ended: datetime | None = None
    failure_reason: str | None = None
    training_jobs: dict[str, _TrainingJob] = field(default_factory=dict)
    stop: threading.Event = field(default_factory=threading.Event)
    deadline: float | None = None
    peak_running: int = 0
    thread: threading.Thread | None = None

    @property
    def name(self) -> str:
        return str(self.request["HyperParameterTuningJobName"])

    @property
    def config(self) -> dict[str, Any]:
        return dict(self.request["HyperParameterTuningJobConfig"])

    @property
    def definition(self) -> dict[str, Any]:
        return dict(self.request["TrainingJobDefinition"])


class LocalTuner:
    """SageMaker automatic model tuning for NTM, on this machine.

    ``workdir``: where channels and artifacts are written (default: a temporary folder,
    removed by ``close``). ``threads_per_job``: torch threads per training job.
    ``on_progress(done, total, best_loss)``: called after each training job ends.
    ``device``: "auto" (CUDA when available), "cpu" or "cuda". ``runner``: what a worker runs
    for one training job (default: the NTM trainer); it must be a module-level function.
    """

    # Its events say the model was trained here (``detail.engine``).
    ENGINE = "local"

    def __init__(
        self,
        s3: Any,
        *,
        workdir: Path | str | None = None,
        threads_per_job: int = 1,
        on_progress: Progress | None = None,
        device: str = "auto",
        runner: Runner | None = None,
        region: str = REGION,
        account: str = ACCOUNT,
        logs: Any = None,
    ) -> None:
        self.s3 = s3
        self._logs = logs
        self._own_workdir = workdir is None
        self.workdir = Path(workdir or tempfile.mkdtemp(prefix="ntm-local-tuner-"))
        self.threads_per_job = threads_per_job
        self.on_progress = on_progress
        self.device = device
        self.runner: Runner = runner or run_ntm
        self.region = region
        self.account = account
        self.jobs: dict[str, _TuningJob] = {}
        self._lock = threading.RLock()

    @property
    def logs(self) -> TrainingLogWriter:
        """Where training jobs log, as on SageMaker (the emulated CloudWatch Logs)."""
        if self._logs is None:
            import boto3

            self._logs = boto3.client("logs", region_name=self.region)
        return TrainingLogWriter(self._logs)

    # -- the TuningEngine calls ----------------------------------------------------------
    def create_hyper_parameter_tuning_job(self, **request: Any) -> dict[str, Any]:
        operation = "CreateHyperParameterTuningJob"
        check_shape(operation, request)
        name = request["HyperParameterTuningJobName"]
        if not TUNING_JOB_NAME.fullmatch(name):
            raise client_error(
                operation,
                "ValidationException",
                f"HyperParameterTuningJobName {name!r} must match {TUNING_JOB_NAME.pattern}",
            )
        job = self._plan(operation, copy.deepcopy(request))
        with self._lock:
            if name.lower() in {existing.lower() for existing in self.jobs}:
                raise client_error(
                    operation, "ResourceInUse", f"Hyperparameter tuning job {name} already exists"
                )
            check_warm_start_parents(
                operation, request, {known: other.status for known, other in self.jobs.items()}
            )
            self.jobs[name] = job
        job.thread = threading.Thread(target=self._drive, args=(job,), name=f"tune-{name}")
        job.thread.daemon = True
        job.thread.start()
        return {"HyperParameterTuningJobArn": job.arn}

    def describe_hyper_parameter_tuning_job(self, **request: Any) -> dict[str, Any]:
        operation = "DescribeHyperParameterTuningJob"
        check_shape(operation, request)
        with self._lock:
            return self._describe(self._job(operation, request["HyperParameterTuningJobName"]))

    def list_training_jobs_for_hyper_parameter_tuning_job(self, **request: Any) -> dict[str, Any]:
        operation = "ListTrainingJobsForHyperParameterTuningJob"
        check_shape(operation, request)
        with self._lock:
            job = self._job(operation, request["HyperParameterTuningJobName"])
            trainings = list(job.training_jobs.values())
            summaries = [self._summary(job, t) for t in trainings]
        wanted = request.get("StatusEquals")
        if wanted:
            summaries = [s for s in summaries if s["TrainingJobStatus"] == wanted]
        summaries = _sorted(summaries, request.get("SortBy"), request.get("SortOrder"))
        start = int(request.get("NextToken") or 0)
        size = int(request.get("MaxResults") or 10)
        page: dict[str, Any] = {"TrainingJobSummaries": summaries[start : start + size]}
        if start + size < len(summaries):
            page["NextToken"] = str(start + size)
        return page

    def describe_training_job(self, **request: Any) -> dict[str, Any]:
        operation = "DescribeTrainingJob"
        check_shape(operation, request)
        name = request["TrainingJobName"]
        with self._lock:
            for job in self.jobs.values():
                training = job.training_jobs.get(name)
                if training is not None:
                    return self._describe_training(job, training)
        raise client_error(
            operation, "ValidationException", f"Requested resource not found: {name}"
        )

    def list_tags(self, **request: Any) -> dict[str, Any]:
        check_shape("ListTags", request)
        arn = request["ResourceArn"]
        with self._lock:
            for job in self.jobs.values():
                if job.arn == arn or any(t.arn == arn for t in job.training_jobs.values()):
                    return {"Tags": list(job.request.get("Tags", []))}
        raise client_error("ListTags", "ValidationException", f"{arn} not found")

    def stop_hyper_parameter_tuning_job(self, **request: Any) -> dict[str, Any]:
        operation = "StopHyperParameterTuningJob"
        check_shape(operation, request)
        with self._lock:
            job = self._job(operation, request["HyperParameterTuningJobName"])
            if job.status != "InProgress":
                raise client_error(
                    operation,
                    "ValidationException",
                    f"The hyperparameter tuning job {job.name} is {job.status}; "
                    "only an InProgress job can be stopped",
                )
            job.status = "Stopping"
            job.stop.set()
        return {}

    # -- local conveniences ----------------------------------------------------------------
    def wait(self, name: str, timeout: float = 600.0) -> str:
        """Block until the tuning job ends; its final status."""
        job = self._job("DescribeHyperParameterTuningJob", name)
        if job.thread is not None:
            job.thread.join(timeout)
        if job.status not in TERMINAL:
            raise TimeoutError(f"tuning job {name} still {job.status} after {timeout}s")
        return job.status

    def peak_concurrency(self, name: str) -> int:
        """The most training jobs of ``name`` that were ever training at the same moment."""
        job = self._job("DescribeHyperParameterTuningJob", name)
        edges: list[tuple[float, int]] = []
        for training in job.training_jobs.values():
            if training.wall_started is not None:
                edges.append((training.wall_started, 1))
                edges.append((training.wall_ended or time.time(), -1))
        running = peak = 0
        for _, change in sorted(edges, key=lambda e: (e[0], e[1])):
            running += change
            peak = max(peak, running)
        return peak

    def close(self, timeout: float = 60.0) -> None:
        """Stop every running tuning job, wait for it, and remove a temporary workdir."""
        with self._lock:
            jobs = list(self.jobs.values())
            for job in jobs:
                if job.status == "InProgress":
                    job.status = "Stopping"
                    job.stop.set()
        for job in jobs:
            if job.thread is not None:
                job.thread.join(timeout)
        if self._own_workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self) -> LocalTuner:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- planning: what SageMaker checks before it accepts a job ----------------------------
    def _plan(self, operation: str, request: dict[str, Any]) -> _TuningJob:
        def refuse(message: str) -> Exception:
            return client_error(operation, "ValidationException", message)

        if "TrainingJobDefinition" not in request:
            raise refuse("TrainingJobDefinition is required")
        if "TrainingJobDefinitions" in request:
            raise refuse(
                "TrainingJobDefinitions is not supported locally; use TrainingJobDefinition"
            )
        config = request["HyperParameterTuningJobConfig"]
        definition = request["TrainingJobDefinition"]
        objective = config.get("HyperParameterTuningJobObjective") or {}
        if (
            objective.get("MetricName") != OBJECTIVE_METRIC
            or objective.get("Type") != OBJECTIVE_TYPE
        ):
            raise refuse(
                f"NTM's tuning objective is {OBJECTIVE_METRIC} ({OBJECTIVE_TYPE}), not "
                f"{objective.get('MetricName')} ({objective.get('Type')})"
            )
        strategy = config["Strategy"]
        early_stopping = config.get("TrainingJobEarlyStoppingType", "Off")
        static = {k: str(v) for k, v in (definition.get("StaticHyperParameters") or {}).items()}
        limits = config["ResourceLimits"]
        try:
            space = search_space(config.get("ParameterRanges") or {})
            if not space:
                raise SearchError("ParameterRanges must name at least one hyperparameter")
            both = sorted(set(space) & set(static))
            if both:
                raise SearchError(f"static and tuned at once: {', '.join(both)}")
            budget = Budget()
            if strategy == "Hyperband":
                if early_stopping != "Off":
                    raise SearchError("Hyperband needs TrainingJobEarlyStoppingType Off")
                budget = hyperband_budget(config, static)
            elif config.get("StrategyConfig"):
                raise SearchError("StrategyConfig applies to the Hyperband strategy only")
            if strategy == "Grid":
                combinations = grid_size(space)
                asked = limits.get("MaxNumberOfTrainingJobs")
                if asked is not None and asked != combinations:
                    raise SearchError(
                        f"with Grid, leave MaxNumberOfTrainingJobs out or set it to the "
                        f"{combinations} combinations"
                    )
                max_jobs = combinations
            else:
                if "MaxNumberOfTrainingJobs" not in limits:
                    raise SearchError(f"MaxNumberOfTrainingJobs is required with {strategy}")
                max_jobs = int(limits["MaxNumberOfTrainingJobs"])
            make_sampler(strategy, space, None, max_jobs)
            criteria = CompletionCriteria.from_config(config)
            probe = {name: p.example() for name, p in space.items()}
            parse_hyperparameters({**static, **probe})
        except (SearchError, HyperparameterError) as error:
            raise refuse(str(error)) from None
        self._check_warm_start(operation, request)
        name = request["HyperParameterTuningJobName"]
        runtime = limits.get("MaxRuntimeInSeconds")
        return _TuningJob(
            request=request,
            arn=self._arn("hyper-parameter-tuning-job", name),
            created=datetime.now(UTC),
            space=space,
            max_jobs=max_jobs,
            budget=budget,
            criteria=criteria,
            deadline=time.monotonic() + runtime if runtime else None,
        )

    def _check_warm_start(self, operation: str, request: dict[str, Any]) -> None:
        warm = request.get("WarmStartConfig")
        if not warm:
            return
        with self._lock:
            for parent in warm["ParentHyperParameterTuningJobs"]:
                name = parent.get("HyperParameterTuningJobName", "")
                found = self.jobs.get(name)
                if found is None or found.status not in TERMINAL:
                    raise client_error(
                        operation,
                        "ValidationException",
                        f"warm start parent {name!r} is not a finished tuning job here",
                    )

    # -- driving the search (background thread) ---------------------------------------------
    def _drive(self, job: _TuningJob) -> None:
        try:
            channels = self._download(job)
            self._search(job, channels)
        except _ChannelError as error:
            self._finish(job, failure=str(error))
            return
        except Exception as error:  # the tuning job fails, the caller's process does not
            self._finish(job, failure=f"InternalServerError: {type(error).__name__}: {error}")
            return
        self._finish(job)

    def _finish(self, job: _TuningJob, failure: str | None = None) -> None:
        with self._lock:
            trainings = list(job.training_jobs.values())
            scored = [t for t in trainings if t.objective is not None and t.status != "Failed"]
            if failure is not None:
                job.status, job.failure_reason = "Failed", failure
            elif job.stop.is_set() and job.status == "Stopping":
                job.status = "Stopped"
            elif scored:
                job.status = "Completed"
            else:
                first = next((t.failure_reason for t in trainings if t.failure_reason), None)
                job.status = "Failed"
                job.failure_reason = (
                    f"No training job succeeded after {len(trainings)} attempts. "
                    + (f"First failure: {first}" if first else "No objective metric was reported.")
                )[:1024]
            job.ended = datetime.now(UTC)

    def _download(self, job: _TuningJob) -> dict[str, Channel]:
        """Each channel's objects, laid out as SageMaker lays out ``/opt/ml/input/data``."""
        root = self.workdir / job.name / "input" / "data"
        channels: dict[str, Channel] = {}
        for channel in job.definition.get("InputDataConfig", []):
            name = channel["ChannelName"]
            source = channel["DataSource"].get("S3DataSource")
            if source is None or source.get("S3DataType", "S3Prefix") != "S3Prefix":
                raise _ChannelError(
                    f"ClientError: channel {name}: only S3Prefix sources are supported locally"
                )
            uri = source["S3Uri"]
            folder = root / name
            found = download_s3_prefix(self.s3, uri, folder)
            if not found:
                raise _ChannelError(f"ClientError: no objects under {uri} for channel {name}")
            channels[name] = Channel(str(folder), channel.get("ContentType"))
        if "train" not in channels:
            raise _ChannelError("ClientError: the train channel is required")
        return channels

    def _search(self, job: _TuningJob, channels: dict[str, Channel]) -> None:
        config = job.config
        plan = SearchPlan(
            strategy=config["Strategy"],
            space=job.space,
            max_jobs=job.max_jobs,
            parallel=int(config["ResourceLimits"]["MaxParallelTrainingJobs"]),
            budget=job.budget,
            early_stopping=config.get("TrainingJobEarlyStoppingType", "Off"),
            seed=config.get("RandomSeed"),
            threads_per_job=self.threads_per_job,
        )
        run_search(plan, _JobTrials(self, job, channels))

    def _may_launch(self, job: _TuningJob) -> bool:
        if job.stop.is_set() or job.criteria.met is not None:
            return False
        return job.deadline is None or time.monotonic() < job.deadline

    def _warm_start(self, job: _TuningJob) -> Iterator[tuple[dict[str, str], float]]:
        """The parents' training jobs with an objective, to seed the search."""
        warm = job.request.get("WarmStartConfig")
        if not warm:
            return
        for parent in warm["ParentHyperParameterTuningJobs"]:
            found = self.jobs.get(parent.get("HyperParameterTuningJobName", ""))
            for training in list(found.training_jobs.values()) if found else []:
                value = training.objective
                if value is not None:
                    yield dict(training.tuned), value

    def _new_training_job(
        self, job: _TuningJob, number: int, tuned: dict[str, str], slot: int
    ) -> _TrainingJob:
        suffix = hashlib.sha256(f"{job.arn}:{number}".encode()).hexdigest()[:8]
        name = f"{job.name}-{number:03d}-{suffix}"
        static = {k: str(v) for k, v in (job.definition.get("StaticHyperParameters") or {}).items()}
        training = _TrainingJob(
            name=name,
            arn=self._arn("training-job", name),
            number=number,
            tuned=tuned,
            hyperparameters={
                **static,
                **tuned,
                "_tuning_objective_metric": OBJECTIVE_METRIC,
            },
            created=datetime.now(UTC),
            slot=slot,
        )
        with self._lock:
            job.training_jobs[name] = training
            running = sum(1 for t in job.training_jobs.values() if t.status == "InProgress")
            job.peak_running = max(job.peak_running, running)
        return training

    def _task(
        self, job: _TuningJob, training: _TrainingJob, channels: dict[str, Channel], seed: int
    ) -> TrainingTask:
        stopping = job.definition.get("StoppingCondition") or {}
        return TrainingTask(
            job_name=training.name,
            trial_number=training.number,
            slot=training.slot,
            hyperparameters=dict(training.hyperparameters),
            channels=channels,
            output_dir=str(self.workdir / job.name / training.name / "output"),
            seed=seed,
            runner=self.runner,
            threads=self.threads_per_job,
            device=self.device,
            max_epochs=job.budget.max_resource,
            max_runtime_seconds=stopping.get("MaxRuntimeInSeconds"),
        )

    def _complete(self, job: _TuningJob, training: _TrainingJob, outcome: TrainingOutcome) -> None:
        """Record a training job's end as SageMaker would: artifact, status, log, criteria."""
        artifact_uri = self._upload(job, training, outcome.artifact) if outcome.artifact else None
        with self._lock:
            training.status = outcome.status
            training.secondary = outcome.secondary_status
            training.failure_reason = outcome.failure_reason
            training.metrics = dict(outcome.metrics)
            if outcome.epochs:
                training.epochs = list(outcome.epochs)
            training.stopped = outcome.stopped
            training.artifact_uri = artifact_uri
            training.wall_started = training.wall_started or outcome.started
            training.wall_ended = outcome.ended
            training.started = training.started or datetime.fromtimestamp(outcome.started, UTC)
            training.ended = datetime.fromtimestamp(outcome.ended, UTC)
            training.pid = outcome.pid
        try:
            self.logs.write(
                training.name,
                started=training.wall_started or outcome.started,
                ended=outcome.ended,
                hyperparameters=training.hyperparameters,
                epochs=training.epochs,
                topics=outcome.topics,
                failure_reason=outcome.failure_reason,
                thread=outcome.pid,
            )
        except Exception:  # the job's outcome stands; its log is lost, as it would be on AWS
            logger.exception("writing the log of %s failed", training.name)
        value = training.objective
        if not job.stop.is_set() and job.criteria.met is None:
            counted = value if outcome.status != "Failed" else None
            with self._lock:
                job.criteria.record(counted)
        if self.on_progress is not None:
            with self._lock:
                done = sum(1 for t in job.training_jobs.values() if t.status != "InProgress")
                best = self._best(job)
            try:
                self.on_progress(done, job.max_jobs, best.objective if best else None)
            except Exception:  # a broken progress display must not break the tuning job
                logger.exception("on_progress failed")

    def _upload(self, job: _TuningJob, training: _TrainingJob, artifact: str) -> str:
        output = job.definition["OutputDataConfig"]
        uri = f"{output['S3OutputPath'].rstrip('/')}/{training.name}/output/model.tar.gz"
        bucket, key = split_uri(uri)
        extra: dict[str, str] = {}
        if output.get("KmsKeyId"):
            extra = {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": output["KmsKeyId"]}
        self.s3.put_object(Bucket=bucket, Key=key, Body=Path(artifact).read_bytes(), **extra)
        return uri

    # -- SageMaker's answers ------------------------------------------------------------------
    def _job(self, operation: str, name: str) -> _TuningJob:
        with self._lock:
            for existing, job in self.jobs.items():
                if existing.lower() == name.lower():
                    return job
        raise client_error(
            operation,
            "ResourceNotFound",
            f"Amazon SageMaker can't find a tuning job with name {name}",
        )

    def _arn(self, kind: str, name: str) -> str:
        return f"arn:aws:sagemaker:{self.region}:{self.account}:{kind}/{name.lower()}"

    def _best(self, job: _TuningJob) -> _TrainingJob | None:
        candidates = [
            t
            for t in job.training_jobs.values()
            if t.status in ("Completed", "Stopped") and t.metrics.get(OBJECTIVE_METRIC) is not None
        ]
        return min(candidates, key=lambda t: (t.objective, t.number)) if candidates else None

    def _objective_status(self, training: _TrainingJob) -> str:
        if training.status == "InProgress":
            return "Pending"
        if training.status != "Failed" and training.metrics.get(OBJECTIVE_METRIC) is not None:
            return "Succeeded"
        return "Failed"

    def _summary(self, job: _TuningJob, training: _TrainingJob) -> dict[str, Any]:
        summary: dict[str, Any] = {
            "TrainingJobName": training.name,
            "TrainingJobArn": training.arn,
            "TuningJobName": job.name,
            "CreationTime": training.created,
            "TrainingJobStatus": training.status,
            "TunedHyperParameters": dict(training.tuned),
            "ObjectiveStatus": self._objective_status(training),
        }
        if training.started:
            summary["TrainingStartTime"] = training.started
        if training.ended:
            summary["TrainingEndTime"] = training.ended
        if training.failure_reason:
            summary["FailureReason"] = training.failure_reason
        value = training.objective
        if value is not None and training.status != "Failed":
            summary["FinalHyperParameterTuningJobObjectiveMetric"] = {
                "Type": OBJECTIVE_TYPE,
                "MetricName": OBJECTIVE_METRIC,
                "Value": value,
            }
        return summary

    def _describe(self, job: _TuningJob) -> dict[str, Any]:
        trainings = list(job.training_jobs.values())

        def count(*statuses: str) -> int:
            return sum(1 for t in trainings if t.status in statuses)

        objectives = [self._objective_status(t) for t in trainings]
        end = job.ended or datetime.now(UTC)
        described: dict[str, Any] = {
            "HyperParameterTuningJobName": job.name,
            "HyperParameterTuningJobArn": job.arn,
            "HyperParameterTuningJobConfig": job.request["HyperParameterTuningJobConfig"],
            "TrainingJobDefinition": job.request["TrainingJobDefinition"],
            "HyperParameterTuningJobStatus": job.status,
            "CreationTime": job.created,
            "LastModifiedTime": max(
                [job.created, *(t.ended or t.started or t.created for t in trainings)]
            ),
            "TrainingJobStatusCounters": {
                "Completed": count("Completed"),
                "InProgress": count("InProgress", "Stopping"),
                "RetryableError": 0,
                "NonRetryableError": count("Failed"),
                "Stopped": count("Stopped"),
            },
            "ObjectiveStatusCounters": {
                "Succeeded": objectives.count("Succeeded"),
                "Pending": objectives.count("Pending"),
                "Failed": objectives.count("Failed"),
            },
            "ConsumedResources": {"RuntimeInSeconds": int((end - job.created).total_seconds())},
        }
        if "WarmStartConfig" in job.request:
            described["WarmStartConfig"] = job.request["WarmStartConfig"]
        if job.ended:
            described["HyperParameterTuningEndTime"] = job.ended
            described["LastModifiedTime"] = job.ended
        if job.failure_reason:
            described["FailureReason"] = job.failure_reason
        best = self._best(job)
        if best is not None:
            described["BestTrainingJob"] = self._summary(job, best)
        details: dict[str, Any] = {}
        if (
            job.criteria.not_improving is not None
            or job.criteria.met == "BestObjectiveNotImproving"
        ):
            details["NumberOfTrainingJobsObjectiveNotImproving"] = job.criteria.since_best
        if job.criteria.converged_at is not None:
            details["ConvergenceDetectedTime"] = job.criteria.converged_at
        if details:
            described["TuningJobCompletionDetails"] = details
        return described

    def _describe_training(self, job: _TuningJob, training: _TrainingJob) -> dict[str, Any]:
        definition = job.definition
        described: dict[str, Any] = {
            "TrainingJobName": training.name,
            "TrainingJobArn": training.arn,
            "TuningJobArn": job.arn,
            "TrainingJobStatus": training.status,
            "SecondaryStatus": training.secondary,
            "HyperParameters": dict(training.hyperparameters),
            "AlgorithmSpecification": definition["AlgorithmSpecification"],
            "RoleArn": definition["RoleArn"],
            "InputDataConfig": definition.get("InputDataConfig", []),
            "OutputDataConfig": definition["OutputDataConfig"],
            "ResourceConfig": definition.get("ResourceConfig", {}),
            "StoppingCondition": definition["StoppingCondition"],
            "CreationTime": training.created,
            "LastModifiedTime": training.ended or training.started or training.created,
            "EnableNetworkIsolation": definition.get("EnableNetworkIsolation", False),
            "EnableInterContainerTrafficEncryption": definition.get(
                "EnableInterContainerTrafficEncryption", False
            ),
            "EnableManagedSpotTraining": definition.get("EnableManagedSpotTraining", False),
            "TrainingTimeInSeconds": training.seconds,
            "BillableTimeInSeconds": training.seconds,
            "FinalMetricDataList": self._final_metrics(training),
        }
        if training.artifact_uri:
            described["ModelArtifacts"] = {"S3ModelArtifacts": training.artifact_uri}
        if training.started:
            described["TrainingStartTime"] = training.started
        if training.ended:
            described["TrainingEndTime"] = training.ended
        if training.failure_reason:
            described["FailureReason"] = training.failure_reason
        return described

    def _final_metrics(self, training: _TrainingJob) -> list[dict[str, Any]]:
        stamp = training.ended or datetime.now(UTC)
        if training.status == "InProgress":
            source = training.epochs[-1] if training.epochs else {}
            names = [OBJECTIVE_METRIC, "train:total_loss"]
        else:
            source = training.metrics
            names = [OBJECTIVE_METRIC, "train:total_loss", "test:total_loss"]
            if training.status == "Completed":
                names += ["topics:npmi", "topics:uniqueness"]
            # Quality warnings of any finished job: a stopped job can be the best one.
            names += sorted(n for n in source if n.startswith(WARNING_METRIC_PREFIX))
        return [
            {"MetricName": name, "Value": float(source[name]), "Timestamp": stamp}
            for name in names
            if name in source and math.isfinite(source[name])
        ]


class _JobTrials:
    """One tuning job's side of ``trainer.tuning.run_search``: its training-job records."""

    def __init__(self, tuner: LocalTuner, job: _TuningJob, channels: dict[str, Channel]) -> None:
        self.tuner = tuner
        self.job = job
        self.channels = channels
        self.trainings: dict[int, _TrainingJob] = {}

    def may_launch(self) -> bool:
        return self.tuner._may_launch(self.job)

    def warm_start(self) -> Iterator[tuple[dict[str, str], float]]:
        return self.tuner._warm_start(self.job)

    def launch(self, number: int, tuned: dict[str, str], slot: int, seed: int) -> TrainingTask:
        training = self.tuner._new_training_job(self.job, number, tuned, slot)
        self.trainings[number] = training
        return self.tuner._task(self.job, training, self.channels, seed)

    def started(self, number: int, wall: float, pid: int) -> None:
        training = self.trainings[number]
        with self.tuner._lock:
            training.started = datetime.fromtimestamp(wall, UTC)
            training.wall_started, training.pid = wall, pid
            training.secondary = "Training"

    def epoch(self, number: int, metrics: dict[str, float]) -> None:
        with self.tuner._lock:
            self.trainings[number].epochs.append(metrics)

    def finished(self, number: int, outcome: TrainingOutcome) -> float | None:
        training = self.trainings[number]
        self.tuner._complete(self.job, training, outcome)
        return training.objective


class _ChannelError(Exception):
    """The data could not be staged; the tuning job fails with this reason."""


def _sorted(
    summaries: list[dict[str, Any]], by: str | None, order: str | None
) -> list[dict[str, Any]]:
    descending = order == "Descending"
    if by == "FinalObjectiveMetricValue":
        metric = "FinalHyperParameterTuningJobObjectiveMetric"
        scored = sorted(
            (s for s in summaries if metric in s),
            key=lambda s: s[metric]["Value"],
            reverse=descending,
        )
        return scored + [s for s in summaries if metric not in s]
    field_name = {"Name": "TrainingJobName", "Status": "TrainingJobStatus"}.get(
        by or "", "CreationTime"
    )
    return sorted(summaries, key=lambda s: s[field_name], reverse=descending)
