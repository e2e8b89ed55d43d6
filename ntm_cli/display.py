"""What the user sees: progress while a request runs, then its outcome (Rich)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from ntm_tuning import events, states
from rich.console import Console
from rich.live import Live
from rich.progress_bar import ProgressBar
from rich.table import Table
from rich.text import Text

from .pipeline import Outcome, Snapshot


def duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    seconds = int(seconds)
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    if hours:
        return f"{hours}h {minutes:02d}m {seconds:02d}s"
    return f"{minutes}m {seconds:02d}s" if minutes else f"{seconds}s"


def _elapsed(snapshot: Snapshot) -> float | None:
    if snapshot.started is None:
        return None
    end = snapshot.stopped or datetime.now(UTC)
    start = snapshot.started if snapshot.started.tzinfo else snapshot.started.replace(tzinfo=UTC)
    end = end if end.tzinfo else end.replace(tzinfo=UTC)
    return (end - start).total_seconds()


# The workflow's waiting loops: while in them, the progress says more than the state.
WATCHING = states.JOB_LOOPS


def progress_line(snapshot: Snapshot) -> str:
    """One line per change, for logs and terminals that are not interactive."""
    state = snapshot.state or snapshot.status
    parts = ["state: watching the job" if state in WATCHING else f"state: {state}"]
    progress = snapshot.progress
    if progress:
        counters = progress["counters"]
        failed = counters["retryable_error"] + counters["non_retryable_error"]
        total = progress.get("max_jobs") or "?"
        parts.append(
            f"training jobs {counters['completed']}/{total} completed, "
            f"{counters['in_progress']} in progress, {failed} failed, {counters['stopped']} stopped"
        )
        best = progress.get("best_training_job")
        if best:
            objective = best["objective"]
            parts.append(
                f"best {objective['metric_name']} {objective['value']:.4f} ({best['name']})"
            )
        parts.append(f"billable {duration(progress['billable_seconds'])}")
        if progress.get("cost_usd") is not None:
            parts.append(f"cost ${progress['cost_usd']:.2f}")
    return " | ".join(parts)


def progress_panel(snapshot: Snapshot) -> Table:
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold cyan", no_wrap=True)
    table.add_column()
    name = f" ({snapshot.request_name})" if snapshot.request_name else ""
    table.add_row("request", f"{snapshot.request_id}{name}")
    table.add_row("execution", f"{snapshot.execution_arn.rsplit(':', 1)[-1]} {snapshot.status}")
    table.add_row("state", snapshot.state or "-")
    table.add_row("elapsed", duration(_elapsed(snapshot)))
    if snapshot.tuning_job_name:
        table.add_row("tuning job", snapshot.tuning_job_name)
    progress = snapshot.progress
    if progress:
        counters = progress["counters"]
        total = progress.get("max_jobs")
        failed = counters["retryable_error"] + counters["non_retryable_error"]
        ended = counters["completed"] + failed + counters["stopped"]
        summary = Text(
            f"{counters['completed']} completed, {counters['in_progress']} in progress, "
            f"{failed} failed, {counters['stopped']} stopped"
            + (f" of at most {total}" if total else "")
        )
        if total:
            # A bar of the jobs that ended, above the counters (a grid keeps them on two lines).
            jobs = Table.grid()
            jobs.add_row(ProgressBar(total=total, completed=ended, width=40))
            jobs.add_row(summary)
            table.add_row("training jobs", jobs)
        else:
            table.add_row("training jobs", summary)
        best = progress.get("best_training_job")
        if best:
            objective = best["objective"]
            table.add_row(
                f"best {objective['metric_name']}", f"{objective['value']:.4f}  ({best['name']})"
            )
        billable = duration(progress["billable_seconds"])
        cost = progress.get("cost_usd")
        table.add_row(
            "billable", billable + (f"   cost so far ${cost:.2f}" if cost is not None else "")
        )
    return table


def follow(
    console: Console,
    poll: Callable[[], Snapshot],
    *,
    interval: float,
    timeout: float | None = None,
) -> Snapshot:
    """Show the request's progress until its execution ends; returns the last snapshot."""
    deadline = None if timeout is None else time.monotonic() + timeout
    snapshot = poll()
    if console.is_terminal:
        with Live(progress_panel(snapshot), console=console, refresh_per_second=4) as live:
            while not snapshot.ended and (deadline is None or time.monotonic() < deadline):
                time.sleep(interval)
                snapshot = poll()
                live.update(progress_panel(snapshot))
        return snapshot
    console.print(
        f"request {snapshot.request_id}"
        + (f" ({snapshot.request_name})" if snapshot.request_name else "")
        + f", execution {snapshot.execution_arn}",
        highlight=False,
        soft_wrap=True,
    )
    last = ""
    while True:
        line = progress_line(snapshot)
        if line != last:
            console.print(line, highlight=False, soft_wrap=True)
            last = line
        if snapshot.ended or (deadline is not None and time.monotonic() >= deadline):
            return snapshot
        time.sleep(interval)
        snapshot = poll()


