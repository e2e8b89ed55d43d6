"""Topic quality of the local NTM against scikit-learn's LDA, on the same bag-of-words.

For each corpus, a small search picks the best NTM by validation loss (as the tuner would),
and LatentDirichletAllocation is fitted with the same number of topics. Both are scored the
same way: NPMI of each topic's top 10 words (document co-occurrence in the training
documents), topic uniqueness, and held-out perplexity on the test documents. Perplexity is
exp(loss per word) for NTM (its ELBO) and scikit-learn's variational bound for LDA: both are
upper bounds, comparable in size, not identical in method.

Corpora: the example dataset (examples/data), a synthetic corpus with planted topics (the
"truth" row scores the planted topics themselves), and docstrings of the Python standard
library.

    python benchmarks/quality.py [--epochs 40] [--skip-stdlib]
    (needs requirements-train.txt and scikit-learn from requirements-bench.txt)
"""

from __future__ import annotations

import argparse
import ast
import itertools
import sys
import sysconfig
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import torch  # noqa: E402
from sklearn.decomposition import LatentDirichletAllocation  # noqa: E402
from sklearn.feature_extraction.text import CountVectorizer  # noqa: E402

from trainer.corpora import planted_corpus  # noqa: E402
from trainer.data import Corpus  # noqa: E402
from trainer.quality import topic_quality  # noqa: E402
from trainer.train import TrainedModel, read_channels, train  # noqa: E402

EXAMPLE = ROOT / "examples" / "data" / "datasets" / "demo"


@dataclass
class Dataset:
    name: str
    train: Corpus
    validation: Corpus
    test: Corpus
    topics: int
    truth: np.ndarray | None = None


@dataclass
class Row:
    corpus: str
    model: str
    npmi: float
    uniqueness: float
    perplexity: float
    seconds: float
    note: str = ""


def example() -> Dataset:
    corpora, _ = read_channels(EXAMPLE)
    return Dataset(
        "example (6 themes)", corpora["train"], corpora["validation"], corpora["test"], 6
    )


def planted() -> Dataset:
    corpus = planted_corpus(documents=6_000, vocabulary_size=2_000, topics=20, held_out=1 / 6)
    return Dataset(
        "planted (20 topics)",
        corpus.train,
        corpus.validation,
        corpus.test,
        20,
        truth=corpus.topic_word,
    )


def stdlib_docstrings() -> Dataset:
    root = Path(sysconfig.get_paths()["stdlib"])
    skipped = {"test", "tests", "site-packages", "idlelib", "lib2to3"}
    documents: list[str] = []
    for path in sorted(root.rglob("*.py")):
        parts = path.relative_to(root).parts
        if any(part in skipped or part.startswith("test") for part in parts):
            continue
        try:
            tree = ast.parse(path.read_text(encoding="utf-8", errors="replace"))
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
                text = ast.get_docstring(node)
                if text and len(text.split()) >= 20:
                    documents.append(text)
    order = np.random.default_rng(0).permutation(len(documents))
    vectorizer = CountVectorizer(
        stop_words="english",
        min_df=5,
        max_df=0.3,
        max_features=2_000,
        token_pattern=r"(?u)\b[a-zA-Z][a-zA-Z]{2,}\b",
    )
    counts = vectorizer.fit_transform([documents[i] for i in order]).toarray()
    tenth = len(documents) // 10
    return Dataset(
        f"stdlib docstrings ({len(documents)} docs)",
        Corpus.from_dense(counts[: -2 * tenth]),
        Corpus.from_dense(counts[-2 * tenth : -tenth]),
        Corpus.from_dense(counts[-tenth:]),
        20,
    )


