"""State "Describe dataset preparation": where the Processing job stands."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from .. import preparation
from ._runtime import logger, tracer, tuning_jobs


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    result = preparation.describe_dataset_preparation(event["processing_job_name"], tuning_jobs())
    logger.info(
        "dataset preparation described",
        extra={"processing_job_name": event["processing_job_name"], **result},
    )
    return result
