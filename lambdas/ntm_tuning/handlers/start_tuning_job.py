"""State "Start tuning job": create it once, however often the request arrives."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from .. import tuning_job
from ..state import StartInput, dump
from ._deployment import ledger
from ._runtime import logger, tracer, tuning_jobs


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    given = StartInput.model_validate(event)
    result = tuning_job.start_tuning_job(
        given.tuning_job_name,
        given.create_request,
        given.execution_id,
        dump(given.request),
        tuning_jobs(),
        ledger(),
    )
    logger.info(
        "tuning job started", extra={"tuning_job_name": given.tuning_job_name, **dump(result)}
    )
    return dump(result)
