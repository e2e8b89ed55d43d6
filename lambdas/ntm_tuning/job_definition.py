"""From a validated request to the complete CreateHyperParameterTuningJob request.

Pure code: the facts that need S3 (objects present, vocabulary size) come in as ``DataFacts``.
Every broken rule is collected, so a rejected request lists all of its problems at once.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from .cost import estimate_cost
from .errors import RequestRejected, Violation
from .events import CostEstimate
from .instances import has_instance_storage, volume_problem
from .locations import S3Location, resolve_channels, vocabulary_location
from .naming import JOB_NAME_PREFIX
from .ntm import (
    HYPERPARAMETERS,
    MAX_CATEGORICAL_VALUES,
    OBJECTIVE_METRIC,
    OBJECTIVE_TYPE,
    SEED_RANGES,
    Kind,
)
from .request import CategoricalRange, ContinuousRange, IntegerRange, TuningRequest
from .settings import (
    SPOT_MAX_WAIT_SECONDS,
    TRAINING_MAX_RUNTIME_SECONDS,
    Settings,
    check_spot,
)
from .tags import TAG_PREFIX

# Slack on top of the longest the tuning job can run, before the workflow gives up on it.
WATCH_SLACK = timedelta(hours=1)


@dataclass(frozen=True)
class DataFacts:
    """What the data bucket says about the request's channels."""

    vocabulary_size: int | None = None
    train_objects: int = 1


@dataclass(frozen=True)
class TuningPlan:
    """The request SageMaker gets, and what the workflow keeps to report on it."""

    create_request: dict[str, Any]
    static_hyperparameters: dict[str, str]
    strategy: str
    max_jobs: int
    watch_deadline: datetime
    vocabulary_uri: str | None
    cost_estimate: CostEstimate | None


