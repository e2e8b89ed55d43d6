"""Topic quality of the local NTM against scikit-learn's LDA, on the same bag-of-words, over seeds.

For each corpus and seed, a search picks the best NTM by ``validation:total_loss`` exactly as
the local tuner does (the same Optuna sampler, seeded; the demo request's search space and
static hyperparameters: ``examples/requests/demo-stdlib.json``, over the default ranges of the
pipeline), and LatentDirichletAllocation is fitted with the same number of topics. Both are
scored the same way: NPMI of each topic's top 10 words (document co-occurrence in the training
documents), topic uniqueness (TU), and held-out perplexity on the test documents. Perplexity
is exp(loss per word) for NTM (its ELBO) and scikit-learn's variational bound for LDA: both
upper bounds, comparable in size, not identical in method.

Every seed is fixed: seed s sets the data split, the search's sampler, each training job's
torch seed (as the tuner derives them) and LDA's random state; training runs on one CPU thread
with deterministic algorithms, so running it twice prints the same table (times apart, which
are printed separately). Figures are the mean and standard deviation over the seeds.

Corpora:
- example (6 themes): ``examples/data`` (fixed channels, the same for every seed);
- planted (20 topics): LDA's generative story over a synthetic vocabulary (the "generating
  topics themselves" row scores the planted topics);
- stdlib docstrings: docstrings of the Python standard library installed here;
- short texts: generated here, 12,000 documents of 20-80 words, from the docstrings of the 20
  largest standard-library packages (tkinter, email, asyncio, logging, ...: real vocabularies).
  Each package is a theme; its topic is what sets it apart, its word distribution minus that of
  the 20 packages together (positive part, ``trainer.corpora.themed_topics``), and the 20
  together are the background, the words every theme uses (``return``, ``object``,
  ``string``...). Each document draws a sparse topic mixture (Dirichlet 0.1, so one or two
  topics, as in short texts), then its words: 80% from the mixture, 20% from the background
  (``trainer.corpora.short_texts``). The "generating topics themselves" row scores them on the
  vocabulary the benchmark keeps.

``--per-job`` prints every training job of each search: hyperparameters, epochs, validation
loss, KL divergence, active latent dimensions, NPMI, TU and collapse warnings.

    python benchmarks/quality.py [--seeds 0,1,2] [--corpora example,planted,stdlib,short]
                                 [--jobs 8] [--epochs 50] [--per-job]
    (needs requirements-train.txt and scikit-learn from requirements-bench.txt)
"""

from __future__ import annotations

import os

for _variable in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
    os.environ[_variable] = "1"  # one thread everywhere: deterministic, and fair to both models

import argparse  # noqa: E402
import ast  # noqa: E402
import functools  # noqa: E402
import json  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import sysconfig  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402
from collections import Counter, defaultdict  # noqa: E402
from collections.abc import Callable, Sequence  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "lambdas"))

import numpy as np  # noqa: E402
import optuna  # noqa: E402
import torch  # noqa: E402
from ntm_tuning.ntm import SEED_RANGES  # noqa: E402
from sklearn.decomposition import LatentDirichletAllocation  # noqa: E402
from sklearn.feature_extraction.text import CountVectorizer  # noqa: E402

from trainer.corpora import planted_corpus, themed_topics  # noqa: E402
from trainer.corpora import short_texts as short_texts_corpus  # noqa: E402
from trainer.data import Corpus  # noqa: E402
from trainer.quality import WARNING_METRIC_PREFIX, topic_quality  # noqa: E402
from trainer.search import OBJECTIVE_METRIC, make_sampler, search_space  # noqa: E402
from trainer.train import TrainedModel, read_channels, train  # noqa: E402

EXAMPLE = ROOT / "examples" / "data" / "datasets" / "demo"
DEMO_REQUEST = ROOT / "examples" / "requests" / "demo-stdlib.json"
SKIPPED = {"test", "tests", "site-packages", "idlelib", "lib2to3", "turtledemo"}
TOKENS = r"(?u)\b[a-zA-Z][a-zA-Z]{2,}\b"
SCALING = {"Logarithmic": "Logarithmic", "Linear": "Linear", "Auto": "Auto"}


@dataclass
class Dataset:
    name: str
    train: Corpus
    validation: Corpus
    test: Corpus
    topics: int
    truth: np.ndarray | None = None


@dataclass
class Job:
    number: int
    tuned: dict[str, str]
    trained: TrainedModel

    @property
    def loss(self) -> float:
        return self.trained.metrics.get(OBJECTIVE_METRIC, float("inf"))

    @property
    def warnings(self) -> list[str]:
        prefix = WARNING_METRIC_PREFIX
        return [k.removeprefix(prefix) for k in self.trained.metrics if k.startswith(prefix)]


