"""``python -m offline.demo [--corpus DIR] [options]``: the whole product on this machine.

A corpus goes in (by default the docstrings of the Python standard library installed here:
thousands of real documents, no download), the deployed state machine runs it, the dataset is
prepared, NTMs are trained and tuned for real (PyTorch, Optuna), and the best model comes out
as the event production publishes. Progress and results go to stderr; the published event is
printed on stdout as one JSON line.
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import json
import logging
import os
import sys
import sysconfig
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from ntm_tuning import states
from ntm_tuning.locations import split_uri

ROOT = Path(__file__).resolve().parents[1]
DEMO_REQUEST = ROOT / "examples" / "requests" / "demo-stdlib.json"
CORPUS_PREFIX = "corpora/demo/"
MIN_DOCSTRING = 60
# Waits run at this fraction of their length (a poll of the preparation job, every 60 s when
# deployed, comes every 0.3 s) and end early when a local job changes state.
CLOCK_SCALE = 0.005
_SKIP = {"test", "tests", "idlelib", "lib2to3", "site-packages", "dist-packages", "turtledemo"}

# Exit codes.
SUCCEEDED = 0
NOT_SUCCEEDED = 1  # the request was rejected, or its tuning failed or was stopped
USAGE = 2  # the command line, the request file or the corpus folder is wrong
TIMED_OUT = 3
INTERRUPTED = 130

# States the workflow loops through while it waits: shown once per stretch, not per poll.
_POLLING = states.JOB_LOOPS | {states.WAIT_FOR_CAPACITY}

# Why the preparation skipped a file or a document, the setting behind the rule, and the fix.
# The reasons are preparation.corpus.REASONS; a test checks that each has its explanation.
DROPPED: dict[str, tuple[str, str]] = {
    "too_few_tokens": (
        "fewer than corpus.min_document_tokens ({min_document_tokens}) words of the vocabulary",
        "lower --min-document-tokens, or keep more words (corpus.min_df, corpus.max_df, "
        "corpus.max_vocabulary in a --request file)",
    ),
    "empty": ("no text, or only white space", "remove the empty files or lines"),
    "binary": (
        "not text: a NUL byte in its first 8 KiB (in a .txt file: anywhere)",
        "convert it to text first (pdftotext, pandoc...), or remove it",
    ),
    "bad_encoding": ("not valid UTF-8", "re-encode it as UTF-8 (iconv -t UTF-8)"),
    "bad_json": ("a .jsonl line that is not a JSON object", "one JSON object per line"),
    "bad_csv": ("a CSV row that cannot be parsed", "check the quoting of that row"),
    "missing_text": (
        'no text in the field corpus.text_field ("{text_field}") or CSV column '
        'corpus.text_column ("{text_column}")',
        "name the field that holds the text: --text-field NAME",
    ),
    "too_large": (
        "more than corpus.max_document_bytes ({max_document_bytes:,}) bytes of text",
        "split it into smaller documents, or raise --max-document-bytes",
    ),
    "unsupported_file": (
        "a name that does not end in .txt, .jsonl or .csv (optionally .gz)",
        "rename text files to .txt; convert other formats to text",
    ),
    "unreadable": (
        "could not be read (permissions, or a damaged .gz file)",
        "check the file's permissions, or compress it again",
    ),
}


class UserError(Exception):
    """A mistake in the command line, the request file or the corpus: said, not traced."""


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


# -- the command line ----------------------------------------------------------------------------
EPILOG = """\
Each option sets one field of the request (examples/requests/demo-stdlib.json unless --request
names another), so that a run needs no request file:
  --topics                 hyperparameters.num_topics
  --epochs                 hyperparameters.epochs
  --jobs, --parallel-jobs  resource_limits.max_jobs, resource_limits.max_parallel_jobs
  --strategy, --seed       strategy, random_seed
  --text-field             corpus.text_field and corpus.text_column (JSON Lines field, CSV column)
  --min-document-tokens    corpus.min_document_tokens
  --max-document-bytes     corpus.max_document_bytes
With --request, the corpus folder is loaded under that request's corpus.prefix.

