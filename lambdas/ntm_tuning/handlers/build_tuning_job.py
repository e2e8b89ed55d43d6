"""State "Build tuning job": plan the tuning job on the prepared dataset."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from .. import planning
from ._deployment import settings
from ._runtime import data_store, logger, tracer, tuning_jobs


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    result = planning.build_tuning_job(
        event["state"], event["execution_id"], settings(), data_store(), jobs=tuning_jobs()
    )
    logger.info(
        "tuning job planned on the prepared dataset",
        extra={
            "outcome": result["outcome"],
            "request_id": result["request_id"],
            "dataset": result.get("dataset"),
        },
    )
    return result
