"""Cold import time of each Lambda handler, measured the way Lambda pays it.

For every function in the synthesized template (``make synth`` writes ``cdk.out``), the
handler module is imported in a fresh Python process:

- from a copy of the function's own asset folder and, beside it, only what Lambda adds (boto3
  and the Powertools layer's packages, from ``requirements-lambda.txt``), so nothing else of
  the development environment is importable, with no bytecode cache for the project's code
  (``/var/task`` is read-only in Lambda, so a cold start compiles it every time) and ``-B``
  so none is written;
- with the function's environment from the template (intrinsics replaced by placeholders,
  which are only read when a request arrives) plus the variables the Lambda runtime sets
  (``AWS_LAMBDA_FUNCTION_NAME``, ``LAMBDA_TASK_ROOT``...), so Powertools' Tracer sees a
  Lambda environment and loads the X-Ray SDK as it does there.

The reference is ``import boto3`` in the same kind of process, measured in the same run and
interleaved with the handlers (the machine is shared: only the ratio is comparable between
runs). Every handler calls AWS, so it pays for boto3 anyway; the goal is at most 1.5x that.
Exits non-zero when a handler's median is over it.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
GOAL_RATIO = 1.5
PROBE = (
    "import time, importlib, sys; t = time.perf_counter(); importlib.import_module(sys.argv[1]); "
    "print((time.perf_counter() - t) * 1000)"
)
REFERENCE = "boto3"


@dataclass(frozen=True)
class Function:
    logical_id: str
    module: str
    handler: str
    asset: Path
    environment: dict[str, str]
    memory_mb: str


def _placeholder(value: Any) -> str:
    return value if isinstance(value, str) else "resolved-at-deploy"


def functions(cdk_out: Path) -> list[Function]:
    """The template's Lambda functions whose code is an asset folder in ``cdk_out``."""
    templates = sorted(cdk_out.glob("*.template.json"))
    if not templates:
        raise SystemExit(f"no template in {cdk_out}: run `make synth` first")
    template = json.loads(templates[0].read_text())
    found = []
    for logical_id, resource in sorted(template["Resources"].items()):
        if resource["Type"] != "AWS::Lambda::Function":
            continue
        properties = resource["Properties"]
        key = properties["Code"].get("S3Key")
        if not isinstance(key, str) or not key.endswith(".zip"):
            continue
        asset = cdk_out / f"asset.{key.removesuffix('.zip')}"
        if not asset.is_dir():
            continue
        variables = properties.get("Environment", {}).get("Variables", {})
        environment = {name: _placeholder(value) for name, value in variables.items()}
        handler = properties["Handler"]
        memory = str(properties.get("MemorySize", 128))
        found.append(
            Function(logical_id, handler.rsplit(".", 1)[0], handler, asset, environment, memory)
        )
    return found


def runtime_packages(target: Path) -> Path:
    """What a function finds besides its own code: boto3 (the Lambda runtime) and the
    Powertools layer, installed once from requirements-lambda.txt into ``target``.

    Nothing else: the development environment's other packages (SQLAlchemy, for one) would
    be patched by the tracer, which Lambda never does."""
    stamp = target / ".installed"
    requirements = ROOT / "requirements-lambda.txt"
    if not stamp.exists() or stamp.read_text() != requirements.read_text():
        print(f"installing {requirements.name} into {target} ...", file=sys.stderr)
        shutil.rmtree(target, ignore_errors=True)
        pip = [sys.executable, "-m", "pip", "install", "--quiet", "--target", str(target)]
        subprocess.run([*pip, "-r", str(requirements)], check=True)
        stamp.write_text(requirements.read_text())
    return target


