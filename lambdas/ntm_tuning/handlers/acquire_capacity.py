"""State "Acquire capacity": one slot among the configured concurrent tuning jobs."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from .. import capacity, metrics
from ..state import AcquireInput, dump
from ._deployment import ledger, settings
from ._metrics import emit_metric
from ._runtime import logger, tracer


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    given = AcquireInput.model_validate(event)
    result = capacity.acquire_capacity(
        given.execution_id, ledger(), settings().tuning.max_concurrent_jobs
    )
    emit_metric(metrics.IN_FLIGHT, result.in_flight)
    logger.info(
        "capacity requested", extra={"tuning_job_name": given.tuning_job_name, **dump(result)}
    )
    return dump(result)
