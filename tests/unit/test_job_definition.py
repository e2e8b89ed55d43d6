"""The tuning job's definition: every rule, each named by field and rule, and the golden request."""

from __future__ import annotations

import copy
import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from botocore.session import Session
from botocore.validate import ParamValidator
from ntm_tuning.errors import RequestRejected
from ntm_tuning.instances import has_instance_storage
from ntm_tuning.job_definition import DataFacts, define_tuning_job
from ntm_tuning.locations import resolve_location, vocabulary_location
from ntm_tuning.ntm import SEED_RANGES
from ntm_tuning.request import TuningRequest

from tests.settings_factory import DATA_BUCKET, KMS_KEY_ARN, make_settings

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "requests" / "tune-ntm.json"
GOLDEN = ROOT / "tests" / "golden" / "create-tuning-job.json"
JOB = "ntm-0123456789abcdef01234567"
NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


def minimal(**extra: Any) -> dict[str, Any]:
    return {"data": {"train": "d/train/", "validation": "d/validation/"}, **extra}


def build(body: dict[str, Any], facts: DataFacts | None = None, **tuning: Any) -> dict[str, Any]:
    plan = define_tuning_job(
        TuningRequest.model_validate(body),
        make_settings(**tuning),
        facts or DataFacts(vocabulary_size=500),
        tuning_job_name=JOB,
        tags={"ntm-tuning:request-id": "abc"},
        now=NOW,
    )
    return plan.create_request


def rejected(
    body: dict[str, Any], facts: DataFacts | None = None, **tuning: Any
) -> set[tuple[str, str]]:
    with pytest.raises(RequestRejected) as caught:
        build(body, facts, **tuning)
    for violation in caught.value.violations:
        assert violation.message, violation
    return {(v.field, v.rule) for v in caught.value.violations}


def botocore_errors(create_request: dict[str, Any]) -> str:
    model = Session().get_service_model("sagemaker")
    shape = model.operation_model("CreateHyperParameterTuningJob").input_shape
    return ParamValidator().validate(create_request, shape).generate_report()


def ranges_by_name(create_request: dict[str, Any]) -> dict[str, dict[str, Any]]:
    groups = create_request["HyperParameterTuningJobConfig"]["ParameterRanges"]
    return {entry["Name"]: entry for entries in groups.values() for entry in entries}


def test_example_request_matches_golden_and_botocore_accepts_it() -> None:
    body = json.loads(EXAMPLE.read_text())
    create_request = build(body, DataFacts(vocabulary_size=1200))
    assert botocore_errors(create_request) == ""
    if os.environ.get("UPDATE_GOLDEN"):
        GOLDEN.write_text(json.dumps(create_request, indent=2, sort_keys=True) + "\n")
    assert create_request == json.loads(GOLDEN.read_text())


def test_default_ranges_are_the_seed_ranges_and_objective_exactly() -> None:
    create_request = build(minimal())
    config = create_request["HyperParameterTuningJobConfig"]
    assert config["HyperParameterTuningJobObjective"] == {
        "Type": "Minimize",
        "MetricName": "validation:total_loss",
    }
    got = config["ParameterRanges"]
    assert {k: sorted(v, key=lambda e: e["Name"]) for k, v in got.items()} == {
        k: sorted(v, key=lambda e: str(e["Name"])) for k, v in SEED_RANGES.items()
    }
    by_name = ranges_by_name(create_request)
    assert by_name["encoder_layers_activation"]["Values"] == ["sigmoid", "tanh", "relu"]
    assert by_name["optimizer"]["Values"] == ["sgd", "adam", "adadelta"]
    assert (
        float(by_name["learning_rate"]["MinValue"]),
        float(by_name["learning_rate"]["MaxValue"]),
    ) == (1e-4, 0.1)
    assert by_name["learning_rate"]["ScalingType"] == "Logarithmic"
    assert (by_name["mini_batch_size"]["MinValue"], by_name["mini_batch_size"]["MaxValue"]) == (
        "16",
        "2048",
    )
    assert (
        float(by_name["rescale_gradient"]["MinValue"]),
        float(by_name["rescale_gradient"]["MaxValue"]),
    ) == (0.1, 1.0)
    weight_decay = by_name["weight_decay"]
    assert (float(weight_decay["MinValue"]), float(weight_decay["MaxValue"])) == (0.0, 1.0)
    assert weight_decay["ScalingType"] not in ("Logarithmic", "ReverseLogarithmic")


def test_training_job_definition_is_locked_down() -> None:
    definition = build(minimal())["TrainingJobDefinition"]
    assert definition["EnableNetworkIsolation"] is True
    assert definition["EnableInterContainerTrafficEncryption"] is True
    assert definition["OutputDataConfig"]["KmsKeyId"] == KMS_KEY_ARN
    assert definition["OutputDataConfig"]["S3OutputPath"].endswith(f"/tuning-jobs/{JOB}/")
    # g4dn has local NVMe storage, which SageMaker encrypts itself and refuses a volume key for.
    assert "VolumeKmsKeyId" not in definition["ResourceConfig"]
    p3 = build(
        minimal(resources={"instance_type": "ml.p3.2xlarge"}, resource_limits={"max_jobs": 5})
    )
    assert p3["TrainingJobDefinition"]["ResourceConfig"]["VolumeKmsKeyId"] == KMS_KEY_ARN


