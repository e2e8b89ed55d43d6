"""The Lambda functions: runtime, layer, tracing, logging and environment."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import App
from ntm_tuning.settings import MissingSetting, Settings, TuningDefaults

from infra.functions import FUNCTIONS
from infra.pipeline import build_pipeline
from tests.infra.conftest import ROOT, Synthesized
from tests.infra.helpers import HANDLERS, function_id

ENVIRONMENT_KEYS = {
    "POWERTOOLS_SERVICE_NAME",
    "POWERTOOLS_METRICS_NAMESPACE",
    "POWERTOOLS_LOG_LEVEL",
    "DATA_BUCKET",
    "ARTIFACTS_BUCKET",
    "KMS_KEY_ARN",
    "SAGEMAKER_ROLE_ARN",
    "TRAINING_IMAGE",
    "EVENT_BUS_NAME",
    "EVENT_SOURCE",
    "REQUEST_PREFIX",
    "OUTPUT_PREFIX",
    "REPORT_PREFIX",
    "LEDGER_TABLE",
    "LEDGER_TTL_DAYS",
    "TUNING_DEFAULTS",
    "PROCESSING_IMAGE",
    "PROCESSING_ROLE_ARN",
    "PREPARATION_CODE_URI",
    "PROCESSING_INSTANCE_TYPE",
    "PROCESSING_VOLUME_SIZE_GB",
    "PROCESSING_MAX_RUNTIME_SECONDS",
    "PREPARED_PREFIX",
}
# Functions that read more than one small object get more time.
LONGER_TIMEOUT = {"build_tuning_job"}
# The summary reads every training job's log and streams a held-out channel (up to 64 MB).
SUMMARIZE = {"timeout": 300, "memory": 1024}


def _function(synthesized: Synthesized, name: str) -> dict[str, Any]:
    props: dict[str, Any] = synthesized.json["Resources"][function_id(synthesized, name)][
        "Properties"
    ]
    return props


def test_one_function_per_handler(synthesized: Synthesized) -> None:
    handlers = {
        f["Properties"]["Handler"] for f in synthesized.resources("AWS::Lambda::Function").values()
    }
    assert handlers == set(HANDLERS.values())


@pytest.mark.parametrize("name", sorted(HANDLERS))
def test_function_settings(synthesized: Synthesized, name: str) -> None:
    props = _function(synthesized, name)
    assert props["Runtime"] == "python3.12"
    assert props["Architectures"] == ["arm64"]
    if name == "summarize_results":
        assert (props["Timeout"], props["MemorySize"]) == (
            SUMMARIZE["timeout"],
            SUMMARIZE["memory"],
        )
    else:
        assert props["MemorySize"] == 256
        assert props["Timeout"] == (120 if name in LONGER_TIMEOUT else 60)
    assert props["TracingConfig"] == {"Mode": "Active"}


def test_functions_share_one_code_asset(synthesized: Synthesized) -> None:
    codes = {
        json.dumps(f["Properties"]["Code"], sort_keys=True)
        for f in synthesized.resources("AWS::Lambda::Function").values()
    }
    assert len(codes) == 1


def test_the_code_asset_ships_the_handlers_and_the_recordio_reader(
    synthesized: Synthesized,
) -> None:
    """The summary imports preparation.recordio (standard library); the asset must hold it,
    byte for byte, beside the handlers, and nothing compiled."""
    root = Path(__file__).resolve().parents[2]
    (code,) = {
        json.dumps(f["Properties"]["Code"], sort_keys=True)
        for f in synthesized.resources("AWS::Lambda::Function").values()
    }
    manifest = json.loads(
        (
            Path(synthesized.assembly.directory) / f"{synthesized.stack.artifact_id}.assets.json"
        ).read_text()
    )
    key = json.loads(code)["S3Key"]
    (asset,) = [
        a
        for a in manifest["files"].values()
        if any(d["objectKey"] == key for d in a["destinations"].values())
    ]
    staged = Path(synthesized.assembly.directory) / asset["source"]["path"]
    for module in ("preparation/recordio.py", "preparation/__init__.py"):
        assert (staged / module).read_bytes() == (root / module).read_bytes(), module
    assert (staged / "ntm_tuning/handlers/summarize_results.py").is_file()
    assert not list(staged.rglob("__pycache__"))
    assert not list(staged.rglob("*.pyc"))


def test_powertools_layer_comes_from_ssm_at_deploy_time(synthesized: Synthesized) -> None:
    parameters = synthesized.json["Parameters"]
    for name in HANDLERS:
        (layer,) = _function(synthesized, name)["Layers"]
        parameter = parameters[layer["Ref"]]
        assert parameter["Type"] == "AWS::SSM::Parameter::Value<String>"
        assert parameter["Default"] == synthesized.config.powertools_layer_parameter


@pytest.mark.parametrize("name", sorted(HANDLERS))
def test_each_function_logs_to_its_own_encrypted_group(synthesized: Synthesized, name: str) -> None:
    (key_id,) = synthesized.resources("AWS::KMS::Key")
    group_id = _function(synthesized, name)["LoggingConfig"]["LogGroup"]["Ref"]
    group = synthesized.json["Resources"][group_id]
    assert group["Type"] == "AWS::Logs::LogGroup"
    assert group["Properties"]["RetentionInDays"] == synthesized.config.log_retention_days
    assert group["Properties"]["KmsKeyId"] == {"Fn::GetAtt": [key_id, "Arn"]}
    others = {
        _function(synthesized, other)["LoggingConfig"]["LogGroup"]["Ref"]
        for other in HANDLERS
        if other != name
    }
    assert group_id not in others


# What each function is given besides the common Powertools variables: the settings it
# reads, and no other (a deliberate table: a change to a declaration shows here).
LEDGER = {"LEDGER_TABLE", "LEDGER_TTL_DAYS"}
BUS = {"EVENT_BUS_NAME", "EVENT_SOURCE"}
COMMON = {"POWERTOOLS_SERVICE_NAME", "POWERTOOLS_METRICS_NAMESPACE", "POWERTOOLS_LOG_LEVEL"}
PLANNING = ENVIRONMENT_KEYS - COMMON - LEDGER - BUS
OWN_VARIABLES = {
    "validate_request": PLANNING | LEDGER,
    "build_tuning_job": PLANNING,
    "start_tuning_job": LEDGER,
    "describe_tuning_job": LEDGER | BUS,
    "stop_tuning_job": set(),
    "summarize_results": {"ARTIFACTS_BUCKET", "REPORT_PREFIX", "TUNING_DEFAULTS"},
    "publish_outcome": LEDGER | BUS,
    "acquire_capacity": LEDGER | {"TUNING_DEFAULTS"},
    "release_capacity": LEDGER,
    "clean_up": LEDGER | BUS,
    "start_dataset_preparation": LEDGER,
    "describe_dataset_preparation": set(),
}


def _environments(synthesized: Synthesized) -> dict[str, dict[str, Any]]:
    return {name: _function(synthesized, name)["Environment"]["Variables"] for name in HANDLERS}


def test_each_function_gets_the_variables_of_its_own_settings_only(
    synthesized: Synthesized,
) -> None:
    environments = _environments(synthesized)
    assert {name: set(env) - COMMON for name, env in environments.items()} == OWN_VARIABLES
    assert all(set(env) >= COMMON for env in environments.values())
    assert "DATA_BUCKET" in PLANNING and "PREPARED_PREFIX" in PLANNING


def test_every_variable_carries_the_configured_value(synthesized: Synthesized) -> None:
    environments = list(_environments(synthesized).values())
    env: dict[str, Any] = {}
    for each in environments:
        for variable, value in each.items():
            assert env.setdefault(variable, value) == value, variable  # one value everywhere
    assert set(env) == ENVIRONMENT_KEYS
    config = synthesized.config
    assert env["POWERTOOLS_SERVICE_NAME"] == "ntm-tuning"
    # The namespace of the handlers' custom metrics, which the dashboard shows.
    assert env["POWERTOOLS_METRICS_NAMESPACE"] == "NtmTuning"
    assert env["POWERTOOLS_LOG_LEVEL"] == "INFO"
    assert env["LEDGER_TTL_DAYS"] == str(config.ledger_ttl_days)
    assert env["EVENT_SOURCE"] == config.event_source
    assert env["REQUEST_PREFIX"] == config.request_prefix
    assert env["OUTPUT_PREFIX"] == "tuning-jobs/"
    assert env["REPORT_PREFIX"] == "reports/"
    assert TuningDefaults.model_validate(json.loads(env["TUNING_DEFAULTS"])) == config.tuning
    assert env["PROCESSING_INSTANCE_TYPE"] == config.processing_instance_type == "ml.m5.xlarge"
    assert env["PROCESSING_VOLUME_SIZE_GB"] == str(config.processing_volume_size_gb) == "30"
    assert (
        env["PROCESSING_MAX_RUNTIME_SECONDS"]
        == str(config.processing_max_runtime_seconds)
        == "7200"
    )
    assert env["PREPARED_PREFIX"] == config.prepared_prefix == "datasets/prepared/"


def test_environment_references_the_stack_resources(synthesized: Synthesized) -> None:
    env = {k: v for each in _environments(synthesized).values() for k, v in each.items()}
    outputs = synthesized.json["Outputs"]
    (key_id,) = synthesized.resources("AWS::KMS::Key")
    sagemaker_role = next(
        k
        for k, v in synthesized.resources("AWS::IAM::Role").items()
        if v["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]["Principal"]
        == {"Service": "sagemaker.amazonaws.com"}
    )
    assert env["DATA_BUCKET"] == outputs["DataBucketName"]["Value"]
    assert env["ARTIFACTS_BUCKET"] == outputs["ArtifactsBucketName"]["Value"]
    assert env["EVENT_BUS_NAME"] == outputs["ResultsBusName"]["Value"]
    (table,) = synthesized.resources("AWS::DynamoDB::Table")
    assert env["LEDGER_TABLE"] == {"Ref": table} == outputs["LedgerTableName"]["Value"]
    assert env["KMS_KEY_ARN"] == {"Fn::GetAtt": [key_id, "Arn"]}
    assert env["SAGEMAKER_ROLE_ARN"] == {"Fn::GetAtt": [sagemaker_role, "Arn"]}


@pytest.mark.parametrize("name", sorted(HANDLERS))
def test_handlers_can_parse_their_environment(synthesized: Synthesized, name: str) -> None:
    """What the stack sets is what ntm_tuning.settings.Settings.from_env reads: each declared
    setting reads back as configured, and one not declared is refused by name."""
    env = {
        k: v if isinstance(v, str) else f"token-for-{k.lower()}"
        for k, v in _function(synthesized, name)["Environment"]["Variables"].items()
    }
    settings = Settings.from_env(env)
    (spec,) = [f for f in FUNCTIONS if f.name == name]
    config = synthesized.config
    for setting in spec.settings:
        value = getattr(settings, setting)
        if setting in type(config).model_fields:
            assert value == getattr(config, setting), setting
        else:
            assert value == env[Settings.variable(setting)], setting
    for setting in Settings.model_fields.keys() - set(spec.settings):
        with pytest.raises(MissingSetting, match=Settings.variable(setting)):
            getattr(settings, setting)


def test_the_code_asset_ships_the_handlers_and_the_preparation_package(
    synthesized: Synthesized,
) -> None:
    """Validation imports `preparation` to check a corpus request with the job's own rules."""
    (code,) = {
        f["Properties"]["Code"]["S3Key"]
        for f in synthesized.resources("AWS::Lambda::Function").values()
    }
    manifest = Path(synthesized.assembly.directory) / f"{synthesized.stack.artifact_id}.assets.json"
    (asset,) = [
        a
        for a in json.loads(manifest.read_text())["files"].values()
        if any(d["objectKey"] == code for d in a["destinations"].values())
    ]
    staged = Path(synthesized.assembly.directory) / asset["source"]["path"]
    shipped = {p.relative_to(staged).as_posix() for p in staged.rglob("*.py")}
    for package in ("ntm_tuning", "preparation"):
        source = ROOT / ("lambdas" if package == "ntm_tuning" else "") / package
        expected = {
            f"{package}/{p.relative_to(source).as_posix()}"
            for p in source.rglob("*.py")
            if "__pycache__" not in p.parts
        }
        assert expected <= shipped, package
    assert {p.parts[0] for p in map(Path, shipped)} == {"ntm_tuning", "preparation"}
    assert "ntm_tuning/handlers/validate_request.py" in shipped
    assert "preparation/config.py" in shipped


def test_a_pinned_powertools_layer_arn_is_used_as_it_is(
    cdk_context: dict[str, Any], tmp_path: Path
) -> None:
    arn = (
        "arn:aws:lambda:eu-west-1:017000801446:layer:AWSLambdaPowertoolsPythonV3-python312-arm64:7"
    )
    app = App(context={**cdk_context, "ntm:powertoolsLayerArn": arn}, outdir=str(tmp_path))
    stack = build_pipeline(app)
    template = app.synth().get_stack_by_name(stack.stack_name).template
    functions = [r for r in template["Resources"].values() if r["Type"] == "AWS::Lambda::Function"]
    assert len(functions) == len(HANDLERS)
    assert all(f["Properties"]["Layers"] == [arn] for f in functions)
    assert not any(
        p.get("Default", "").startswith("/aws/service/powertools/")
        for p in template.get("Parameters", {}).values()
    )
