"""States "Publish ...": put the outcome on the results bus."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from .. import events, steps
from ._runtime import emit_metric, event_publisher, logger, tracer

OUTCOMES = {
    events.SUCCEEDED: "Succeeded",
    events.REJECTED: "Rejected",
    events.FAILED: "Failed",
    events.STOPPED: "Stopped",
}


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    result = steps.publish(event["detail_type"], event["state"], event_publisher())
    emit_metric("Outcome", 1, outcome=OUTCOMES[event["detail_type"]])
    logger.info("event published", extra=result)
    return result