def test_tags_identify_the_request_and_user_tags_are_kept() -> None:
    tags = build(minimal(tags={"team": "ml"}))["Tags"]
    assert {"Key": "ntm-tuning:request-id", "Value": "abc"} in tags
    assert {"Key": "team", "Value": "ml"} in tags


def test_channels_layout() -> None:
    body = minimal()
    body["data"].update(test="d/test/", auxiliary="d/aux/", content_type="text/csv")
    definition = build(body)["TrainingJobDefinition"]
    channels = {c["ChannelName"]: c for c in definition["InputDataConfig"]}
    assert set(channels) == {"train", "validation", "test", "auxiliary"}
    for name in ("validation", "test", "auxiliary"):
        assert (
            channels[name]["DataSource"]["S3DataSource"]["S3DataDistributionType"]
            == "FullyReplicated"
        )
    assert channels["train"]["ContentType"] == "text/csv"
    assert channels["auxiliary"]["ContentType"] == "text/plain"
    assert (
        channels["auxiliary"]["DataSource"]["S3DataSource"]["S3Uri"]
        == f"s3://{DATA_BUCKET}/d/aux/vocab.txt"
    )


def test_train_is_sharded_across_several_instances() -> None:
    create_request = build(
        minimal(resources={"instance_count": 2}), DataFacts(vocabulary_size=500, train_objects=2)
    )
    train = create_request["TrainingJobDefinition"]["InputDataConfig"][0]
    assert train["DataSource"]["S3DataSource"]["S3DataDistributionType"] == "ShardedByS3Key"
    assert botocore_errors(create_request) == ""


def test_feature_dim_is_derived_from_the_vocabulary() -> None:
    static = build(minimal(), DataFacts(vocabulary_size=777))["TrainingJobDefinition"][
        "StaticHyperParameters"
    ]
    assert static["feature_dim"] == "777"
    assert static["num_topics"] == "20"
    assert static["epochs"] == "50"


def test_static_value_replaces_a_default_range() -> None:
    create_request = build(minimal(hyperparameters={"optimizer": "adam", "batch_norm": True}))
    assert "optimizer" not in ranges_by_name(create_request)
    static = create_request["TrainingJobDefinition"]["StaticHyperParameters"]
    assert static["optimizer"] == "adam"
    assert static["batch_norm"] == "true"


def test_request_ranges_narrow_and_replace_defaults() -> None:
    create_request = build(
        minimal(
            ranges={
                "learning_rate": {"type": "Continuous", "min": 0.001, "max": 0.01},
                "num_topics": {"type": "Integer", "min": 5, "max": 50, "scaling": "Logarithmic"},
                "batch_norm": {"type": "Categorical", "values": [True, False]},
            }
        )
    )
    by_name = ranges_by_name(create_request)
    assert by_name["learning_rate"]["MinValue"] == "0.001"
    assert by_name["num_topics"]["ScalingType"] == "Logarithmic"
    assert by_name["batch_norm"]["Values"] == ["true", "false"]
    assert "num_topics" not in create_request["TrainingJobDefinition"]["StaticHyperParameters"]
    assert botocore_errors(create_request) == ""


def test_grid_uses_categorical_ranges_and_no_max_jobs() -> None:
    create_request = build(
        minimal(
            strategy="Grid",
            ranges={"mini_batch_size": {"type": "Categorical", "values": [64, 128]}},
        )
    )
    config = create_request["HyperParameterTuningJobConfig"]
    assert set(config["ParameterRanges"]) == {"CategoricalParameterRanges"}
    assert "MaxNumberOfTrainingJobs" not in config["ResourceLimits"]
    assert botocore_errors(create_request) == ""


def test_hyperband_forces_early_stopping_off_and_infers_max_resource() -> None:
    config = build(
        minimal(strategy="Hyperband", hyperparameters={"epochs": 30}), early_stopping="Auto"
    )["HyperParameterTuningJobConfig"]
    assert config["TrainingJobEarlyStoppingType"] == "Off"
    assert config["StrategyConfig"] == {
        "HyperbandStrategyConfig": {"MinResource": 1, "MaxResource": 30}
    }


def test_every_option_reaches_the_request_and_botocore_accepts_it() -> None:
    body = json.loads((ROOT / "examples" / "requests" / "hyperband-narrowed.json").read_text())
    create_request = build(body, DataFacts(vocabulary_size=1200))
    assert botocore_errors(create_request) == ""
    config = create_request["HyperParameterTuningJobConfig"]
    assert config["RandomSeed"] == 42
    assert config["ResourceLimits"] == {
        "MaxParallelTrainingJobs": 3,
        "MaxNumberOfTrainingJobs": 30,
        "MaxRuntimeInSeconds": 21600,
    }
    assert config["TuningJobCompletionCriteria"] == {
        "BestObjectiveNotImproving": {"MaxNumberOfTrainingJobsNotImproving": 10}
    }


