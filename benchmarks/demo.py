"""``make demo``'s stages against the work they stand for, in one process on the same corpus.

For each corpus (the demo's embedded one, the docstrings of the standard library; and a
generated one of about 3,500 man-page-like documents: sections, option lists, indented lines,
words hyphenated across line breaks), this measures:

- ``prepare()``: ``preparation.prepare`` called directly on the folder, with the demo request's
  corpus settings: the work itself, the reference;
- ``load``: putting the folder into the emulated data bucket (``OfflineWorkflow.upload_folder``,
  what ``make demo`` does before it sends the request);
- ``preparation``: the offline workflow's preparation stage, from entering "Start dataset
  preparation" to entering the state after "Dataset preparation status" (Step Functions' own
  history timestamps), with the demo's clock; the tuning jobs are played by the scripted
  stand-in, as training is not what is measured here;

and prints each stage's seconds and the two ratios the offline run must keep: preparation at
most 1.5 x ``prepare()``, loading at most 0.5 x ``prepare()``. Each measurement runs
``--repeat`` times, interleaved, and the fastest is kept (on a shared machine noise only adds
time); the ratios are of the fastest runs.

    python benchmarks/demo.py [--documents 3500] [--repeat 2]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "lambdas"))

from offline.demo import CLOCK_SCALE, CORPUS_PREFIX, DEMO_REQUEST, stdlib_docstrings  # noqa: E402
from preparation.config import PreparationConfig  # noqa: E402
from preparation.prepare import prepare  # noqa: E402
from preparation.stopwords import ENGLISH_STOP_WORDS  # noqa: E402

PREPARATION_LIMIT = 1.5
LOADING_LIMIT = 0.5
START_STATE = "Start dataset preparation"
AFTER_STATE = "Build tuning job"

AREAS = ("network", "files", "processes", "text", "printing", "packages", "users", "devices")
COMMON = (
    "option argument value default output input error command display specify manual section",
    "version standard usage environment variable configuration exit status report bugs author",
    "copyright license see also synopsis description options examples",
)
COMMON_WORDS = " ".join(COMMON).split()


def _words(rng: random.Random, count: int) -> list[str]:
    consonants, vowels = "bcdfghjklmnprstvwz", "aeiou"
    found: set[str] = set()
    while len(found) < count:
        word = "".join(
            rng.choice(consonants) + rng.choice(vowels) for _ in range(rng.choice((2, 3, 3, 4)))
        )
        if word not in ENGLISH_STOP_WORDS:
            found.add(word)
    return sorted(found)


def write_man_pages(folder: Path, documents: int, seed: int = 20261201) -> int:
    """``documents`` man-page-like .txt files (about 8 KiB each); returns the bytes written."""
    rng = random.Random(seed)
    vocabulary = _words(rng, 6000)
    topics = {area: rng.sample(vocabulary, 300) for area in AREAS}
    stop = sorted(ENGLISH_STOP_WORDS)
    folder.mkdir(parents=True, exist_ok=True)
    written = 0
    for index in range(documents):
        area = topics[AREAS[index % len(AREAS)]]

        def sentence(length: int, area: list[str] = area) -> str:
            out = []
            for _ in range(length):
                draw = rng.random()
                pool = area if draw < 0.3 else COMMON_WORDS if draw < 0.4 else vocabulary
                out.append(rng.choice(pool) if draw < 0.55 else rng.choice(stop))
            return " ".join(out).capitalize() + "."

        name = rng.choice(vocabulary)
        lines = [
            f"{name.upper()}(1){'User Commands':^50}{name.upper()}(1)",
            "",
            "NAME",
            f"       {name} - {sentence(6)}",
            "",
            "SYNOPSIS",
            f"       {name} [OPTION]... [FILE]...",
            "",
            "DESCRIPTION",
        ]
        for _ in range(rng.randint(3, 16)):
            line = "      "
            for word in sentence(rng.randint(20, 70)).split():
                if len(line) + len(word) > 72:
                    if len(word) > 5 and rng.random() < 0.3:  # hyphenated at the line's end
                        cut = rng.randint(2, len(word) - 2)
                        lines.append(f"{line} {word[:cut]}-")
                        line = "       " + word[cut:]
                        continue
                    lines.append(line)
                    line = "      "
                line += " " + word
            lines += [line, ""]
        lines.append("OPTIONS")
        for _ in range(rng.randint(2, 12)):
            option = rng.choice(area)
            lines += [f"       -{option[0]}, --{option}", f"              {sentence(15)}", ""]
        text = "\n".join(lines) + "\n"
        (folder / f"{name}-{index}.1.txt").write_text(text, encoding="utf-8")
        written += len(text)
    return written


def _request() -> dict[str, Any]:
    request: dict[str, Any] = json.loads(DEMO_REQUEST.read_text(encoding="utf-8"))
    request["resource_limits"] = {"max_jobs": 1, "max_parallel_jobs": 1}
    return request


def time_prepare(corpus: Path, work: Path) -> float:
    settings = dict(_request()["corpus"])
    settings.pop("prefix")
    output = Path(tempfile.mkdtemp(dir=work))
    started = time.perf_counter()
    prepare(corpus, output / "dataset", PreparationConfig.from_dict(settings))
    return time.perf_counter() - started


def time_offline(corpus: Path, template: dict[str, Any]) -> dict[str, float]:
    """One offline run of the demo request on ``corpus``: the stages' seconds."""
    from offline.runtime import Clock, OfflineWorkflow
    from offline.scripted import Scenario

    os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
    started = time.perf_counter()
    with OfflineWorkflow(
        template, scenario=Scenario(describes_in_progress=0), clock=Clock(scale=CLOCK_SCALE)
    ) as workflow:
        from ntm_tuning.handlers._runtime import logger

        logger.setLevel("ERROR")
        set_up = time.perf_counter()
        workflow.upload_folder(corpus, CORPUS_PREFIX)
        loaded = time.perf_counter()
        body = json.dumps(_request()).encode()
        execution = workflow.upload_request(f"{workflow.request_prefix}demo.json", body)
        assert execution is not None, "the request was not delivered"
        result = workflow.wait(execution, timeout=900)
        ended = time.perf_counter()
        if result.status != "SUCCEEDED":
            raise RuntimeError(f"the offline run ended {result.status}: {result.error}")
        entered = _entered(workflow, execution)
        published = [event["detail-type"] for event in workflow.published()]
        if published != ["NTM Tuning Job Succeeded"]:
            raise RuntimeError(f"the offline run published {published}")
    return {
        "set-up": set_up - started,
        "load": loaded - set_up,
        "preparation": entered[AFTER_STATE] - entered[START_STATE],
        "run": ended - loaded,
    }


