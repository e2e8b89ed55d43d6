"""State "Summarize results": the best job, every job ranked, their topics read from the
training logs and scored, the report written, and the Succeeded detail."""

from __future__ import annotations

import time

from . import topic_report
from .aws import DataStore, SageMakerJobs
from .settings import Settings
from .state import SummarizeInput, Summary, dump
from .summary import rank_training_jobs, summarize_tuning_job
from .training_logs import TrainingLogs


def summarize_results(
    given: SummarizeInput,
    settings: Settings,
    jobs: SageMakerJobs,
    store: DataStore,
    logs: TrainingLogs | None = None,
    *,
    seconds_left: float | None = None,
) -> Summary:
    """Describe the best job, rank all of them, read their topics from their training logs,
    score them, write the report, and build the Succeeded detail.

    ``seconds_left``: the time this step may take; half of it goes to reading logs, and NPMI
    stops at 85% of it, so the report is always written."""
    started = time.monotonic()
    log_deadline = started + seconds_left * 0.5 if seconds_left else None
    npmi_deadline = started + seconds_left * 0.85 if seconds_left else None
    state = dump(given)
    name = given.tuning_job_name
    tuning_job = jobs.describe(name)
    summaries = jobs.training_jobs(name)
    described = {
        summary["TrainingJobName"]: jobs.describe_training_job(summary["TrainingJobName"])
        for summary in summaries
        if summary.get("TrainingJobStatus") in ("Completed", "Stopped", "Failed")
    }
    ranked = rank_training_jobs(summaries, described)
    report_key = f"{settings.report_prefix}{name}.json"
    report_uri = f"s3://{settings.artifacts_bucket}/{report_key}"
    best_name = tuning_job["BestTrainingJob"]["TrainingJobName"]
    best_training_job = described.get(best_name) or jobs.describe_training_job(best_name)
    logs = logs or TrainingLogs()
    # The best job first, so that it is read whatever the time budget allows.
    order = sorted(ranked, key=lambda job: job["name"] != best_name)
    found = topic_report.read_all(order, logs, deadline=log_deadline)
    npmi = topic_report.score_npmi(
        found,
        best_training_job,
        vocabulary_uri=state.get("vocabulary_uri"),
        store=store,
        max_bytes=settings.tuning.npmi_max_channel_bytes,
        deadline=npmi_deadline,
    )
    pareto = topic_report.annotate(ranked, found, npmi)
    detail = summarize_tuning_job(
        state=state,
        tuning_job=tuning_job,
        best_training_job=best_training_job,
        ranked=ranked,
        report_uri=report_uri,
        topic_fields=topic_report.event_fields(best_name, found, npmi, logs.log_group),
    )
    store.put_json(
        settings.artifacts_bucket,
        report_key,
        {
            "summary": dump(detail),
            "training_jobs": ranked,
            "pareto_front": pareto,
            # What was searched, and on which scale: the report's plots follow it.
            "parameter_ranges": (tuning_job.get("HyperParameterTuningJobConfig") or {}).get(
                "ParameterRanges", {}
            ),
        },
    )
    return Summary(detail=detail, report_uri=report_uri)