def test_warm_start_and_spot() -> None:
    create_request = build(
        minimal(
            warm_start={"parents": ["ntm-parent-1"], "type": "TransferLearning"},
            resources={"use_spot": True, "max_runtime_seconds": 1800},
        )
    )
    assert create_request["WarmStartConfig"] == {
        "ParentHyperParameterTuningJobs": [{"HyperParameterTuningJobName": "ntm-parent-1"}],
        "WarmStartType": "TransferLearning",
    }
    definition = create_request["TrainingJobDefinition"]
    assert definition["EnableManagedSpotTraining"] is True
    assert definition["StoppingCondition"] == {
        "MaxRuntimeInSeconds": 1800,
        "MaxWaitTimeInSeconds": 3600,
    }
    assert botocore_errors(create_request) == ""


def test_watch_deadline_covers_the_longest_run() -> None:
    plan = define_tuning_job(
        TuningRequest.model_validate(
            minimal(resource_limits={"max_jobs": 5, "max_parallel_jobs": 2})
        ),
        make_settings(max_runtime_seconds=600),
        DataFacts(vocabulary_size=10),
        tuning_job_name=JOB,
        tags={},
        now=NOW,
    )
    assert plan.watch_deadline == NOW + timedelta(seconds=3 * 600) + timedelta(hours=1)


