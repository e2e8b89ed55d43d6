"""What ``ntm-tuning watch`` shows, on a terminal (a live panel) and in a log (lines)."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from typing import Any

from rich.console import Console

from ntm_cli import display
from ntm_cli.pipeline import Snapshot

PROGRESS: dict[str, Any] = {
    "counters": {
        "completed": 7,
        "in_progress": 2,
        "retryable_error": 1,
        "non_retryable_error": 2,
        "stopped": 4,
    },
    "max_jobs": 20,
    "best_training_job": {
        "name": "ntm-abc-006",
        "objective": {"metric_name": "validation:total_loss", "value": 6.84127},
    },
    "billable_seconds": 4815,
    "cost_usd": 0.9844,
}
START = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


def snapshot(status: str = "RUNNING", progress: dict[str, Any] | None = PROGRESS) -> Snapshot:
    return Snapshot(
        request_id="5c1d8e7f0a2b3c4d5e6f7a8b",
        execution_arn="arn:aws:states:us-east-1:123456789012:execution:ntm:run-1",
        status=status,
        state="Describe tuning job",
        started=START,
        stopped=START + timedelta(minutes=12, seconds=3) if status != "RUNNING" else None,
        request_name="demo",
        tuning_job_name="ntm-5c1d8e7f0a2b3c4d5e6f7a8b",
        progress=progress,
    )


def test_a_progress_line_says_every_counter_and_the_best_so_far() -> None:
    line = display.progress_line(snapshot())
    assert line == (
        "state: watching the job | training jobs 7/20 completed, 2 in progress, 3 failed, "
        "4 stopped | best validation:total_loss 6.8413 (ntm-abc-006) | billable 1h 20m 15s "
        "| cost $0.98"
    )
    assert display.progress_line(snapshot(progress=None)) == "state: watching the job"


def test_the_live_panel_on_a_terminal() -> None:
    console = Console(file=io.StringIO(), width=120, force_terminal=True, record=True)
    console.print(display.progress_panel(snapshot("SUCCEEDED")))
    text = console.export_text()
    for words in (
        "5c1d8e7f0a2b3c4d5e6f7a8b (demo)",
        "run-1 SUCCEEDED",
        "12m 03s",
        "7 completed, 2 in progress, 3 failed, 4 stopped of at most 20",
        "6.8413  (ntm-abc-006)",
        "1h 20m 15s   cost so far $0.98",
    ):
        assert words in text, text


def test_follow_polls_until_the_execution_ends() -> None:
    answers = [snapshot(), snapshot(), snapshot("FAILED")]
    seen: list[Snapshot] = []

    def poll() -> Snapshot:
        seen.append(answers[len(seen)])
        return seen[-1]

    for terminal in (True, False):
        seen.clear()
        console = Console(file=io.StringIO(), width=200, force_terminal=terminal)
        last = display.follow(console, poll, interval=0.01)
        assert last.status == "FAILED"
        assert len(seen) == 3
    # In a log, an unchanged line is not repeated.
    assert console.file.getvalue().count("training jobs 7/20") == 1  # type: ignore[attr-defined]


def test_the_default_stack_is_the_one_cdk_json_names(tmp_path: Any, monkeypatch: Any) -> None:
    from ntm_cli import stack

    (tmp_path / "cdk.json").write_text('{"context": {"ntm:stackName": "TopicsProd"}}')
    monkeypatch.setattr(stack, "CDK_JSON", tmp_path / "cdk.json")
    assert stack.configured_stack_name() == "TopicsProd"
    monkeypatch.setattr(stack, "CDK_JSON", tmp_path / "missing.json")
    assert stack.configured_stack_name() == "NtmTuning"
