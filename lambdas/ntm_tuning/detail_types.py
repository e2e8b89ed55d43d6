"""The detail types of the events the pipeline consumes and publishes on EventBridge.

Only names: their ``detail`` models are in ``events``, which re-exports them. What needs the
names alone (the metrics, and the handlers that emit them) need not load pydantic for them.
"""

from __future__ import annotations

REQUESTED = "NTM Tuning Requested"
SUCCEEDED = "NTM Tuning Job Succeeded"
REJECTED = "NTM Tuning Request Rejected"
FAILED = "NTM Tuning Job Failed"
STOPPED = "NTM Tuning Job Stopped"
PROGRESS = "NTM Tuning Job Progress"