REJECTIONS: list[tuple[str, dict[str, Any], DataFacts | None, dict[str, Any], tuple[str, str]]] = [
    (
        "instance type not allowed",
        minimal(resources={"instance_type": "ml.p5.48xlarge"}),
        None,
        {},
        ("resources.instance_type", "allowed_instance_types"),
    ),
    (
        "too many instances",
        minimal(resources={"instance_count": 9}),
        None,
        {},
        ("resources.instance_count", "max_instance_count"),
    ),
    (
        "fewer train objects than instances",
        minimal(resources={"instance_count": 3}),
        DataFacts(500, 2),
        {},
        ("resources.instance_count", "sharded_train_objects"),
    ),
    (
        "runtime over SageMaker's limit",
        minimal(resources={"max_runtime_seconds": 3_000_000}),
        None,
        {},
        ("resources.max_runtime_seconds", "training_max_runtime"),
    ),
    (
        "spot runtime over an hour",
        minimal(resources={"use_spot": True, "max_runtime_seconds": 7200}),
        None,
        {},
        ("resources", "managed_spot"),
    ),
    (
        "spot wait below runtime",
        minimal(resources={"use_spot": True, "max_runtime_seconds": 1800, "max_wait_seconds": 900}),
        None,
        {},
        ("resources", "managed_spot"),
    ),
    (
        "wait without spot",
        minimal(resources={"max_wait_seconds": 900}),
        None,
        {},
        ("resources", "managed_spot"),
    ),
    (
        "unknown static hyperparameter",
        minimal(hyperparameters={"topics": 5}),
        None,
        {},
        ("hyperparameters.topics", "known_hyperparameter"),
    ),
    (
        "static value out of range",
        minimal(hyperparameters={"num_topics": 1}),
        None,
        {},
        ("hyperparameters.num_topics", "ntm_value"),
    ),
    (
        "learning rate above 1",
        minimal(hyperparameters={"learning_rate": 2.0}),
        None,
        {},
        ("hyperparameters.learning_rate", "ntm_value"),
    ),
    (
        "mini batch over 10000",
        minimal(hyperparameters={"mini_batch_size": 10001}),
        None,
        {},
        ("hyperparameters.mini_batch_size", "ntm_value"),
    ),
    (
        "fractional integer",
        minimal(hyperparameters={"epochs": 2.5}),
        None,
        {},
        ("hyperparameters.epochs", "ntm_value"),
    ),
    (
        "bad optimizer",
        minimal(hyperparameters={"optimizer": "lbfgs"}),
        None,
        {},
        ("hyperparameters.optimizer", "ntm_value"),
    ),
    (
        "bad encoder layers",
        minimal(hyperparameters={"encoder_layers": "10,-5"}),
        None,
        {},
        ("hyperparameters.encoder_layers", "ntm_value"),
    ),
    (
        "boolean as number",
        minimal(hyperparameters={"num_topics": True}),
        None,
        {},
        ("hyperparameters.num_topics", "ntm_value"),
    ),
    (
        "static and tuned",
        minimal(
            hyperparameters={"optimizer": "adam"},
            ranges={"optimizer": {"type": "Categorical", "values": ["sgd"]}},
        ),
        None,
        {},
        ("hyperparameters.optimizer", "static_or_tuned"),
    ),
    (
        "feature_dim differs from vocabulary",
        minimal(hyperparameters={"feature_dim": 400}),
        DataFacts(500),
        {},
        ("hyperparameters.feature_dim", "matches_vocabulary"),
    ),
    (
        "feature_dim missing without vocabulary",
        minimal(),
        DataFacts(None),
        {},
        ("hyperparameters.feature_dim", "required"),
    ),
    ("vocabulary too large", minimal(), DataFacts(2_000_000), {}, ("data.auxiliary", "ntm_value")),
    (
        "unknown range",
        minimal(ranges={"dropout": {"type": "Continuous", "min": 0.1, "max": 0.5}}),
        None,
        {},
        ("ranges.dropout", "known_hyperparameter"),
    ),
    (
        "feature_dim is not tunable",
        minimal(ranges={"feature_dim": {"type": "Integer", "min": 10, "max": 20}}),
        None,
        {},
        ("ranges.feature_dim", "tunable"),
    ),
    (
        "integer range on a float",
        minimal(ranges={"learning_rate": {"type": "Integer", "min": 0, "max": 1}}),
        None,
        {},
        ("ranges.learning_rate", "range_type"),
    ),
    (
        "continuous range on an integer",
        minimal(ranges={"mini_batch_size": {"type": "Continuous", "min": 16, "max": 64}}),
        None,
        {},
        ("ranges.mini_batch_size", "range_type"),
    ),
    (
        "continuous range on a choice",
        minimal(ranges={"optimizer": {"type": "Continuous", "min": 0.1, "max": 0.5}}),
        None,
        {},
        ("ranges.optimizer", "range_type"),
    ),
    (
        "range outside NTM limits",
        minimal(ranges={"learning_rate": {"type": "Continuous", "min": 1e-7, "max": 0.1}}),
        None,
        {},
        ("ranges.learning_rate", "ntm_value"),
    ),
    (
        "min not below max",
        minimal(ranges={"mini_batch_size": {"type": "Integer", "min": 64, "max": 64}}),
        None,
        {},
        ("ranges.mini_batch_size", "min_below_max"),
    ),
    (
        "logarithmic from zero",
        minimal(
            ranges={
                "weight_decay": {
                    "type": "Continuous",
                    "min": 0.0,
                    "max": 1.0,
                    "scaling": "Logarithmic",
                }
            }
        ),
        None,
        {},
        ("ranges.weight_decay", "logarithmic_positive"),
    ),
    (
        "reverse logarithmic up to one",
        minimal(
            ranges={
                "weight_decay": {
                    "type": "Continuous",
                    "min": 0.0,
                    "max": 1.0,
                    "scaling": "ReverseLogarithmic",
                }
            }
        ),
        None,
        {},
        ("ranges.weight_decay", "reverse_logarithmic_unit"),
    ),
    (
        "bad categorical value",
        minimal(ranges={"optimizer": {"type": "Categorical", "values": ["adam", "lbfgs"]}}),
        None,
        {},
        ("ranges.optimizer", "ntm_value"),
    ),
    (
        "repeated categorical value",
        minimal(ranges={"optimizer": {"type": "Categorical", "values": ["adam", "adam"]}}),
        None,
        {},
        ("ranges.optimizer", "unique_values"),
    ),
    (
        "too many categorical values",
        minimal(ranges={"num_topics": {"type": "Categorical", "values": list(range(2, 33))}}),
        None,
        {},
        ("ranges.num_topics", "max_values"),
    ),
    (
        "grid with a continuous range",
        minimal(
            strategy="Grid",
            ranges={"learning_rate": {"type": "Continuous", "min": 0.01, "max": 0.1}},
        ),
        None,
        {},
        ("ranges.learning_rate", "grid_categorical_only"),
    ),
    (
        "grid larger than the cap",
        minimal(
            strategy="Grid",
            ranges={"num_topics": {"type": "Categorical", "values": list(range(2, 30))}},
        ),
        None,
        {"max_jobs_cap": 100},
        ("ranges", "max_jobs_cap"),
    ),
    (
        "grid with other max jobs",
        minimal(strategy="Grid", resource_limits={"max_jobs": 3}),
        None,
        {},
        ("resource_limits.max_jobs", "grid_max_jobs"),
    ),
    (
        "max jobs over the cap",
        minimal(resource_limits={"max_jobs": 101}),
        None,
        {},
        ("resource_limits.max_jobs", "max_jobs_cap"),
    ),
    (
        "parallel over the cap",
        minimal(resource_limits={"max_jobs": 50, "max_parallel_jobs": 11}),
        None,
        {},
        ("resource_limits.max_parallel_jobs", "max_parallel_jobs_cap"),
    ),
    (
        "parallel over max jobs",
        minimal(resource_limits={"max_jobs": 2, "max_parallel_jobs": 3}),
        None,
        {},
        ("resource_limits.max_parallel_jobs", "parallel_within_max_jobs"),
    ),
    (
        "hyperband with early stopping",
        minimal(strategy="Hyperband", early_stopping="Auto"),
        None,
        {},
        ("early_stopping", "hyperband_early_stopping_off"),
    ),
    (
        "hyperband tuning epochs",
        minimal(strategy="Hyperband", ranges={"epochs": {"type": "Integer", "min": 5, "max": 50}}),
        None,
        {},
        ("ranges.epochs", "hyperband_resource"),
    ),
    (
        "hyperband min above max",
        minimal(strategy="Hyperband", hyperband={"min_resource": 60}),
        None,
        {},
        ("hyperband.min_resource", "min_below_max"),
    ),
    (
        "hyperband settings without hyperband",
        minimal(hyperband={"min_resource": 2}),
        None,
        {},
        ("hyperband", "hyperband_only"),
    ),
    (
        "warm start from itself",
        minimal(warm_start={"parents": [JOB]}),
        None,
        {},
        ("warm_start.parents", "not_self"),
    ),
    (
        "warm start from a job this pipeline did not start",
        minimal(warm_start={"parents": ["someone-elses-job", "another-teams-job"]}),
        None,
        {},
        ("warm_start.parents", "pipeline_jobs_only"),
    ),
    (
        "reserved tag",
        minimal(tags={"ntm-tuning:request-id": "x"}),
        None,
        {},
        ("tags.ntm-tuning:request-id", "reserved_tag"),
    ),
    ("aws tag", minimal(tags={"aws:cost": "x"}), None, {}, ("tags.aws:cost", "reserved_tag")),
    (
        "data outside the data bucket",
        minimal(data={"train": "s3://elsewhere/train/", "validation": "v/"}),
        None,
        {},
        ("data.train", "inside_data_bucket"),
    ),
    (
        "data that is not S3",
        minimal(data={"train": "https://example.com/train", "validation": "v/"}),
        None,
        {},
        ("data.train", "s3_location"),
    ),
    (
        "data with dot segments",
        minimal(data={"train": "a/../b/", "validation": "v/"}),
        None,
        {},
        ("data.train", "s3_location"),
    ),
]


