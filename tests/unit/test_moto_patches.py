"""The offline world's changes to moto: each named and explained, all undone on exit."""

from __future__ import annotations

from typing import Any

from moto.awslambda_simple.models import LambdaSimpleBackend
from moto.dynamodb.models import DynamoDBBackend
from moto.logs.responses import LogsResponse
from moto.stepfunctions.parser.asl.component.common.error_name.error_equals_decl import (
    ErrorEqualsDecl,
)
from moto.stepfunctions.parser.asl.component.common.retry import retrier_decl
from moto.stepfunctions.parser.asl.component.state.exec.state_task import state_task_lambda
from moto.stepfunctions.parser.asl.component.state.wait.wait_function import wait_function

from offline import moto_patches


def patched_attributes() -> dict[str, Any]:
    return {
        "invoke": LambdaSimpleBackend.invoke,
        "put_item": DynamoDBBackend.put_item,
        "update_item": DynamoDBBackend.update_item,
        "delete_item": DynamoDBBackend.delete_item,
        "transact_write_items": DynamoDBBackend.transact_write_items,
        "wait": wait_function.WaitFunction._wait_interval,
        "retry clock": retrier_decl.time,
        "catch": ErrorEqualsDecl._eval_body,
        "lambda parameters": state_task_lambda.StateTaskLambda._eval_parameters,
        "filter log events": LogsResponse.filter_log_events,
    }


def seams(calls: list[tuple[str, Any]]) -> moto_patches.Seams:
    def invoke(name: str, body: Any, headers: dict[str, str]) -> bytes:
        calls.append(("invoke", name))
        return b"{}"

    return moto_patches.Seams(
        invoke=invoke,
        wait=lambda seconds, stopped: calls.append(("wait", seconds)),
        sleep=lambda seconds: calls.append(("sleep", seconds)),
    )


def test_every_patch_says_what_aws_does_that_moto_does_not() -> None:
    names = [patch.name for patch in moto_patches.PATCHES]
    assert len(set(names)) == len(names) == 7
    for patch in moto_patches.PATCHES:
        assert len(patch.reason) > 40, patch.name
        assert patch.source is None or patch.source.startswith("https://docs.aws.amazon.com/")
    # Only the two clock patches are about time rather than an AWS rule.
    assert [p.name for p in moto_patches.PATCHES if p.source is None] == [
        moto_patches.WAIT_ON_OFFLINE_CLOCK.name,
        moto_patches.RETRY_ON_OFFLINE_CLOCK.name,
    ]


def test_applied_replaces_each_attribute_and_restores_it_on_exit() -> None:
    before = patched_attributes()
    calls: list[tuple[str, Any]] = []
    with moto_patches.applied(seams(calls)) as patches:
        assert patches == moto_patches.PATCHES
        during = patched_attributes()
        assert [name for name in before if before[name] is during[name]] == []
        # The seams receive what moto would have done itself.
        assert LambdaSimpleBackend.invoke(None, "fn", None, b"", {}, {}) == b"{}"  # type: ignore[arg-type]
        retrier_decl.time.sleep(2.5)
    assert calls == [("invoke", "fn"), ("sleep", 2.5)]
    after = patched_attributes()
    assert [name for name in before if before[name] is not after[name]] == []
