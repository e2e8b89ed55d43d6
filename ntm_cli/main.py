"""``ntm-tuning``: the command line of the NTM tuning pipeline."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from . import display
from .errors import INVALID_INPUT, NOT_SUCCEEDED, CliError, aws_errors, fail
from .pipeline import InvalidRequest, Outcome, Pipeline, read_request
from .stack import DEFAULT_STACK, find_stack, session

app = typer.Typer(
    name="ntm-tuning",
    help=(
        "Submit NTM tuning requests to the deployed stack (or run them offline), watch their "
        "progress, and get their results and an HTML report."
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)

StackOption = Annotated[
    str,
    typer.Option(
        "--stack", envvar="NTM_TUNING_STACK", help="Name of the deployed CloudFormation stack."
    ),
]
RegionOption = Annotated[
    str | None, typer.Option("--region", help="AWS region (default: your AWS configuration).")
]
ProfileOption = Annotated[
    str | None, typer.Option("--profile", help="AWS profile (default: your AWS configuration).")
]
IntervalOption = Annotated[
    float, typer.Option("--interval", min=0.1, help="Seconds between two looks at the request.")
]


@contextmanager
def user_errors() -> Iterator[None]:
    """A mistake the user can fix ends the command with a message and an exit code."""
    try:
        yield
    except InvalidRequest as invalid:
        err.print(f"[bold red]error:[/bold red] {invalid.message}")
        table = Table("field", "rule", "message")
        for violation in invalid.violations:
            table.add_row(violation.field, violation.rule, violation.message)
        err.print(table)
        raise typer.Exit(invalid.exit_code) from None
    except CliError as error:
        err.print(f"[bold red]error:[/bold red] {error.message}", soft_wrap=True)
        if error.hint:
            err.print(f"hint: {error.hint}", soft_wrap=True)
        raise typer.Exit(error.exit_code) from None


@contextmanager
def connected(stack: str, region: str | None, profile: str | None) -> Iterator[Pipeline]:
    aws_session: list[Any] = []
    with user_errors(), aws_errors(lambda: aws_session[0].region_name if aws_session else region):
        aws = session(profile, region)
        aws_session.append(aws)
        yield Pipeline(aws, find_stack(aws, stack))


def _finish(pipeline: Pipeline, request_id: str, execution: str, interval: float) -> Outcome:
    snapshot = display.follow(
        out, lambda: pipeline.snapshot(request_id, execution), interval=interval
    )
    outcome = pipeline.outcome(snapshot.execution_arn)
    display.show_outcome(out, outcome)
    return outcome


@app.command()
def submit(
    request: Annotated[Path, typer.Argument(help="The tuning request (a JSON file).")],
    data: Annotated[
        Path | None,
        typer.Option(help="Upload this folder to the data bucket first (relative paths = keys)."),
    ] = None,
    corpus: Annotated[
        Path | None,
        typer.Option(help="Upload this folder's documents under the request's corpus.prefix."),
    ] = None,
    as_event: Annotated[
        bool, typer.Option("--as-event", help="Put an 'NTM Tuning Requested' event instead.")
    ] = False,
    watch: Annotated[
        bool, typer.Option("--watch", help="Follow it until it ends (as `watch` does).")
    ] = False,
    offline: Annotated[
        bool,
        typer.Option(
            "--offline",
            help="Run it on this machine through the offline stack (no AWS account), in the "
            "foreground; writes the event and the report to --out.",
        ),
    ] = False,
    stand_in: Annotated[
        bool,
        typer.Option(
            "--stand-in",
            help="With --offline: a scripted stand-in plays the tuning job (trains no model).",
        ),
    ] = False,
    out_dir: Annotated[
        Path, typer.Option("--out", help="With --offline: where the event and report go.")
    ] = Path("ntm-tuning-offline"),
    stack: StackOption = DEFAULT_STACK,
    region: RegionOption = None,
    profile: ProfileOption = None,
    interval: IntervalOption = 5.0,
) -> None:
    """Validate REQUEST here, upload its data, submit it, and print its request id."""
    with user_errors():
        if data is not None and corpus is not None:
            fail("give --data or --corpus, not both", INVALID_INPUT)
        raw, body = read_request(request)
        if stand_in and not offline:
            fail("--stand-in goes with --offline", INVALID_INPUT)
    if offline:
        _submit_offline(request, raw, body, data, corpus, as_event, stand_in, out_dir)
        return
    with connected(stack, region, profile) as pipeline:
        submission = pipeline.submit(
            request,
            raw,
            body,
            data=data,
            corpus=corpus,
            as_event=as_event,
            on_file=lambda key: err.print(f"uploaded s3://{pipeline.stack.data_bucket}/{key}"),
        )
        out.print(f"request id: {submission.request_id}")
        out.print(f"submitted:  {submission.delivered_as}")
        execution = pipeline.wait_for_execution(submission.request_id, timeout=60)
        if execution is None:
            err.print(
                "no execution has claimed it yet; `ntm-tuning watch "
                f"{submission.request_id}` follows it once it starts"
            )
            return
        out.print(f"execution:  {execution}")
        if watch and not _finish(pipeline, submission.request_id, execution, interval).succeeded:
            raise typer.Exit(NOT_SUCCEEDED)


def _submit_offline(
    path: Path,
    raw: bytes,
    body: dict[str, Any],
    data: Path | None,
    corpus: Path | None,
    as_event: bool,
    stand_in: bool,
    out_dir: Path,
) -> None:
    from . import offline, report

    err.print(
        "offline: the stack's state machine and handlers on this machine, AWS emulated by moto; "
        + (
            "tuning jobs played by a scripted stand-in (no model is trained)"
            if stand_in
            else "NTMs trained and tuned here (PyTorch, Optuna)"
        )
    )
    with (
        user_errors(),
        offline.running(stand_in=stand_in) as (aws, stack),
        aws_errors(lambda: stack.region),
    ):
        pipeline = Pipeline(aws, stack)
        submission = pipeline.submit(path, raw, body, data=data, corpus=corpus, as_event=as_event)
        out.print(f"request id: {submission.request_id}")
        execution = pipeline.wait_for_execution(submission.request_id, timeout=60)
        if execution is None:
            fail("the offline workflow did not start the request", NOT_SUCCEEDED)
        outcome = _finish(pipeline, submission.request_id, execution, interval=0.2)
        out_dir.mkdir(parents=True, exist_ok=True)
        event_path = out_dir / f"{submission.request_id}.event.json"
        event_path.write_text(
            json.dumps({"detail-type": outcome.detail_type, "detail": outcome.detail}, indent=2)
            + "\n"
        )
        out.print(f"event:  {event_path}")
        if outcome.succeeded:
            document = pipeline.report(outcome)
            json_path = out_dir / f"{submission.request_id}.report.json"
            json_path.write_text(json.dumps(document, indent=2, sort_keys=True) + "\n")
            html_path = report.write(document, out_dir / f"{submission.request_id}.report.html")
            out.print(f"report: {html_path}")
    if not outcome.succeeded:
        raise typer.Exit(NOT_SUCCEEDED)


@app.command()
def watch(
    request_id: Annotated[
        str | None, typer.Argument(help="The request id (default: the latest request).")
    ] = None,
    stack: StackOption = DEFAULT_STACK,
    region: RegionOption = None,
    profile: ProfileOption = None,
    interval: IntervalOption = 5.0,
) -> None:
    """Show a request's progress until it ends; exit 0 only if it succeeded."""
    with connected(stack, region, profile) as pipeline:
        chosen = request_id or pipeline.latest_request()
        execution = pipeline.execution_of(chosen)
        if not _finish(pipeline, chosen, execution, interval).succeeded:
            raise typer.Exit(NOT_SUCCEEDED)


