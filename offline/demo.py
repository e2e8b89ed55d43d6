"""``python -m offline.demo [--corpus DIR]``: the whole product on this machine.

A corpus goes in (by default the docstrings of the Python standard library installed here:
thousands of real documents, no download), the deployed state machine runs it, the dataset is
prepared, NTMs are trained and tuned for real (PyTorch, Optuna), and the best model comes out
as the event production publishes. Progress and results go to stderr; the published event is
printed on stdout as one JSON line.
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import sys
import sysconfig
import tempfile
import time
from pathlib import Path
from typing import Any

from ntm_tuning.locations import split_uri

ROOT = Path(__file__).resolve().parents[1]
DEMO_REQUEST = ROOT / "examples" / "requests" / "demo-stdlib.json"
CORPUS_PREFIX = "corpora/demo/"
MIN_DOCSTRING = 60
# Waits run at this fraction of their length: the workflow polls without taking the cores, and
# a poll of the preparation job (60 s deployed) comes every 0.3 s.
CLOCK_SCALE = 0.002
_SKIP = {"test", "tests", "idlelib", "lib2to3", "site-packages", "dist-packages", "turtledemo"}


def stdlib_docstrings(target: Path) -> int:
    """Write the standard library's longer docstrings as JSON Lines; returns how many."""
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    count = 0
    with (target / "stdlib-docstrings.jsonl").open("w", encoding="utf-8") as out:
        for path in sorted(stdlib.rglob("*.py")):
            if _SKIP & set(path.relative_to(stdlib).parts):
                continue
            try:
                tree = ast.parse(path.read_bytes())
            except (SyntaxError, ValueError):
                continue
            module = path.relative_to(stdlib).with_suffix("").as_posix().replace("/", ".")
            for node in ast.walk(tree):
                if not isinstance(
                    node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef
                ):
                    continue
                text = ast.get_docstring(node)
                if text and len(text) >= MIN_DOCSTRING:
                    if isinstance(node, ast.Module):
                        doc_id = f"{module}:0"
                    else:
                        doc_id = f"{module}.{node.name}:{node.lineno}"
                    out.write(json.dumps({"id": doc_id, "text": text}) + "\n")
                    count += 1
    return count


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m offline.demo", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--corpus", type=Path, help="a folder of .txt/.jsonl/.csv documents")
    parser.add_argument("--request", type=Path, default=DEMO_REQUEST)
    parser.add_argument("--timeout", type=float, default=540.0)
    args = parser.parse_args(argv)

    from offline.local_engine import LocalTuner
    from offline.runtime import Clock, OfflineWorkflow
    from offline.template import synthesize

    stdout, log = sys.stdout, sys.stderr
    # Offline there is no CloudWatch to read embedded-format metrics: do not print them.
    os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
    sys.stdout = log  # stdout carries the event only
    started = time.monotonic()

    def say(message: str) -> None:
        print(f"[{time.monotonic() - started:6.1f}s] {message}", file=log, flush=True)

    with tempfile.TemporaryDirectory(prefix="ntm-demo-") as work:
        corpus = args.corpus
        if corpus is None:
            corpus = Path(work, "corpus")
            corpus.mkdir()
            say(f"corpus: {stdlib_docstrings(corpus)} docstrings of the Python standard library")
        else:
            say(f"corpus: {corpus}")
        template = synthesize()
        say("stack synthesized; running its state machine offline (AWS emulated by moto)")
        tuners: list[LocalTuner] = []

        def progress(done: int, total: int, best: float | None) -> None:
            best_text = f"{best:.4f}" if best is not None else "-"
            say(f"training jobs {done}/{total} done, best validation:total_loss {best_text}")

        def local_tuner(s3: Any) -> LocalTuner:
            tuners.append(LocalTuner(s3, workdir=Path(work, "tuner"), on_progress=progress))
            return tuners[-1]

        def transition(_: str, state: str) -> None:
            if state not in (
                "Wait for tuning job",
                "Describe tuning job",
                "Tuning job status",
                "Wait for dataset preparation",
                "Describe dataset preparation",
                "Dataset preparation status",
            ):
                say(f"state: {state}")

        with OfflineWorkflow(
            template, engine=local_tuner, clock=Clock(scale=CLOCK_SCALE), on_transition=transition
        ) as workflow:
            try:
                _send_handler_logs_to(log)
                workflow.upload_folder(corpus, CORPUS_PREFIX)
                execution = workflow.upload_request(
                    f"{workflow.request_prefix}{args.request.name}", args.request.read_bytes()
                )
                if execution is None:
                    say("the request was not delivered")
                    return 1
                result = workflow.wait(execution, timeout=args.timeout)
                say(f"execution {result.status}")
                events = workflow.published()
                for event in events:
                    _report(event, workflow, log)
                    stdout.write(json.dumps(event) + "\n")
            finally:
                for tuner in tuners:
                    tuner.close()
    sys.stdout = stdout
    return 0


