"""Dataset preparation: streaming ``prepare()`` against the in-memory notebook approach.

Writes a synthetic JSON Lines corpus (Zipf-distributed words over a generated vocabulary of
30,000 words plus the English stop words, with topical structure, 50-200 words a document,
punctuation, capitals and numbers) and turns it into an NTM dataset two ways, each in a child
process of its own so that its peak resident memory can be read:

- ``prepare``: this project's two streaming passes (``preparation.prepare``);
- ``countvectorizer``: what AWS's NTM notebooks do: every document in memory, scikit-learn's
  ``CountVectorizer`` with the same stop words, token pattern, min_df, max_df and vocabulary
  size, documents under ``min_document_tokens`` dropped, a shuffled 80/10/10 split, and the
  SageMaker Python SDK v2 encoder ``write_spmatrix_to_sparse_tensor`` when ``sagemaker`` is
  importable in the baseline's interpreter (``--baseline-python``), else this project's encoder
  on the CSR rows. The notebooks also lemmatize with NLTK, left out here: it would only slow the
  baseline down.

``prepare`` also runs on a quarter of the corpus, to show that its memory stays flat. Each
approach runs ``--repeat`` times, interleaved; the table shows the fastest run (on a shared
machine noise only adds time), its CPU time, and the highest peak RSS of the runs.

    pip install -r requirements-bench.txt
    python benchmarks/prep.py [--documents 100000] [--repeat 3] [--baseline-python PYTHON]

The SageMaker SDK is not in requirements-bench.txt (its pins conflict with the project's): for
the SDK encoder, give ``--baseline-python`` an interpreter whose environment has
``sagemaker<3``, scikit-learn and scipy.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from preparation.config import PreparationConfig  # noqa: E402
from preparation.stopwords import ENGLISH_STOP_WORDS  # noqa: E402

CONFIG = PreparationConfig(train_shards=4)
VOCABULARY_WORDS = 30_000
TOPICS = 60
WORDS_PER_TOPIC = 400
TOPIC_SHARE = 0.35
DOCUMENTS_PER_FILE = 10_000
PUNCTUATION = (",", ".", ";", "!", "?", ":", "'s")
# The tokenizer's rule for text without combining marks, for CountVectorizer.
TOKEN_PATTERN = rf"(?u)(?<!\w)[^\W\d_]{{{CONFIG.min_token_length},}}(?!\w)"


def _generated_words(rng: random.Random, count: int) -> list[str]:
    consonants, vowels = "bcdfghjklmnprstvwz", "aeiou"
    words: set[str] = set()
    while len(words) < count:
        syllables = rng.choice((1, 2, 2, 3, 3, 3, 4))
        word = "".join(rng.choice(consonants) + rng.choice(vowels) for _ in range(syllables))
        if rng.random() < 0.4:
            word += rng.choice(consonants)
        if word not in ENGLISH_STOP_WORDS:
            words.add(word)
    return sorted(words)


def write_corpus(folder: Path, documents: int, seed: int = 20261127) -> int:
    """A JSON Lines corpus of ``documents`` documents; returns the bytes written."""
    import numpy as np

    rng = random.Random(seed)
    generator = np.random.default_rng(seed)
    vocabulary = _generated_words(rng, VOCABULARY_WORDS)
    rng.shuffle(vocabulary)
    # Stop words take the most frequent ranks, interleaved with content words, as in English.
    stop_words = sorted(ENGLISH_STOP_WORDS)
    rng.shuffle(stop_words)
    words = np.array(stop_words[:150] + vocabulary[:200] + stop_words[150:] + vocabulary[200:])
    ranks = np.arange(1, len(words) + 1)
    background = 1.0 / (ranks + 2.7)
    background /= background.sum()
    topics = [
        generator.choice(np.arange(300, len(words)), size=WORDS_PER_TOPIC, replace=False)
        for _ in range(TOPICS)
    ]
    topic_weights = 1.0 / np.arange(1, WORDS_PER_TOPIC + 1)
    topic_weights /= topic_weights.sum()

    lengths = generator.integers(50, 201, size=documents)
    in_topic = generator.binomial(lengths, TOPIC_SHARE)
    chosen_topics = generator.integers(TOPICS, size=documents)
    # One draw for all documents: a weighted choice costs a pass over the weights per call.
    background_picks = generator.choice(
        len(words), size=int((lengths - in_topic).sum()), p=background
    )
    topic_picks = generator.choice(WORDS_PER_TOPIC, size=int(in_topic.sum()), p=topic_weights)

    folder.mkdir(parents=True, exist_ok=True)
    written = background_at = topic_at = 0
    for first in range(0, documents, DOCUMENTS_PER_FILE):
        lines = []
        for index in range(first, min(first + DOCUMENTS_PER_FILE, documents)):
            length, topical = int(lengths[index]), int(in_topic[index])
            picks = np.concatenate(
                (
                    background_picks[background_at : background_at + length - topical],
                    topics[chosen_topics[index]][topic_picks[topic_at : topic_at + topical]],
                )
            )
            background_at += length - topical
            topic_at += topical
            generator.shuffle(picks)
            tokens = words[picks].tolist()
            for position in range(rng.randrange(12), length, 12):
                tokens[position] += rng.choice(PUNCTUATION)
            tokens[0] = tokens[0].capitalize()
            if index % 3 == 0:
                tokens.insert(length // 2, str(1900 + index % 120))
            lines.append(json.dumps({"id": f"doc-{index}", "text": " ".join(tokens)}) + "\n")
        text = "".join(lines)
        (folder / f"part-{first // DOCUMENTS_PER_FILE:04d}.jsonl").write_text(
            text, encoding="utf-8"
        )
        written += len(text)
    return written


def _peak_rss_mb() -> float:
    """This process's peak resident memory.

    Linux's VmHWM belongs to the address space exec created; ru_maxrss would also carry the
    parent's peak from before the fork (the corpus generator's numpy arrays).
    """
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1 << 20) if sys.platform == "darwin" else peak / 1024


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def child_prepare(corpus: Path, output: Path) -> dict[str, Any]:
    from preparation.prepare import prepare

    baseline = _peak_rss_mb()
    started, cpu = time.perf_counter(), _cpu_seconds()
    summary = prepare(corpus, output, CONFIG)
    seconds = time.perf_counter() - started
    return {
        "seconds": seconds,
        "cpu_seconds": _cpu_seconds() - cpu,
        "documents": summary.total_documents,
        "encoder": "preparation.recordio",
        "baseline_rss_mb": baseline,
        "peak_rss_mb": _peak_rss_mb(),
        "vocabulary": (output / "auxiliary/vocab.txt").read_text(encoding="utf-8").split(),
    }


def child_countvectorizer(corpus: Path, output: Path) -> dict[str, Any]:
    import numpy as np
    from scipy import sparse
    from sklearn.feature_extraction.text import CountVectorizer

    try:
        os.environ.setdefault("SAGEMAKER_SUPPRESS_V2_WARNING", "1")
        from sagemaker.amazon.common import write_spmatrix_to_sparse_tensor

        encoder = "sagemaker.amazon.common.write_spmatrix_to_sparse_tensor"
    except ImportError:
        from preparation.recordio import SparseEncoder

        def write_spmatrix_to_sparse_tensor(stream: Any, matrix: Any) -> None:
            rows = SparseEncoder(matrix.shape[1])
            for row in range(matrix.shape[0]):
                start, end = matrix.indptr[row], matrix.indptr[row + 1]
                stream.write(
                    rows.encode(matrix.indices[start:end].tolist(), matrix.data[start:end].tolist())
                )

        encoder = "preparation.recordio.SparseEncoder (sagemaker not importable)"

    baseline = _peak_rss_mb()
    started, cpu = time.perf_counter(), _cpu_seconds()
    texts: list[str] = []
    for path in sorted(corpus.glob("*.jsonl")):
        with path.open(encoding="utf-8") as stream:
            texts.extend(json.loads(line)["text"] for line in stream)
    vectorizer = CountVectorizer(
        lowercase=CONFIG.lowercase,
        stop_words=sorted(ENGLISH_STOP_WORDS),
        token_pattern=TOKEN_PATTERN,
        min_df=CONFIG.min_df,
        max_df=CONFIG.max_df,
        max_features=CONFIG.max_vocabulary,
        dtype=np.float32,
    )
    vectors = sparse.csr_matrix(vectorizer.fit_transform(texts), dtype=np.float32)
    vectors = vectors[np.asarray(vectors.sum(axis=1)).ravel() >= CONFIG.min_document_tokens]
    order = np.random.default_rng(0).permutation(vectors.shape[0])
    vectors = vectors[order]
    held_out = int(vectors.shape[0] * CONFIG.test_ratio)
    validation = int(vectors.shape[0] * CONFIG.validation_ratio)
    splits = {
        "test": [vectors[:held_out]],
        "validation": [vectors[held_out : held_out + validation]],
        "train": [],
    }
    train = vectors[held_out + validation :]
    bounds = np.linspace(0, train.shape[0], CONFIG.train_shards + 1).astype(int).tolist()
    for shard in range(CONFIG.train_shards):
        splits["train"].append(train[bounds[shard] : bounds[shard + 1]])
    for split, shards in splits.items():
        (output / split).mkdir(parents=True, exist_ok=True)
        for shard, matrix in enumerate(shards):
            with (output / split / f"part-{shard:05d}.pbr").open("wb") as shard_file:
                write_spmatrix_to_sparse_tensor(shard_file, matrix)
    seconds = time.perf_counter() - started
    return {
        "seconds": seconds,
        "cpu_seconds": _cpu_seconds() - cpu,
        "documents": int(vectors.shape[0]),
        "encoder": encoder,
        "baseline_rss_mb": baseline,
        "peak_rss_mb": _peak_rss_mb(),
        "vocabulary": vectorizer.get_feature_names_out().tolist(),
    }


def run_child(python: str, approach: str, corpus: Path, output: Path) -> dict[str, Any]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    result = subprocess.run(
        [python, __file__, "--child", approach, str(corpus), str(output)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode:
        raise SystemExit(f"{approach} failed:\n{result.stderr}")
    return dict(json.loads(result.stdout.splitlines()[-1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0] if __doc__ else None)
    parser.add_argument("--documents", type=int, default=100_000)
    parser.add_argument(
        "--baseline-python",
        default=sys.executable,
        help="interpreter for the CountVectorizer run (one with sagemaker<3 uses the SDK encoder)",
    )
    parser.add_argument("--repeat", type=int, default=3, help="runs of each approach")
    parser.add_argument("--child", nargs=3, metavar=("APPROACH", "CORPUS", "OUTPUT"))
    args = parser.parse_args()
    if args.child:
        approach, corpus, output = args.child
        child = child_prepare if approach == "prepare" else child_countvectorizer
        print(json.dumps(child(Path(corpus), Path(output))))
        return

    with tempfile.TemporaryDirectory(prefix="prep-bench-") as scratch:
        work = Path(scratch)
        started = time.perf_counter()
        size = write_corpus(work / "corpus", args.documents)
        quarter = max(1, args.documents // 4)
        write_corpus(work / "quarter", quarter)
        print(
            f"corpus: {args.documents:,} documents, {size / 1e6:.0f} MB of JSON Lines "
            f"({time.perf_counter() - started:.0f} s to generate); cpus: {os.cpu_count()}; "
            f"load average {os.getloadavg()[0]:.1f}"
        )
        plan = [
            (f"prepare, {quarter:,} docs", sys.executable, "prepare", "quarter"),
            ("prepare (streaming)", sys.executable, "prepare", "corpus"),
            ("CountVectorizer + encoder", args.baseline_python, "countvectorizer", "corpus"),
        ]
        results: dict[str, list[dict[str, Any]]] = {name: [] for name, *_ in plan}
        # Interleaved, so that a busy moment on a shared machine hits every approach alike.
        for attempt in range(args.repeat):
            for name, python, approach, corpus in plan:
                output = work / f"out-{attempt}-{approach}-{corpus}"
                results[name].append(run_child(python, approach, work / corpus, output))
                shutil.rmtree(output)
        print(f"load average after: {os.getloadavg()[0]:.1f}")
    # The fastest of the repeats: noise only ever adds time.
    runs = [(name, min(results[name], key=lambda run: run["seconds"])) for name, *_ in plan]
    columns = ("docs", "best s", "docs/s", "CPU s", "peak RSS MB", "over imports MB")
    header = f"{'approach':<28}" + "".join(f"{column:>16}" for column in columns)
    print(f"\nbest of {args.repeat}")
    print(header)
    print("-" * len(header))
    for name, result in runs:
        peak = max(run["peak_rss_mb"] for run in results[name])
        cells = (
            f"{result['documents']:,}",
            f"{result['seconds']:.1f}",
            f"{result['documents'] / result['seconds']:,.0f}",
            f"{result['cpu_seconds']:.1f}",
            f"{peak:.0f}",
            f"{peak - result['baseline_rss_mb']:.0f}",
        )
        print(f"{name:<28}" + "".join(f"{cell:>16}" for cell in cells))
    ours, theirs = runs[1][1], runs[2][1]
    speed = (ours["documents"] / ours["seconds"]) / (theirs["documents"] / theirs["seconds"])
    memory = max(run["peak_rss_mb"] for run in results[plan[2][0]]) / max(
        run["peak_rss_mb"] for run in results[plan[1][0]]
    )
    shared = len(set(ours["vocabulary"]) & set(theirs["vocabulary"]))
    print(f"\nspeed, prepare / CountVectorizer: {speed:.2f}x")
    print(f"peak RSS, CountVectorizer / prepare: {memory:.2f}x")
    print(f"baseline encoder: {theirs['encoder']}")
    print(
        f"vocabularies shared: {shared} of {len(ours['vocabulary'])} "
        "(CountVectorizer's max_features ranks by corpus frequency, prepare by document frequency)"
    )


if __name__ == "__main__":
    main()
