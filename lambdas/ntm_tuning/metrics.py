"""The custom CloudWatch metrics the handlers emit and the alarms and dashboard read.

Embedded metric format: Powertools adds the ``service`` dimension from
``POWERTOOLS_SERVICE_NAME``.
"""

from __future__ import annotations

from . import detail_types

NAMESPACE = "NtmTuning"
IN_FLIGHT = "TuningJobsInFlight"
OUTCOME = "Outcome"
# The ``outcome`` dimension of OUTCOME, by the detail type of the published event.
OUTCOMES = {
    detail_types.SUCCEEDED: "Succeeded",
    detail_types.REJECTED: "Rejected",
    detail_types.FAILED: "Failed",
    detail_types.STOPPED: "Stopped",
}
