"""Mutation testing of the domain packages: `make mutation` (mutmut).

mutmut names a mutant after the path of its file relative to the directory it runs in, and the
trampoline it plants records the module the tests imported. Here the two differ: the Lambda
package lives in `lambdas/ntm_tuning/` but is imported as `ntm_tuning` (pytest's `pythonpath`).
So each run happens in a staging directory, `build/mutation/<group>/`, where `ntm_tuning/` and
`preparation/` are top-level (links to the sources, which mutmut only reads: it writes its
mutated copies under `mutants/` there), with a pytest configuration whose only import root is
that directory. `PYTHONPATH` is cleared so the unmutated sources cannot be imported by mistake.

Only the fast tests run (unit, handlers, preparation; not the workflow, infra and trainer
suites), each group of modules against the tests of its own layer (GROUPS).

Prints every surviving mutant and the score: killed / (killed + survived), a mutant that no
test reaches counted as a survivor. `--show GROUP NAME` prints one mutant's diff; `--only GLOB`
mutates other files (e.g. `make mutation ARGS="--only ntm_tuning/job_definition.py"`).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
STAGES = ROOT / "build" / "mutation"

# What is mutated, as (name in the staging directory, source directory).
PACKAGES = {"ntm_tuning": ROOT / "lambdas" / "ntm_tuning", "preparation": ROOT / "preparation"}
# What the tests read or import besides the mutated packages (copied next to the mutants):
# every other file and folder of the repository (the README, schemas, examples...), and
# `lambdas/` for the tests that start a fresh interpreter on it (those see unmutated code).
# The staging directory writes its own pyproject.toml.
_NOT_COPIED = {"build", "cdk.out", "node_modules", "preparation", "pyproject.toml", "mutants"}
ALSO = sorted(
    path.name
    for path in ROOT.iterdir()
    if not path.name.startswith(".") and path.name not in _NOT_COPIED
)
# Each group: the modules it mutates, and the fast tests at their own layer that must catch a
# bug in them. A mutant runs only those of its group's tests that reach its function (mutmut
# records which, in one traced run of the group's tests), fastest first, until one fails; a
# surviving one runs all of them. So a group's tests are the layer that owns its modules: the
# domain rules against the unit tests, not against every moto-backed handler test that also
# happens to call them (that would multiply the time of each survivor by tens of seconds).
# Every module of the two packages is in exactly one group: what no group names (the steps of
# the workflow, the AWS adapters, the handlers, the settings, whatever module is added later)
# falls into WORKFLOW, mutated against the unit and handler tests. Empty `__init__.py` files
# hold nothing to mutate.
GROUPS: dict[str, tuple[list[str], list[str]]] = {
    "domain": (
        [
            "ntm_tuning/naming.py",
            "ntm_tuning/request.py",
            "ntm_tuning/ntm.py",
            "ntm_tuning/summary.py",
            "ntm_tuning/events.py",
            "ntm_tuning/topics.py",
            "ntm_tuning/tags.py",
            "ntm_tuning/instances.py",
            "ntm_tuning/locations.py",
            "ntm_tuning/warm_start.py",
            "ntm_tuning/job_definition.py",
            "ntm_tuning/cost.py",
            "ntm_tuning/schemas.py",
            "ntm_tuning/errors.py",
            "ntm_tuning/states.py",
        ],
        ["tests/unit"],
    ),
    "reports": (
        [
            "ntm_tuning/training_logs.py",
            "ntm_tuning/topic_report.py",
            "ntm_tuning/coherence.py",
        ],
        [
            "tests/unit/test_topics.py",
            "tests/unit/test_coherence.py",
            "tests/unit/test_training_logs.py",
            "tests/unit/test_topic_report.py",
            "tests/handlers/test_summary_topics.py",
        ],
    ),
    "ledger": (["ntm_tuning/ledger.py"], ["tests/handlers/test_ledger.py"]),
    "preparation": (
        [
            "preparation/tokens.py",
            "preparation/stopwords.py",
            "preparation/splits.py",
            "preparation/vocabulary.py",
            "preparation/shards.py",
            "preparation/config.py",
            "preparation/corpus.py",
            "preparation/prepare.py",
            "preparation/recordio.py",
            "preparation/synthetic.py",
            "preparation/job.py",
        ],
        ["tests/preparation", "tests/unit/test_recordio.py"],
    ),
}
WORKFLOW = "workflow"
WORKFLOW_TESTS = ["tests/unit", "tests/handlers"]


def _source(module: str) -> Path:
    package, _, rest = module.partition("/")
    return PACKAGES[package] / rest


def all_groups() -> dict[str, tuple[list[str], list[str]]]:
    """GROUPS and WORKFLOW: every module of the two packages, each in exactly one group."""
    named = [module for modules, _ in GROUPS.values() for module in modules]
    missing = [module for module in named if not _source(module).is_file()]
    if missing or len(set(named)) != len(named):
        raise SystemExit(f"tools/mutation.py GROUPS: missing or repeated modules {missing}")
    rest = sorted(
        f"{name}/{path.relative_to(source).as_posix()}"
        for name, source in PACKAGES.items()
        for path in source.rglob("*.py")
        if path.read_text(encoding="utf-8").strip()
    )
    rest = [module for module in rest if module not in named]
    return {**GROUPS, WORKFLOW: (rest, WORKFLOW_TESTS)}


ALL_TESTS = ["tests/unit", "tests/handlers", "tests/preparation"]

# mutmut's verdicts (mutmut.stats.status_by_exit_code).
KILLED = {"killed", "timeout", "caught by type check"}
SURVIVED = {"survived", "no tests"}


def _toml_list(items: list[str]) -> str:
    return "[" + ", ".join(json.dumps(item) for item in items) + "]"


def stage(stage_dir: Path, only: list[str], tests: list[str]) -> None:
    stage_dir.mkdir(parents=True, exist_ok=True)
    for name in [*PACKAGES, *ALSO]:
        link = stage_dir / name
        target = PACKAGES.get(name, ROOT / name)
        if link.is_symlink() or link.exists():
            link.unlink()
        link.symlink_to(target, target_is_directory=target.is_dir())
    pyproject = f"""\
