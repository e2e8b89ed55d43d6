"""Rule target for executions that ended early: no tuning job is left running unwatched."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from .. import cleanup, metrics
from ._deployment import event_publisher, ledger
from ._metrics import emit_metric
from ._runtime import engine, logger, tracer, tuning_jobs


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    result = cleanup.clean_up(event, tuning_jobs(), ledger(), event_publisher(), engine=engine())
    emit_metric(metrics.IN_FLIGHT, ledger().holders())
    logger.info("execution cleaned up", extra=result)
    return result
