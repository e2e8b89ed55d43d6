"""The tuning report as one self-contained HTML file: Plotly figures (plotly.js inlined, so it
opens with no network), hyperparameter importance from Optuna's fANOVA over a study rebuilt
from the trials, the sortable table of every training job, the dataset and the best topics.

Each figure's JSON sits in the page in a ``<script type="application/json" class="figure">``
element (read by the page's loader, and by anyone who wants the numbers).
"""

from __future__ import annotations

import html
import json
import math
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import plotly.graph_objects as go
from plotly.offline import get_plotlyjs
from plotly.subplots import make_subplots

OBJECTIVE = "validation:total_loss"


@dataclass(frozen=True)
class Parameter:
    name: str
    kind: str  # "Continuous", "Integer" or "Categorical"
    low: float | None = None
    high: float | None = None
    log: bool = False
    values: tuple[str, ...] = ()


def parameters(report: dict[str, Any]) -> list[Parameter]:
    """The tuned hyperparameters: from the tuning job's ranges where the report has them,
    otherwise inferred from the trials (numbers are continuous, anything else categorical)."""
    ranges = report.get("parameter_ranges") or {}
    found: dict[str, Parameter] = {}
    for kind, key in (
        ("Continuous", "ContinuousParameterRanges"),
        ("Integer", "IntegerParameterRanges"),
    ):
        for entry in ranges.get(key, []):
            found[entry["Name"]] = Parameter(
                entry["Name"],
                kind,
                float(entry["MinValue"]),
                float(entry["MaxValue"]),
                log=entry.get("ScalingType") == "Logarithmic",
            )
    for entry in ranges.get("CategoricalParameterRanges", []):
        found[entry["Name"]] = Parameter(
            entry["Name"], "Categorical", values=tuple(str(v) for v in entry["Values"])
        )
    tuned = sorted(
        {k for job in report["training_jobs"] for k in job.get("tuned_hyperparameters", {})}
    )
    for name in tuned:
        if name in found:
            continue
        values = [
            str(job["tuned_hyperparameters"][name])
            for job in report["training_jobs"]
            if name in job.get("tuned_hyperparameters", {})
        ]
        numbers = [_number(v) for v in values]
        if all(n is not None for n in numbers):
            present = [n for n in numbers if n is not None]
            found[name] = Parameter(name, "Continuous", min(present), max(present))
        else:
            found[name] = Parameter(name, "Categorical", values=tuple(sorted(set(values))))
    return [found[name] for name in sorted(found) if name in tuned]


