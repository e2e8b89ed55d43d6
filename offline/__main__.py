"""``python -m offline REQUEST [--data DIR]``: run one request through the offline workflow.

Every event published on the results bus is printed to stdout, one JSON object a line; the
state transitions and the handlers' logs go to stderr. Exits 0 once the workflow reaches a
terminal state, whatever the outcome.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from .runtime import OfflineWorkflow
from .sagemaker import Scenario, ScriptedSageMaker
from .template import load, synthesize


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m offline", description=__doc__.split("\n")[0])
    parser.add_argument("request", type=Path, help="the tuning request (JSON file)")
    parser.add_argument(
        "--data", type=Path, help="folder standing in for the data bucket (relative paths = keys)"
    )
    parser.add_argument(
        "--as-event",
        action="store_true",
        help="deliver the request as an 'NTM Tuning Requested' event instead of an S3 upload",
    )
    parser.add_argument(
        "--outcome",
        choices=("Completed", "Failed", "Stopped"),
        default="Completed",
        help="how the stand-in tuning job ends",
    )
    parser.add_argument("--template", type=Path, help="a synthesized template (default: synth now)")
    parser.add_argument("--timeout", type=float, default=120.0)
    parser.add_argument("--verbose", action="store_true", help="show the handlers' INFO logs")
    args = parser.parse_args(argv)

    stdout = sys.stdout
    log = sys.stderr
    # Offline there is no CloudWatch to read embedded-format metrics: do not print them.
    os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
    # Anything the handlers print (metrics in embedded metric format) goes to the log too:
    # stdout carries the published events and nothing else.
    sys.stdout = log
    body = args.request.read_bytes()
    template = load(args.template) if args.template else synthesize()
    print(
        "offline workflow: the state machine and handlers from the synthesized stack; AWS emulated "
        "by moto.\ntuning jobs: "
        + ScriptedSageMaker.STAND_IN
        + " (the stand-in plays the job's states and writes placeholder artifacts).",
        file=log,
    )
    with OfflineWorkflow(
        template,
        scenario=Scenario(outcome=args.outcome),
        on_transition=lambda arn, state: print(f"[{arn.rsplit(':', 1)[-1][:8]}] {state}", file=log),
    ) as workflow:
        _send_handler_logs_to(log, verbose=args.verbose)
        if args.data:
            keys = workflow.upload_folder(args.data)
            print(f"data bucket: {len(keys)} object(s) from {args.data}", file=log)
        if args.as_event:
            execution = workflow.put_request_event(json.loads(body))
        else:
            execution = workflow.upload_request(
                f"{workflow.request_prefix}{args.request.name}", body
            )
        if execution is None:
            print("no rule matched: the request was not delivered", file=log)
        else:
            result = workflow.wait(execution, timeout=args.timeout)
            print(
                f"execution {result.status}" + (f": {result.error}" if result.error else ""),
                file=log,
            )
        for event in workflow.published():
            stdout.write(json.dumps(event) + "\n")
    sys.stdout = stdout
    return 0


def _send_handler_logs_to(stream: object, *, verbose: bool) -> None:
    from ntm_tuning.handlers._runtime import logger

    logger.registered_handler.setStream(stream)  # type: ignore[attr-defined]
    logger.setLevel("INFO" if verbose else "WARNING")


if __name__ == "__main__":
    sys.exit(main())
