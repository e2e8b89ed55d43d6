"""State "Start dataset preparation": the Processing job that turns a corpus into a dataset."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from .. import preparation
from ..state import StartPreparationInput, dump
from ._deployment import ledger
from ._runtime import logger, tracer, tuning_jobs


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    given = StartPreparationInput.model_validate(event)
    result = preparation.start_dataset_preparation(
        given.preparation,
        given.execution_id,
        dump(given.request),
        tuning_jobs(),
        ledger(),
    )
    logger.info(
        "dataset preparation started",
        extra={"processing_job_name": given.preparation.processing_job_name, **dump(result)},
    )
    return dump(result)
