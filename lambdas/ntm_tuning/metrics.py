"""The custom CloudWatch metrics the handlers emit and the alarms and dashboard read.

Embedded metric format: Powertools adds the ``service`` dimension from
``POWERTOOLS_SERVICE_NAME``.
"""

from __future__ import annotations

from . import events

NAMESPACE = "NtmTuning"
IN_FLIGHT = "TuningJobsInFlight"
OUTCOME = "Outcome"
# The ``outcome`` dimension of OUTCOME, by the detail type of the published event.
OUTCOMES = {
    events.SUCCEEDED: "Succeeded",
    events.REJECTED: "Rejected",
    events.FAILED: "Failed",
    events.STOPPED: "Stopped",
}
