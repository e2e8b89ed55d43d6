"""The SageMaker Processing entry point: raw documents in, an NTM dataset out.

    python3 /opt/ml/processing/code/preparation/job.py --config-file CONFIG.json \
        [--input /opt/ml/processing/input/corpus] [--output /opt/ml/processing/output]

CONFIG.json is a JSON object of PreparationConfig fields (``{}`` for the defaults). The summary
is written to OUTPUT/dataset.json and printed on stdout; progress goes to stderr.

Exit status: 0 a dataset was written; 2 bad arguments or config; 3 no usable document (the
summary is still written and printed, with ``error`` saying why).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

if __name__ == "__main__":
    # Run as a file, Python puts this folder first on sys.path, where any module here would
    # shadow a standard-library module of the same name; the package's parent goes there.
    _here = Path(__file__).resolve().parent
    sys.path[:] = [entry for entry in sys.path if Path(entry or ".").resolve() != _here]
    sys.path.insert(0, str(_here.parent))

from preparation.config import PreparationConfig
from preparation.prepare import NoUsableDocuments, check_folders, prepare

DEFAULT_INPUT = Path("/opt/ml/processing/input/corpus")
DEFAULT_OUTPUT = Path("/opt/ml/processing/output")
EXIT_BAD_ARGUMENTS = 2
EXIT_NO_USABLE_DOCUMENTS = 3


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").partition("\n")[0])
    parser.add_argument("--config-file", type=Path, required=True)
    parser.add_argument("--input", type=Path, default=DEFAULT_INPUT)
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    args = parser.parse_args(argv)
    # Progress on stderr: checked by running the job as a file (test_job.py), which a mutation
    # run cannot trace; in-process, the test runner's own logging handlers take precedence.
    # pragma: no mutate start
    logging.basicConfig(
        level=logging.INFO, stream=sys.stderr, format="%(asctime)s %(levelname)s %(message)s"
    )
    # pragma: no mutate end
    try:
        # json.loads decodes the bytes itself: UTF-8 with or without a BOM (or UTF-16/32).
        config = PreparationConfig.from_dict(json.loads(args.config_file.read_bytes()))
    except (OSError, ValueError) as error:
        print(f"config {args.config_file}: {error}", file=sys.stderr)
        return EXIT_BAD_ARGUMENTS
    try:
        check_folders(args.input, args.output)
    except (OSError, ValueError) as error:
        print(str(error), file=sys.stderr)
        return EXIT_BAD_ARGUMENTS
    status = 0
    try:
        summary = prepare(args.input, args.output, config)
    except NoUsableDocuments as error:
        summary = error.summary
        status = EXIT_NO_USABLE_DOCUMENTS
        print(f"no usable documents: {error}", file=sys.stderr)
    print(summary.to_json(), end="")
    return status


if __name__ == "__main__":
    sys.exit(main())
