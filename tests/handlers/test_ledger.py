"""The ledger's items as DynamoDB holds them: read back every field written, expiry included."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber
from moto import mock_aws
from ntm_tuning.aws import use_clients
from ntm_tuning.errors import LedgerThrottled
from ntm_tuning.handlers import validate_request
from ntm_tuning.ledger import CAPACITY_KEY, Ledger

from tests.handlers.conftest import Aws, LambdaContext
from tests.settings_factory import LEDGER, REGION, example_request

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


# -- the exact requests sent (a botocore Stubber: no emulator, every parameter checked) ---------
TABLE = "ledger-requests"
NOW_ISO = NOW.isoformat()
IN_7_DAYS = str(int((NOW + timedelta(days=7)).timestamp()))


@pytest.fixture
def stubbed() -> Iterator[tuple[Ledger, Stubber]]:
    dynamodb = boto3.client(
        "dynamodb",
        region_name=REGION,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    stubber = Stubber(dynamodb)
    with stubber:
        yield Ledger(TABLE, ttl_days=7, dynamodb=dynamodb), stubber
        stubber.assert_no_pending_responses()


def _get(key: str, **extra: Any) -> dict[str, Any]:
    return {"TableName": TABLE, "Key": {"pk": {"S": key}}, "ConsistentRead": True, **extra}


def _refused(stubber: Stubber, method: str, code: str, expected: dict[str, Any]) -> None:
    stubber.add_client_error(method, code, f"{code} message", expected_params=expected)


def test_a_claim_is_a_conditional_put_of_the_whole_item(stubbed: tuple[Ledger, Stubber]) -> None:
    ledger, stubber = stubbed
    expected = {
        "TableName": TABLE,
        "Item": {
            "pk": {"S": "request#req-9"},
            "execution_id": {"S": "e-9"},
            "claimed_at": {"S": NOW_ISO},
            "expires_at": {"N": IN_7_DAYS},
        },
        "ConditionExpression": "attribute_not_exists(pk) OR execution_id = :execution",
        "ExpressionAttributeValues": {":execution": {"S": "e-9"}},
    }
    stubber.add_response("put_item", {}, expected)
    _refused(stubber, "put_item", "ConditionalCheckFailedException", expected)
    _refused(stubber, "put_item", "ValidationException", expected)
    _refused(stubber, "put_item", "ThrottlingException", expected)
    assert ledger.claim("req-9", "e-9", now=NOW) is True
    assert ledger.claim("req-9", "e-9", now=NOW) is False
    with pytest.raises(ClientError, match="ValidationException message"):
        ledger.claim("req-9", "e-9", now=NOW)
    with pytest.raises(LedgerThrottled, match="ThrottlingException message"):
        ledger.claim("req-9", "e-9", now=NOW)


def test_the_default_lifetime_of_an_item_is_30_days() -> None:
    assert Ledger(TABLE).ttl_days == 30
    assert Ledger(TABLE)._expires(NOW) == str(int((NOW + timedelta(days=30)).timestamp()))


@pytest.mark.parametrize(
    "code",
    ["ProvisionedThroughputExceededException", "ThrottlingException", "RequestLimitExceeded"],
)
def test_each_throttling_code_is_a_ledger_throttle(
    stubbed: tuple[Ledger, Stubber], code: str
) -> None:
    ledger, stubber = stubbed
    _refused(stubber, "get_item", code, _get(CAPACITY_KEY))
    with pytest.raises(LedgerThrottled, match=f"{code} message"):
        ledger.holders()


def test_without_a_client_the_ledger_uses_the_handlers_dynamodb_client() -> None:
    made: list[str] = []
    fake = object()

    def provider(service: str) -> Any:
        made.append(service)
        return fake

    with use_clients(provider):
        assert Ledger(TABLE).dynamodb is fake
    assert made == ["dynamodb"]


@pytest.mark.parametrize(
    ("take_over", "condition"),
    [
        (False, "attribute_not_exists(outcome) OR outcome_execution = :execution"),
        (
            True,
            "attribute_not_exists(outcome) OR "
            "(outcome_execution = :execution AND attribute_not_exists(outcome_event_id))",
        ),
    ],
)
def test_a_reservation_is_a_conditional_update_of_the_requests_item(
    stubbed: tuple[Ledger, Stubber], take_over: bool, condition: str
) -> None:
    ledger, stubber = stubbed
    expected = {
        "TableName": TABLE,
        "Key": {"pk": {"S": "request#req-3"}},
        "UpdateExpression": "SET outcome = :type, outcome_execution = :execution",
        "ConditionExpression": condition,
        "ExpressionAttributeValues": {
            ":type": {"S": "NTM Tuning Job Failed"},
            ":execution": {"S": "e-3"},
        },
    }
    stubber.add_response("update_item", {}, expected)
    _refused(stubber, "update_item", "ConditionalCheckFailedException", expected)
    _refused(stubber, "update_item", "ValidationException", expected)
    reserve = {"take_over": take_over}
    assert ledger.reserve_outcome("req-3", "e-3", "NTM Tuning Job Failed", **reserve) is True
    assert ledger.reserve_outcome("req-3", "e-3", "NTM Tuning Job Failed", **reserve) is False
    with pytest.raises(ClientError, match="ValidationException message"):
        ledger.reserve_outcome("req-3", "e-3", "NTM Tuning Job Failed", **reserve)


def test_an_outcome_is_recorded_and_read_back_consistently(
    stubbed: tuple[Ledger, Stubber],
) -> None:
    ledger, stubber = stubbed
    stubber.add_response(
        "update_item",
        {},
        {
            "TableName": TABLE,
            "Key": {"pk": {"S": "request#req-4"}},
            "UpdateExpression": "SET outcome_event_id = :event",
            "ExpressionAttributeValues": {":event": {"S": "event-4"}},
        },
    )
    ledger.record_outcome("req-4", "event-4")
    claimed = {"pk": {"S": "request#req-4"}, "execution_id": {"S": "e-4"}}
    reserved = {**claimed, "outcome": {"S": "Failed"}, "outcome_execution": {"S": "e-5"}}
    recorded = {**reserved, "outcome_event_id": {"S": "event-4"}}
    for found in ({}, {"Item": claimed}, {"Item": reserved}, {"Item": recorded}):
        stubber.add_response("get_item", found, _get("request#req-4"))
    assert ledger.outcome_of("req-4") is None
    assert ledger.outcome_of("req-4") is None
    assert ledger.outcome_of("req-4") == {"detail_type": "Failed", "execution_id": "e-5"}
    assert ledger.outcome_of("req-4") == {
        "detail_type": "Failed",
        "execution_id": "e-5",
        "event_id": "event-4",
    }


def test_the_claimant_is_read_consistently(stubbed: tuple[Ledger, Stubber]) -> None:
    ledger, stubber = stubbed
    stubber.add_response(
        "get_item", {"Item": {"execution_id": {"S": "e-6"}}}, _get("request#req-6")
    )
    stubber.add_response("get_item", {}, _get("request#req-7"))
    assert ledger.claimant("req-6") == "e-6"
    assert ledger.claimant("req-7") is None


def _acquire_put() -> dict[str, Any]:
    return {
        "TableName": TABLE,
        "Item": {"pk": {"S": CAPACITY_KEY}, "holders": {"N": "0"}, "leases": {"M": {}}},
        "ConditionExpression": "attribute_not_exists(pk)",
    }


def _acquire_update(execution: str, limit: int) -> dict[str, Any]:
    return {
        "TableName": TABLE,
        "Key": {"pk": {"S": CAPACITY_KEY}},
        "UpdateExpression": "SET leases.#execution = :now ADD holders :one",
        "ConditionExpression": "holders < :limit AND attribute_not_exists(leases.#execution)",
        "ExpressionAttributeNames": {"#execution": execution},
        "ExpressionAttributeValues": {
            ":now": {"S": NOW_ISO},
            ":one": {"N": "1"},
            ":limit": {"N": str(limit)},
        },
        "ReturnValues": "ALL_NEW",
    }


def test_acquiring_creates_the_semaphore_once_then_takes_a_slot_conditionally(
    stubbed: tuple[Ledger, Stubber],
) -> None:
    ledger, stubber = stubbed
    # First ever: the semaphore is created, then a slot taken (3 holders now, of a limit of 5).
    stubber.add_response("put_item", {}, _acquire_put())
    stubber.add_response(
        "update_item", {"Attributes": {"holders": {"N": "3"}}}, _acquire_update("e-1", 5)
    )
    # The semaphore exists: its creation is refused, the slot is taken all the same.
    _refused(stubber, "put_item", "ConditionalCheckFailedException", _acquire_put())
    stubber.add_response(
        "update_item", {"Attributes": {"holders": {"N": "4"}}}, _acquire_update("e-2", 5)
    )
    # Full (or already holding): the leases say which, read consistently.
    _refused(stubber, "put_item", "ConditionalCheckFailedException", _acquire_put())
    _refused(stubber, "update_item", "ConditionalCheckFailedException", _acquire_update("e-2", 4))
    leases = {"M": {"e-2": {"S": NOW_ISO}}}
    stubber.add_response(
        "get_item", {"Item": {"holders": {"N": "4"}, "leases": leases}}, _get(CAPACITY_KEY)
    )
    _refused(stubber, "put_item", "ConditionalCheckFailedException", _acquire_put())
    _refused(stubber, "update_item", "ConditionalCheckFailedException", _acquire_update("e-3", 4))
    stubber.add_response(
        "get_item", {"Item": {"holders": {"N": "4"}, "leases": leases}}, _get(CAPACITY_KEY)
    )
    assert ledger.acquire("e-1", 5, now=NOW) == (True, 3)
    assert ledger.acquire("e-2", 5, now=NOW) == (True, 4)
    assert ledger.acquire("e-2", 4, now=NOW) == (True, 4)
    assert ledger.acquire("e-3", 4, now=NOW) == (False, 4)


def test_acquiring_raises_what_is_not_a_failed_condition(stubbed: tuple[Ledger, Stubber]) -> None:
    ledger, stubber = stubbed
    _refused(stubber, "put_item", "ValidationException", _acquire_put())
    _refused(stubber, "put_item", "ConditionalCheckFailedException", _acquire_put())
    _refused(stubber, "update_item", "ValidationException", _acquire_update("e-1", 2))
    with pytest.raises(ClientError, match="ValidationException message"):
        ledger.acquire("e-1", 2, now=NOW)
    with pytest.raises(ClientError, match="ValidationException message"):
        ledger.acquire("e-1", 2, now=NOW)


def test_releasing_removes_the_lease_conditionally(stubbed: tuple[Ledger, Stubber]) -> None:
    ledger, stubber = stubbed
    expected = {
        "TableName": TABLE,
        "Key": {"pk": {"S": CAPACITY_KEY}},
        "UpdateExpression": "REMOVE leases.#execution ADD holders :minus_one",
        "ConditionExpression": "attribute_exists(leases.#execution)",
        "ExpressionAttributeNames": {"#execution": "e-8"},
        "ExpressionAttributeValues": {":minus_one": {"N": "-1"}},
        "ReturnValues": "ALL_NEW",
    }
    stubber.add_response("update_item", {"Attributes": {"holders": {"N": "6"}}}, expected)
    _refused(stubber, "update_item", "ConditionalCheckFailedException", expected)
    stubber.add_response("get_item", {"Item": {"holders": {"N": "5"}}}, _get(CAPACITY_KEY))
    _refused(stubber, "update_item", "ValidationException", expected)
    assert ledger.release("e-8") == (True, 6)
    assert ledger.release("e-8") == (False, 5)
    with pytest.raises(ClientError, match="ValidationException message"):
        ledger.release("e-8")


def test_no_semaphore_yet_is_no_holder_and_no_lease(stubbed: tuple[Ledger, Stubber]) -> None:
    ledger, stubber = stubbed
    stubber.add_response("get_item", {}, _get(CAPACITY_KEY))
    stubber.add_response("get_item", {"Item": {"pk": {"S": CAPACITY_KEY}}}, _get(CAPACITY_KEY))
    assert ledger._capacity() == ({}, 0)
    assert ledger._capacity() == ({}, 0)


def test_a_job_record_is_put_whole_and_read_back_consistently(
    stubbed: tuple[Ledger, Stubber],
) -> None:
    ledger, stubber = stubbed
    request = {"request_name": "demo", "origin": {"kind": "s3", "bucket": "b"}, "a": 1}
    stored = '{"a": 1, "origin": {"bucket": "b", "kind": "s3"}, "request_name": "demo"}'
    item = {
        "pk": {"S": "execution#e-2"},
        "request": {"S": stored},
        "started_at": {"S": NOW_ISO},
        "expires_at": {"N": IN_7_DAYS},
        "tuning_job_name": {"S": "ntm-tune-2"},
        "processing_job_name": {"S": "ntm-prep-2"},
    }
    stubber.add_response("put_item", {}, {"TableName": TABLE, "Item": item})
    stubber.add_response("get_item", {"Item": item}, _get("execution#e-2"))
    stubber.add_response("get_item", {}, _get("execution#e-3"))
    ledger.record_job(
        "e-2", request, now=NOW, tuning_job_name="ntm-tune-2", processing_job_name="ntm-prep-2"
    )
    assert ledger.job_of("e-2") == {
        "tuning_job_name": "ntm-tune-2",
        "processing_job_name": "ntm-prep-2",
        "request": request,
    }
    assert ledger.job_of("e-3") is None


def test_progress_is_a_conditional_update_and_a_projected_consistent_read(
    stubbed: tuple[Ledger, Stubber],
) -> None:
    ledger, stubber = stubbed
    expected = {
        "TableName": TABLE,
        "Key": {"pk": {"S": "execution#e-4"}},
        "UpdateExpression": "SET progress = :progress",
        "ConditionExpression": "attribute_exists(pk)",
        "ExpressionAttributeValues": {":progress": {"S": '{"best": 1.5, "completed": 2}'}},
    }
    stubber.add_response("update_item", {}, expected)
    _refused(stubber, "update_item", "ConditionalCheckFailedException", expected)
    _refused(stubber, "update_item", "ValidationException", expected)
    read = _get("execution#e-4", ProjectionExpression="progress")
    stubber.add_response("get_item", {}, read)
    stubber.add_response("get_item", {"Item": {"pk": {"S": "execution#e-4"}}}, read)
    stubber.add_response("get_item", {"Item": {"progress": {"S": '{"completed": 2}'}}}, read)
    progress = {"completed": 2, "best": 1.5}
    assert ledger.record_progress("e-4", progress) is True
    assert ledger.record_progress("e-4", progress) is False
    with pytest.raises(ClientError, match="ValidationException message"):
        ledger.record_progress("e-4", progress)
    assert ledger.progress("e-4") is None
    assert ledger.progress("e-4") is None
    assert ledger.progress("e-4") == {"completed": 2}


def test_claims_scan_page_after_page(stubbed: tuple[Ledger, Stubber]) -> None:
    ledger, stubber = stubbed
    scan = {
        "TableName": TABLE,
        "FilterExpression": "begins_with(pk, :claim)",
        "ExpressionAttributeValues": {":claim": {"S": "request#"}},
    }
    after = {"pk": {"S": "request#r-1"}}
    first = {
        "pk": {"S": "request#r-1"},
        "execution_id": {"S": "e-1"},
        "claimed_at": {"S": NOW_ISO},
    }
    second = {"pk": {"S": "request#request#r-2"}, "execution_id": {"S": "e-2"}}
    later = {"pk": {"S": "request#r-9"}}
    stubber.add_response("scan", {"Items": [first], "LastEvaluatedKey": after}, scan)
    # A page may hold no match at all and still not be the last.
    stubber.add_response("scan", {"LastEvaluatedKey": later}, {**scan, "ExclusiveStartKey": after})
    stubber.add_response("scan", {"Items": [second]}, {**scan, "ExclusiveStartKey": later})
    assert ledger.claims() == [
        {"request_id": "r-1", "execution_id": "e-1", "claimed_at": NOW_ISO},
        {"request_id": "request#r-2", "execution_id": "e-2", "claimed_at": ""},
    ]
