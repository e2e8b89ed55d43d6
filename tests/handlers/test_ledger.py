"""The ledger's items as DynamoDB holds them: read back every field written, expiry included."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws
from ntm_tuning.errors import LedgerThrottled
from ntm_tuning.handlers import validate_request
from ntm_tuning.ledger import Ledger

from tests.handlers.conftest import Aws, LambdaContext, example_request
from tests.settings_factory import LEDGER, REGION

EXECUTION = "arn:aws:states:us-east-1:123456789012:execution:ntm:run-1"
NOW = datetime(2026, 11, 27, 12, 30, 15, tzinfo=UTC)


@pytest.fixture
def table() -> Iterator[Ledger]:
    with mock_aws():
        dynamodb = boto3.client("dynamodb", region_name=REGION)
        dynamodb.create_table(
            TableName=LEDGER,
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        yield Ledger(LEDGER, ttl_days=7, dynamodb=dynamodb)


def item(ledger: Ledger, key: str) -> dict[str, dict[str, str]]:
    found = ledger.dynamodb.get_item(TableName=LEDGER, Key={"pk": {"S": key}})
    return dict(found["Item"])


def test_a_claim_names_its_execution_and_expires_after_the_ttl_in_days(table: Ledger) -> None:
    assert table.claim("req-1", EXECUTION, now=NOW) is True
    assert item(table, "request#req-1") == {
        "pk": {"S": "request#req-1"},
        "execution_id": {"S": EXECUTION},
        "claimed_at": {"S": NOW.isoformat()},
        "expires_at": {"N": str(int((NOW + timedelta(days=7)).timestamp()))},
    }
    assert table.claimant("req-1") == EXECUTION
    assert table.claim("req-1", EXECUTION, now=NOW) is True  # its own retry
    assert table.claim("req-1", "another-execution", now=NOW) is False
    assert table.claimant("req-1") == EXECUTION


def test_a_recorded_job_expires_after_the_ttl_in_days(table: Ledger) -> None:
    request = {"request_id": "req-1", "request_name": "demo", "origin": {"kind": "event"}}
    table.record_job(EXECUTION, request, now=NOW, processing_job_name="ntm-prep-1")
    stored = item(table, f"execution#{EXECUTION}")
    assert stored["expires_at"] == {"N": str(int((NOW + timedelta(days=7)).timestamp()))}
    assert stored["started_at"] == {"S": NOW.isoformat()}
    assert "tuning_job_name" not in stored
    assert table.job_of(EXECUTION) == {
        "tuning_job_name": None,
        "processing_job_name": "ntm-prep-1",
        "request": request,
    }
    table.record_job(EXECUTION, request, now=NOW, tuning_job_name="ntm-tune-1")
    assert table.job_of(EXECUTION) == {
        "tuning_job_name": "ntm-tune-1",
        "processing_job_name": None,
        "request": request,
    }


def test_validation_claims_with_the_deployments_ttl(
    aws: Aws, context: LambdaContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LEDGER_TTL_DAYS", "3")
    aws.put_dataset()
    state = validate_request.handler(
        {"delivery": aws.put_request(example_request()), "execution_id": EXECUTION}, context
    )
    assert state["outcome"] == "accepted"
    claim = aws.dynamodb.get_item(
        TableName=LEDGER, Key={"pk": {"S": f"request#{state['request_id']}"}}
    )["Item"]
    assert claim["execution_id"] == {"S": EXECUTION}
    claimed_at = datetime.fromisoformat(claim["claimed_at"]["S"])
    assert abs(datetime.now(UTC) - claimed_at) < timedelta(minutes=5)
    lifetime = int(claim["expires_at"]["N"]) - claimed_at.timestamp()
    assert 3 * 86400 - 1 < lifetime <= 3 * 86400


def test_capacity_admits_up_to_the_limit_and_each_execution_once(table: Ledger) -> None:
    assert table.holders() == 0
    assert table.acquire("e-1", 2, now=NOW) == (True, 1)
    assert table.acquire("e-1", 2, now=NOW) == (True, 1)  # its own retry: already admitted
    assert table.acquire("e-2", 2, now=NOW) == (True, 2)
    assert table.acquire("e-3", 2, now=NOW) == (False, 2)
    capacity = item(table, "capacity#tuning-jobs")
    assert capacity["holders"] == {"N": "2"}
    assert capacity["leases"] == {
        "M": {"e-1": {"S": NOW.isoformat()}, "e-2": {"S": NOW.isoformat()}}
    }
    assert table.release("e-1") == (True, 1)
    assert table.release("e-1") == (False, 1)  # releasing twice is a no-op
    assert table.acquire("e-3", 2, now=NOW) == (True, 2)
    assert table.release("never-admitted") == (False, 2)
    assert table.holders() == 2


def test_a_job_of_an_unknown_execution_is_none(table: Ledger) -> None:
    assert table.job_of("nobody") is None
    assert table.claimant("no-such-request") is None


def test_throttling_is_a_retryable_ledger_error(table: Ledger) -> None:
    stubber = Stubber(table.dynamodb)
    stubber.add_client_error("get_item", "ProvisionedThroughputExceededException", "slow down")
    stubber.add_client_error("get_item", "ValidationException", "bad key")
    with stubber:
        with pytest.raises(LedgerThrottled):
            table.holders()
        with pytest.raises(Exception, match="bad key") as caught:
            table.holders()
        assert not isinstance(caught.value, LedgerThrottled)


def test_the_terminal_event_is_reserved_once_then_recorded(table: Ledger) -> None:
    table.claim("req-1", EXECUTION, now=NOW)
    assert table.outcome_of("req-1") is None
    assert table.reserve_outcome("req-1", EXECUTION, "NTM Tuning Job Failed") is True
    assert table.reserve_outcome("req-1", EXECUTION, "NTM Tuning Job Failed") is True  # retry
    assert table.reserve_outcome("req-1", "other", "NTM Tuning Job Succeeded") is False
    assert table.outcome_of("req-1") == {
        "detail_type": "NTM Tuning Job Failed",
        "execution_id": EXECUTION,
    }
    # The clean-up may take over the reservation only while no event reached the bus.
    assert table.reserve_outcome("req-1", "other", "x", take_over=True) is False
    assert table.reserve_outcome("req-1", EXECUTION, "NTM Tuning Job Stopped", take_over=True)
    table.record_outcome("req-1", "event-7")
    assert table.outcome_of("req-1") == {
        "detail_type": "NTM Tuning Job Stopped",
        "execution_id": EXECUTION,
        "event_id": "event-7",
    }
    assert table.reserve_outcome("req-1", EXECUTION, "again", take_over=True) is False
    # The workflow's own retry still finds its reservation, event or not: only the clean-up
    # asks to take over.
    assert table.reserve_outcome("req-1", EXECUTION, "NTM Tuning Job Stopped") is True
    assert table.reserve_outcome("req-2", "e-2", "NTM Tuning Request Rejected", take_over=True)
    assert item(table, "request#req-1")["execution_id"] == {"S": EXECUTION}


def test_progress_is_recorded_only_for_an_execution_with_a_job(table: Ledger) -> None:
    progress = {"completed": 3, "best": 6.25}
    assert table.record_progress(EXECUTION, progress) is False
    assert table.progress(EXECUTION) is None
    table.record_job(EXECUTION, {"request_id": "r"}, now=NOW, tuning_job_name="ntm-1")
    assert table.progress(EXECUTION) is None
    assert table.record_progress(EXECUTION, progress) is True
    assert table.progress(EXECUTION) == progress
    assert item(table, f"execution#{EXECUTION}")["progress"] == {
        "S": '{"best": 6.25, "completed": 3}'
    }


def test_claims_lists_every_request_claim_across_pages(table: Ledger) -> None:
    for number in range(30):
        table.claim(f"req-{number:02d}", f"e-{number}", now=NOW)
    table.acquire("e-0", 2, now=NOW)
    table.record_job("e-0", {"request_id": "req-00"}, now=NOW, tuning_job_name="ntm-1")
    original = table._call

    def small_pages(method: str, **kwargs: Any) -> Any:
        return original(method, **({**kwargs, "Limit": 7} if method == "scan" else kwargs))

    table._call = small_pages  # type: ignore[method-assign]
    claims = sorted(table.claims(), key=lambda claim: claim["request_id"])
    assert len(claims) == 30
    assert claims[0] == {
        "request_id": "req-00",
        "execution_id": "e-0",
        "claimed_at": NOW.isoformat(),
    }
    assert claims[29]["request_id"] == "req-29"