[tool.pytest.ini_options]
pythonpath = ["."]
addopts = "-p no:cacheprovider"
filterwarnings = ["ignore::DeprecationWarning:jsii.*", "ignore::DeprecationWarning:typeguard.*"]

[tool.mutmut]
source_paths = {_toml_list(list(PACKAGES))}
also_copy = {_toml_list(ALSO)}
only_mutate = {_toml_list(only)}
pytest_add_cli_args_test_selection = {_toml_list(tests)}
use_git_change_detection = false
"""
    (stage_dir / "pyproject.toml").write_text(pyproject)


def verdicts(stage_dir: Path) -> dict[str, str]:
    """Mutant name -> status, from the `.meta` files mutmut leaves next to each mutated file."""
    from mutmut.stats import status_by_exit_code

    result: dict[str, str] = {}
    for meta in sorted((stage_dir / "mutants").rglob("*.py.meta")):
        data = json.loads(meta.read_text())
        for name, code in data.get("exit_code_by_key", {}).items():
            result[name] = str(status_by_exit_code.get(code, "not checked"))
    return result


def _score(results: dict[str, str]) -> tuple[float, int, int]:
    killed = sum(1 for status in results.values() if status in KILLED)
    checked = killed + sum(1 for status in results.values() if status in SURVIVED)
    return (100.0 * killed / checked if checked else 0.0), killed, checked


def report(results: dict[str, str]) -> int:
    """Results are keyed "GROUP MUTANT"; mutants left out of this run are "not checked"."""
    survivors = sorted(name for name, status in results.items() if status in SURVIVED)
    other = {name: s for name, s in results.items() if s not in KILLED | SURVIVED | {"not checked"}}
    print()
    print("Surviving mutants (`python tools/mutation.py --show GROUP NAME` prints one):")
    for name in survivors:
        print(f"  {name}  [{results[name]}]")
    for name, status in sorted(other.items()):
        print(f"  {name}  [{status}: not counted]")
    print()
    for group in sorted({name.split(" ", 1)[0] for name in results}):
        score, killed, checked = _score(
            {name: s for name, s in results.items() if name.startswith(group + " ")}
        )
        print(f"  {group}: {score:.1f}% ({killed} killed of {checked})")
    unchecked = sum(1 for status in results.values() if status == "not checked")
    if unchecked:
        print(f"  ({unchecked} mutants not run this time)")
    score, killed, checked = _score(results)
    print(
        f"Mutation score: {score:.1f}% ({killed} killed of {checked}; {checked - killed} survived)"
    )
    return 0 if checked else 1


def _children_cpu() -> float:
    """CPU seconds (user + system) of the finished child processes, mutmut's workers included."""
    times = os.times()
    return times.children_user + times.children_system


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument(
        "--only",
        action="append",
        default=[],
        help="glob of files to mutate, e.g. ntm_tuning/job_definition.py",
    )
    parser.add_argument(
        "--group", action="append", choices=[*GROUPS, WORKFLOW], help="run this group only"
    )
    parser.add_argument(
        "--mutants",
        action="append",
        default=[],
        metavar="GLOB",
        help="run only the mutants whose names match, e.g. '*__mutmut_*7' for a tenth of them",
    )
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--show", nargs=2, metavar=("GROUP", "MUTANT"), help="print one mutant")
    parser.add_argument("--report", action="store_true", help="report the last run only")
    args = parser.parse_args()

    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    mutmut = shutil.which("mutmut")
    if mutmut is None:
        print("mutmut is not installed: run `make install`", file=sys.stderr)
        return 2
    groups = {"only": (args.only, ALL_TESTS)} if args.only else all_groups()
    if args.group:
        groups = {name: groups[name] for name in args.group}
    if args.show:
        return subprocess.call([mutmut, "show", args.show[1]], cwd=STAGES / args.show[0], env=env)
    results: dict[str, str] = {}
    for group, (modules, tests) in groups.items():
        stage_dir = STAGES / group
        if not args.report:
            shutil.rmtree(stage_dir, ignore_errors=True)
            stage(stage_dir, modules, tests)
            print(f"== {group}: {', '.join(modules)} against {', '.join(tests)}", flush=True)
            command = [mutmut, "run", "--max-children", str(args.jobs), *args.mutants]
            began, cpu_before = time.monotonic(), _children_cpu()
            code = subprocess.call(command, cwd=stage_dir, env=env)
            wall, cpu = time.monotonic() - began, _children_cpu() - cpu_before
            print(f"== {group}: {wall / 60:.1f} min, {cpu / 60:.1f} min of CPU", flush=True)
            if code != 0:
                print(f"mutmut run exited with {code} in {stage_dir}", file=sys.stderr)
                return code
        results.update({f"{group} {name}": status for name, status in verdicts(stage_dir).items()})
    return report(results)


if __name__ == "__main__":
    sys.exit(main())
