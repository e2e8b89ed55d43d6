"""The handlers' custom CloudWatch metrics (only the handlers that emit one import this)."""

from __future__ import annotations

from aws_lambda_powertools.metrics import MetricUnit, single_metric
from aws_lambda_powertools.metrics.functions import is_metrics_disabled

from .. import metrics


def emit_metric(name: str, value: float, **dimensions: str) -> None:
    """One CloudWatch metric, in embedded metric format (no API call, no extra permission).

    POWERTOOLS_METRICS_DISABLED turns it off, as it does Powertools' own Metrics (which the
    single-metric helper does not consult).
    """
    if is_metrics_disabled():
        return
    with single_metric(
        name=name, unit=MetricUnit.Count, value=value, namespace=metrics.NAMESPACE
    ) as metric:
        for key, dimension in dimensions.items():
            metric.add_dimension(name=key, value=dimension)
