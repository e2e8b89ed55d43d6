"""Faults and load on the whole workflow: duplicates, capacity, orphaned jobs, cost."""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import ntm_tuning.job_definition
import pytest

from offline.runtime import Clock, OfflineWorkflow
from offline.scripted import Scenario, ScriptedSageMaker
from offline.template import synthesize
from tests.workflow.conftest import EXAMPLE_DATA, encode, example_request

Open = Callable[..., OfflineWorkflow]


def engine(wf: OfflineWorkflow) -> ScriptedSageMaker:
    assert isinstance(wf.engine, ScriptedSageMaker)
    return wf.engine


@pytest.fixture(scope="module")
def limited_template() -> dict[str, Any]:
    # Queued executions look for capacity every 1000 s (0.5 s offline), jobs are described
    # every 10 s (5 ms offline): the queue, not the polling, sets the pace.
    return synthesize(
        {
            "ntm:maxConcurrentTuningJobs": "3",
            "ntm:capacityWaitSeconds": "1000",
            "ntm:pollIntervalSeconds": "10",
        }
    )


def open_limited(template: dict[str, Any], scenario: Scenario) -> OfflineWorkflow:
    # Waits are kept (scaled down) so that waiting executions do not spin.
    wf = OfflineWorkflow(template, scenario=scenario, clock=Clock(scale=0.0005)).__enter__()
    wf.upload_folder(EXAMPLE_DATA)
    return wf


def wait_all(wf: OfflineWorkflow, executions: list[str | None], stall: float = 90.0) -> list[Any]:
    """Every execution's end, however long a loaded machine takes, as long as they progress:
    the run fails only when no execution ends for ``stall`` seconds (a lost or hung request)."""
    wanted = {arn for arn in executions if arn}
    paginator = wf.sfn.get_paginator("list_executions")
    running = len(wanted) + 1
    last_progress = time.monotonic()
    while running:
        pages = paginator.paginate(stateMachineArn=wf.state_machine_arn, statusFilter="RUNNING")
        now_running = len(wanted & {e["executionArn"] for p in pages for e in p["executions"]})
        if now_running < running:
            running, last_progress = now_running, time.monotonic()
        elif time.monotonic() - last_progress > stall:
            raise TimeoutError(f"{running} executions made no progress for {stall:.0f} s")
        time.sleep(0.5)
    return [wf.wait(arn) for arn in executions if arn]


def test_duplicates_under_load_start_one_job_and_end_in_one_event(workflow: Open) -> None:
    wf = workflow(Scenario(training_jobs=1, describes_in_progress=1))
    distinct = 10
    invalid = {3, 7}
    events = []
    for number in range(distinct):
        body = example_request(name=f"run-{number}")
        if number in invalid:
            body["hyperparameters"] = {"num_topics": 0}
        events.append(wf.object_created(f"requests/run-{number}.json", encode(body)))
    deliveries = [event for event in events for _ in range(5)]  # 50, all at once
    executions = [wf.deliver(event, bus="default") for event in deliveries]
    results = wait_all(wf, executions)
    assert len(results) == 50
    published = wf.published()
    per_request = Counter(e["detail"]["request_name"] for e in published)
    assert per_request == {f"run-{n}": 1 for n in range(distinct)}
    kinds = Counter(e["detail-type"] for e in published)
    assert kinds == {"NTM Tuning Job Succeeded": 8, "NTM Tuning Request Rejected": 2}
    assert len(engine(wf).jobs) == 8
    assert Counter(r.states[-1] for r in results)["Duplicate delivery"] == 40


def test_a_hundred_requests_share_three_slots_and_none_is_lost(
    limited_template: dict[str, Any],
) -> None:
    wf = open_limited(limited_template, Scenario(training_jobs=1, describes_in_progress=0))
    try:
        executions = [
            wf.upload_request(f"requests/load-{n}.json", encode(example_request(name=f"load-{n}")))
            for n in range(100)
        ]
        results = wait_all(wf, executions)
        assert len(results) == 100
        assert {r.status for r in results} == {"SUCCEEDED"}
        published = wf.published()
        assert Counter(e["detail-type"] for e in published) == {"NTM Tuning Job Succeeded": 100}
        assert len({e["detail"]["request_name"] for e in published}) == 100
        assert engine(wf).most_running <= 3
        assert any("Wait for capacity" in r.states for r in results)  # some had to queue
        assert wf.ledger_holders() == 0
    finally:
        wf.__exit__(None, None, None)