@pytest.mark.parametrize(
    ("body", "facts", "tuning", "expected"),
    [case[1:] for case in REJECTIONS],
    ids=[case[0] for case in REJECTIONS],
)
def test_rule_is_enforced_and_named(
    body: dict[str, Any], facts: DataFacts | None, tuning: dict[str, Any], expected: tuple[str, str]
) -> None:
    assert expected in rejected(copy.deepcopy(body), facts, **tuning)


def test_all_problems_are_reported_at_once() -> None:
    found = rejected(
        minimal(
            hyperparameters={"num_topics": 0},
            resources={"instance_type": "ml.t3.medium"},
            resource_limits={"max_jobs": 1000},
        )
    )
    assert {field for field, _ in found} >= {
        "hyperparameters.num_topics",
        "resources.instance_type",
        "resource_limits.max_jobs",
    }


def test_locations() -> None:
    settings = make_settings()
    assert resolve_location("f", f"s3://{DATA_BUCKET}/x/y", settings).key == "x/y"
    assert resolve_location("f", "/x/y/", settings).uri == f"s3://{DATA_BUCKET}/x/y/"
    assert vocabulary_location(resolve_location("f", "a/vocab.txt", settings)).key == "a/vocab.txt"
    assert vocabulary_location(resolve_location("f", "a", settings)).key == "a/vocab.txt"


@pytest.mark.parametrize(
    ("instance_type", "local"),
    [
        ("ml.g4dn.xlarge", True),
        ("ml.g5.2xlarge", True),
        ("ml.p3.2xlarge", False),
        ("ml.c5.xlarge", False),
    ],
)
def test_instance_storage(instance_type: str, local: bool) -> None:
    assert has_instance_storage(instance_type) is local


def test_cost_estimate_is_the_worst_case() -> None:
    plan = define_tuning_job(
        TuningRequest.model_validate(
            minimal(resource_limits={"max_jobs": 10}, resources={"instance_count": 2})
        ),
        make_settings(),
        DataFacts(vocabulary_size=10, train_objects=2),
        tuning_job_name=JOB,
        tags={},
        now=NOW,
    )
    assert plan.cost_estimate is not None
    # 10 jobs x 3600 s x 2 instances of ml.g4dn.xlarge at $0.736/h
    assert plan.cost_estimate.max_usd == pytest.approx(10 * 2 * 0.736)
    assert plan.cost_estimate.max_billable_seconds == 72000


def test_tuning_runtime_limit_caps_the_estimate() -> None:
    plan = define_tuning_job(
        TuningRequest.model_validate(
            minimal(
                resource_limits={
                    "max_jobs": 50,
                    "max_parallel_jobs": 2,
                    "max_runtime_seconds": 7200,
                }
            )
        ),
        make_settings(),
        DataFacts(vocabulary_size=10),
        tuning_job_name=JOB,
        tags={},
        now=NOW,
    )
    assert plan.cost_estimate is not None
    assert plan.cost_estimate.max_billable_seconds == 7200 * 2


def test_request_over_the_budget_is_rejected_with_the_estimate() -> None:
    with pytest.raises(RequestRejected) as caught:
        build(
            minimal(resource_limits={"max_jobs": 100}, resources={"instance_type": "ml.p3.2xlarge"})
        )
    assert [(v.field, v.rule) for v in caught.value.violations] == [
        ("resource_limits.max_jobs", "cost_budget")
    ]
    assert caught.value.cost_estimate is not None
    assert caught.value.cost_estimate["max_usd"] == pytest.approx(100 * 3.825)
    assert "over the $50.00 budget" in caught.value.violations[0].message


def test_no_budget_means_no_cost_rejection() -> None:
    build(
        minimal(resource_limits={"max_jobs": 100}, resources={"instance_type": "ml.p3.2xlarge"}),
        max_request_cost_usd=None,
    )


@pytest.mark.parametrize("value", [10**400, -(10**400), "1e999", "nan", 1e308])
def test_absurd_numbers_are_rejected_not_crashed(value: object) -> None:
    assert ("hyperparameters.learning_rate", "ntm_value") in rejected(
        minimal(hyperparameters={"learning_rate": value})
    )


# 10 jobs x 3600 s x 2 instances at $0.5/h: a worst case of exactly $10.00, no rounding.
BOUNDARY_PRICES = {"ml.g4dn.xlarge": 0.5, "ml.g5.xlarge": 1.0, "ml.p3.2xlarge": 2.0}
BOUNDARY_REQUEST = minimal(resource_limits={"max_jobs": 10}, resources={"instance_count": 2})


