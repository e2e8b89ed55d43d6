"""State "Describe tuning job": where the tuning job stands."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from .. import steps
from ._runtime import logger, tracer, tuning_jobs


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    result = steps.poll(event["tuning_job_name"], event["watch_deadline"], tuning_jobs())
    logger.info(
        "tuning job described",
        extra={"tuning_job_name": event["tuning_job_name"], **result},
    )
    return result