@dataclass
class _Builder:
    request: TuningRequest
    settings: Settings
    facts: DataFacts
    violations: list[Violation] = field(default_factory=list)

    def fail(self, field_name: str, rule: str, message: str) -> None:
        self.violations.append(Violation(field_name, rule, message))

    def at_most(self, field_name: str, rule: str, value: int, cap: int) -> None:
        """A value the deployment caps: over its cap, the field fails the rule."""
        if value > cap:
            self.fail(field_name, rule, f"must be at most {cap}")

    # -- resources -------------------------------------------------------------------
    def resources(self) -> dict[str, Any]:
        asked = self.request.resources
        defaults = self.settings.tuning
        instance_type = asked.instance_type or defaults.instance_type
        if instance_type not in defaults.allowed_instance_types:
            self.fail(
                "resources.instance_type",
                "allowed_instance_types",
                f"{instance_type!r} is not allowed here; choose one of "
                + ", ".join(defaults.allowed_instance_types),
            )
        count = asked.instance_count or defaults.instance_count
        self.at_most(
            "resources.instance_count", "max_instance_count", count, defaults.max_instance_count
        )
        if count > 1 and self.facts.train_objects < count:
            self.fail(
                "resources.instance_count",
                "sharded_train_objects",
                f"{count} instances need at least {count} objects under data.train to shard; "
                f"found {self.facts.train_objects}",
            )
        max_runtime = asked.max_runtime_seconds or defaults.max_runtime_seconds
        if max_runtime > TRAINING_MAX_RUNTIME_SECONDS:
            self.fail(
                "resources.max_runtime_seconds",
                "training_max_runtime",
                f"must be at most {TRAINING_MAX_RUNTIME_SECONDS}",
            )
        use_spot = defaults.use_spot if asked.use_spot is None else asked.use_spot
        max_wait = asked.max_wait_seconds
        if max_wait is None and use_spot:
            max_wait = defaults.max_wait_seconds or SPOT_MAX_WAIT_SECONDS
        try:
            check_spot(use_spot, max_runtime, max_wait)
        except ValueError as error:
            self.fail("resources", "managed_spot", str(error))
        volume_size_gb = asked.volume_size_gb or defaults.volume_size_gb
        problem = volume_problem(instance_type, volume_size_gb)
        if problem:
            self.fail("resources.volume_size_gb", "instance_storage", problem)
        resource_config: dict[str, Any] = {
            "InstanceType": instance_type,
            "InstanceCount": count,
            "VolumeSizeInGB": volume_size_gb,
        }
        if not has_instance_storage(instance_type):
            resource_config["VolumeKmsKeyId"] = self.settings.kms_key_arn
        stopping: dict[str, Any] = {"MaxRuntimeInSeconds": max_runtime}
        if use_spot:  # then max_wait is set: the request's, else a default
            stopping["MaxWaitTimeInSeconds"] = max_wait
        return {
            "ResourceConfig": resource_config,
            "StoppingCondition": stopping,
            "EnableManagedSpotTraining": use_spot,
        }

    # -- hyperparameters -------------------------------------------------------------
    def static_hyperparameters(self, tuned: set[str]) -> dict[str, str]:
        static: dict[str, str] = {}
        for name, value in self.request.hyperparameters.items():
            spec = HYPERPARAMETERS.get(name)
            field_name = f"hyperparameters.{name}"
            if spec is None:
                self.fail(field_name, "known_hyperparameter", _unknown(name))
                continue
            if name in self.request.ranges:
                self.fail(
                    field_name,
                    "static_or_tuned",
                    f"{name} is both static and in ranges; keep one",
                )
                continue
            text = spec.to_sagemaker(value)
            if text is None:
                self.fail(field_name, "ntm_value", f"must be {spec.describe_rule()}")
                continue
            static[name] = text

        vocabulary_size = self.facts.vocabulary_size
        if vocabulary_size is not None:
            if "feature_dim" in static and int(static["feature_dim"]) != vocabulary_size:
                self.fail(
                    "hyperparameters.feature_dim",
                    "matches_vocabulary",
                    f"is {static['feature_dim']} but vocab.txt has {vocabulary_size} lines",
                )
            elif not HYPERPARAMETERS["feature_dim"].in_bounds(vocabulary_size):
                self.fail(
                    "data.auxiliary",
                    "ntm_value",
                    f"vocab.txt has {vocabulary_size} lines; feature_dim must be "
                    + HYPERPARAMETERS["feature_dim"].describe_rule(),
                )
            else:
                static.setdefault("feature_dim", str(vocabulary_size))
        elif "feature_dim" not in self.request.hyperparameters:
            self.fail(
                "hyperparameters.feature_dim",
                "required",
                "set feature_dim, or name an auxiliary channel holding vocab.txt to derive it",
            )
        defaults = self.settings.tuning
        if "num_topics" not in tuned:
            static.setdefault("num_topics", str(defaults.num_topics))
        if "epochs" not in tuned:
            static.setdefault("epochs", str(defaults.epochs))
        # Every name here is one of NTM's hyperparameters, fewer than SageMaker's 100 static
        # values (MAX_STATIC_HYPERPARAMETERS; a test keeps it so): no request can pass it.
        return static

    def ranges(self, strategy: str) -> dict[str, dict[str, Any]]:
        """Name -> SageMaker range entry, keyed by its ParameterRanges list."""
        chosen: dict[str, tuple[str, dict[str, Any]]] = {}
        # Grid tunes categorical ranges only.
        seeds = {
            list_name: entries
            for list_name, entries in SEED_RANGES.items()
            if strategy != "Grid" or list_name == "CategoricalParameterRanges"
        }
        for list_name, entries in seeds.items():
            for entry in entries:
                name = str(entry["Name"])
                if name in self.request.hyperparameters:
                    continue
                chosen[name] = (list_name, dict(entry))
        for name, asked in self.request.ranges.items():
            requested = self.range_entry(name, asked, strategy)
            if requested is not None:
                chosen[name] = requested
        if not chosen:
            self.fail("ranges", "required", "at least one hyperparameter must be tuned")
        # Every name here is one of NTM's tunable hyperparameters, fewer than SageMaker's 30
        # ranges (MAX_TUNED_HYPERPARAMETERS; a test keeps it so): no request can pass it.
        grouped: dict[str, dict[str, Any]] = {}
        for name, (list_name, entry) in sorted(chosen.items()):
            grouped.setdefault(list_name, {})[name] = entry
        return grouped

    def range_entry(
        self,
        name: str,
        asked: IntegerRange | ContinuousRange | CategoricalRange,
        strategy: str,
    ) -> tuple[str, dict[str, Any]] | None:
        field_name = f"ranges.{name}"
        spec = HYPERPARAMETERS.get(name)
        if spec is None:
            self.fail(field_name, "known_hyperparameter", _unknown(name))
            return None
        if not spec.tunable:
            self.fail(
                field_name,
                "tunable",
                f"{name} cannot be tuned; set it as a static value",
            )
            return None
        if isinstance(asked, CategoricalRange):
            if len(asked.values) > MAX_CATEGORICAL_VALUES:
                self.fail(field_name, "max_values", f"at most {MAX_CATEGORICAL_VALUES} values")
                return None
            values: list[str] = []
            for value in asked.values:
                text = spec.to_sagemaker(value)
                if text is None:
                    self.fail(
                        field_name,
                        "ntm_value",
                        f"{value!r}: must be {spec.describe_rule()}",
                    )
                    return None
                if text in values:
                    self.fail(field_name, "unique_values", f"{value!r} is listed twice")
                    return None
                values.append(text)
            return "CategoricalParameterRanges", {"Name": name, "Values": values}
        if strategy == "Grid":
            self.fail(
                field_name,
                "grid_categorical_only",
                "Grid takes categorical ranges only",
            )
            return None
        expected = Kind.INTEGER if isinstance(asked, IntegerRange) else Kind.FLOAT
        if spec.kind is not expected:
            wanted = {Kind.INTEGER: "Integer", Kind.FLOAT: "Continuous"}.get(spec.kind)
            self.fail(
                field_name,
                "range_type",
                f"{name} takes {wanted or 'Categorical'} ranges, not {asked.type}",
            )
            return None
        if not (spec.in_bounds(asked.min) and spec.in_bounds(asked.max)):
            self.fail(field_name, "ntm_value", f"min and max must be {spec.describe_rule()}")
            return None
        if asked.min >= asked.max:
            self.fail(
                field_name,
                "min_below_max",
                "min must be below max; use a static value instead",
            )
            return None
        if asked.scaling == "Logarithmic" and asked.min <= 0:
            self.fail(field_name, "logarithmic_positive", "Logarithmic scaling needs min > 0")
            return None
        if asked.scaling == "ReverseLogarithmic" and not (asked.min >= 0 and asked.max < 1):
            self.fail(
                field_name,
                "reverse_logarithmic_unit",
                "ReverseLogarithmic scaling needs 0 <= min and max < 1",
            )
            return None
        if isinstance(asked, IntegerRange):
            list_name, low, high = (
                "IntegerParameterRanges",
                str(asked.min),
                str(asked.max),
            )
        else:
            list_name, low, high = (
                "ContinuousParameterRanges",
                repr(asked.min),
                repr(asked.max),
            )
        return list_name, {
            "Name": name,
            "MinValue": low,
            "MaxValue": high,
            "ScalingType": asked.scaling,
        }

    # -- tuning job configuration -----------------------------------------------------
    def tuning_config(
        self, strategy: str, ranges: dict[str, dict[str, Any]], static: dict[str, str]
    ) -> tuple[dict[str, Any], int]:
        request, defaults = self.request, self.settings.tuning
        limits = request.resource_limits
        config: dict[str, Any] = {
            "Strategy": strategy,
            "HyperParameterTuningJobObjective": {
                "Type": OBJECTIVE_TYPE,
                "MetricName": OBJECTIVE_METRIC,
            },
            "ParameterRanges": {
                list_name: list(entries.values()) for list_name, entries in ranges.items()
            },
        }
        early_stopping = request.early_stopping or defaults.early_stopping
        if strategy == "Hyperband":
            if request.early_stopping == "Auto":
                self.fail(
                    "early_stopping",
                    "hyperband_early_stopping_off",
                    "Hyperband needs it Off",
                )
            early_stopping = "Off"
            config["StrategyConfig"] = {"HyperbandStrategyConfig": self.hyperband(static)}
        elif request.hyperband is not None:
            self.fail("hyperband", "hyperband_only", "applies only with strategy Hyperband")
        config["TrainingJobEarlyStoppingType"] = early_stopping

        max_parallel = limits.max_parallel_jobs or defaults.max_parallel_jobs
        self.at_most(
            "resource_limits.max_parallel_jobs",
            "max_parallel_jobs_cap",
            max_parallel,
            defaults.max_parallel_jobs_cap,
        )
        resource_limits: dict[str, Any] = {"MaxParallelTrainingJobs": max_parallel}
        if strategy == "Grid":
            combinations = math.prod(
                len(entry["Values"])
                for entry in ranges.get("CategoricalParameterRanges", {}).values()
            )
            max_jobs = combinations
            if combinations > defaults.max_jobs_cap:
                self.fail(
                    "ranges",
                    "max_jobs_cap",
                    f"the grid has {combinations} combinations; at most "
                    f"{defaults.max_jobs_cap} are allowed",
                )
            if limits.max_jobs is not None and limits.max_jobs != combinations:
                self.fail(
                    "resource_limits.max_jobs",
                    "grid_max_jobs",
                    f"with Grid, leave it out or set it to the {combinations} combinations",
                )
        else:
            max_jobs = limits.max_jobs or defaults.max_jobs
            self.at_most(
                "resource_limits.max_jobs", "max_jobs_cap", max_jobs, defaults.max_jobs_cap
            )
            resource_limits["MaxNumberOfTrainingJobs"] = max_jobs
        if max_parallel > max_jobs:
            self.fail(
                "resource_limits.max_parallel_jobs",
                "parallel_within_max_jobs",
                f"must be at most max_jobs ({max_jobs})",
            )
        if limits.max_runtime_seconds is not None:
            resource_limits["MaxRuntimeInSeconds"] = limits.max_runtime_seconds
        config["ResourceLimits"] = resource_limits

        criteria = request.completion_criteria
        if criteria is not None:
            completion: dict[str, Any] = {}
            if criteria.target_objective_value is not None:
                completion["TargetObjectiveMetricValue"] = criteria.target_objective_value
            if criteria.max_jobs_not_improving is not None:
                completion["BestObjectiveNotImproving"] = {
                    "MaxNumberOfTrainingJobsNotImproving": criteria.max_jobs_not_improving
                }
            if criteria.complete_on_convergence is not None:
                completion["ConvergenceDetected"] = {
                    "CompleteOnConvergence": "Enabled"
                    if criteria.complete_on_convergence
                    else "Disabled"
                }
            if completion:
                config["TuningJobCompletionCriteria"] = completion
        if request.random_seed is not None:
            config["RandomSeed"] = request.random_seed
        return config, max_jobs

    def hyperband(self, static: dict[str, str]) -> dict[str, int]:
        asked = self.request.hyperband
        if "epochs" in self.request.ranges:
            self.fail(
                "ranges.epochs",
                "hyperband_resource",
                "Hyperband allocates epochs itself; set epochs as a static value",
            )
        minimum = (asked.min_resource if asked else None) or 1
        maximum = (asked.max_resource if asked else None) or int(
            static.get("epochs", self.settings.tuning.epochs)
        )
        if minimum > maximum:
            self.fail(
                "hyperband.min_resource",
                "min_below_max",
                "must not exceed max_resource",
            )
        return {"MinResource": minimum, "MaxResource": maximum}