def lambda_environment(function: Function | None, package: Path, runtime: Path) -> dict[str, str]:
    keep = {"PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "SYSTEMROOT"}
    env = {name: value for name, value in os.environ.items() if name in keep}
    env.update(
        {
            "PYTHONPATH": os.pathsep.join([str(package), str(runtime)]),
            "PYTHONDONTWRITEBYTECODE": "1",
            "AWS_REGION": "us-east-1",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_EXECUTION_ENV": "AWS_Lambda_python3.12",
        }
    )
    if function is not None:
        env.update(function.environment)
        # The runtime's reserved variables: with LAMBDA_TASK_ROOT the X-Ray SDK takes its
        # Lambda path (local sampler, no X-Ray client of its own), as it does in Lambda.
        env.update(
            {
                "AWS_LAMBDA_FUNCTION_NAME": function.logical_id,
                "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
                "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": function.memory_mb,
                "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{function.logical_id}",
                "LAMBDA_TASK_ROOT": str(package),
                "LAMBDA_RUNTIME_DIR": "/var/runtime",
                "_HANDLER": function.handler,
                "AWS_XRAY_DAEMON_ADDRESS": "169.254.79.129:2000",
                "AWS_XRAY_CONTEXT_MISSING": "LOG_ERROR",
            }
        )
    return env


def once(module: str, package: Path, env: dict[str, str]) -> float:
    done = subprocess.run(
        [sys.executable, "-S", "-B", "-c", PROBE, module],
        env=env,
        cwd=package,
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        raise SystemExit(f"importing {module} failed:\n{done.stderr}")
    return float(done.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cdk-out", type=Path, default=ROOT / "cdk.out")
    parser.add_argument("--runs", type=int, default=7, help="fresh processes per module")
    parser.add_argument(
        "--runtime-packages",
        type=Path,
        default=ROOT / ".venv" / "lambda-runtime",
        help="where boto3 and the layer's packages are installed for the measurement",
    )
    args = parser.parse_args(argv)
    runtime = runtime_packages(args.runtime_packages)

    targets = functions(args.cdk_out)
    if not targets:
        raise SystemExit(f"no Lambda function with an asset folder in {args.cdk_out}")
    times: dict[str, list[float]] = {REFERENCE: []}
    with tempfile.TemporaryDirectory(prefix="ntm-bench-imports-") as scratch:
        packages: dict[Path, Path] = {}
        for index, asset in enumerate(sorted({target.asset for target in targets})):
            # A fresh copy of the asset: no __pycache__ a previous import may have left.
            packages[asset] = Path(
                shutil.copytree(
                    asset,
                    Path(scratch) / f"task{index}",
                    ignore=shutil.ignore_patterns("__pycache__"),
                )
            )
        empty = Path(scratch) / "empty"
        empty.mkdir()
        for _ in range(args.runs):
            reference_env = lambda_environment(None, empty, runtime)
            times[REFERENCE].append(once(REFERENCE, empty, reference_env))
            for target in targets:
                package = packages[target.asset]
                env = lambda_environment(target, package, runtime)
                times.setdefault(target.logical_id, []).append(once(target.module, package, env))

    reference = statistics.median(times[REFERENCE])
    print(
        f"{args.runs} fresh processes each, no bytecode cache for the project's code, "
        f"tracer on; goal <= {GOAL_RATIO}x `import {REFERENCE}`"
    )
    width = max(len(target.module) for target in targets)
    print(f"{'handler':{width}} {'median ms':>10} {'max ms':>8} {'x boto3':>8}")
    slowest = max(times[REFERENCE])
    print(f"{'import ' + REFERENCE:{width}} {reference:10.0f} {slowest:8.0f} {1:8.2f}")
    over = False
    for target in targets:
        median = statistics.median(times[target.logical_id])
        ratio = median / reference
        over |= ratio > GOAL_RATIO
        flag = "   OVER" if ratio > GOAL_RATIO else ""
        print(
            f"{target.module:{width}} {median:10.0f} {max(times[target.logical_id]):8.0f} "
            f"{ratio:8.2f}{flag}"
        )
    return 1 if over else 0


if __name__ == "__main__":
    sys.exit(main())