@dataclass
class Figures:
    """One model's figures on one corpus, a value per seed."""

    npmi: list[float] = field(default_factory=list)
    uniqueness: list[float] = field(default_factory=list)
    perplexity: list[float] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


# ----- corpora -------------------------------------------------------------------------------


def _split(counts: np.ndarray, seed: int) -> tuple[Corpus, Corpus, Corpus]:
    """80/10/10, in an order set by the seed."""
    order = np.random.default_rng(seed).permutation(len(counts))
    tenth = len(counts) // 10
    rows = counts[order]
    return (
        Corpus.from_dense(rows[: -2 * tenth]),
        Corpus.from_dense(rows[-2 * tenth : -tenth]),
        Corpus.from_dense(rows[-tenth:]),
    )


def _vectorize(documents: list[str]) -> tuple[np.ndarray, list[str]]:
    vectorizer = CountVectorizer(
        stop_words="english", min_df=5, max_df=0.3, max_features=2_000, token_pattern=TOKENS
    )
    counts = vectorizer.fit_transform(documents).toarray().astype(np.float32)
    return counts, list(vectorizer.get_feature_names_out())


@functools.cache
def _docstrings() -> list[tuple[str, str]]:
    """(top-level package or module, docstring) of the standard library, 20 words or more."""
    root = Path(sysconfig.get_paths()["stdlib"])
    found: list[tuple[str, str]] = []
    for path in sorted(root.rglob("*.py")):
        parts = path.relative_to(root).parts
        if any(part in SKIPPED or part.startswith("test") for part in parts):
            continue
        try:
            tree = ast.parse(path.read_text(encoding="utf-8", errors="replace"))
        except SyntaxError:
            continue
        package = parts[0].removesuffix(".py")
        for node in ast.walk(tree):
            if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
                text = ast.get_docstring(node)
                if text and len(text.split()) >= 20:
                    found.append((package, text))
    return found


def example(seed: int) -> Dataset:
    corpora, _ = read_channels(EXAMPLE)
    return Dataset(
        "example (6 themes)", corpora["train"], corpora["validation"], corpora["test"], 6
    )


def planted(seed: int) -> Dataset:
    corpus = planted_corpus(
        documents=6_000, vocabulary_size=2_000, topics=20, held_out=1 / 6, seed=seed
    )
    return Dataset(
        "planted (20 topics)",
        corpus.train,
        corpus.validation,
        corpus.test,
        20,
        truth=corpus.topic_word,
    )


def stdlib_docstrings(seed: int) -> Dataset:
    documents = [text for _, text in _docstrings()]
    counts, _ = _vectorize(documents)
    train_, validation, test = _split(counts, seed)
    return Dataset(f"stdlib docstrings ({len(documents)})", train_, validation, test, 20)


def short_texts(
    seed: int, documents: int = 12_000, topics: int = 20, background: float = 0.2
) -> Dataset:
    """Generated short texts (see the module's docstring); the corpus itself is the same for
    every seed (generator seed 0), the split follows ``seed``."""
    import re

    word = re.compile(TOKENS)
    by_package: dict[str, Counter[str]] = defaultdict(Counter)
    for package, text in _docstrings():
        by_package[package].update(w.lower() for w in word.findall(text))
    chosen = sorted(by_package, key=lambda p: (-sum(by_package[p].values()), p))[:topics]
    vocabulary = sorted({w for p in chosen for w in by_package[p]})
    index = {w: i for i, w in enumerate(vocabulary)}
    theme_counts = np.zeros((topics, len(vocabulary)))
    for row, package in enumerate(chosen):
        for w, c in by_package[package].items():
            theme_counts[row, index[w]] = c
    topic_word, common = themed_topics(theme_counts)
    generated = short_texts_corpus(
        topic_word, common, documents, background_share=background, seed=0
    )
    texts = []
    for start, stop in zip(generated.indptr[:-1], generated.indptr[1:], strict=True):
        ids = generated.indices[start:stop]
        times = generated.values[start:stop].astype(int)
        texts.append(" ".join(vocabulary[i] for i in np.repeat(ids, times)))
    counts, kept = _vectorize(texts)
    truth = topic_word[:, [index[w] for w in kept]]
    train_, validation, test = _split(counts, seed)
    return Dataset(
        f"short texts ({documents:,}, 20-80 words)", train_, validation, test, topics, truth
    )


CORPORA: dict[str, Callable[[int], Dataset]] = {
    "example": example,
    "planted": planted,
    "stdlib": stdlib_docstrings,
    "short": short_texts,
}