def test_a_worst_case_exactly_at_the_budget_is_accepted() -> None:
    create_request = build(
        BOUNDARY_REQUEST,
        DataFacts(vocabulary_size=500, train_objects=2),
        instance_prices=BOUNDARY_PRICES,
        max_request_cost_usd=10.0,
    )
    assert create_request["TrainingJobDefinition"]["ResourceConfig"]["InstanceCount"] == 2


def test_a_worst_case_just_over_the_budget_is_rejected() -> None:
    with pytest.raises(RequestRejected) as caught:
        build(
            BOUNDARY_REQUEST,
            DataFacts(vocabulary_size=500, train_objects=2),
            instance_prices=BOUNDARY_PRICES,
            max_request_cost_usd=9.99,
        )
    assert [(v.field, v.rule) for v in caught.value.violations] == [
        ("resource_limits.max_jobs", "cost_budget")
    ]
    assert caught.value.cost_estimate is not None
    assert caught.value.cost_estimate["max_usd"] == 10.0
    assert caught.value.cost_estimate["instance_count"] == 2
    assert caught.value.cost_estimate["max_billable_seconds"] == 10 * 3600 * 2
    assert caught.value.violations[0].message == (
        "the worst case is $10.00 (10 jobs x 3600 s x 2 ml.g4dn.xlarge at $0.5/h), over the "
        "$9.99 budget; lower max_jobs, max_runtime_seconds or instance_count"
    )


KNOWN = (
    "batch_norm, clip_gradient, encoder_layers, encoder_layers_activation, epochs, feature_dim, "
    "learning_rate, mini_batch_size, num_patience_epochs, num_topics, optimizer, "
    "rescale_gradient, sub_sample, tolerance, weight_decay"
)
# What each rejection of REJECTIONS says, so that a user can fix the request from it alone.
MESSAGES = {
    "instance type not allowed": "'ml.p5.48xlarge' is not allowed here; choose one of "
    "ml.g4dn.xlarge, ml.g5.xlarge, ml.p3.2xlarge",
    "too many instances": "must be at most 4",
    "fewer train objects than instances": "3 instances need at least 3 objects under "
    "data.train to shard; found 2",
    "runtime over SageMaker's limit": "must be at most 2419200",
    "spot runtime over an hour": "max_runtime_seconds must be at most 3600 with managed spot, "
    "because NTM does not checkpoint",
    "spot wait below runtime": "max_wait_seconds must be between max_runtime_seconds (1800) "
    "and 3600 with managed spot",
    "wait without spot": "max_wait_seconds applies only when use_spot is true",
    "unknown static hyperparameter": f"'topics' is not an NTM hyperparameter; known: {KNOWN}",
    "static value out of range": "must be an integer in [2, 1000]",
    "learning rate above 1": "must be a number in [1e-06, 1]",
    "mini batch over 10000": "must be an integer in [1, 10000]",
    "fractional integer": "must be an integer in [1, 100]",
    "bad optimizer": "must be one of sgd, adam, adagrad, adadelta, rmsprop",
    "bad encoder layers": "must be 'auto' or comma-separated positive integers",
    "boolean as number": "must be an integer in [2, 1000]",
    "static and tuned": "optimizer is both static and in ranges; keep one",
    "feature_dim differs from vocabulary": "is 400 but vocab.txt has 500 lines",
    "feature_dim missing without vocabulary": "set feature_dim, or name an auxiliary channel "
    "holding vocab.txt to derive it",
    "vocabulary too large": "vocab.txt has 2000000 lines; feature_dim must be an integer in "
    "[1, 1000000]",
    "unknown range": f"'dropout' is not an NTM hyperparameter; known: {KNOWN}",
    "feature_dim is not tunable": "feature_dim cannot be tuned; set it as a static value",
    "integer range on a float": "learning_rate takes Continuous ranges, not Integer",
    "continuous range on an integer": "mini_batch_size takes Integer ranges, not Continuous",
    "continuous range on a choice": "optimizer takes Categorical ranges, not Continuous",
    "range outside NTM limits": "min and max must be a number in [1e-06, 1]",
    "min not below max": "min must be below max; use a static value instead",
    "logarithmic from zero": "Logarithmic scaling needs min > 0",
    "reverse logarithmic up to one": "ReverseLogarithmic scaling needs 0 <= min and max < 1",
    "bad categorical value": "'lbfgs': must be one of sgd, adam, adagrad, adadelta, rmsprop",
    "repeated categorical value": "'adam' is listed twice",
    "too many categorical values": "at most 30 values",
    "grid with a continuous range": "Grid takes categorical ranges only",
    "grid larger than the cap": "the grid has 252 combinations; at most 100 are allowed",
    "grid with other max jobs": "with Grid, leave it out or set it to the 9 combinations",
    "max jobs over the cap": "must be at most 100",
    "parallel over the cap": "must be at most 10",
    "parallel over max jobs": "must be at most max_jobs (2)",
    "hyperband with early stopping": "Hyperband needs it Off",
    "hyperband tuning epochs": "Hyperband allocates epochs itself; set epochs as a static value",
    "hyperband min above max": "must not exceed max_resource",
    "hyperband settings without hyperband": "applies only with strategy Hyperband",
    "warm start from itself": "a tuning job cannot warm-start itself",
    "warm start from a job this pipeline did not start": "parents must be tuning jobs this "
    "pipeline started (ntm-...): someone-elses-job, another-teams-job",
    "reserved tag": "keys starting 'ntm-tuning:' or 'aws:' are reserved",
    "aws tag": "keys starting 'ntm-tuning:' or 'aws:' are reserved",
    "data outside the data bucket": "must be in the data bucket 'ntm-data-bucket', not 'elsewhere'",
    "data that is not S3": "must be a key or an s3:// URI",
    "data with dot segments": "'a/../b/' is not a usable S3 key or prefix",
}


