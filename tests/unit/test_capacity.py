"""States "Acquire capacity" and "Release capacity" pass the ledger's answer through whole."""

from __future__ import annotations

from datetime import UTC, datetime

from ntm_tuning.capacity import acquire_capacity, release_capacity

from tests.unit.step_fakes import FakeLedger

NOW = datetime(2026, 11, 27, 12, 30, tzinfo=UTC)


def test_acquire_reports_the_ledgers_answer_and_the_limit() -> None:
    ledger = FakeLedger()
    ledger.acquire_answer = (False, 7)
    admission = acquire_capacity("execution-a", ledger, 3, now=NOW)
    assert admission.model_dump() == {"admitted": False, "in_flight": 7, "limit": 3}
    assert ledger.calls == [("acquire", ("execution-a", 3), {"now": NOW})]
    ledger.acquire_answer = (True, 2)
    assert acquire_capacity("execution-b", ledger, 5, now=NOW).model_dump() == {
        "admitted": True,
        "in_flight": 2,
        "limit": 5,
    }


def test_acquire_without_a_clock_takes_the_time_now() -> None:
    ledger = FakeLedger()
    before = datetime.now(UTC)
    acquire_capacity("execution-a", ledger, 1)
    (_, _, kwargs) = ledger.calls[0]
    assert before <= kwargs["now"] <= datetime.now(UTC)
    assert kwargs["now"].tzinfo is not None


def test_release_reports_the_ledgers_answer() -> None:
    ledger = FakeLedger()
    ledger.release_answer = (True, 4)
    assert release_capacity("execution-a", ledger).model_dump() == {
        "released": True,
        "in_flight": 4,
    }
    ledger.release_answer = (False, 6)
    assert release_capacity("execution-b", ledger).model_dump() == {
        "released": False,
        "in_flight": 6,
    }
    assert [args for _, args, _ in ledger.calls] == [("execution-a",), ("execution-b",)]