From make: make demo CORPUS=~/my-texts ARGS="--topics 30 --jobs 4 --epochs 20".

Exit status: 0 the tuning job succeeded; 1 the request was rejected, or tuning failed or was
stopped (every reason is printed); 2 a wrong option, request file or corpus folder; 3 the
--timeout ran out; 130 stopped by Ctrl-C. Ctrl-C (or a timeout) stops the execution and the
local training jobs cleanly.
"""


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if value < 0:
        raise argparse.ArgumentTypeError("must be 0 (no limit) or more seconds")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m offline.demo",
        description=__doc__.split("\n")[0].split(": ", 1)[1],
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--corpus",
        type=Path,
        metavar="DIR",
        help="a folder of .txt (a document a file), .jsonl or .csv files, optionally .gz "
        "(default: the docstrings of this Python's standard library)",
    )
    parser.add_argument(
        "--request",
        type=Path,
        metavar="FILE",
        help="a corpus request (JSON) to send instead of the demo's; options below override it",
    )
    parser.add_argument("--topics", type=int, metavar="N", help="number of topics")
    parser.add_argument("--epochs", type=int, metavar="N", help="epochs per training job")
    parser.add_argument("--jobs", type=int, metavar="N", help="training jobs in all")
    parser.add_argument("--parallel-jobs", type=int, metavar="N", help="training jobs at a time")
    parser.add_argument(
        "--strategy", choices=("Bayesian", "Random", "Grid", "Hyperband"), help="search strategy"
    )
    parser.add_argument("--seed", type=int, metavar="N", help="random seed of the search")
    parser.add_argument(
        "--text-field", metavar="NAME", help='the JSON field or CSV column of the text ("text")'
    )
    parser.add_argument(
        "--min-document-tokens",
        type=int,
        metavar="N",
        help="fewest vocabulary words a document needs to be kept",
    )
    parser.add_argument(
        "--max-document-bytes",
        type=int,
        metavar="N",
        help="largest document, in bytes of text (default 1,000,000)",
    )
    parser.add_argument(
        "--timeout",
        type=_seconds,
        default=0.0,
        metavar="SECONDS",
        help="give up after this long, stopping everything cleanly (default 0: no limit; "
        "Ctrl-C stops at any time)",
    )
    parser.add_argument(
        "--template",
        type=Path,
        metavar="FILE",
        help="a synthesized template (cdk.out/NtmTuning.template.json) instead of a synth now",
    )
    parser.add_argument(
        "--verbose", action="store_true", help="also show the handlers' and the emulator's logs"
    )
    parser.add_argument(
        "--report-dir",
        type=Path,
        default=Path("ntm-tuning-demo"),
        metavar="DIR",
        help="where the tuning job's report goes: report.json and report.html "
        "(default ntm-tuning-demo)",
    )
    return parser


def load_request(args: argparse.Namespace) -> tuple[dict[str, Any], str]:
    """The request to send (the file's, with the options applied) and its file name."""
    path: Path = args.request or DEMO_REQUEST
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UserError(f"request file {path} does not exist") from None
    except IsADirectoryError:
        raise UserError(f"request file {path} is a folder, not a JSON file") from None
    except (OSError, UnicodeDecodeError) as error:
        raise UserError(f"request file {path} cannot be read: {error}") from None
    try:
        request = json.loads(text)
    except json.JSONDecodeError as error:
        raise UserError(
            f"request file {path} is not JSON: {error.msg} at line {error.lineno}, "
            f"column {error.colno}"
        ) from None
    if not isinstance(request, dict):
        raise UserError(f"request file {path} must hold a JSON object (a request)")
    corpus = request.get("corpus")
    if not isinstance(corpus, dict) or not isinstance(corpus.get("prefix"), str):
        raise UserError(
            f"request file {path} has no corpus.prefix: the demo sends a corpus request "
            "(raw documents); for a request on prepared data use make local-run"
        )
    hyperparameters = request.setdefault("hyperparameters", {})
    limits = request.setdefault("resource_limits", {})
    if not isinstance(hyperparameters, dict) or not isinstance(limits, dict):
        raise UserError(f"request file {path}: hyperparameters and resource_limits are objects")
    for value, target, name in (
        (args.topics, hyperparameters, "num_topics"),
        (args.epochs, hyperparameters, "epochs"),
        (args.jobs, limits, "max_jobs"),
        (args.parallel_jobs, limits, "max_parallel_jobs"),
        (args.strategy, request, "strategy"),
        (args.seed, request, "random_seed"),
        (args.text_field, corpus, "text_field"),
        (args.text_field, corpus, "text_column"),
        (args.min_document_tokens, corpus, "min_document_tokens"),
        (args.max_document_bytes, corpus, "max_document_bytes"),
    ):
        if value is not None:
            target[name] = value
    if args.jobs is not None and args.parallel_jobs is None:
        parallel = limits.get("max_parallel_jobs")
        if isinstance(parallel, int) and parallel > args.jobs:
            limits["max_parallel_jobs"] = args.jobs
    # The folder goes into the emulated data bucket under the request's own key prefix.
    prefix = corpus["prefix"]
    if prefix.startswith("s3://"):
        prefix = split_uri(prefix)[1]
    corpus["prefix"] = prefix.rstrip("/") + "/" if prefix.strip("/") else CORPUS_PREFIX
    return request, path.name


def check_corpus(folder: Path) -> int:
    """Raise UserError unless ``folder`` is a readable folder holding a file; the files."""
    shown = str(folder)
    if not folder.exists():
        hint = "" if folder.is_absolute() else f" (relative to {Path.cwd()})"
        raise UserError(f"corpus folder {shown} does not exist{hint}")
    if not folder.is_dir():
        raise UserError(
            f"corpus {shown} is a file, not a folder: give the folder that holds the documents "
            f"(CORPUS={folder.parent} takes every file in it)"
        )
    try:
        files = sum(1 for path in folder.rglob("*") if path.is_file())
    except OSError as error:
        raise UserError(f"corpus folder {shown} cannot be read: {error}") from None
    if not files:
        raise UserError(
            f"corpus folder {shown} holds no files: put .txt (a document a file), .jsonl or "
            ".csv files in it"
        )
    return files


# -- progress ------------------------------------------------------------------------------------
@dataclass
class Display:
    """What the user sees on stderr: one line per change, a progress bar on a terminal."""

    stream: TextIO
    jobs: int | None = None  # the request's max_jobs, for the bar
    started: float = field(default_factory=time.monotonic)
    state: str | None = None
    training: tuple[int, int] | None = None
    _shown: str | None = None
    _bar: Any = None
    _task: Any = None

    def __post_init__(self) -> None:
        if self.stream.isatty():
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

            console = Console(file=self.stream, highlight=False)
            self._bar = Progress(
                "{task.description}",
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=console,
                transient=True,
            )

    def say(self, message: str) -> None:
        line = f"[{time.monotonic() - self.started:6.1f}s] {message}"
        if self._bar is not None and self._bar.live.is_started:
            self._bar.console.print(line, markup=False)
        else:
            print(line, file=self.stream, flush=True)

    def entered(self, state: str) -> None:
        self.state = state
        if state == "Start tuning job" and self.jobs:
            self._start_bar(self.jobs)
        # A polling loop is one line when it starts, not one per poll.
        shown = f"waiting for {_waited_for(state)}" if state in _POLLING else f"state: {state}"
        if shown != self._shown:
            self._shown = shown
            self.say(shown)

    def progress(self, done: int, total: int, best: float | None) -> None:
        if self.training == (done, total):
            return
        self.training = (done, total)
        best_text = f"{best:.4f}" if best is not None else "-"
        self.say(f"training jobs {done}/{total} done, best validation:total_loss {best_text}")
        if self._bar is not None:
            self._start_bar(total)
            self._bar.update(self._task, completed=done, total=total)

    def _start_bar(self, total: int) -> None:
        if self._bar is not None and self._task is None:
            self._bar.start()
            self._task = self._bar.add_task("training jobs", total=total)

    def close(self) -> None:
        if self._bar is not None and self._bar.live.is_started:
            self._bar.stop()


def _waited_for(state: str) -> str:
    return "the dataset preparation" if "preparation" in state else "the tuning job"


# -- the run -------------------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    log = sys.stderr
    try:
        request, name = load_request(args)
        if args.corpus is not None:
            check_corpus(args.corpus)
        if args.template is not None and not args.template.is_file():
            raise UserError(f"template file {args.template} does not exist")
    except UserError as error:
        print(f"error: {error}", file=log)
        return USAGE
    jobs = request["resource_limits"].get("max_jobs")
    display = Display(log, jobs=jobs if isinstance(jobs, int) and jobs > 0 else None)
    try:
        return _run(args, request, name, display)
    except UserError as error:
        display.close()
        print(f"error: {error}", file=log)
        return USAGE
    except KeyboardInterrupt:
        display.close()
        print("stopped by Ctrl-C before the request was sent", file=log)
        return INTERRUPTED
    finally:
        display.close()


@contextlib.contextmanager
def _quiet_emulator(verbose: bool) -> Iterator[None]:
    """moto's own logs (its state machine interpreter reports every caught error with object
    dumps) are for debugging the emulator, not for the user: off unless --verbose."""
    emulator = logging.getLogger("moto")
    saved = emulator.level, emulator.propagate
    if not verbose:
        emulator.setLevel(logging.CRITICAL + 1)
        emulator.propagate = False
    try:
        yield
    finally:
        emulator.setLevel(saved[0])
        emulator.propagate = saved[1]


def _run(args: argparse.Namespace, request: dict[str, Any], name: str, display: Display) -> int:
    from offline.local_engine import LocalTuner
    from offline.runtime import Clock, OfflineWorkflow
    from offline.template import load, synthesize

    stdout, log = sys.stdout, sys.stderr
    say = display.say
    # Offline there is no CloudWatch to read embedded-format metrics: do not print them.
    os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
    prefix = request["corpus"]["prefix"]
    with tempfile.TemporaryDirectory(prefix="ntm-demo-") as work, _quiet_emulator(args.verbose):
        corpus = args.corpus
        if corpus is None:
            corpus = Path(work, "corpus")
            corpus.mkdir()
            say(f"corpus: {stdlib_docstrings(corpus)} docstrings of the Python standard library")
        else:
            say(f"corpus: {corpus}")
        template = load(args.template) if args.template else synthesize()
        say("stack synthesized; running its state machine offline (AWS emulated by moto)")
        tuners: list[LocalTuner] = []
        clock = Clock(scale=CLOCK_SCALE)

        def progress(done: int, total: int, best: float | None) -> None:
            display.progress(done, total, best)
            clock.wake()

        def local_tuner(s3: Any) -> LocalTuner:
            tuners.append(LocalTuner(s3, workdir=Path(work, "tuner"), on_progress=progress))
            return tuners[-1]

        sys.stdout = log  # stdout carries the event only
        try:
            with OfflineWorkflow(
                template,
                engine=local_tuner,
                clock=clock,
                on_transition=lambda _, state: display.entered(state),
            ) as workflow:
                try:
                    _send_handler_logs_to(log, args.verbose)
                    say("emulated AWS ready")
                    keys = workflow.upload_folder(corpus, prefix)
                    say(f"corpus loaded into the emulated data bucket: {len(keys)} files")
                    body = json.dumps(request).encode()
                    execution = workflow.upload_request(f"{workflow.request_prefix}{name}", body)
                    if execution is None:
                        say("the request was not delivered: no rule matched its upload")
                        return NOT_SUCCEEDED
                    code = _follow(workflow, execution, args, display, tuners)
                    if code is not None:
                        return code
                    events = workflow.published()
                    display.close()
                    succeeded = False
                    for event in events:
                        succeeded |= _report(event, workflow, log, args.corpus)
                        stdout.write(json.dumps(event) + "\n")
                        if event["detail-type"] == "NTM Tuning Job Succeeded":
                            report = _write_report(event["detail"], workflow, args.report_dir)
                            say(f"report: {report}")
                    if not events:
                        print("no event was published", file=log)
                    return SUCCEEDED if succeeded else NOT_SUCCEEDED
                finally:
                    for tuner in tuners:
                        tuner.close()
        finally:
            sys.stdout = stdout


def _follow(
    workflow: Any,
    execution: str,
    args: argparse.Namespace,
    display: Display,
    tuners: list[Any],
) -> int | None:
    """Wait for the execution; on a timeout or Ctrl-C stop everything and say so."""
    try:
        result = workflow.wait(execution, timeout=args.timeout or float("inf"))
    except TimeoutError:
        display.state = current_state(workflow, execution) or display.state
        where = _where(display)
        display.close()
        _stop(workflow, execution, tuners, display)
        print(
            f"timed out: still running after --timeout {args.timeout:g} s, {where}. Everything "
            'was stopped. Give it more time with --timeout SECONDS (make demo ARGS="--timeout '
            f'{max(60, int(args.timeout * 4))}"), or none with --timeout 0 (the default).',
            file=sys.stderr,
        )
        return TIMED_OUT
    except KeyboardInterrupt:
        display.state = current_state(workflow, execution) or display.state
        where = _where(display)
        display.close()
        _stop(workflow, execution, tuners, display)
        print(f"stopped by Ctrl-C, {where}.", file=sys.stderr)
        return INTERRUPTED
    display.say(f"execution {result.status}")
    return None


def current_state(workflow: Any, execution: str) -> str | None:
    """The state the execution entered last, from its history."""
    with contextlib.suppress(Exception):
        events = workflow.sfn.get_execution_history(executionArn=execution, maxResults=1000)[
            "events"
        ]
        for event in reversed(events):
            if "stateEnteredEventDetails" in event:
                return str(event["stateEnteredEventDetails"]["name"])
    return None


def _where(display: Display) -> str:
    where = f"in state {display.state!r}" if display.state else "before its first state"
    if display.training:
        done, total = display.training
        where += f" with {done} of {total} training jobs done"
    return where


def let_threads_finish(timeout: float = 15.0) -> None:
    """Give the emulator's threads (a stopped execution finishing the state it was in) time to
    end: a thread still inside a handler when the interpreter exits can abort the process."""
    deadline = time.monotonic() + timeout
    for thread in threading.enumerate():
        if thread is not threading.current_thread() and thread.is_alive():
            thread.join(max(0.0, deadline - time.monotonic()))


def _stop(workflow: Any, execution: str, tuners: list[Any], display: Display) -> None:
    """Stop the execution as an operator would, then the local jobs still running."""
    running = sum(
        1
        for tuner in tuners
        for job in tuner.jobs.values()
        for training in job.training_jobs.values()
        if training.status == "InProgress"
    )
    with contextlib.suppress(Exception):
        workflow.sfn.stop_execution(
            executionArn=execution, error="Interrupted", cause="stopped from the demo"
        )
        # The clean-up (stopping the tuning job) runs once it has ended.
        workflow.wait(execution, timeout=60)
    for tuner in tuners:
        tuner.close(timeout=30)
    let_threads_finish()
    message = "execution stopped"
    if running:
        message += f"; {running} local training job(s) stopped"
    display.say(message)


def _write_report(detail: dict[str, Any], workflow: Any, folder: Path) -> Path:
    """The tuning job's report, as JSON and as the HTML page ``ntm-tuning report`` writes."""
    from ntm_cli import report

    bucket, key = split_uri(str(detail["report_uri"]))
    document = json.loads(workflow.s3.get_object(Bucket=bucket, Key=key)["Body"].read())
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "report.json").write_text(json.dumps(document, indent=2, sort_keys=True) + "\n")
    return report.write(document, folder / "report.html")


