"""State "Summarize results": best job, ranking, report."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from .. import results
from ..state import SummarizeInput, dump
from ._deployment import settings
from ._runtime import data_store, logger, tracer, training_logs, tuning_jobs


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    given = SummarizeInput.model_validate(event)
    result = results.summarize_results(
        given,
        settings(),
        tuning_jobs(),
        data_store(),
        training_logs(),
        # Leave ten seconds to return the result.
        seconds_left=max(context.get_remaining_time_in_millis() / 1000 - 10, 1),
    )
    logger.info(
        "tuning job summarized",
        extra={
            "tuning_job_name": given.tuning_job_name,
            "report_uri": result.report_uri,
            "topics_unavailable": dump(result.detail).get("topics_unavailable"),
        },
    )
    return dump(result)
