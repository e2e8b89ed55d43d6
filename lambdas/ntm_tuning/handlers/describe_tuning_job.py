"""State "Describe tuning job": where the tuning job stands, and its progress on the bus."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from .. import progress, tuning_job
from ._deployment import event_publisher, ledger
from ._runtime import logger, tracer, tuning_jobs


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    report = progress.ProgressReport(
        execution_id=event["execution_id"],
        request=event["request"],
        cost_estimate=event.get("cost_estimate"),
        ledger=ledger(),
        publisher=event_publisher(),
    )
    result = tuning_job.describe_tuning_job(
        event["tuning_job_name"], event["watch_deadline"], tuning_jobs(), progress=report
    )
    extra = {"tuning_job_name": event["tuning_job_name"], **result}
    if result["progress"].startswith("not published"):
        logger.warning("progress event not published", extra=extra)
    else:
        logger.info("tuning job described", extra=extra)
    return result
