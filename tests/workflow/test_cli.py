"""``ntm-tuning`` against the stack: emulated as deployed (moto: CloudFormation outputs, buckets,
bus, ledger, state machine), and offline (``--offline``). Each command, and the mistakes a
user makes, which end with a message and an exit code, never a traceback."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSResponse, HTTPHeaders
from typer.testing import CliRunner

from ntm_cli import main
from ntm_cli.errors import AWS_SETUP, INVALID_INPUT, NOT_FOUND, NOT_SUCCEEDED
from ntm_cli.offline import route
from offline.runtime import REGION, OfflineWorkflow
from tests.workflow.conftest import EXAMPLE_DATA, EXAMPLE_REQUEST, example_request

STACK = "NtmTuning"
runner = CliRunner()


@pytest.fixture(autouse=True)
def wide_console(monkeypatch: pytest.MonkeyPatch) -> None:
    """Wide enough that Rich wraps no line or table cell of the output."""
    monkeypatch.setattr(main.out, "width", 220)
    monkeypatch.setattr(main.err, "width", 220)


def cli(*args: str) -> Any:
    result = runner.invoke(main.app, list(args))
    assert "Traceback" not in result.output, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result


def on_stack(*args: str) -> Any:
    return cli(*args, "--stack", STACK, "--region", REGION)


@pytest.fixture
def deployed(
    template: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> Iterator[OfflineWorkflow]:
    """The stack as the CLI sees a deployed one: every session it opens reaches the emulation."""
    wf = OfflineWorkflow(template).__enter__()
    hooks: list[Any] = []

    def routed(profile: str | None, region: str | None) -> boto3.Session:
        aws = boto3.Session(region_name=region)
        for event, hook in hooks:
            aws.events.register(event, hook)
        route(wf, aws, stack_name=STACK)
        return aws

    monkeypatch.setattr(main, "session", routed)
    wf.hooks = hooks  # type: ignore[attr-defined]
    yield wf
    wf.__exit__(None, None, None)


def request_id_of(output: str) -> str:
    (line,) = [line for line in output.splitlines() if line.startswith("request id:")]
    return line.split(":", 1)[1].strip()


def write_request(tmp_path: Path, body: dict[str, Any], name: str = "run.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(body))
    return path


def test_submit_watch_result_list_and_report(deployed: OfflineWorkflow, tmp_path: Path) -> None:
    submitted = on_stack("submit", str(EXAMPLE_REQUEST), "--data", str(EXAMPLE_DATA))
    assert submitted.exit_code == 0, submitted.output
    request_id = request_id_of(submitted.output)
    assert f"s3://{deployed.data_bucket}/requests/tune-ntm.json" in submitted.output
    assert "execution:  arn:aws:states:" in submitted.output
    # The data went where the request says, under the keys of the folder.
    assert "datasets/demo/train/part-00000.pbr" in set(deployed.objects(deployed.data_bucket))

    watched = on_stack("watch", request_id, "--interval", "0.1")
    assert watched.exit_code == 0, watched.output
    assert "training jobs 8/8 completed" in watched.output
    assert "NTM Tuning Job Succeeded" in watched.output
    # The workflow's latest state, from the execution's history.
    assert "state: Tuning job succeeded |" in watched.output

    # `result` rebuilds the published event exactly, from the execution's own state.
    (published,) = deployed.published()
    progress = deployed.progress()
    shown = on_stack("result", request_id, "--json")
    assert shown.exit_code == 0, shown.output
    document = json.loads(shown.output)
    assert document["detail-type"] == published["detail-type"]
    assert document["detail"] == published["detail"]
    assert len(document["report"]["training_jobs"]) == 8
    # `watch` showed what the last progress event said.
    best = progress[-1]["detail"]["best_training_job"]
    assert f"{best['objective']['value']:.4f}" in watched.output

    listed = on_stack("list")
    assert listed.exit_code == 0, listed.output
    assert request_id in listed.output
    assert "succeeded" in listed.output
    assert "8/8" in listed.output

    out = tmp_path / "report.html"
    reported = on_stack("report", request_id, "--out", str(out))
    assert reported.exit_code == 0, reported.output
    assert str(out.resolve()) in reported.output.replace("\n", "")
    assert out.read_text().count('class="figure"') == 5


def test_watch_without_an_id_follows_the_latest_request(deployed: OfflineWorkflow) -> None:
    first = on_stack("submit", str(EXAMPLE_REQUEST), "--data", str(EXAMPLE_DATA))
    second = on_stack("submit", str(EXAMPLE_REQUEST), "--as-event")
    assert "submitted:  event:" in second.output
    assert request_id_of(first.output) != request_id_of(second.output)
    watched = on_stack("watch", "--interval", "0.1")
    assert watched.exit_code == 0, watched.output
    assert f"request {request_id_of(second.output)}" in watched.output
    assert [e["detail"]["origin"]["type"] for e in deployed.published()] == ["s3", "event"]


def test_a_request_rejected_by_the_stack_lists_every_violation(
    deployed: OfflineWorkflow, tmp_path: Path
) -> None:
    # Valid on its own; the stack finds the data missing.
    body = example_request(data={"train": "nothing/train/", "validation": "nothing/validation/"})
    submitted = on_stack("submit", str(write_request(tmp_path, body)))
    assert submitted.exit_code == 0, submitted.output
    watched = on_stack("watch", request_id_of(submitted.output), "--interval", "0.1")
    assert watched.exit_code == NOT_SUCCEEDED
    assert "NTM Tuning Request Rejected" in watched.output
    assert "data.train" in watched.output and "data.validation" in watched.output
    assert "exists" in watched.output
    listed = on_stack("list")
    assert "rejected" in listed.output and request_id_of(submitted.output) in listed.output
    result = on_stack("result", request_id_of(submitted.output), "--json")
    assert result.exit_code == NOT_SUCCEEDED
    assert json.loads(result.output)["report"] is None
    assert deployed.published()[0]["detail"] == json.loads(result.output)["detail"]


def test_an_invalid_request_is_refused_before_anything_is_uploaded(
    deployed: OfflineWorkflow, tmp_path: Path
) -> None:
    body = example_request(strategy="Sideways", resource_limits={"max_jobs": 0})
    result = on_stack("submit", str(write_request(tmp_path, body)), "--data", str(EXAMPLE_DATA))
    assert result.exit_code == INVALID_INPUT
    assert "is not a valid tuning request (2 problem(s))" in result.output
    assert "strategy" in result.output and "resource_limits.max_jobs" in result.output
    assert "literal_error" in result.output and "greater_than_equal" in result.output
    assert list(deployed.objects(deployed.data_bucket)) == [], "nothing may be uploaded"
    assert (
        deployed.sfn.list_executions(stateMachineArn=deployed.state_machine_arn)["executions"] == []
    )


@pytest.mark.parametrize(
    ("content", "rule"),
    [(b"{not json", "json"), (b"\xff\xfe", "utf8"), (b"[1, 2]", "json_object")],
)
def test_a_request_file_that_is_not_a_request_names_the_rule(
    tmp_path: Path, content: bytes, rule: str
) -> None:
    path = tmp_path / "bad.json"
    path.write_bytes(content)
    result = cli("submit", str(path), "--offline", "--stand-in")
    assert result.exit_code == INVALID_INPUT
    assert rule in result.output


def test_a_missing_request_file(tmp_path: Path) -> None:
    result = cli("submit", str(tmp_path / "nope.json"))
    assert result.exit_code == INVALID_INPUT
    assert "nope.json: no such file" in result.output


def test_a_stack_that_is_not_there(deployed: OfflineWorkflow) -> None:
    result = cli("list", "--stack", "Elsewhere", "--region", REGION)
    assert result.exit_code == AWS_SETUP
    assert f"stack Elsewhere not found in {REGION}" in result.output
    assert "--region" in result.output


def test_access_denied(deployed: OfflineWorkflow) -> None:
    def deny(**_: Any) -> tuple[AWSResponse, dict[str, Any]]:
        error = {"Error": {"Code": "AccessDenied", "Message": "not for you"}}
        return AWSResponse("", 403, HTTPHeaders(), None), error

    deployed.hooks.append(("before-call.s3.PutObject", deny))  # type: ignore[attr-defined]
    result = on_stack("submit", str(EXAMPLE_REQUEST))
    assert result.exit_code == AWS_SETUP
    assert "access denied to PutObject: not for you" in result.output


def test_an_unknown_request_id(deployed: OfflineWorkflow) -> None:
    for command in ("watch", "result", "report"):
        result = on_stack(command, "0123456789abcdef01234567")
        assert result.exit_code == NOT_FOUND, command
        assert "no request 0123456789abcdef01234567" in result.output


@pytest.fixture
def no_aws(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in (
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_PROFILE",
        "AWS_DEFAULT_REGION",
        "AWS_REGION",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
        "AWS_WEB_IDENTITY_TOKEN_FILE",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


def test_no_credentials(no_aws: None) -> None:
    result = cli("list", "--region", REGION)
    assert result.exit_code == AWS_SETUP
    assert "no usable AWS credentials" in result.output
    assert "--offline" in result.output


def test_no_region(no_aws: None) -> None:
    result = cli("list")
    assert result.exit_code == AWS_SETUP
    assert "no AWS region" in result.output


def test_an_unknown_profile(no_aws: None) -> None:
    result = cli("list", "--profile", "nobody")
    assert result.exit_code == AWS_SETUP
    assert "nobody" in result.output


def test_offline_runs_in_the_foreground_and_writes_the_report(tmp_path: Path) -> None:
    result = cli(
        "submit",
        str(EXAMPLE_REQUEST),
        "--data",
        str(EXAMPLE_DATA),
        "--offline",
        "--stand-in",
        "--out",
        str(tmp_path),
    )
    assert result.exit_code == 0, result.output
    request_id = request_id_of(result.output)
    assert "training jobs 8/8 completed" in result.output
    assert "NTM Tuning Job Succeeded" in result.output
    event = json.loads((tmp_path / f"{request_id}.event.json").read_text())
    report = json.loads((tmp_path / f"{request_id}.report.json").read_text())
    assert event["detail"]["report_uri"].endswith(".json")
    assert len(report["training_jobs"]) == 8
    html = tmp_path / f"{request_id}.report.html"
    assert f"report: {html}" in result.output.replace("\n", "")
    # The report renders again from its JSON alone.
    again = cli(
        "report",
        "--from-json",
        str(tmp_path / f"{request_id}.report.json"),
        "--out",
        str(tmp_path / "again.html"),
    )
    assert again.exit_code == 0, again.output
    assert (tmp_path / "again.html").stat().st_size > 1_000_000


def test_offline_corpus_request_uploads_under_its_prefix(tmp_path: Path) -> None:
    request = EXAMPLE_REQUEST.parent / "tune-corpus.json"
    corpus = EXAMPLE_DATA.parent / "corpus" / "corpora" / "demo"
    result = cli(
        "submit",
        str(request),
        "--corpus",
        str(corpus),
        "--offline",
        "--stand-in",
        "--out",
        str(tmp_path),
    )
    assert result.exit_code == 0, result.output
    event = json.loads(next(tmp_path.glob("*.event.json")).read_text())
    assert event["detail"]["dataset"]["corpus_uri"].endswith("/corpora/demo/")
    assert event["detail"]["dataset"]["documents"]["train"] > 0


def test_corpus_needs_a_corpus_request(tmp_path: Path) -> None:
    result = cli(
        "submit", str(EXAMPLE_REQUEST), "--corpus", str(tmp_path), "--offline", "--stand-in"
    )
    assert result.exit_code == INVALID_INPUT
    assert "--corpus needs a corpus request" in result.output


def test_help_lists_every_command() -> None:
    result = cli("--help")
    assert result.exit_code == 0
    for command in ("submit", "watch", "result", "list", "report"):
        assert command in result.output


def test_offline_without_the_development_environment_says_what_is_missing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "aws_cdk", None)  # as after a bare `pip install .`
    result = cli("submit", str(EXAMPLE_REQUEST), "--offline", "--stand-in")
    assert result.exit_code == INVALID_INPUT
    assert "--offline needs the development environment (aws_cdk is missing)" in result.output
    assert "make install" in result.output