def _unknown(name: str) -> str:
    return f"{name!r} is not an NTM hyperparameter; known: " + ", ".join(sorted(HYPERPARAMETERS))


def _channel(
    name: str,
    location: S3Location,
    content_type: str,
    distribution: str,
    input_mode: str,
) -> dict[str, Any]:
    return {
        "ChannelName": name,
        "DataSource": {
            "S3DataSource": {
                "S3DataType": "S3Prefix",
                "S3Uri": location.uri,
                "S3DataDistributionType": distribution,
            }
        },
        "ContentType": content_type,
        "CompressionType": "None",
        "InputMode": input_mode,
    }


def define_tuning_job(
    request: TuningRequest,
    settings: Settings,
    facts: DataFacts,
    *,
    tuning_job_name: str,
    tags: dict[str, str],
    now: datetime | None = None,
) -> TuningPlan:
    """The CreateHyperParameterTuningJob request for ``request``, or RequestRejected."""
    if request.data is None:
        raise ValueError("a corpus request is built once its dataset is prepared")
    data = request.data
    builder = _Builder(request, settings, facts)
    try:
        locations = resolve_channels(request, settings)
    except RequestRejected as rejected:
        builder.violations.extend(rejected.violations)
        locations = {}  # pragma: no mutate (read only once there is no violation)
    strategy = request.strategy or settings.tuning.strategy
    resources = builder.resources()
    ranges = builder.ranges(strategy)
    tuned = {name for entries in ranges.values() for name in entries}
    static = builder.static_hyperparameters(tuned)
    tuning_config, max_jobs = builder.tuning_config(strategy, ranges, static)
    if request.warm_start is not None:
        if tuning_job_name in request.warm_start.parents:
            builder.fail("warm_start.parents", "not_self", "a tuning job cannot warm-start itself")
        # The pipeline's permissions cover the tuning jobs it started, and only those.
        foreign = [p for p in request.warm_start.parents if not p.startswith(JOB_NAME_PREFIX)]
        if foreign:
            builder.fail(
                "warm_start.parents",
                "pipeline_jobs_only",
                f"parents must be tuning jobs this pipeline started ({JOB_NAME_PREFIX}...): "
                + ", ".join(foreign),
            )
    all_tags = {**request.tags, **tags}
    for key in request.tags:
        if key.startswith(TAG_PREFIX) or key.lower().startswith("aws:"):
            builder.fail(
                f"tags.{key}",
                "reserved_tag",
                f"keys starting {TAG_PREFIX!r} or 'aws:' are reserved",
            )
    cost = estimate_cost(
        settings,
        resources["ResourceConfig"],
        resources["StoppingCondition"],
        tuning_config["ResourceLimits"],
        max_jobs,
    )
    budget = settings.tuning.max_request_cost_usd
    if cost is not None and budget is not None and cost.max_usd > budget:
        builder.fail(
            "resource_limits.max_jobs",
            "cost_budget",
            f"the worst case is ${cost.max_usd:.2f} ({max_jobs} jobs x "
            f"{resources['StoppingCondition']['MaxRuntimeInSeconds']} s x {cost.instance_count} "
            f"{cost.instance_type} at ${cost.hourly_price_usd}/h), over the ${budget:.2f} budget; "
            "lower max_jobs, max_runtime_seconds or instance_count",
        )
    if builder.violations:
        raise RequestRejected(
            builder.violations,
            cost_estimate=cost.model_dump(mode="json") if cost is not None else None,
        )

    count = resources["ResourceConfig"]["InstanceCount"]
    input_mode = data.input_mode
    channels = [
        _channel(
            "train",
            locations["train"],
            data.content_type,
            "ShardedByS3Key" if count > 1 else "FullyReplicated",
            input_mode,
        ),
        _channel(
            "validation",
            locations["validation"],
            data.content_type,
            "FullyReplicated",
            input_mode,
        ),
    ]
    if "test" in locations:
        channels.append(
            _channel(
                "test",
                locations["test"],
                data.content_type,
                "FullyReplicated",
                input_mode,
            )
        )
    vocabulary_uri = None
    if "auxiliary" in locations:
        vocabulary = vocabulary_location(locations["auxiliary"])
        vocabulary_uri = vocabulary.uri
        channels.append(_channel("auxiliary", vocabulary, "text/plain", "FullyReplicated", "File"))

    definition: dict[str, Any] = {
        "StaticHyperParameters": static,
        "AlgorithmSpecification": {
            "TrainingImage": settings.training_image,
            "TrainingInputMode": input_mode,
        },
        "RoleArn": settings.sagemaker_role_arn,
        "InputDataConfig": channels,
        "OutputDataConfig": {
            "S3OutputPath": f"s3://{settings.artifacts_bucket}/{settings.output_prefix}{tuning_job_name}/",
            "KmsKeyId": settings.kms_key_arn,
        },
        "ResourceConfig": resources["ResourceConfig"],
        "StoppingCondition": resources["StoppingCondition"],
        "EnableNetworkIsolation": True,
        "EnableInterContainerTrafficEncryption": True,
        "EnableManagedSpotTraining": resources["EnableManagedSpotTraining"],
    }
    create_request: dict[str, Any] = {
        "HyperParameterTuningJobName": tuning_job_name,
        "HyperParameterTuningJobConfig": tuning_config,
        "TrainingJobDefinition": definition,
        "Tags": [{"Key": key, "Value": value} for key, value in sorted(all_tags.items())],
    }
    if request.warm_start is not None:
        create_request["WarmStartConfig"] = {
            "ParentHyperParameterTuningJobs": [
                {"HyperParameterTuningJobName": parent} for parent in request.warm_start.parents
            ],
            "WarmStartType": request.warm_start.type,
        }

    return TuningPlan(
        create_request=create_request,
        static_hyperparameters=static,
        strategy=strategy,
        max_jobs=max_jobs,
        watch_deadline=(now or datetime.now(UTC))
        + _longest_run(tuning_config["ResourceLimits"], resources["StoppingCondition"], max_jobs)
        + WATCH_SLACK,
        vocabulary_uri=vocabulary_uri,
        cost_estimate=cost,
    )


def _longest_run(limits: dict[str, Any], stopping: dict[str, Any], max_jobs: int) -> timedelta:
    """The longest a tuning job with these limits can stay in progress."""
    if "MaxRuntimeInSeconds" in limits:
        return timedelta(seconds=limits["MaxRuntimeInSeconds"])
    per_job = stopping.get("MaxWaitTimeInSeconds", stopping["MaxRuntimeInSeconds"])
    waves = math.ceil(max_jobs / limits["MaxParallelTrainingJobs"])
    return timedelta(seconds=waves * per_job)