# ----- the search ----------------------------------------------------------------------------


def demo_search() -> tuple[dict[str, Any], dict[str, str]]:
    """The demo request's ParameterRanges (over the pipeline's defaults) and static values."""
    request = json.loads(DEMO_REQUEST.read_text())
    static = {
        k: str(v).lower() if isinstance(v, bool) else str(v)
        for k, v in request["hyperparameters"].items()
    }
    chosen: dict[str, tuple[str, dict[str, Any]]] = {}
    for list_name, entries in SEED_RANGES.items():
        for entry in entries:
            if entry["Name"] not in static:
                chosen[str(entry["Name"])] = (list_name, dict(entry))
    for name, asked in request.get("ranges", {}).items():
        if asked["type"] == "Categorical":
            chosen[name] = ("CategoricalParameterRanges", {"Name": name, "Values": asked["values"]})
        else:
            chosen[name] = (
                f"{asked['type']}ParameterRanges",
                {
                    "Name": name,
                    "MinValue": str(asked["min"]),
                    "MaxValue": str(asked["max"]),
                    "ScalingType": SCALING[asked.get("scaling", "Auto")],
                },
            )
    ranges: dict[str, Any] = {}
    for _, (list_name, entry) in sorted(chosen.items()):
        ranges.setdefault(list_name, []).append(entry)
    return ranges, static


def search(data: Dataset, seed: int, jobs: int, epochs: int) -> list[Job]:
    """``jobs`` training jobs, one after another, as the local tuner runs them (TPE, seeded;
    job n gets the torch seed the tuner would give it)."""
    ranges, static = demo_search()
    static = {
        **static,
        "epochs": str(epochs),
        "num_topics": str(data.topics),
        "feature_dim": str(data.train.vocabulary_size),
    }
    space = search_space(ranges)
    study = optuna.create_study(
        direction="minimize", sampler=make_sampler("Bayesian", space, seed, jobs)
    )
    distributions = {name: p.distribution for name, p in space.items()}
    done: list[Job] = []
    for number in range(1, jobs + 1):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            trial = study.ask(distributions)
        tuned = {name: space[name].to_text(value) for name, value in trial.params.items()}
        trained = train(
            {**static, **tuned},
            data.train,
            data.validation,
            data.test,
            seed=(seed * 1_000_003 + number) % 2**31,
            threads=1,
            device="cpu",
        )
        job = Job(number, tuned, trained)
        study.tell(trial, job.loss)
        done.append(job)
    return done


def lda(data: Dataset, seed: int) -> tuple[float, float, float, float]:
    started = time.perf_counter()
    model = LatentDirichletAllocation(
        n_components=data.topics, learning_method="batch", max_iter=30, random_state=seed
    ).fit(data.train.dense())
    seconds = time.perf_counter() - started
    quality = topic_quality(model.components_, data.train)
    return quality.npmi, quality.uniqueness, float(model.perplexity(data.test.dense())), seconds


# ----- output --------------------------------------------------------------------------------

SHORT = {
    "encoder_layers_activation": "act",
    "learning_rate": "lr",
    "mini_batch_size": "batch",
    "optimizer": "opt",
    "rescale_gradient": "rescale",
    "weight_decay": "wd",
}


def _value(text: str) -> str:
    try:
        number = float(text)
    except ValueError:
        return text
    return f"{number:.3g}" if not number.is_integer() else str(int(number))


def print_jobs(name: str, seed: int, jobs: list[Job], best: Job) -> None:
    header = (
        "job",
        "hyperparameters",
        "epochs",
        "val loss",
        "KL",
        "active",
        "NPMI",
        "TU",
        "warnings",
    )
    rows = [header]
    for job in jobs:
        m = job.trained.metrics
        rows.append(
            (
                f"{job.number}{' *' if job is best else ''}",
                " ".join(f"{SHORT.get(k, k)}={_value(v)}" for k, v in sorted(job.tuned.items())),
                f"{job.trained.best_epoch}/{len(job.trained.history)}",
                f"{job.loss:.2f}",
                f"{m.get('validation:kl_divergence', float('nan')):.2f}",
                f"{int(m.get('posterior:active_units', 0))}",
                f"{m.get('topics:npmi', float('nan')):.3f}",
                f"{m.get('topics:uniqueness', float('nan')):.3f}",
                ",".join(job.warnings) or "-",
            )
        )
    print(
        f"\n{name}, seed {seed}: every job of the search (* = best by {OBJECTIVE_METRIC}; "
        "epochs = best/run)"
    )
    _table(rows)