def violations(body: dict[str, Any], facts: DataFacts | None = None, **tuning: Any) -> list[Any]:
    with pytest.raises(RequestRejected) as caught:
        build(body, facts, **tuning)
    return caught.value.violations


@pytest.mark.parametrize("case", REJECTIONS, ids=[case[0] for case in REJECTIONS])
def test_each_rule_says_what_to_change(case: tuple[Any, ...]) -> None:
    name, body, facts, tuning, (field, rule) = case
    found = [v for v in violations(copy.deepcopy(body), facts, **tuning) if v.field == field]
    assert [v.message for v in found if v.rule == rule] == [MESSAGES[name]]


def test_every_rejection_has_its_message() -> None:
    assert sorted(MESSAGES) == sorted(case[0] for case in REJECTIONS)


def test_each_broken_hyperparameter_is_reported_not_only_the_first() -> None:
    static = {"topics": 1, "dropout": 2, "num_topics": 1, "epochs": 0}
    both = {"optimizer": "sgd", "batch_norm": True}
    ranges = {
        "optimizer": {"type": "Categorical", "values": ["adam", "sgd"]},
        "batch_norm": {"type": "Categorical", "values": [True, False]},
    }
    found = violations(minimal(hyperparameters={**static, **both}, ranges=ranges))
    assert [(v.field, v.rule) for v in found] == [
        ("hyperparameters.topics", "known_hyperparameter"),
        ("hyperparameters.dropout", "known_hyperparameter"),
        ("hyperparameters.num_topics", "ntm_value"),
        ("hyperparameters.epochs", "ntm_value"),
        ("hyperparameters.optimizer", "static_or_tuned"),
        ("hyperparameters.batch_norm", "static_or_tuned"),
    ]


def test_an_invalid_feature_dim_is_not_also_missing() -> None:
    found = violations(minimal(hyperparameters={"feature_dim": 0}), DataFacts(None))
    assert [(v.field, v.rule) for v in found] == [("hyperparameters.feature_dim", "ntm_value")]


def test_without_any_range_left_to_tune_the_request_is_rejected() -> None:
    # Grid tunes the categorical seed ranges only; both are static here.
    body = minimal(
        strategy="Grid",
        hyperparameters={"encoder_layers_activation": "relu", "optimizer": "adam"},
        resource_limits={"max_parallel_jobs": 1},  # the empty grid has one combination
    )
    assert [(v.field, v.rule, v.message) for v in violations(body)] == [
        ("ranges", "required", "at least one hyperparameter must be tuned")
    ]


def test_a_static_value_removes_only_its_own_seed_range() -> None:
    # The first entry of its ParameterRanges list: the entries after it are still tuned.
    by_name = ranges_by_name(build(minimal(hyperparameters={"learning_rate": 0.01})))
    assert {"rescale_gradient", "weight_decay", "optimizer"} <= set(by_name)
    assert "learning_rate" not in by_name


def test_tuned_epochs_get_no_static_default() -> None:
    create_request = build(minimal(ranges={"epochs": {"type": "Integer", "min": 5, "max": 40}}))
    assert "epochs" not in create_request["TrainingJobDefinition"]["StaticHyperParameters"]
    assert ranges_by_name(create_request)["epochs"] == {
        "Name": "epochs",
        "MinValue": "5",
        "MaxValue": "40",
        "ScalingType": "Auto",
    }


def test_a_continuous_range_is_written_with_both_bounds() -> None:
    body = minimal(ranges={"tolerance": {"type": "Continuous", "min": 0.001, "max": 0.05}})
    assert ranges_by_name(build(body))["tolerance"] == {
        "Name": "tolerance",
        "MinValue": "0.001",
        "MaxValue": "0.05",
        "ScalingType": "Auto",
    }


@pytest.mark.parametrize(("low", "high"), [(0.0, 0.9), (0.5, 0.999)])
def test_reverse_logarithmic_from_zero_up_to_below_one_is_accepted(low: float, high: float) -> None:
    body = minimal(
        ranges={
            "weight_decay": {
                "type": "Continuous",
                "min": low,
                "max": high,
                "scaling": "ReverseLogarithmic",
            }
        }
    )
    assert ranges_by_name(build(body))["weight_decay"]["ScalingType"] == "ReverseLogarithmic"