def _number(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def trials(report: dict[str, Any]) -> list[dict[str, Any]]:
    """The training jobs that reported an objective, in the order they ended."""
    scored = [job for job in report["training_jobs"] if job.get("objective") is not None]
    return sorted(scored, key=lambda job: (job.get("ended_at") or "", job["name"]))


def _metric(report: dict[str, Any]) -> str:
    best = report["summary"]["best_training_job"]
    return str(best.get("objective", {}).get("metric_name") or OBJECTIVE)


# -- figures -----------------------------------------------------------------------------------
def objective_over_time(report: dict[str, Any]) -> go.Figure:
    scored = trials(report)
    metric = _metric(report)
    timed = all(job.get("ended_at") for job in scored)
    x: list[Any] = [job["ended_at"] for job in scored] if timed else list(range(1, len(scored) + 1))
    best, running = [], math.inf
    for job in scored:
        running = min(running, float(job["objective"]))
        best.append(running)
    figure = go.Figure()
    figure.add_trace(
        go.Scatter(
            x=x,
            y=[job["objective"] for job in scored],
            mode="markers",
            name="training job",
            text=[job["name"] for job in scored],
            hovertemplate="%{text}<br>%{y:.4f}<extra></extra>",
        )
    )
    figure.add_trace(go.Scatter(x=x, y=best, mode="lines", name="best so far", line_shape="hv"))
    figure.update_layout(
        title=f"{metric} of every training job" + (" (by end time)" if timed else " (in order)"),
        xaxis_title="training job ended" if timed else "training job",
        yaxis_title=metric,
    )
    return figure


def hyperparameters_vs_objective(report: dict[str, Any]) -> go.Figure:
    tuned = parameters(report)
    scored = trials(report)
    metric = _metric(report)
    columns = min(3, max(1, len(tuned)))
    rows = max(1, math.ceil(len(tuned) / columns))
    figure = make_subplots(
        rows=rows, cols=columns, subplot_titles=[p.name for p in tuned] or ["(nothing tuned)"]
    )
    for index, parameter in enumerate(tuned):
        row, column = index // columns + 1, index % columns + 1
        points = [job for job in scored if parameter.name in job["tuned_hyperparameters"]]
        values: list[Any] = [job["tuned_hyperparameters"][parameter.name] for job in points]
        if parameter.kind != "Categorical":
            values = [float(v) for v in values]
        figure.add_trace(
            go.Scatter(
                x=values,
                y=[job["objective"] for job in points],
                mode="markers",
                name=parameter.name,
                text=[job["name"] for job in points],
                showlegend=False,
            ),
            row=row,
            col=column,
        )
        axis: dict[str, Any] = {"title_text": parameter.name}
        if parameter.kind == "Categorical":
            axis.update(
                type="category", categoryorder="array", categoryarray=list(parameter.values)
            )
        elif parameter.log:
            axis.update(type="log")
        figure.update_xaxes(row=row, col=column, **axis)
        figure.update_yaxes(row=row, col=column, title_text=metric if column == 1 else None)
    figure.update_layout(
        title=f"each tuned hyperparameter against {metric}", height=max(350, 320 * rows)
    )
    return figure


def parallel_coordinates(report: dict[str, Any]) -> go.Figure:
    scored = trials(report)
    metric = _metric(report)
    dimensions = []
    for parameter in parameters(report):
        raw = [job["tuned_hyperparameters"].get(parameter.name) for job in scored]
        if parameter.kind == "Categorical":
            labels = list(parameter.values) or sorted({str(v) for v in raw})
            index = {label: number for number, label in enumerate(labels)}
            dimensions.append(
                {
                    "label": parameter.name,
                    "values": [index.get(str(v), -1) for v in raw],
                    "tickvals": list(range(len(labels))),
                    "ticktext": labels,
                }
            )
        elif parameter.log:
            dimensions.append(
                {
                    "label": f"log10 {parameter.name}",
                    "values": [
                        math.log10(float(v)) if v is not None and float(v) > 0 else None
                        for v in raw
                    ],
                }
            )
        else:
            dimensions.append(
                {
                    "label": parameter.name,
                    "values": [float(v) if v is not None else None for v in raw],
                }
            )
    objectives = [float(job["objective"]) for job in scored]
    dimensions.append({"label": metric, "values": objectives})
    figure = go.Figure(
        go.Parcoords(
            line={"color": objectives, "colorscale": "Viridis_r", "showscale": True},
            dimensions=dimensions,
        )
    )
    figure.update_layout(title="every training job across the hyperparameters (colour: objective)")
    return figure


def importance(report: dict[str, Any]) -> tuple[go.Figure | None, str]:
    """fANOVA importance of each tuned hyperparameter (Optuna); None and why, when it cannot be
    computed."""
    try:
        import optuna
        from optuna.distributions import (
            BaseDistribution,
            CategoricalDistribution,
            FloatDistribution,
            IntDistribution,
        )
        from optuna.importance import FanovaImportanceEvaluator
    except ImportError:
        return None, (
            "Hyperparameter importance needs Optuna, which is not installed here "
            "(pip install -r requirements-train.txt)."
        )
    tuned = parameters(report)
    distributions: dict[str, BaseDistribution] = {}
    for parameter in tuned:
        if parameter.kind == "Categorical":
            distributions[parameter.name] = CategoricalDistribution(list(parameter.values))
        elif parameter.kind == "Integer":
            assert parameter.low is not None and parameter.high is not None
            distributions[parameter.name] = IntDistribution(
                int(parameter.low), int(parameter.high), log=parameter.log
            )
        else:
            assert parameter.low is not None and parameter.high is not None
            distributions[parameter.name] = FloatDistribution(
                parameter.low, parameter.high, log=parameter.log
            )
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(direction="minimize")
    for job in trials(report):
        params: dict[str, Any] = {}
        for name, distribution in distributions.items():
            value = job["tuned_hyperparameters"].get(name)
            if value is None:
                break
            if isinstance(distribution, CategoricalDistribution):
                params[name] = str(value)
            elif isinstance(distribution, IntDistribution):
                params[name] = int(float(value))
            else:
                params[name] = float(value)
            if not distribution._contains(distribution.to_internal_repr(params[name])):
                break
        else:
            study.add_trial(
                optuna.trial.create_trial(
                    params=params, distributions=distributions, value=float(job["objective"])
                )
            )
    varied = [name for name, d in distributions.items() if not d.single()]
    if len(study.trials) < 2 or not varied:
        return None, "Hyperparameter importance needs at least two scored trials that vary."
    from optuna.visualization import plot_param_importances

    figure = plot_param_importances(
        study, evaluator=FanovaImportanceEvaluator(seed=0), params=varied
    )
    figure.update_layout(
        title=f"hyperparameter importance (fANOVA over {len(study.trials)} trials)"
    )
    return figure, ""


def cost_per_job(report: dict[str, Any]) -> go.Figure:
    jobs = sorted(
        report["training_jobs"], key=lambda job: (job.get("started_at") or "", job["name"])
    )
    cost = report["summary"].get("cost") or {}
    names = [job["name"] for job in jobs]
    billable = [int(job.get("billable_seconds") or 0) for job in jobs]
    figure = make_subplots(specs=[[{"secondary_y": True}]])
    figure.add_trace(go.Bar(x=names, y=billable, name="billable seconds"), secondary_y=False)
    if cost:
        rate = cost["instance_count"] * cost["hourly_price_usd"] / 3600
        figure.add_trace(
            go.Scatter(
                x=names, y=[round(s * rate, 4) for s in billable], name="cost (USD)", mode="markers"
            ),
            secondary_y=True,
        )
        figure.update_yaxes(title_text="USD", secondary_y=True)
    figure.update_yaxes(title_text="billable seconds", secondary_y=False)
    figure.update_layout(title="billable time and cost of each training job", xaxis_tickangle=-45)
    return figure


# -- the page ----------------------------------------------------------------------------------
_STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0 auto;
  max-width:1200px;padding:1.5rem;color:#222}
h1{font-size:1.6rem;margin-bottom:.2rem}
h2{font-size:1.2rem;margin-top:2rem;border-bottom:1px solid #ddd}
table{border-collapse:collapse;font-size:.85rem}
td,th{border:1px solid #ddd;padding:.25rem .5rem;text-align:left}
th{background:#f4f4f4}
table.sortable th{cursor:pointer}
table.sortable th:after{content:" \\2195";color:#aaa}
.cards{display:flex;flex-wrap:wrap;gap:1rem}
.card{border:1px solid #ddd;border-radius:6px;padding:.6rem 1rem;min-width:12rem}
.card b{display:block;font-size:1.3rem}
.note{color:#666;font-style:italic}
.topics td:first-child{text-align:right}
.wide{overflow-x:auto}
"""
# A click on a column header sorts the table by it (numbers as numbers), again to reverse.
_SORT = """
document.querySelectorAll('table.sortable').forEach(function(table){
  table.querySelectorAll('th').forEach(function(th,col){
    th.addEventListener('click',function(){
      var body=table.tBodies[0],rows=Array.from(body.rows),asc=th.dataset.asc!=='1';
      table.querySelectorAll('th').forEach(function(h){delete h.dataset.asc});
      th.dataset.asc=asc?'1':'0';
      function key(row){var c=row.cells[col];return c.dataset.v||c.textContent}
      rows.sort(function(a,b){
        var x=key(a),y=key(b),p=parseFloat(x),q=parseFloat(y);
        var c=(!isNaN(p)&&!isNaN(q))?p-q:x.localeCompare(y);
        return asc?c:-c});
      rows.forEach(function(r){body.appendChild(r)});
    });
  });
});
"""
_LOAD = """
document.querySelectorAll('script.figure').forEach(function(node){
  var figure=JSON.parse(node.textContent);
  Plotly.newPlot(node.dataset.target,figure.data,figure.layout,{responsive:true,displaylogo:false});
});
"""


def _e(value: Any) -> str:
    return html.escape("" if value is None else str(value))


def _figure(name: str, figure: go.Figure) -> str:
    data = figure.to_json().replace("</", "<\\/")
    return (
        f'<div id="figure-{name}" class="plot"></div>'
        f'<script type="application/json" class="figure" id="figure-{name}-data" '
        f'data-target="figure-{name}">{data}</script>'
    )


def _table(
    headers: list[str],
    rows: list[list[Any]],
    *,
    sortable: bool = False,
    values: list[list[Any]] | None = None,
) -> str:
    head = "".join(f"<th>{_e(h)}</th>" for h in headers)
    body = []
    for number, row in enumerate(rows):
        cells = []
        for column, cell in enumerate(row):
            sort_value = values[number][column] if values else None
            attribute = f' data-v="{_e(sort_value)}"' if sort_value is not None else ""
            cells.append(f"<td{attribute}>{_e(cell)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    css = ' class="sortable"' if sortable else ""
    return f"<table{css}><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _topics(report: dict[str, Any]) -> list[list[str]] | None:
    """Top words per topic of the best model, where the report knows them."""
    summary = report["summary"]
    best_name = summary["best_training_job"]["name"]
    candidates = [summary.get("topics"), summary["best_training_job"].get("topics")]
    candidates += [job.get("topics") for job in report["training_jobs"] if job["name"] == best_name]
    for topics in candidates:
        if isinstance(topics, list) and topics:
            words = []
            for topic in topics:
                if isinstance(topic, dict):
                    listed = topic.get("words") or topic.get("top_words") or []
                    words.append([str(w) for w in listed])
                elif isinstance(topic, list):
                    words.append([str(w) for w in topic])
            if any(words):
                return words
    return None


def _dataset(summary: dict[str, Any]) -> str:
    dataset = summary.get("dataset")
    if not dataset:
        static = summary["best_training_job"].get("static_hyperparameters", {})
        rows = [
            ["vocabulary (feature_dim)", static.get("feature_dim", "-")],
            ["vocabulary file", summary.get("vocabulary_uri") or "-"],
        ]
        return "<p class='note'>Prepared data supplied with the request.</p>" + _table(
            ["", ""], rows
        )
    rows = [[f"documents: {split}", count] for split, count in dataset.get("documents", {}).items()]
    rows += [[f"dropped: {reason}", count] for reason, count in dataset.get("dropped", {}).items()]
    rows += [
        ["vocabulary size", dataset.get("vocabulary_size")],
        ["dataset", dataset.get("uri")],
        ["corpus", dataset.get("corpus_uri")],
    ]
    return _table(["", ""], rows)


def render(report: dict[str, Any]) -> str:
    summary = report["summary"]
    best = summary["best_training_job"]
    metric = _metric(report)
    tuned = parameters(report)
    cost = summary.get("cost") or {}
    counters = summary["tuning_job"]["counters"]
    cards = [
        (f"best {metric}", f"{best['objective']['value']:.4f}"),
        ("training jobs", f"{len(report['training_jobs'])} ({counters['completed']} completed)"),
        ("billable time", f"{summary.get('billable_seconds', 0):,} s"),
    ]
    if cost:
        cards.append(
            ("cost", f"${cost['actual_usd']:.2f} of at most ${cost['estimated_max_usd']:.2f}")
        )
    quality = summary.get("topic_quality") or {}
    if quality.get("npmi") is not None:
        cards.append(
            (
                "topic quality",
                f"NPMI {quality['npmi']:.3f}, TU {quality.get('uniqueness') or 0:.3f}",
            )
        )

    sections = [
        "<h2>Objective over time</h2>" + _figure("objective", objective_over_time(report)),
        "<h2>Hyperparameters against the objective</h2>"
        + _figure("hyperparameters", hyperparameters_vs_objective(report)),
        "<h2>Parallel coordinates</h2>" + _figure("parallel", parallel_coordinates(report)),
    ]
    figure, why = importance(report)
    sections.append(
        "<h2>Hyperparameter importance</h2>"
        + (
            _figure("importance", figure)
            if figure is not None
            else f"<p class='note'>{_e(why)}</p>"
        )
    )
    sections.append("<h2>Billable time and cost</h2>" + _figure("cost", cost_per_job(report)))

    names = [p.name for p in tuned]
    # Topic scores of each job, where the report has them (read from the training log).
    quality_columns = [
        k
        for k in ("tu", "wetc", "npmi", "pareto")
        if any(job.get(k) is not None for job in report["training_jobs"])
    ]
    headers = [
        "rank",
        "training job",
        "status",
        metric,
        *names,
        *quality_columns,
        "billable s",
        "started",
        "ended",
    ]
    rows, values = [], []
    for job in report["training_jobs"]:
        objective = job.get("objective")
        row = [
            job.get("rank"),
            job["name"],
            job.get("status"),
            f"{objective:.4f}" if objective is not None else "-",
            *[job.get("tuned_hyperparameters", {}).get(n, "") for n in names],
            *[job.get(k) for k in quality_columns],
            job.get("billable_seconds"),
            job.get("started_at"),
            job.get("ended_at"),
        ]
        rows.append(row)
        values.append(
            [
                None,
                None,
                None,
                objective if objective is not None else "",
                *[None] * (len(names) + len(quality_columns)),
                None,
                None,
                None,
            ]
        )
    sections.append(
        "<h2>All training jobs</h2><p class='note'>Click a column to sort.</p><div class='wide'>"
        + _table(headers, rows, sortable=True, values=values)
        + "</div>"
    )
    sections.append("<h2>Dataset</h2>" + _dataset(summary))
    topics = _topics(report)
    sections.append(
        "<h2>Topics of the best model</h2>"
        + (
            "<table class='topics'>"
            + "".join(
                f"<tr><td>{n}</td><td>{_e(' '.join(w[:12]))}</td></tr>"
                for n, w in enumerate(topics)
            )
            + "</table>"
            if topics
            else "<p class='note'>Not in this report (SageMaker's NTM does not report the words "
            "of its topics).</p>"
        )
    )
    settings = _table(
        ["", ""],
        [
            ["best training job", best["name"]],
            ["tuned", json.dumps(best.get("tuned_hyperparameters", {}), sort_keys=True)],
            ["static", json.dumps(best.get("static_hyperparameters", {}), sort_keys=True)],
            ["model", best.get("model_artifact_uri")],
            [
                "tuning job",
                "{name} ({strategy}, {status})".format(**summary["tuning_job"]),
            ],
            ["started / ended", f"{summary.get('started_at')} / {summary.get('ended_at')}"],
            ["report", summary.get("report_uri")],
        ],
    )
    title = f"NTM tuning report: {summary.get('request_name') or summary['request_id']}"
    return (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>{_e(title)}</title><style>{_STYLE}</style>"
        f"<script>{get_plotlyjs()}</script></head><body>"
        f"<h1>{_e(title)}</h1><p class='note'>request {_e(summary['request_id'])}; generated "
        f"{_e(datetime.now().astimezone().isoformat(timespec='seconds'))}</p>"
        "<div class='cards'>"
        + "".join(f"<div class='card'>{_e(k)}<b>{_e(v)}</b></div>" for k, v in cards)
        + "</div>"
        "<h2>Best model</h2>"
        + settings
        + "".join(sections)
        + f"<script>{_LOAD}</script><script>{_SORT}</script></body></html>"
    )


def write(report: dict[str, Any], path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render(report), encoding="utf-8")
    return path.resolve()
