"""State "Validate request": read and check the request, build the tuning job, claim it."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from .. import intake
from ..state import Rejected, ValidateInput, dump
from ._deployment import ledger, settings
from ._runtime import data_store, logger, tracer, tuning_jobs


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    given = ValidateInput.model_validate(event)
    result = intake.validate_request(
        given.delivery,
        given.execution_id,
        settings(),
        data_store(),
        ledger(),
        jobs=tuning_jobs(),
    )
    logger.info(
        "request validated",
        extra={
            "outcome": result.outcome,
            "request_id": result.request_id,
            "tuning_job_name": getattr(result, "tuning_job_name", None),
            "violations": dump(result.rejection)["violations"]
            if isinstance(result, Rejected)
            else None,
        },
    )
    return dump(result)