def test_limits_exactly_at_their_bound_are_accepted() -> None:
    no_budget: dict[str, Any] = {"max_request_cost_usd": None}
    # Instances: as many as allowed, each with its own train object.
    config = build(minimal(resources={"instance_count": 4}), DataFacts(500, 4), **no_budget)
    assert config["TrainingJobDefinition"]["ResourceConfig"]["InstanceCount"] == 4
    # One instance needs no sharding, whatever the number of train objects.
    build(minimal(), DataFacts(500, 0))
    # SageMaker's longest training job.
    runtime = build(minimal(resources={"max_runtime_seconds": 2_419_200}), **no_budget)
    stopping = runtime["TrainingJobDefinition"]["StoppingCondition"]
    assert stopping == {"MaxRuntimeInSeconds": 2_419_200}
    # Categorical values, jobs and parallel jobs at their caps; parallel equal to max jobs.
    values = build(
        minimal(ranges={"num_topics": {"type": "Categorical", "values": list(range(2, 32))}})
    )
    assert len(ranges_by_name(values)["num_topics"]["Values"]) == 30
    limits = build(
        minimal(resource_limits={"max_jobs": 100, "max_parallel_jobs": 10}), **no_budget
    )["HyperParameterTuningJobConfig"]["ResourceLimits"]
    assert limits == {"MaxParallelTrainingJobs": 10, "MaxNumberOfTrainingJobs": 100}
    limits = build(minimal(resource_limits={"max_jobs": 3, "max_parallel_jobs": 3}))[
        "HyperParameterTuningJobConfig"
    ]["ResourceLimits"]
    assert limits == {"MaxParallelTrainingJobs": 3, "MaxNumberOfTrainingJobs": 3}
    # A grid of exactly the cap's combinations (the seed's 3 activations x 3 optimizers).
    grid = build(
        minimal(strategy="Grid", resource_limits={"max_parallel_jobs": 9}),
        max_jobs_cap=9,
        max_jobs=9,
    )
    assert grid["HyperParameterTuningJobConfig"]["ResourceLimits"] == {"MaxParallelTrainingJobs": 9}
    # Hyperband's minimum resource equal to its maximum.
    hyperband = build(
        minimal(
            strategy="Hyperband", hyperparameters={"epochs": 30}, hyperband={"min_resource": 30}
        )
    )["HyperParameterTuningJobConfig"]["StrategyConfig"]
    assert hyperband == {"HyperbandStrategyConfig": {"MinResource": 30, "MaxResource": 30}}


def test_hyperbands_maximum_resource_is_the_requests_when_given() -> None:
    config = build(
        minimal(
            strategy="Hyperband",
            hyperparameters={"epochs": 30},
            hyperband={"min_resource": 2, "max_resource": 20},
        )
    )["HyperParameterTuningJobConfig"]
    assert config["StrategyConfig"] == {
        "HyperbandStrategyConfig": {"MinResource": 2, "MaxResource": 20}
    }


@pytest.mark.parametrize(("converge", "written"), [(True, "Enabled"), (False, "Disabled")])
def test_every_completion_criterion_is_written(converge: bool, written: str) -> None:
    criteria = {
        "target_objective_value": 6.5,
        "max_jobs_not_improving": 4,
        "complete_on_convergence": converge,
    }
    config = build(minimal(completion_criteria=criteria))["HyperParameterTuningJobConfig"]
    assert config["TuningJobCompletionCriteria"] == {
        "TargetObjectiveMetricValue": 6.5,
        "BestObjectiveNotImproving": {"MaxNumberOfTrainingJobsNotImproving": 4},
        "ConvergenceDetected": {"CompleteOnConvergence": written},
    }
    empty = build(minimal(completion_criteria={}))["HyperParameterTuningJobConfig"]
    assert "TuningJobCompletionCriteria" not in empty


def plan_of(body: dict[str, Any], **tuning: Any) -> Any:
    return define_tuning_job(
        TuningRequest.model_validate(body),
        make_settings(**tuning),
        DataFacts(vocabulary_size=10),
        tuning_job_name=JOB,
        tags={},
        now=NOW,
    )


def test_the_watch_deadline_is_the_tuning_limit_when_there_is_one() -> None:
    limits = {"max_jobs": 5, "max_parallel_jobs": 2, "max_runtime_seconds": 5000}
    plan = plan_of(minimal(resource_limits=limits), max_runtime_seconds=600)
    assert plan.watch_deadline == NOW + timedelta(seconds=5000) + timedelta(hours=1)


def test_with_spot_each_wave_may_last_the_longest_wait() -> None:
    body = minimal(
        resource_limits={"max_jobs": 5, "max_parallel_jobs": 2},
        resources={"use_spot": True, "max_runtime_seconds": 600, "max_wait_seconds": 900},
    )
    plan = plan_of(body)
    assert plan.watch_deadline == NOW + timedelta(seconds=3 * 900) + timedelta(hours=1)


def test_the_watch_deadline_is_counted_from_now_in_utc() -> None:
    before = datetime.now(UTC)
    plan = define_tuning_job(
        TuningRequest.model_validate(minimal(resource_limits={"max_jobs": 2})),
        make_settings(max_runtime_seconds=600),
        DataFacts(vocabulary_size=10),
        tuning_job_name=JOB,
        tags={},
    )
    after = datetime.now(UTC)
    longest = timedelta(seconds=600) + timedelta(hours=1)
    assert before + longest <= plan.watch_deadline <= after + longest


def test_a_corpus_request_is_planned_only_once_prepared() -> None:
    with pytest.raises(ValueError) as raised:
        plan_of({"corpus": {"prefix": "c/"}})
    assert str(raised.value) == "a corpus request is built once its dataset is prepared"
