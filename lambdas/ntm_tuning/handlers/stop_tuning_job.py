"""State "Stop tuning job": stop a job the workflow has stopped waiting for."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from .. import tuning_job
from ._runtime import logger, tracer, tuning_jobs


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    result = tuning_job.stop_tuning_job(event["tuning_job_name"], tuning_jobs())
    logger.info(
        "tuning job stop requested",
        extra={"tuning_job_name": event["tuning_job_name"], **result},
    )
    return result
