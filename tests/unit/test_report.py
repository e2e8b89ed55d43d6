"""The HTML report: self-contained, and its figures hold every trial on the right axes (read
back from the figure data embedded in the page)."""

from __future__ import annotations

import functools
import json
import re
import sys
from typing import Any

import pytest

from ntm_cli import report

RANGES = {
    "CategoricalParameterRanges": [
        {"Name": "optimizer", "Values": ["sgd", "adam", "adadelta"]},
    ],
    "ContinuousParameterRanges": [
        {
            "Name": "learning_rate",
            "MinValue": "0.0001",
            "MaxValue": "0.1",
            "ScalingType": "Logarithmic",
        },
        {"Name": "weight_decay", "MinValue": "0.0", "MaxValue": "1.0", "ScalingType": "Linear"},
    ],
    "IntegerParameterRanges": [
        {"Name": "mini_batch_size", "MinValue": "16", "MaxValue": "2048", "ScalingType": "Auto"},
    ],
}
# name, objective, ended (minute), optimizer, learning_rate, weight_decay, mini_batch_size, billable
JOBS = [
    ("job-a", 7.5, 10, "sgd", "0.001", "0.5", "64", 300),
    ("job-b", 6.25, 12, "adam", "0.01", "0.1", "512", 420),
    ("job-c", 8.0, 15, "adadelta", "0.0002", "0.9", "16", 240),
    ("job-d", None, 16, "adam", "0.05", "0.3", "2048", 60),  # failed: no objective
    ("job-e", 5.5, 20, "adam", "0.003", "0.05", "128", 600),
]


def example_report(**summary_changes: Any) -> dict[str, Any]:
    jobs = []
    for rank, (name, objective, minute, optimizer, rate, decay, batch, billable) in enumerate(
        sorted(JOBS, key=lambda j: (j[1] is None, j[1] or 0)), start=1
    ):
        jobs.append(
            {
                "rank": rank,
                "name": name,
                "status": "Completed" if objective is not None else "Failed",
                "objective": objective,
                "tuned_hyperparameters": {
                    "optimizer": optimizer,
                    "learning_rate": rate,
                    "weight_decay": decay,
                    "mini_batch_size": batch,
                },
                "billable_seconds": billable,
                "training_seconds": billable,
                "model_artifact_uri": f"s3://artifacts/{name}/model.tar.gz",
                "failure_reason": None if objective is not None else "AlgorithmError",
                "started_at": f"2026-11-27T12:{minute - 5:02d}:00+00:00",
                "ended_at": f"2026-11-27T12:{minute:02d}:00+00:00",
            }
        )
    summary = {
        "request_id": "5c1d8e7f0a2b3c4d5e6f7a8b",
        "request_name": "demo <corpus>",
        "tuning_job": {
            "name": "ntm-5c1d",
            "strategy": "Bayesian",
            "status": "Completed",
            "counters": {
                "completed": 4,
                "in_progress": 0,
                "retryable_error": 0,
                "non_retryable_error": 1,
                "stopped": 0,
            },
        },
        "best_training_job": {
            "name": "job-e",
            "objective": {"metric_name": "validation:total_loss", "value": 5.5},
            "tuned_hyperparameters": {},
            "static_hyperparameters": {"feature_dim": "2000"},
            "model_artifact_uri": "s3://artifacts/job-e/model.tar.gz",
        },
        "billable_seconds": 1620,
        "cost": {
            "actual_usd": 0.33,
            "estimated_max_usd": 5.89,
            "instance_count": 2,
            "hourly_price_usd": 0.736,
        },
        "dataset": {
            "uri": "s3://data/prepared/x/",
            "corpus_uri": "s3://data/corpora/demo/",
            "documents": {"train": 3814, "validation": 466, "test": 476, "total": 4756},
            "dropped": {"too_short": 242},
            "vocabulary_size": 2000,
        },
        "report_uri": "s3://artifacts/reports/ntm-5c1d.json",
        **summary_changes,
    }
    return {"summary": summary, "training_jobs": jobs, "parameter_ranges": RANGES}


@functools.cache
def example_page() -> str:
    return report.render(example_report())


def figures(page: str) -> dict[str, dict[str, Any]]:
    found = re.findall(
        r'<script type="application/json" class="figure" id="figure-([a-z]+)-data"[^>]*>(.*?)</script>',
        page,
        flags=re.S,
    )
    return {name: json.loads(data) for name, data in found}


SCORED_BY_END = ["job-a", "job-b", "job-c", "job-e"]


def test_the_page_needs_no_network() -> None:
    page = report.render(example_report())
    # No script, style sheet or font loaded from elsewhere: plotly.js is inlined.
    assert not re.search(r"<script[^>]*\ssrc=|<link\b", page)
    assert len(re.findall(r"<script>", page)) == 3  # plotly.js, the figure loader, the table sort
    assert "Plotly.newPlot" in page
    assert "demo &lt;corpus&gt;" in page  # the request's own text is escaped


