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
        minimal(warm_start={"parents": ["someone-elses-job"]}),
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
    assert "over the $9.99 budget" in caught.value.violations[0].message