def _report(event: dict[str, Any], workflow: Any, log: Any) -> None:
    detail = event["detail"]
    print(f"\n{event['detail-type']}", file=log)
    if event["detail-type"] != "NTM Tuning Job Succeeded":
        print(json.dumps(detail.get("reason") or detail.get("violations"), indent=2), file=log)
        return
    best = detail["best_training_job"]
    dataset = detail.get("dataset") or {}
    documents, words = dataset.get("documents"), dataset.get("vocabulary_size")
    print(f"dataset: {documents} documents, vocabulary {words}", file=log)
    print(f"best training job: {best['name']}", file=log)
    print(f"validation:total_loss = {best['objective']['value']:.4f}", file=log)
    print(
        "tuned hyperparameters:",
        json.dumps(best["tuned_hyperparameters"], sort_keys=True),
        file=log,
    )
    print(
        "static hyperparameters:",
        json.dumps(best["static_hyperparameters"], sort_keys=True),
        file=log,
    )
    quality = detail.get("topic_quality") or {}
    if quality:
        npmi, uniqueness = quality.get("npmi"), quality.get("uniqueness")
        print(
            f"trainer's topic quality (training documents): NPMI {npmi:.3f}, "
            f"uniqueness {uniqueness:.3f}",
            file=log,
        )
    for warning in detail.get("warnings") or []:
        print(f"WARNING ({warning['code']}): {warning['message']}", file=log)
    _report_topics(detail, workflow, log)
    print("", file=log)


def _report_topics(detail: dict[str, Any], workflow: Any, log: Any) -> None:
    """The best job's topics as the pipeline read them back from its training log, and every
    job's TU and NPMI from the report."""
    unavailable = detail.get("topics_unavailable")
    if unavailable:
        print(f"topics unavailable: {unavailable['reason']}: {unavailable['message']}", file=log)
    source = detail.get("topics_source") or {}
    if source:
        print(
            f"topics read back from CloudWatch Logs {source['log_group']}, stream "
            f"{source['log_stream']} (epoch {source['epoch']}): TU {detail['tu']}",
            file=log,
        )
        if detail.get("wetc") is None:
            print(f"WETC: not logged ({source.get('wetc_unavailable')})", file=log)
        else:
            print(f"WETC: {detail['wetc']}", file=log)
        if detail.get("npmi") is not None:
            print(
                f"NPMI on the held-out {source['npmi_channel']} channel "
                f"({source['npmi_documents']} documents): {detail['npmi']:.3f}",
                file=log,
            )
        elif source.get("npmi_unavailable"):
            reason = source["npmi_unavailable"]
            print(f"NPMI left out: {reason['reason']}: {reason['message']}", file=log)
        print("top words per topic (from the log):", file=log)
        for number, topic in enumerate(detail.get("topics") or []):
            print(f"  {number:2d} [tu {topic['tu']:.2f}]: {' '.join(topic['words'])}", file=log)
        if source["topics_shown"] < source["topics_total"]:
            print(f"  ... {source['topics_total']} in all, in the report", file=log)
    bucket, key = split_uri(detail["report_uri"])
    report = json.loads(workflow.s3.get_object(Bucket=bucket, Key=key)["Body"].read())
    front = report.get("pareto_front") or {}
    print(
        f"every training job (report; * = Pareto front of {', '.join(front.get('criteria', []))}):",
        file=log,
    )
    for job in report["training_jobs"]:
        loss, tu, npmi = job.get("objective"), job.get("tu"), job.get("npmi")
        print(
            f"  {'*' if job.get('pareto') else ' '} {job['rank']:2d} {job['name']} "
            f"{job['status']:<9} loss {'-' if loss is None else f'{loss:.4f}'} "
            f"TU {'-' if tu is None else f'{tu:.2f}'} "
            f"NPMI {'-' if npmi is None else f'{npmi:.3f}'}"
            + (
                f" ({job['topics_unavailable']['reason']})" if job.get("topics_unavailable") else ""
            ),
            file=log,
        )


def _send_handler_logs_to(stream: Any) -> None:
    from ntm_tuning.handlers._runtime import logger

    logger.registered_handler.setStream(stream)  # type: ignore[attr-defined]
    logger.setLevel("WARNING")


if __name__ == "__main__":
    sys.exit(main())
