"""Names of the workflow's states that tools watching an execution tell apart.

The state machine (``infra/workflow.py``) names its states with these; ``make demo`` and
``ntm-tuning watch`` read them from the execution's history.
"""

from __future__ import annotations

WAIT_FOR_CAPACITY = "Wait for capacity"
WAIT_FOR_TUNING_JOB = "Wait for tuning job"
DESCRIBE_TUNING_JOB = "Describe tuning job"
TUNING_JOB_STATUS = "Tuning job status"
WAIT_FOR_PREPARATION = "Wait for dataset preparation"
DESCRIBE_PREPARATION = "Describe dataset preparation"
PREPARATION_STATUS = "Dataset preparation status"

# The loops the workflow goes round while a job runs: progress says more than their names.
JOB_LOOPS = frozenset(
    {
        WAIT_FOR_TUNING_JOB,
        DESCRIBE_TUNING_JOB,
        TUNING_JOB_STATUS,
        WAIT_FOR_PREPARATION,
        DESCRIBE_PREPARATION,
        PREPARATION_STATUS,
    }
)