def _entered(workflow: Any, execution: str) -> dict[str, float]:
    events = workflow.sfn.get_execution_history(executionArn=execution, maxResults=1000)["events"]
    return {
        event["stateEnteredEventDetails"]["name"]: event["timestamp"].timestamp()
        for event in events
        if "stateEnteredEventDetails" in event
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--documents", type=int, default=3500)
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args(argv)
    from offline.template import synthesize

    template = synthesize()
    failed = False
    print(f"{os.cpu_count()} cores; fastest of {args.repeat} runs, in seconds")
    print(
        f"| corpus | documents | MB | prepare() | load | preparation | load / prepare() "
        f"(<= {LOADING_LIMIT}) | preparation / prepare() (<= {PREPARATION_LIMIT}) |"
    )
    print("|---|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory(prefix="bench-demo-") as scratch:
        work = Path(scratch)
        corpora = []
        embedded = work / "embedded"
        embedded.mkdir()
        count = stdlib_docstrings(embedded)
        corpora.append(("embedded (stdlib docstrings)", embedded, count))
        generated = work / "man-pages"
        write_man_pages(generated, args.documents)
        corpora.append(("generated man pages", generated, args.documents))
        for label, corpus, documents in corpora:
            size = sum(path.stat().st_size for path in corpus.rglob("*") if path.is_file())
            reference: list[float] = []
            offline: list[dict[str, float]] = []
            for _ in range(args.repeat):
                reference.append(time_prepare(corpus, work))
                offline.append(time_offline(corpus, template))
            alone = min(reference)
            load = min(run["load"] for run in offline)
            stage = min(run["preparation"] for run in offline)
            load_ratio, stage_ratio = load / alone, stage / alone
            failed |= load_ratio > LOADING_LIMIT or stage_ratio > PREPARATION_LIMIT
            print(
                f"| {label} | {documents:,} | {size / 1e6:.1f} | {alone:.2f} | {load:.2f} | "
                f"{stage:.2f} | {load_ratio:.2f} | {stage_ratio:.2f} |",
                flush=True,
            )
    print("goal met" if not failed else "GOAL MISSED: a ratio is over its limit")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
