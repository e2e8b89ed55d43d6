"""State "Release capacity": give the execution's slot back (a no-op if it holds none)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from .. import capacity, metrics
from ..state import ReleaseInput, dump
from ._deployment import ledger
from ._metrics import emit_metric
from ._runtime import logger, tracer


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    given = ReleaseInput.model_validate(event)
    result = capacity.release_capacity(given.execution_id, ledger())
    emit_metric(metrics.IN_FLIGHT, result.in_flight)
    logger.info("capacity released", extra=dump(result))
    return dump(result)
