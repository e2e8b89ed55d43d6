"""State "Describe tuning job": where the tuning job stands, and its progress on the bus."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from .. import progress, tuning_job
from ..state import DescribeInput, dump
from ._deployment import event_publisher, ledger
from ._runtime import logger, tracer, tuning_jobs


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    given = DescribeInput.model_validate(event)
    report = progress.ProgressReport(
        execution_id=given.execution_id,
        request=dump(given.request),
        cost_estimate=dump(given.cost_estimate) if given.cost_estimate else None,
        ledger=ledger(),
        publisher=event_publisher(),
    )
    result = tuning_job.describe_tuning_job(
        given.tuning_job_name, given.watch_deadline, tuning_jobs(), progress=report
    )
    extra = {"tuning_job_name": given.tuning_job_name, **dump(result)}
    if (result.progress or "").startswith("not published"):
        logger.warning("progress event not published", extra=extra)
    else:
        logger.info("tuning job described", extra=extra)
    return dump(result)
