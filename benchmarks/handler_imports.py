"""Cold import time of each Lambda handler module, each in a fresh Python process.

The budget is 500 ms a module: a cold start pays it before the first request. Run with
``make bench-imports``; exits non-zero when a module is over budget.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HANDLERS = sorted(
    f"ntm_tuning.handlers.{path.stem}"
    for path in (ROOT / "lambdas" / "ntm_tuning" / "handlers").glob("*.py")
    if not path.stem.startswith("_")
)
BUDGET_MS = 500.0
RUNS = 7
PROBE = (
    "import time, importlib, sys; t = time.perf_counter(); importlib.import_module(sys.argv[1]); "
    "print((time.perf_counter() - t) * 1000)"
)


def measure(module: str) -> list[float]:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "lambdas"), "PYTHONDONTWRITEBYTECODE": "0"}
    # One warm-up run compiles the bytecode, as the deployment package's first import would.
    subprocess.run([sys.executable, "-c", PROBE, module], env=env, check=True, capture_output=True)
    return [
        float(
            subprocess.run(
                [sys.executable, "-c", PROBE, module],
                env=env,
                check=True,
                capture_output=True,
                text=True,
            ).stdout
        )
        for _ in range(RUNS)
    ]


def main() -> int:
    header = f"{'module':38} {'median ms':>10} {'max ms':>8}"
    print(f"{header}   budget {BUDGET_MS:.0f} ms, {RUNS} fresh processes")
    over = False
    for module in HANDLERS:
        times = measure(module)
        median, worst = statistics.median(times), max(times)
        over |= median > BUDGET_MS
        flag = "   OVER BUDGET" if median > BUDGET_MS else ""
        print(f"{module:38} {median:10.0f} {worst:8.0f}{flag}")
    return 1 if over else 0


if __name__ == "__main__":
    sys.exit(main())