def best_ntm(data: Dataset, epochs: int) -> tuple[TrainedModel, float, int]:
    """The lowest validation loss over a small grid; total search seconds; configurations."""
    grid = list(itertools.product(("0.005", "0.02"), ("false", "true"), ("sigmoid", "tanh")))
    best: TrainedModel | None = None
    started = time.perf_counter()
    for learning_rate, batch_norm, activation in grid:
        trained = train(
            {
                "feature_dim": str(data.train.vocabulary_size),
                "num_topics": str(data.topics),
                "epochs": str(epochs),
                "optimizer": "adam",
                "learning_rate": learning_rate,
                "batch_norm": batch_norm,
                "encoder_layers_activation": activation,
                "mini_batch_size": "64",
                "num_patience_epochs": "5",
            },
            data.train,
            data.validation,
            data.test,
            seed=0,
            threads=None,
        )
        loss = trained.metrics["validation:total_loss"]
        if best is None or loss < best.metrics["validation:total_loss"]:
            best = trained
    assert best is not None
    return best, time.perf_counter() - started, len(grid)


def lda(data: Dataset) -> Row:
    started = time.perf_counter()
    model = LatentDirichletAllocation(
        n_components=data.topics, learning_method="batch", max_iter=30, random_state=0
    ).fit(data.train.dense())
    seconds = time.perf_counter() - started
    quality = topic_quality(model.components_, data.train)
    return Row(
        data.name,
        "sklearn LDA (batch, 30 iter)",
        quality.npmi,
        quality.uniqueness,
        float(model.perplexity(data.test.dense())),
        seconds,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--epochs", type=int, default=40)
    parser.add_argument("--skip-stdlib", action="store_true")
    args = parser.parse_args(argv)
    torch.set_num_threads(torch.get_num_threads())
    builders = [example, planted] + ([] if args.skip_stdlib else [stdlib_docstrings])
    rows: list[Row] = []
    for build in builders:
        data = build()
        print(
            f"{data.name}: {len(data.train)}/{len(data.validation)}/{len(data.test)} documents, "
            f"{data.train.vocabulary_size} words, {data.topics} topics",
            flush=True,
        )
        trained, search_seconds, configurations = best_ntm(data, args.epochs)
        hp = trained.hyperparameters
        rows.append(
            Row(
                data.name,
                "local NTM (best of search)",
                trained.metrics["topics:npmi"],
                trained.metrics["topics:uniqueness"],
                trained.metrics["test:perplexity"],
                trained.seconds,
                f"lr {hp.learning_rate}, batch_norm {hp.batch_norm}, "
                f"{hp.encoder_layers_activation}, {len(trained.history)} epochs; "
                f"search of {configurations}: {search_seconds:.0f}s",
            )
        )
        print("  " + format_row(rows[-1]), flush=True)
        rows.append(lda(data))
        print("  " + format_row(rows[-1]), flush=True)
        if data.truth is not None:
            truth = topic_quality(data.truth, data.train)
            rows.append(
                Row(
                    data.name,
                    "planted topics (truth)",
                    truth.npmi,
                    truth.uniqueness,
                    float("nan"),
                    0.0,
                )
            )
    print()
    header = ("corpus", "model", "NPMI", "TU", "test perplexity", "train s", "note")
    table = [header] + [
        (
            r.corpus,
            r.model,
            f"{r.npmi:.3f}",
            f"{r.uniqueness:.3f}",
            "-" if np.isnan(r.perplexity) else f"{r.perplexity:.1f}",
            "-" if r.seconds == 0 else f"{r.seconds:.1f}",
            r.note,
        )
        for r in rows
    ]
    widths = [max(len(line[i]) for line in table) for i in range(len(header))]
    for number, line in enumerate(table):
        print(" | ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)))
        if number == 0:
            print("-|-".join("-" * width for width in widths))
    return 0


def format_row(row: Row) -> str:
    return (
        f"{row.model}: NPMI {row.npmi:.3f}, TU {row.uniqueness:.3f}, "
        f"perplexity {row.perplexity:.1f}, {row.seconds:.1f}s {row.note}"
    )


if __name__ == "__main__":
    sys.exit(main())