def _report(event: dict[str, Any], workflow: Any, log: TextIO, corpus: Path | None = None) -> bool:
    """Tell the user what the event says; True for a success. ``corpus``: the user's own
    folder, named wherever a message names where the emulated bucket holds it."""
    detail = event["detail"]
    kind = event["detail-type"]
    print(f"\n{kind}", file=log)
    if kind == "NTM Tuning Job Succeeded":
        _report_success(detail, workflow, log)
        summary = _dataset_summary(workflow, detail.get("request_id"))
        if summary and any(summary.get("dropped", {}).values()):
            _explain_dropped(summary, corpus, log)
        return True
    user_path = _user_paths(workflow, corpus)
    if kind == "NTM Tuning Request Rejected":
        print("the request was rejected; every problem, by field (rule): message", file=log)
        summary = _dataset_summary(workflow, detail.get("request_id"))
        for violation in detail.get("violations") or []:
            message = user_path(violation["message"])
            if summary:  # the counts are explained below, reason by reason
                message = message.split("; dropped: ", 1)[0]
            print(f"  {violation['field']} ({violation['rule']}): {message}", file=log)
        if summary:
            _explain_dropped(summary, corpus, log)
        return False
    reason = detail.get("reason") or {}
    print(f"{reason.get('code', 'unknown')}: {user_path(str(reason.get('message', '')))}", file=log)
    if reason.get("error"):
        print(f"  error: {reason['error']}", file=log)
    counters = detail.get("counters")
    if counters:
        print(f"  training jobs: {json.dumps(counters, sort_keys=True)}", file=log)
    return False