def _table(rows: Sequence[tuple[str, ...]]) -> None:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for number, row in enumerate(rows):
        print("| " + " | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) + " |")
        if number == 0:
            print("|" + "|".join("-" * (w + 2) for w in widths) + "|")


def _spread(values: list[float], digits: int) -> str:
    finite = [v for v in values if np.isfinite(v)]
    if not finite:
        return "-"
    mean = statistics.fmean(finite)
    if len(finite) < 2:
        return f"{mean:.{digits}f}"
    return f"{mean:.{digits}f} ± {statistics.stdev(finite):.{digits}f}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--corpora", default=",".join(CORPORA))
    parser.add_argument("--jobs", type=int, default=8)
    parser.add_argument("--epochs", type=int, default=50)
    parser.add_argument("--per-job", action="store_true")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    seeds = [int(s) for s in args.seeds.split(",")]
    names = args.corpora.split(",")
    unknown = sorted(set(names) - set(CORPORA))
    if unknown:
        parser.error(f"unknown corpora {', '.join(unknown)}; choose from {', '.join(CORPORA)}")
    results: dict[tuple[str, str], Figures] = defaultdict(Figures)
    order: list[tuple[str, str]] = []

    def add(corpus: str, model: str) -> Figures:
        if (corpus, model) not in results:
            order.append((corpus, model))
        return results[(corpus, model)]

    for name in names:
        for seed in seeds:
            data = CORPORA[name](seed)
            print(
                f"{data.name}, seed {seed}: {len(data.train)}/{len(data.validation)}/"
                f"{len(data.test)} documents, {data.train.vocabulary_size} words, "
                f"{data.topics} topics",
                file=sys.stderr,
                flush=True,
            )
            started = time.perf_counter()
            jobs = search(data, seed, args.jobs, args.epochs)
            searched = time.perf_counter() - started
            best = min(jobs, key=lambda job: job.loss)
            if args.per_job:
                print_jobs(data.name, seed, jobs, best)
            figures = add(data.name, "local NTM (best of search)")
            figures.npmi.append(best.trained.metrics["topics:npmi"])
            figures.uniqueness.append(best.trained.metrics["topics:uniqueness"])
            figures.perplexity.append(best.trained.metrics["test:perplexity"])
            figures.seconds.append(searched)
            figures.notes.extend(best.warnings)
            print(
                f"  {data.name}, seed {seed}, NTM job {best.number}: NPMI "
                f"{figures.npmi[-1]:.3f}, TU {figures.uniqueness[-1]:.3f}, test perplexity "
                f"{figures.perplexity[-1]:.1f}, warnings {','.join(best.warnings) or '-'}",
                flush=True,
            )
            npmi, uniqueness, perplexity, seconds = lda(data, seed)
            print(
                f"  {data.name}, seed {seed}, LDA: NPMI {npmi:.3f}, TU {uniqueness:.3f}, "
                f"test perplexity {perplexity:.1f}",
                flush=True,
            )
            figures = add(data.name, "sklearn LDA (batch, 30 iterations)")
            figures.npmi.append(npmi)
            figures.uniqueness.append(uniqueness)
            figures.perplexity.append(perplexity)
            figures.seconds.append(seconds)
            if data.truth is not None:
                truth = topic_quality(data.truth, data.train)
                figures = add(data.name, "the generating topics themselves")
                figures.npmi.append(truth.npmi)
                figures.uniqueness.append(truth.uniqueness)

    print(
        f"\nMean ± standard deviation over seeds {args.seeds}; NTM: best of {args.jobs} jobs "
        f"by {OBJECTIVE_METRIC}, at most {args.epochs} epochs each, the demo request's search; "
        f"{os.cpu_count()} CPU cores, one thread per model; Python {sys.version.split()[0]}, "
        f"torch {torch.__version__}."
    )
    rows = [("corpus", "model", "NPMI", "TU", "test perplexity", "best job's warnings")]
    for key in order:
        f = results[key]
        counts = Counter(f.notes)
        warned = ", ".join(f"{code} ({n}/{len(seeds)})" for code, n in sorted(counts.items()))
        held_out = _spread(f.perplexity, 1) if f.perplexity else "-"
        rows.append((*key, _spread(f.npmi, 3), _spread(f.uniqueness, 3), held_out, warned or "-"))
    _table(rows)
    print("\nSeconds (vary with the machine's load; not part of the figures above):")
    for key in order:
        if results[key].seconds:
            what = "whole search" if key[1].startswith("local NTM") else "fit"
            print(f"  {key[0]}, {key[1]}: {_spread(results[key].seconds, 1)} s ({what})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
