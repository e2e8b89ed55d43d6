"""``python -m trainer DATA OUTPUT name=value ...``: one NTM training job, as SageMaker runs it.

DATA holds the channels (``train``, optional ``validation``, ``test``, ``auxiliary/vocab.txt``),
as in ``/opt/ml/input/data``; OUTPUT receives ``model.tar.gz``. Hyperparameters are given as
SageMaker passes them, ``name=value``: ``num_topics`` is required, and ``feature_dim`` too unless
``auxiliary/vocab.txt`` is there, whose line count it then is (as the pipeline derives it). Each
epoch's metrics and the final ones are printed as SageMaker's logs show them.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .errors import DataError, HyperparameterError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m trainer", description=__doc__.split("\n")[0])
    parser.add_argument("data", type=Path, help="folder holding the channels")
    parser.add_argument("output", type=Path, help="where model.tar.gz is written")
    parser.add_argument("hyperparameters", nargs="*", metavar="name=value")
    parser.add_argument("--content-type", help="of the data channels (default: detected)")
    parser.add_argument("--device", default="auto", help="auto (CUDA when available), cpu, cuda")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: all)")
    args = parser.parse_args(argv)
    values = {}
    for item in args.hyperparameters:
        name, separator, value = item.partition("=")
        if not separator:
            parser.error(f"{item!r} is not name=value")
        values[name] = value

    from .data import read_vocabulary
    from .train import train_channels

    if "feature_dim" not in values:
        vocabulary = read_vocabulary(args.data / "auxiliary")
        if vocabulary is not None:
            values["feature_dim"] = str(len(vocabulary))
            print(f"feature_dim={len(vocabulary)}, the lines of auxiliary/vocab.txt", flush=True)

    def log(record: dict[str, float]) -> None:
        shown = ", ".join(f"{k}={v:.4f}" for k, v in record.items() if ":" in k)
        print(f"#epoch {int(record['epoch'])}: {shown}", flush=True)

    types = dict.fromkeys(("train", "validation", "test"), args.content_type)
    try:
        trained, artifact = train_channels(
            args.data,
            args.output,
            values,
            content_types=types,
            seed=args.seed,
            threads=args.threads,
            device=args.device,
            on_epoch=log,
        )
    except (HyperparameterError, DataError) as error:
        print(f"ClientError: {error}", file=sys.stderr)
        return 2
    for name, value in sorted(trained.metrics.items()):
        print(f"#quality_metric: {name} = {value:.6g}")
    for topic in trained.topics() or []:
        words = topic["words"]
        assert isinstance(words, list)
        print(f"topic {topic['topic']}: {' '.join(words)}")
    print(f"model: {artifact}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
