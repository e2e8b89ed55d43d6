"""Every change the offline world makes to moto's internals, each named with the reason.

moto emulates the AWS APIs the stack uses, but not all of their behaviour: where AWS does
something moto does not (runs a Lambda function, applies a quota, refuses a combination of
parameters, writes an item atomically), one patch below restores it, so that the offline run
is at least as strict as AWS. Two more replace moto's real-time sleeps with the offline clock.
``PATCHES`` lists them all; ``applied`` installs them together and undoes them on exit.

Each patch replaces one attribute of a moto class or module (``mock.patch.object``), so the
patched names are those of the moto version pinned in requirements-dev.txt; a moto upgrade
that renames one fails ``applied`` with an ``AttributeError`` naming it.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, ExitStack, contextmanager
from dataclasses import dataclass
from typing import Any
from unittest import mock

# Terminal errors a Catch or Retry on States.ALL does not match (see STATES_ALL_CATCHES_ALL).
UNCATCHABLE_BY_STATES_ALL = ("States.DataLimitExceeded", "States.Runtime")


@dataclass(frozen=True)
class Seams:
    """What the patches hand over to the offline runtime.

    ``invoke(function_name, body, response_headers)``: run a Lambda function, return its
    response payload (an unhandled error sets ``x-amz-function-error`` in the headers).
    ``wait(seconds, stopped)``: a Wait state's wait, ending early once ``stopped`` is set.
    ``sleep(seconds)``: the pause before a Retry's next attempt.
    """

    invoke: Callable[[str, Any, dict[str, str]], bytes]
    wait: Callable[[float, threading.Event], None]
    sleep: Callable[[float], None]


@dataclass(frozen=True)
class Patch:
    """One change to moto: what AWS does that moto does not, and where AWS says so."""

    name: str
    reason: str
    source: str | None
    install: Callable[[Seams], AbstractContextManager[None]]


@contextmanager
def _lambda_runs_handler(seams: Seams) -> Iterator[None]:
    from moto.awslambda_simple.models import LambdaSimpleBackend

    def invoke(
        backend: Any,
        function_name: str,
        qualifier: Any,
        body: Any,
        headers: Any,
        response_headers: dict[str, str],
    ) -> bytes:
        return seams.invoke(function_name, body, response_headers)

    with mock.patch.object(LambdaSimpleBackend, "invoke", invoke):
        yield


@contextmanager
def _dynamodb_writes_atomic(seams: Seams) -> Iterator[None]:
    from moto.dynamodb.models import DynamoDBBackend

    lock = threading.RLock()
    with ExitStack() as stack:
        for name in ("put_item", "update_item", "delete_item", "transact_write_items"):
            original = getattr(DynamoDBBackend, name)

            def atomic(*args: Any, _original: Any = original, **kwargs: Any) -> Any:
                with lock:
                    return _original(*args, **kwargs)

            stack.enter_context(mock.patch.object(DynamoDBBackend, name, atomic))
        yield


@contextmanager
def _wait_on_offline_clock(seams: Seams) -> Iterator[None]:
    from moto.stepfunctions.parser.asl.component.state.wait.wait_function import wait_function

    def wait_interval(component: Any, env: Any, wait_seconds: int) -> None:
        # env.program_state_event is set when the execution is stopped: as in Step Functions,
        # an execution stopped while waiting ends at once.
        seams.wait(float(wait_seconds), env.program_state_event)

    with mock.patch.object(wait_function.WaitFunction, "_wait_interval", wait_interval):
        yield


@contextmanager
def _retry_on_offline_clock(seams: Seams) -> Iterator[None]:
    from moto.stepfunctions.parser.asl.component.common.retry import retrier_decl

    class RetryClock:
        @staticmethod
        def sleep(seconds: float) -> None:
            seams.sleep(float(seconds))

    with mock.patch.object(retrier_decl, "time", RetryClock):
        yield


@contextmanager
def _states_all_leaves_terminal_errors(seams: Seams) -> Iterator[None]:
    from moto.stepfunctions.parser.asl.component.common.error_name.error_equals_decl import (
        ErrorEqualsDecl,
    )
    from moto.stepfunctions.parser.asl.component.common.error_name.error_name import ErrorName

    original = ErrorEqualsDecl._eval_body

    def match(decl: Any, env: Any) -> None:
        error = env.stack[-1]
        if (
            isinstance(error, ErrorName)
            and error.error_name in UNCATCHABLE_BY_STATES_ALL
            and not any(name.error_name == error.error_name for name in decl.error_names)
        ):
            env.stack.pop()
            env.stack.append(False)
            return
        original(decl, env)

    with mock.patch.object(ErrorEqualsDecl, "_eval_body", match):
        yield


@contextmanager
def _lambda_input_measured(seams: Seams) -> Iterator[None]:
    from moto.stepfunctions.parser.asl.component.state.exec.state_task import state_task_lambda
    from moto.stepfunctions.parser.asl.component.state.state import CommonStateField

    original = state_task_lambda.StateTaskLambda._eval_parameters

    def parameters(task: Any, env: Any) -> dict[str, Any]:
        result: dict[str, Any] = original(task, env)
        CommonStateField._verify_size_quota(task, env, result["Payload"])
        return result

    with mock.patch.object(state_task_lambda.StateTaskLambda, "_eval_parameters", parameters):
        yield


@contextmanager
def strict_filter_log_events(seams: Seams | None = None) -> Iterator[None]:
    """moto's FilterLogEvents with CloudWatch Logs' rules for ``logStreamNamePrefix``
    (see ``FILTER_LOG_EVENTS_BY_PREFIX``); usable on its own, without a runtime."""
    from moto.logs.exceptions import InvalidParameterException
    from moto.logs.responses import LogsResponse

    original = LogsResponse.filter_log_events

    def filter_log_events(self: Any) -> str:
        prefix = self._get_param("logStreamNamePrefix")
        names = self._get_param("logStreamNames")
        if prefix is None:
            return str(original(self))
        if names:
            raise InvalidParameterException(
                msg="Cannot specify both logStreamNames and logStreamNamePrefix"
            )
        group = self.logs_backend.groups.get(self._get_param("logGroupName"))
        matching = [name for name in (group.streams if group else {}) if name.startswith(prefix)]
        if group is not None and not matching:
            return json.dumps({"events": [], "searchedLogStreams": []})
        get = self._get_param

        def get_param(name: str, if_none: Any = None) -> Any:
            return matching if name == "logStreamNames" else get(name, if_none)

        self._get_param = get_param
        try:
            return str(original(self))
        finally:
            del self._get_param

    with mock.patch.object(LogsResponse, "filter_log_events", filter_log_events):
        yield


LAMBDA_RUNS_HANDLER = Patch(
    "Lambda runs the function's handler",
    "moto's simple Lambda backend answers Invoke with a canned payload and runs no code; AWS "
    "runs the function and, when its handler raises, answers with the error as the payload "
    "and the X-Amz-Function-Error header. The offline runtime runs the real handler "
    "in-process and answers the same way.",
    "https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html",
    _lambda_runs_handler,
)
DYNAMODB_WRITES_ATOMIC = Patch(
    "DynamoDB checks a condition and writes as one step",
    "A conditional PutItem, UpdateItem or DeleteItem succeeds only if its condition holds for "
    "the item as it is when the write happens; moto evaluates the condition and writes in two "
    "steps, so two execution threads can both pass a condition only one of them should. One "
    "lock around every write makes each write atomic again (the ledger's capacity slots "
    "depend on it).",
    "https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/"
    "Expressions.ConditionExpressions.html",
    _dynamodb_writes_atomic,
)
WAIT_ON_OFFLINE_CLOCK = Patch(
    "Wait states follow the offline clock",
    "moto sleeps a Wait state's seconds in real time; offline they are recorded and scaled "
    "(runtime.Clock), and a stopped execution still wakes from its Wait at once.",
    None,
    _wait_on_offline_clock,
)
RETRY_ON_OFFLINE_CLOCK = Patch(
    "Retry intervals follow the offline clock",
    "moto sleeps each Retry interval in real time; offline it is recorded and scaled "
    "(runtime.Clock), so tests can read the intervals the definition asks for.",
    None,
    _retry_on_offline_clock,
)
STATES_ALL_CATCHES_ALL = Patch(
    "States.ALL does not catch States.DataLimitExceeded or States.Runtime",
    "AWS: the States.ALL error type can't catch the States.DataLimitExceeded terminal error "
    "and Runtime error types; moto lets a Catch or Retry on States.ALL match them. Only a "
    "Catch or Retry naming the error matches it.",
    "https://docs.aws.amazon.com/step-functions/latest/dg/concepts-error-handling.html",
    _states_all_leaves_terminal_errors,
)
LAMBDA_INPUT_MEASURED = Patch(
    "A Lambda task's input is measured against the payload quota",
    "moto fails a state whose output or task result is over 256 KiB with "
    "States.DataLimitExceeded, but not a Lambda task's input after Parameters processing, "
    "which AWS lists among that error's causes.",
    "https://docs.aws.amazon.com/step-functions/latest/dg/concepts-error-handling.html",
    _lambda_input_measured,
)
FILTER_LOG_EVENTS_BY_PREFIX = Patch(
    "FilterLogEvents honours logStreamNamePrefix",
    "moto ignores logStreamNamePrefix (it returns every stream's events) and accepts it "
    "together with logStreamNames, which CloudWatch Logs refuses with "
    "InvalidParameterException.",
    "https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_FilterLogEvents.html",
    strict_filter_log_events,
)

PATCHES: tuple[Patch, ...] = (
    LAMBDA_RUNS_HANDLER,
    DYNAMODB_WRITES_ATOMIC,
    WAIT_ON_OFFLINE_CLOCK,
    RETRY_ON_OFFLINE_CLOCK,
    STATES_ALL_CATCHES_ALL,
    LAMBDA_INPUT_MEASURED,
    FILTER_LOG_EVENTS_BY_PREFIX,
)


@contextmanager
def applied(seams: Seams) -> Iterator[tuple[Patch, ...]]:
    """Every patch of ``PATCHES`` installed, in order, until the block ends."""
    with ExitStack() as stack:
        for patch in PATCHES:
            stack.enter_context(patch.install(seams))
        yield PATCHES