def _report_success(detail: dict[str, Any], workflow: Any, log: TextIO) -> None:
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


def _user_paths(workflow: Any, corpus: Path | None) -> Callable[[str], str]:
    """A message with the emulated bucket's locations of the corpus replaced by the user's
    own folder (or, for the embedded corpus, by what it is)."""
    uri = f"s3://{workflow.data_bucket}/{_loaded_prefix(workflow)}"
    folder = f"{corpus}{os.sep}" if corpus is not None else "the embedded corpus "

    def replace(text: str) -> str:
        return text.replace(uri, folder).replace(uri.rstrip("/"), folder.rstrip(os.sep + " "))

    return replace


def _loaded_prefix(workflow: Any) -> str:
    loaded = workflow.folders.loaded
    return loaded[-1].prefix if loaded else CORPUS_PREFIX


def _dataset_summary(workflow: Any, request_id: str | None) -> dict[str, Any] | None:
    """The preparation job's dataset.json for the request, if it got that far."""
    if not request_id:
        return None
    from ntm_tuning.preparation import dataset_location
    from ntm_tuning.settings import Settings

    # The function that reads the prepared dataset knows where it is.
    settings = Settings.from_env(workflow.environment_of("build_tuning_job"))
    location = dataset_location(request_id, settings)
    try:
        body = workflow.s3.get_object(Bucket=location.bucket, Key=f"{location.key}dataset.json")
    except workflow.s3.exceptions.NoSuchKey:
        return None
    summary: dict[str, Any] = json.loads(body["Body"].read())
    return summary