@app.command()
def result(
    request_id: Annotated[str, typer.Argument(help="The request id.")],
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the event (and report) as JSON.")
    ] = False,
    stack: StackOption = DEFAULT_STACK,
    region: RegionOption = None,
    profile: ProfileOption = None,
) -> None:
    """The outcome event of a request that ended, and its report."""
    with connected(stack, region, profile) as pipeline:
        outcome = pipeline.outcome(pipeline.execution_of(request_id))
        document = pipeline.report(outcome) if outcome.succeeded else None
        if as_json:
            print(
                json.dumps(
                    {
                        "status": outcome.status,
                        "detail-type": outcome.detail_type,
                        "detail": outcome.detail,
                        "error": outcome.error,
                        "report": document,
                    },
                    indent=2,
                )
            )
        else:
            display.show_outcome(out, outcome)
            if document:
                out.print(display.trials_table(document))
    if not outcome.succeeded:
        raise typer.Exit(NOT_SUCCEEDED)


@app.command("list")
def list_requests(
    limit: Annotated[int, typer.Option(min=1, help="How many, latest first.")] = 20,
    stack: StackOption = DEFAULT_STACK,
    region: RegionOption = None,
    profile: ProfileOption = None,
) -> None:
    """Recent requests from the ledger, with their status."""
    with connected(stack, region, profile) as pipeline:
        rows = pipeline.recent(limit)
    table = Table(
        "claimed at", "request id", "name", "status", "training jobs", "best", "tuning job"
    )
    for row in rows:
        progress = row["progress"] or {}
        counters = progress.get("counters") or {}
        best = (progress.get("best_training_job") or {}).get("objective") or {}
        table.add_row(
            row["claimed_at"][:19].replace("T", " "),
            row["request_id"],
            row["request_name"] or "",
            row["outcome"],
            f"{counters.get('completed', 0)}/{progress.get('max_jobs') or '?'}" if counters else "",
            f"{best['value']:.4f}" if best else "",
            row["tuning_job_name"] or "",
        )
    out.print(table if rows else "no requests in the ledger")


@app.command()
def report(
    request_id: Annotated[
        str | None, typer.Argument(help="The request id (or --from-json).")
    ] = None,
    out_path: Annotated[Path, typer.Option("--out", help="The HTML file to write.")] = Path(
        "report.html"
    ),
    from_json: Annotated[
        Path | None, typer.Option("--from-json", help="A report JSON file instead of a request.")
    ] = None,
    stack: StackOption = DEFAULT_STACK,
    region: RegionOption = None,
    profile: ProfileOption = None,
) -> None:
    """Write a succeeded request's report as one self-contained HTML file."""
    from . import report as html

    with user_errors():
        if (request_id is None) == (from_json is None):
            fail("give a REQUEST_ID or --from-json, one of them", INVALID_INPUT)
        if from_json is not None:
            document = _read_report(from_json)
            out.print(f"report: {html.write(document, out_path)}")
            return
    assert request_id is not None
    with connected(stack, region, profile) as pipeline:
        outcome = pipeline.outcome(pipeline.execution_of(request_id))
        document = pipeline.report(outcome)
    out.print(f"report: {html.write(document, out_path)}")


def _read_report(path: Path) -> dict[str, Any]:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        fail(f"{path}: no such file", INVALID_INPUT)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        fail(f"{path}: not a JSON report ({error})", INVALID_INPUT)
    if (
        not isinstance(document, dict)
        or "summary" not in document
        or "training_jobs" not in document
    ):
        fail(f"{path}: not a tuning report (no summary and training_jobs)", INVALID_INPUT)
    return document


def main() -> None:
    os.environ.setdefault("AWS_RETRY_MODE", "standard")
    app()
