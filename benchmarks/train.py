"""Training throughput of the local NTM: documents per second per epoch.

On a synthetic corpus with planted topics (default 20,000 training documents over a 2,000-word
vocabulary), trains a few epochs for each batch size on the CPU (with 1 thread, as each tuner
worker does, and with all cores) and on CUDA when available, and prints a table. The first
epoch is reported apart: it includes warm-up (allocations, kernel selection).

    python benchmarks/train.py [--documents 20000] [--vocabulary 2000] [--topics 50]
                               [--epochs 3] [--batch-sizes 64,256,1024] [--threads 1,all]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import torch  # noqa: E402

from trainer.corpora import planted_corpus  # noqa: E402
from trainer.train import DENSE_CELLS, train  # noqa: E402


def settings(threads: str) -> list[tuple[str, int]]:
    cores = os.cpu_count() or 1
    counts = sorted({cores if t == "all" else int(t) for t in threads.split(",")})
    found = [("cpu", count) for count in counts]
    if torch.cuda.is_available():
        found.append(("cuda", 1))
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--documents", type=int, default=20_000)
    parser.add_argument("--vocabulary", type=int, default=2_000)
    parser.add_argument("--topics", type=int, default=50)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--batch-sizes", default="64,256,1024")
    parser.add_argument(
        "--threads", default="1,all", help="CPU thread counts to try (1: as each tuner worker)"
    )
    args = parser.parse_args(argv)

    started = time.perf_counter()
    held_out = 1_000
    corpus = planted_corpus(
        documents=args.documents + 2 * held_out,
        vocabulary_size=args.vocabulary,
        topics=20,
        held_out=held_out / (args.documents + 2 * held_out),
        seed=0,
    )
    layout = "dense" if len(corpus.train) * args.vocabulary <= DENSE_CELLS else "sparse"
    print(
        f"corpus: {len(corpus.train)} training documents, {args.vocabulary} words, "
        f"{corpus.train.nnz} non-zero counts ({layout} on the device); "
        f"built in {time.perf_counter() - started:.1f}s"
    )
    print(f"model: {args.topics} topics, encoder auto ({3 * args.topics},{2 * args.topics}), adam")
    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "none"
    print(f"torch {torch.__version__}; CUDA: {gpu}; CPU cores: {os.cpu_count()}")
    print()
    header = ("device", "threads", "batch", "epoch 1 docs/s", "later docs/s", "s/epoch")
    rows: list[tuple[str, ...]] = []
    for device, threads in settings(args.threads):
        for batch in (int(b) for b in args.batch_sizes.split(",")):
            trained = train(
                {
                    "feature_dim": str(args.vocabulary),
                    "num_topics": str(args.topics),
                    "epochs": str(args.epochs),
                    "optimizer": "adam",
                    "learning_rate": "0.005",
                    "mini_batch_size": str(batch),
                    "tolerance": "1e-6",
                    "num_patience_epochs": "10",
                },
                corpus.train,
                corpus.validation,
                threads=threads,
                device=device,
                seed=0,
            )
            speeds = [epoch["documents_per_second"] for epoch in trained.history]
            seconds = [epoch["seconds"] for epoch in trained.history]
            later = speeds[1:] or speeds
            rows.append(
                (
                    device,
                    str(threads),
                    str(batch),
                    f"{speeds[0]:,.0f}",
                    f"{statistics.median(later):,.0f}",
                    f"{statistics.median(seconds[1:] or seconds):.2f}",
                )
            )
            print(" | ".join(rows[-1]), flush=True)
    print()
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(header)]
    line = " | ".join(h.ljust(w) for h, w in zip(header, widths, strict=True))
    print(line)
    print("-|-".join("-" * w for w in widths))
    for row in rows:
        print(" | ".join(v.rjust(w) for v, w in zip(row, widths, strict=True)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