def _explain_dropped(summary: dict[str, Any], corpus: Path | None, log: TextIO) -> None:
    """Each reason files or documents were skipped for: how many, where, the rule, the fix."""
    dropped = {reason: count for reason, count in summary.get("dropped", {}).items() if count}
    if not dropped:
        return
    config = summary.get("config") or {}
    read, scanned = summary.get("files_read", 0), summary.get("documents_scanned", 0)
    where = corpus if corpus is not None else "the embedded corpus"
    print(f"\nin {where}: {read} file(s) read, {scanned} document(s) found; skipped:", file=log)
    for reason, count in dropped.items():
        rule, fix = DROPPED.get(reason, (reason, ""))
        with contextlib.suppress(KeyError, ValueError):
            rule = rule.format(**config)
        print(f"  {reason}: {count} - {rule}", file=log)
        for where in (summary.get("dropped_examples") or {}).get(reason, [])[:3]:
            print(f"      {_example_path(corpus, where)}", file=log)
        if fix:
            print(f"    fix: {fix}", file=log)


def _example_path(corpus: Path | None, where: str) -> str:
    """A place from dataset.json (``file``, ``file:line`` or ``file: detail``), under the
    user's folder."""
    if corpus is None or Path(where).is_absolute():
        return where
    return str(corpus / where)


def _send_handler_logs_to(stream: Any, verbose: bool) -> None:
    from ntm_tuning.handlers._runtime import logger

    logger.registered_handler.setStream(stream)  # type: ignore[attr-defined]
    logger.setLevel("INFO" if verbose else "ERROR")


if __name__ == "__main__":
    sys.exit(main())