def test_sagemaker_capacity_refusals_wait_instead_of_failing(
    limited_template: dict[str, Any],
) -> None:
    # The account runs one tuning job at a time, the ledger would allow three: the jobs last
    # long enough (30 describes) that the other admitted executions are refused by SageMaker.
    wf = open_limited(
        limited_template, Scenario(training_jobs=1, describes_in_progress=30, account_job_limit=1)
    )
    try:
        executions = [
            wf.upload_request(f"requests/q-{n}.json", encode(example_request(name=f"q-{n}")))
            for n in range(4)
        ]
        results = wait_all(wf, executions)
        assert {r.status for r in results} == {"SUCCEEDED"}
        assert engine(wf).refused_for_capacity > 0
        assert engine(wf).most_running == 1
        assert wf.ledger_holders() == 0
    finally:
        wf.__exit__(None, None, None)


def test_an_aborted_execution_stops_its_job_and_says_so(template: dict[str, Any]) -> None:
    # Every Wait lasts until the execution is stopped: the abort lands in "Wait for tuning job".
    wf = open_limited(template, Scenario(describes_in_progress=10**6))
    try:
        wf.clock.hold = True
        execution = wf.upload_request("requests/run.json", encode(example_request()))
        assert execution is not None
        wf.wait_for_state(execution, "Wait for tuning job")
        result = wf.abort(execution)
        assert result.status == "ABORTED"
        assert result.states[-1] == "Wait for tuning job"
        (job,) = engine(wf).jobs.values()
        assert job.status in ("Stopping", "Stopped")
        (event,) = wf.published()
        assert event["detail-type"] == "NTM Tuning Job Stopped"
        assert event["detail"]["reason"]["code"] == "ExecutionAborted"
        assert wf.ledger_holders() == 0
    finally:
        wf.__exit__(None, None, None)


def test_a_failed_execution_leaves_no_job_running(workflow: Open) -> None:
    wf = workflow(Scenario(describe_failures=1, describes_in_progress=10**6))
    execution = wf.upload_request("requests/run.json", encode(example_request()))
    assert execution is not None
    result = wf.wait(execution)
    assert result.status == "FAILED"
    (job,) = engine(wf).jobs.values()
    assert job.status in ("Stopping", "Stopped")  # stopped by the clean-up rule
    (event,) = wf.published()  # the workflow's own Failed event; the clean-up adds none
    assert event["detail-type"] == "NTM Tuning Job Failed"
    assert wf.ledger_holders() == 0


def test_a_job_past_its_deadline_is_stopped(
    workflow: Open, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ntm_tuning.job_definition, "WATCH_SLACK", -timedelta(days=365))
    wf = workflow(Scenario(describes_in_progress=10**6))
    execution = wf.upload_request("requests/run.json", encode(example_request()))
    assert execution is not None
    result = wf.wait(execution)
    assert "Stop tuning job" in result.states
    (job,) = engine(wf).jobs.values()
    assert job.status in ("Stopping", "Stopped")
    (event,) = wf.published()
    assert event["detail"]["reason"]["code"] == "WatchDeadlineExceeded"


def test_cost_is_estimated_guarded_and_reported(workflow: Open) -> None:
    wf = workflow(Scenario(training_jobs=3))
    over = example_request(
        resources={"instance_type": "ml.p3.2xlarge"},
        resource_limits={"max_jobs": 40, "max_parallel_jobs": 2},
    )
    ok = example_request()
    for key, body in (("requests/over.json", over), ("requests/ok.json", ok)):
        execution = wf.upload_request(key, encode(body))
        assert execution is not None
        wf.wait(execution)
    rejected, succeeded = wf.published()
    assert rejected["detail-type"] == "NTM Tuning Request Rejected"
    assert rejected["detail"]["cost_estimate"]["max_usd"] == pytest.approx(40 * 3.825)
    assert [v["rule"] for v in rejected["detail"]["violations"]] == ["cost_budget"]
    cost = succeeded["detail"]["cost"]
    assert cost["estimated_max_usd"] == pytest.approx(8 * 0.736, abs=0.01)  # 8 jobs x 1 h, g4dn
    billable = succeeded["detail"]["billable_seconds"]
    assert cost["actual_usd"] == pytest.approx(billable * 0.736 / 3600, abs=1e-4)
    assert json.dumps(cost)
