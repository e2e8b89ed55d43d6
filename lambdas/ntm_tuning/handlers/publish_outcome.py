"""States "Publish ...": put the outcome on the results bus."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from .. import metrics, outcomes
from ..state import PublishInput, dump
from ._deployment import event_publisher, ledger
from ._metrics import emit_metric
from ._runtime import engine, logger, tracer


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    given = PublishInput.model_validate(event)
    result = outcomes.publish_outcome(
        given.detail_type,
        given.state,
        event_publisher(),
        ledger(),
        given.execution_id,
        engine=engine(),
    )
    emit_metric(metrics.OUTCOME, 1, outcome=metrics.OUTCOMES[given.detail_type])
    logger.info("event published", extra=dump(result))
    return dump(result)