def show_outcome(console: Console, outcome: Outcome) -> None:
    detail = outcome.detail or {}
    if outcome.detail_type is None:
        if outcome.error in ("duplicate", "ignored"):
            text = (
                "a duplicate delivery: another execution handles this request"
                if outcome.error == "duplicate"
                else "not a tuning request: nothing was started"
            )
            console.print(f"[bold]{text}[/bold]")
            return
        console.print(
            f"[bold red]execution {outcome.status}[/bold red]"
            + (f": {outcome.error}" if outcome.error else "")
            + (f"\n{outcome.cause}" if outcome.cause else ""),
        )
        console.print(
            "an execution that ended early has its job stopped and its outcome published by "
            "the clean-up (see the results bus)"
        )
        return
    style = "bold green" if outcome.succeeded else "bold red"
    console.print(f"[{style}]{outcome.detail_type}[/{style}]")
    if outcome.detail_type == events.REJECTED:
        table = Table("field", "rule", "message", title="violations")
        for violation in detail.get("violations", []):
            table.add_row(violation["field"], violation["rule"], violation["message"])
        console.print(table)
        return
    if outcome.detail_type in (events.FAILED, events.STOPPED):
        reason = detail.get("reason") or {}
        console.print(f"{reason.get('code')}: {reason.get('message')}", highlight=False)
        if detail.get("tuning_job_name"):
            console.print(f"tuning job: {detail['tuning_job_name']} ({detail.get('status')})")
        return
    best = detail["best_training_job"]
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold cyan", no_wrap=True)
    table.add_column(overflow="fold")
    table.add_row("tuning job", detail["tuning_job"]["name"])
    table.add_row("best training job", best["name"])
    table.add_row(best["objective"]["metric_name"], f"{best['objective']['value']:.4f}")
    table.add_row("tuned", json.dumps(best["tuned_hyperparameters"], sort_keys=True))
    table.add_row("model", str(best.get("model_artifact_uri")))
    table.add_row("billable", duration(detail.get("billable_seconds")))
    cost = detail.get("cost") or {}
    if cost:
        table.add_row(
            "cost",
            f"${cost['actual_usd']:.2f} (estimated at most ${cost['estimated_max_usd']:.2f})",
        )
    quality = detail.get("topic_quality") or {}
    if quality:
        table.add_row("topic quality", _quality(quality))
    table.add_row("report", detail["report_uri"])
    console.print(table, soft_wrap=True)


def _quality(quality: dict[str, Any]) -> str:
    parts = [
        f"{label} {quality[key]:.3f}"
        for key, label in (("npmi", "NPMI"), ("uniqueness", "uniqueness"))
        if isinstance(quality.get(key), int | float)
    ]
    return ", ".join(parts) or "-"


def trials_table(report: dict[str, Any], limit: int = 10) -> Table:
    jobs = report.get("training_jobs", [])
    table = Table(title=f"training jobs (best {min(limit, len(jobs))} of {len(jobs)})")
    names = sorted({k for job in jobs for k in job.get("tuned_hyperparameters", {})})
    for column in ("rank", "objective", "status", *names, "billable"):
        table.add_column(column)
    for job in jobs[:limit]:
        objective = job.get("objective")
        table.add_row(
            str(job.get("rank")),
            f"{objective:.4f}" if objective is not None else "-",
            str(job.get("status")),
            *[str(job.get("tuned_hyperparameters", {}).get(n, "")) for n in names],
            duration(job.get("billable_seconds")),
        )
    return table
