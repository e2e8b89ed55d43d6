"""The summary's NPMI step: how fast it streams a held-out channel, against the trainer's way.

Writes a synthetic sparse recordIO-protobuf channel (default 16 MiB, 2,000 words, 50 distinct
words a document), then scores the top words of 8 jobs x 20 topics on it twice, on the same
bytes: the summary's standard-library path (``preparation.recordio`` reader into
``ntm_tuning.coherence``; what Lambda runs) and the local trainer's (the whole channel read into
a ``trainer.data.Corpus``, then ``trainer.quality.npmi`` with NumPy), checks they agree, and
prints MB/s of each and the ratio. The summary's time budget for NPMI (85% of its Lambda
timeout) over the measured rate bounds the channel size ``ntm:npmiMaxChannelBytes`` can allow.

    python benchmarks/npmi.py [--mib 16] [--repeats 3]
"""

from __future__ import annotations

import argparse
import io
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "lambdas")]

import numpy as np  # noqa: E402
from ntm_tuning.coherence import Incidence  # noqa: E402

from preparation.recordio import SparseEncoder, read_sparse  # noqa: E402
from trainer import quality  # noqa: E402
from trainer.data import Corpus  # noqa: E402

VOCABULARY = 2_000
WORDS_PER_DOCUMENT = 50


def channel(mib: float, seed: int = 1) -> bytes:
    rng = random.Random(seed)
    encoder = SparseEncoder(VOCABULARY)
    buffer = io.BytesIO()
    while buffer.tell() < mib * 2**20:
        keys = sorted(rng.sample(range(VOCABULARY), WORDS_PER_DOCUMENT))
        buffer.write(encoder.encode(keys, [float(rng.randint(1, 4)) for _ in keys]))
    return buffer.getvalue()


def summary_way(data: bytes, topics: list[list[int]]) -> list[float]:
    incidence = Incidence({word for topic in topics for word in topic})
    for row in read_sparse(io.BytesIO(data)):
        incidence.add(k for k, v in zip(row.keys, row.values, strict=False) if v > 0)
    return list(incidence.coherence(topics).per_topic)


def trainer_way(data: bytes, topics: list[list[int]]) -> list[float]:
    corpus = Corpus.from_rows(read_sparse(io.BytesIO(data)), VOCABULARY)
    return [float(v) for v in quality.npmi(np.asarray(topics), corpus)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--mib", type=float, default=16)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    data = channel(args.mib)
    rng = random.Random(2)
    topics = [rng.sample(range(VOCABULARY), 10) for _ in range(8 * 20)]
    size = len(data) / 2**20
    best: dict[str, float] = {}
    results: dict[str, list[float]] = {}
    for _ in range(args.repeats):
        for name, way in (
            ("summary (stdlib, streamed)", summary_way),
            ("trainer (NumPy)", trainer_way),
        ):
            started = time.perf_counter()
            results[name] = way(data, topics)
            best[name] = min(best.get(name, float("inf")), time.perf_counter() - started)
    first, second = results.values()
    agree = max(abs(a - b) for a, b in zip(first, second, strict=True))
    print(f"channel: {size:.1f} MiB, {len(topics)} topics x 10 words; best of {args.repeats}")
    print("| path | seconds | MiB/s |")
    print("|---|---|---|")
    for name, seconds in best.items():
        print(f"| {name} | {seconds:.2f} | {size / seconds:.2f} |")
    summary, trainer = best.values()
    print(f"summary / trainer time: {summary / trainer:.2f}x; largest NPMI difference {agree:.1e}")
    return 0 if agree < 1e-5 else 1


if __name__ == "__main__":
    sys.exit(main())
