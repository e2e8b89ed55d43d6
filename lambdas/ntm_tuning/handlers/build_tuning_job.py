"""State "Build tuning job": plan the tuning job on the prepared dataset."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from .. import planning
from ..state import BuildInput, dump
from ._deployment import settings
from ._runtime import data_store, logger, tracer, tuning_jobs


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    given = BuildInput.model_validate(event)
    result = planning.build_tuning_job(
        given.request,
        given.preparation,
        given.execution_id,
        settings(),
        data_store(),
        jobs=tuning_jobs(),
    )
    logger.info(
        "tuning job planned on the prepared dataset",
        extra={
            "outcome": result.outcome,
            "request_id": result.request_id,
            "dataset": dump(result.dataset) if result.dataset else None,
        },
    )
    return dump(result)