def test_objective_over_time_has_every_scored_trial_and_the_best_so_far() -> None:
    figure = figures(example_page())["objective"]
    trials, best = figure["data"]
    assert trials["text"] == SCORED_BY_END
    assert trials["y"] == [7.5, 6.25, 8.0, 5.5]
    assert best["y"] == [7.5, 6.25, 6.25, 5.5]
    assert trials["x"][0] == "2026-11-27T12:10:00+00:00"
    assert figure["layout"]["yaxis"]["title"]["text"] == "validation:total_loss"


def test_each_hyperparameter_against_the_objective_on_its_own_scale() -> None:
    figure = figures(example_page())["hyperparameters"]
    traces = {trace["name"]: trace for trace in figure["data"]}
    assert sorted(traces) == ["learning_rate", "mini_batch_size", "optimizer", "weight_decay"]
    for trace in traces.values():
        assert len(trace["y"]) == 4
    axes = {
        figure["layout"][f"xaxis{'' if i == 1 else i}"]["title"]["text"]: figure["layout"][
            f"xaxis{'' if i == 1 else i}"
        ]
        for i in range(1, 5)
    }
    assert axes["learning_rate"]["type"] == "log"
    assert axes["optimizer"]["type"] == "category"
    assert axes["optimizer"]["categoryarray"] == ["sgd", "adam", "adadelta"]
    assert "type" not in axes["weight_decay"] and "type" not in axes["mini_batch_size"]
    assert traces["learning_rate"]["x"] == [0.001, 0.01, 0.0002, 0.003]


def test_parallel_coordinates_have_a_dimension_per_hyperparameter_and_the_objective() -> None:
    (parcoords,) = figures(example_page())["parallel"]["data"]
    labels = [d["label"] for d in parcoords["dimensions"]]
    assert labels == [
        "log10 learning_rate",
        "mini_batch_size",
        "optimizer",
        "weight_decay",
        "validation:total_loss",
    ]
    for dimension in parcoords["dimensions"]:
        assert len(dimension["values"]) == 4
    optimizer = parcoords["dimensions"][2]
    assert optimizer["ticktext"] == ["sgd", "adam", "adadelta"]
    assert optimizer["values"] == [0, 1, 2, 1]
    assert parcoords["dimensions"][0]["values"] == pytest.approx(
        [-3, -2, -3.69897, -2.52288], abs=1e-4
    )


def test_importance_ranks_every_tuned_hyperparameter() -> None:
    figure = figures(example_page())["importance"]
    (bars,) = figure["data"]
    assert sorted(bars["y"]) == ["learning_rate", "mini_batch_size", "optimizer", "weight_decay"]
    assert sum(bars["x"]) == pytest.approx(1.0, abs=0.02)
    assert "fANOVA over 4 trials" in figure["layout"]["title"]["text"]


def test_without_optuna_the_report_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "optuna", None)
    page = report.render(example_report())
    assert "importance" not in figures(page)
    assert "Hyperparameter importance needs Optuna" in page


def test_cost_and_billable_time_of_every_job() -> None:
    bars, cost = figures(example_page())["cost"]["data"]
    assert bars["x"] == ["job-a", "job-b", "job-c", "job-d", "job-e"]  # by start time
    assert bars["y"] == [300, 420, 240, 60, 600]
    assert cost["y"] == [round(s * 2 * 0.736 / 3600, 4) for s in bars["y"]]


def test_the_table_holds_every_trial_and_the_dataset() -> None:
    page = example_page()
    table = page[page.index('<table class="sortable">') :]
    table = table[: table.index("</table>")]
    assert table.count("<tr>") == 1 + 5
    assert "AlgorithmError" not in table  # status is shown, not the reason
    assert table.count("Failed") == 1
    for words in ("documents: train", "3814", "dropped: too_short", "vocabulary size"):
        assert words in page


def test_topics_of_the_best_model_when_the_report_has_them() -> None:
    plain = example_page()
    assert "Not in this report" in plain
    document = example_report()
    document["training_jobs"][0]["topics"] = [
        {"words": ["loop", "event", "thread"]},
        ["date", "time"],
    ]
    page = report.render(document)
    assert "loop event thread" in page and "date time" in page


def test_the_demo_writes_the_report_of_its_tuning_job(tmp_path: Any) -> None:
    import boto3
    from moto import mock_aws

    from offline import demo

    document = example_report()
    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket="artifacts")
        s3.put_object(Bucket="artifacts", Key="reports/ntm-5c1d.json", Body=json.dumps(document))
        workflow = type("Workflow", (), {"s3": s3})()
        detail = {"report_uri": "s3://artifacts/reports/ntm-5c1d.json"}
        written = demo._write_report(detail, workflow, tmp_path / "out")
    assert written == (tmp_path / "out" / "report.html").resolve()
    assert json.loads((tmp_path / "out" / "report.json").read_text()) == document
    assert sorted(figures(written.read_text())) == sorted(
        ["objective", "hyperparameters", "parallel", "importance", "cost"]
    )
