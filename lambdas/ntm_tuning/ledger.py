"""The request ledger (DynamoDB): who handles which request, and how many tuning jobs run.

Three kinds of items share one table, told apart by their key:

- ``request#<request id>``: claimed by the first execution that handles the request. Any
  other execution for the same request is a duplicate delivery and ends quietly.
- ``capacity#tuning-jobs``: a counting semaphore. ``leases`` maps each holding execution to
  when it acquired; ``holders`` is their number, kept below the configured limit by a
  conditional update, so concurrent executions can never overshoot it.
- ``execution#<execution id>``: the request an execution handles and the job it started, so
  the clean-up of an execution that ended early can name the request and stop the job; and
  ``progress``, the detail of the last progress event published for that job, so the next
  poll publishes only a change and a user can see where the job stands.

The request's item also records its one terminal event (``outcome``: the detail type, the
execution that publishes it, and once it is on the bus, its event id). Whoever publishes
reserves it first with a conditional write, so a request never gets two.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError

from .aws import client, error_code
from .errors import LedgerThrottled

CAPACITY_KEY = "capacity#tuning-jobs"
_THROTTLED = frozenset(
    {"ProvisionedThroughputExceededException", "ThrottlingException", "RequestLimitExceeded"}
)


class Ledger:
    def __init__(self, table_name: str, *, ttl_days: int = 30, dynamodb: Any = None) -> None:
        self.table_name = table_name
        self.ttl_days = ttl_days
        self._dynamodb = dynamodb

    @property
    def dynamodb(self) -> Any:
        return self._dynamodb or client("dynamodb")

    def _call(self, method: str, **kwargs: Any) -> Any:
        try:
            return getattr(self.dynamodb, method)(TableName=self.table_name, **kwargs)
        except ClientError as error:
            if error_code(error) in _THROTTLED:
                raise LedgerThrottled(str(error)) from error
            raise

    def _expires(self, now: datetime) -> str:
        return str(int((now + timedelta(days=self.ttl_days)).timestamp()))

    # -- request claims ----------------------------------------------------------------------
    def claim(self, request_id: str, execution_id: str, *, now: datetime) -> bool:
        """True when this execution handles the request (first claim, or its own retry)."""
        try:
            self._call(
                "put_item",
                Item={
                    "pk": {"S": f"request#{request_id}"},
                    "execution_id": {"S": execution_id},
                    "claimed_at": {"S": now.isoformat()},
                    "expires_at": {"N": self._expires(now)},
                },
                ConditionExpression="attribute_not_exists(pk) OR execution_id = :execution",
                ExpressionAttributeValues={":execution": {"S": execution_id}},
            )
        except ClientError as error:
            if error_code(error) == "ConditionalCheckFailedException":
                return False
            raise
        return True

    # -- the one terminal event of a request ---------------------------------------------------
    def reserve_outcome(
        self, request_id: str, execution_id: str, detail_type: str, *, take_over: bool = False
    ) -> bool:
        """Reserve the request's terminal event for ``execution_id``; False when the request
        has (or is getting) one from elsewhere.

        The workflow reserves for its own execution (its retries find their own reservation).
        ``take_over``: the clean-up of an execution that ended, which may also take over that
        execution's reservation if the event never reached the bus.
        """
        condition = "attribute_not_exists(outcome) OR outcome_execution = :execution"
        if take_over:
            condition = (
                "attribute_not_exists(outcome) OR "
                "(outcome_execution = :execution AND attribute_not_exists(outcome_event_id))"
            )
        try:
            self._call(
                "update_item",
                Key={"pk": {"S": f"request#{request_id}"}},
                UpdateExpression="SET outcome = :type, outcome_execution = :execution",
                ConditionExpression=condition,
                ExpressionAttributeValues={
                    ":type": {"S": detail_type},
                    ":execution": {"S": execution_id},
                },
            )
        except ClientError as error:
            if error_code(error) == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def record_outcome(self, request_id: str, event_id: str) -> None:
        """The reserved terminal event is on the bus."""
        self._call(
            "update_item",
            Key={"pk": {"S": f"request#{request_id}"}},
            UpdateExpression="SET outcome_event_id = :event",
            ExpressionAttributeValues={":event": {"S": event_id}},
        )

    def outcome_of(self, request_id: str) -> dict[str, str] | None:
        """The request's terminal event: ``detail_type``, ``execution_id``, ``event_id``
        (absent until it is on the bus); None when it has none."""
        item = self._call(
            "get_item", Key={"pk": {"S": f"request#{request_id}"}}, ConsistentRead=True
        ).get("Item")
        if not item or "outcome" not in item:
            return None
        found = {
            "detail_type": item["outcome"]["S"],
            "execution_id": item["outcome_execution"]["S"],
        }
        if "outcome_event_id" in item:
            found["event_id"] = item["outcome_event_id"]["S"]
        return found

    def claimant(self, request_id: str) -> str | None:
        """The execution that claimed the request, if any."""
        item = self._call(
            "get_item", Key={"pk": {"S": f"request#{request_id}"}}, ConsistentRead=True
        ).get("Item")
        return item["execution_id"]["S"] if item else None

    # -- capacity ------------------------------------------------------------------------------
    def acquire(self, execution_id: str, limit: int, *, now: datetime) -> tuple[bool, int]:
        """Take one of ``limit`` slots for this execution; (admitted, holders now)."""
        try:
            self._call(
                "put_item",
                Item={"pk": {"S": CAPACITY_KEY}, "holders": {"N": "0"}, "leases": {"M": {}}},
                ConditionExpression="attribute_not_exists(pk)",
            )
        except ClientError as error:
            if error_code(error) != "ConditionalCheckFailedException":
                raise
        try:
            response = self._call(
                "update_item",
                Key={"pk": {"S": CAPACITY_KEY}},
                UpdateExpression="SET leases.#execution = :now ADD holders :one",
                ConditionExpression="holders < :limit AND attribute_not_exists(leases.#execution)",
                ExpressionAttributeNames={"#execution": execution_id},
                ExpressionAttributeValues={
                    ":now": {"S": now.isoformat()},
                    ":one": {"N": "1"},
                    ":limit": {"N": str(limit)},
                },
                ReturnValues="ALL_NEW",
            )
        except ClientError as error:
            if error_code(error) != "ConditionalCheckFailedException":
                raise
            leases, holders = self._capacity()
            # A retried step finds its own lease: it is already admitted.
            return execution_id in leases, holders
        return True, int(response["Attributes"]["holders"]["N"])

    def release(self, execution_id: str) -> tuple[bool, int]:
        """Give this execution's slot back; (released, holders now). Releasing twice is a no-op."""
        try:
            response = self._call(
                "update_item",
                Key={"pk": {"S": CAPACITY_KEY}},
                UpdateExpression="REMOVE leases.#execution ADD holders :minus_one",
                ConditionExpression="attribute_exists(leases.#execution)",
                ExpressionAttributeNames={"#execution": execution_id},
                ExpressionAttributeValues={":minus_one": {"N": "-1"}},
                ReturnValues="ALL_NEW",
            )
        except ClientError as error:
            if error_code(error) != "ConditionalCheckFailedException":
                raise
            return False, self._capacity()[1]
        return True, int(response["Attributes"]["holders"]["N"])

    def _capacity(self) -> tuple[dict[str, Any], int]:
        item = self._call("get_item", Key={"pk": {"S": CAPACITY_KEY}}, ConsistentRead=True).get(
            "Item", {}
        )
        return item.get("leases", {}).get("M", {}), int(item.get("holders", {}).get("N", "0"))

    def holders(self) -> int:
        return self._capacity()[1]

    # -- which job an execution started ----------------------------------------------------------
    def record_job(
        self,
        execution_id: str,
        request: dict[str, Any],
        *,
        now: datetime,
        tuning_job_name: str | None = None,
        processing_job_name: str | None = None,
    ) -> None:
        """Remember the job an execution started (the latest one), for its clean-up."""
        item: dict[str, Any] = {
            "pk": {"S": f"execution#{execution_id}"},
            "request": {"S": json.dumps(request, sort_keys=True)},
            "started_at": {"S": now.isoformat()},
            "expires_at": {"N": self._expires(now)},
        }
        if tuning_job_name:
            item["tuning_job_name"] = {"S": tuning_job_name}
        if processing_job_name:
            item["processing_job_name"] = {"S": processing_job_name}
        self._call("put_item", Item=item)

    def job_of(self, execution_id: str) -> dict[str, Any] | None:
        item = self._call(
            "get_item", Key={"pk": {"S": f"execution#{execution_id}"}}, ConsistentRead=True
        ).get("Item")
        if not item:
            return None
        return {
            "tuning_job_name": item.get("tuning_job_name", {}).get("S"),
            "processing_job_name": item.get("processing_job_name", {}).get("S"),
            "request": json.loads(item["request"]["S"]),
        }

    # -- progress of the tuning job ---------------------------------------------------------------
    def progress(self, execution_id: str) -> dict[str, Any] | None:
        """The last progress detail recorded for this execution's tuning job, if any."""
        item = self._call(
            "get_item",
            Key={"pk": {"S": f"execution#{execution_id}"}},
            ProjectionExpression="progress",
            ConsistentRead=True,
        ).get("Item")
        if not item or "progress" not in item:
            return None
        recorded: dict[str, Any] = json.loads(item["progress"]["S"])
        return recorded

    def record_progress(self, execution_id: str, progress: dict[str, Any]) -> bool:
        """Remember the progress just published; False when the execution has no job record."""
        try:
            self._call(
                "update_item",
                Key={"pk": {"S": f"execution#{execution_id}"}},
                UpdateExpression="SET progress = :progress",
                ConditionExpression="attribute_exists(pk)",
                ExpressionAttributeValues={
                    ":progress": {"S": json.dumps(progress, sort_keys=True)}
                },
            )
        except ClientError as error:
            if error_code(error) == "ConditionalCheckFailedException":
                return False
            raise
        return True

    # -- for people ---------------------------------------------------------------------------
    def claims(self) -> list[dict[str, str]]:
        """Every request claim still in the table: request id, execution, when (a full scan:
        for a person listing requests, never for the workflow)."""
        found: list[dict[str, str]] = []
        arguments: dict[str, Any] = {
            "FilterExpression": "begins_with(pk, :claim)",
            "ExpressionAttributeValues": {":claim": {"S": "request#"}},
        }
        while True:
            page = self._call("scan", **arguments)
            for item in page.get("Items", []):
                found.append(
                    {
                        "request_id": item["pk"]["S"].removeprefix("request#"),
                        "execution_id": item["execution_id"]["S"],
                        "claimed_at": item.get("claimed_at", {}).get("S", ""),
                    }
                )
            if "LastEvaluatedKey" not in page:
                return found
            arguments["ExclusiveStartKey"] = page["LastEvaluatedKey"]
