"""``python -m offline REQUEST [--data DIR]``: run one request through the offline workflow.

Every event published on the results bus is printed to stdout, one JSON object a line; the
state transitions, the handlers' warnings and what the outcome means go to stderr.

Exit status: 0 the tuning job succeeded; 1 the request was rejected, or tuning failed or was
stopped (each violation, or the failure's code and message, is printed); 2 a wrong option,
request file or data folder; 3 the --timeout ran out (the execution is stopped).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
from pathlib import Path
from typing import Any

from .runtime import OfflineWorkflow
from .scripted import Scenario, ScriptedSageMaker
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
    parser.add_argument(
        "--timeout", type=float, default=120.0, help="seconds to wait for the end (default 120)"
    )
    parser.add_argument("--verbose", action="store_true", help="show the handlers' INFO logs")
    args = parser.parse_args(argv)
    log = sys.stderr
    try:
        body = _read_request(args.request)
        if args.data is not None:
            _check_folder(args.data)
        if args.template is not None and not args.template.is_file():
            raise ValueError(f"template file {args.template} does not exist")
        request = _parse(args.request, body) if args.as_event else None
    except ValueError as error:
        print(f"error: {error}", file=log)
        return 2

    stdout = sys.stdout
    # Offline there is no CloudWatch to read embedded-format metrics: do not print them.
    os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
    # Anything the handlers print (metrics in embedded metric format) goes to the log too:
    # stdout carries the published events and nothing else.
    sys.stdout = log
    try:
        return _run(args, body, request, stdout, log)
    finally:
        sys.stdout = stdout


def _run(args: argparse.Namespace, body: bytes, request: Any, stdout: Any, log: Any) -> int:
    from .demo import _quiet_emulator, current_state, let_threads_finish

    template = load(args.template) if args.template else synthesize()
    print(
        "offline workflow: the state machine and handlers from the synthesized stack; AWS emulated "
        "by moto.\ntuning jobs: "
        + ScriptedSageMaker.STAND_IN
        + " (the stand-in plays the job's states and writes placeholder artifacts).",
        file=log,
    )
    states: list[str] = []

    def transition(arn: str, state: str) -> None:
        states.append(state)
        print(f"[{arn.rsplit(':', 1)[-1][:8]}] {state}", file=log)

    with (
        _quiet_emulator(args.verbose),
        OfflineWorkflow(
            template, scenario=Scenario(outcome=args.outcome), on_transition=transition
        ) as workflow,
    ):
        _send_handler_logs_to(log, verbose=args.verbose)
        if args.data:
            keys = workflow.upload_folder(args.data)
            print(f"data bucket: {len(keys)} object(s) from {args.data}", file=log)
        if args.as_event:
            execution = workflow.put_request_event(request)
        else:
            execution = workflow.upload_request(
                f"{workflow.request_prefix}{args.request.name}", body
            )
        if execution is None:
            print("no rule matched: the request was not delivered", file=log)
            return 1
        try:
            result = workflow.wait(execution, timeout=args.timeout)
        except TimeoutError:
            state = current_state(workflow, execution) or (states[-1] if states else None)
            where = f"in state {state!r}" if state else "before its first state"
            with contextlib.suppress(Exception):
                workflow.sfn.stop_execution(
                    executionArn=execution, error="Interrupted", cause="--timeout ran out"
                )
                # Its clean-up runs once it has ended; the process must not end before.
                workflow.wait(execution, timeout=60)
            let_threads_finish()
            print(
                f"timed out: the execution was still running after --timeout {args.timeout:g} s, "
                f"{where}, and was stopped. Give it more time with --timeout SECONDS "
                f'(make local-run ARGS="--timeout {max(240, int(args.timeout * 4))}").',
                file=log,
            )
            return 3
        print(
            f"execution {result.status}" + (f": {result.error}" if result.error else ""),
            file=log,
        )
        succeeded = False
        for event in workflow.published():
            succeeded |= _explain(event, workflow, args.data, log)
            stdout.write(json.dumps(event) + "\n")
    return 0 if succeeded else 1


def _read_request(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise ValueError(f"request file {path} does not exist") from None
    except IsADirectoryError:
        raise ValueError(f"request file {path} is a folder, not a JSON file") from None
    except OSError as error:
        raise ValueError(f"request file {path} cannot be read: {error.strerror}") from None


def _parse(path: Path, body: bytes) -> Any:
    try:
        return json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ValueError(f"request file {path} is not JSON: {error}") from None


def _check_folder(folder: Path) -> None:
    if not folder.exists():
        raise ValueError(f"data folder {folder} does not exist")
    if not folder.is_dir():
        raise ValueError(f"data folder {folder} is a file, not a folder")


def _explain(event: dict[str, Any], workflow: Any, data: Path | None, log: Any) -> bool:
    """The outcome in words on stderr; True for a success."""
    detail = event["detail"]
    kind = event["detail-type"]
    if kind == "NTM Tuning Job Succeeded":
        print(f"{kind}: best training job {detail['best_training_job']['name']}", file=log)
        return True
    bucket = f"s3://{workflow.data_bucket}/"
    folder = f"{data}{os.sep}" if data is not None else bucket

    def user_path(text: str) -> str:
        return text.replace(bucket, folder)

    if kind == "NTM Tuning Request Rejected":
        print(f"{kind}; every problem, by field (rule): message", file=log)
        for violation in detail.get("violations") or []:
            print(
                f"  {violation['field']} ({violation['rule']}): {user_path(violation['message'])}",
                file=log,
            )
        return False
    reason = detail.get("reason") or {}
    print(f"{kind}: {reason.get('code')}: {user_path(str(reason.get('message')))}", file=log)
    return False


def _send_handler_logs_to(stream: object, *, verbose: bool) -> None:
    from ntm_tuning.handlers._runtime import logger

    logger.registered_handler.setStream(stream)  # type: ignore[attr-defined]
    logger.setLevel("INFO" if verbose else "WARNING")


if __name__ == "__main__":
    sys.exit(main())
