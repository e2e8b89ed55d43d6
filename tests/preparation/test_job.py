"""job.py as SageMaker Processing runs it: a file executed by path, not an installed package."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import write_file, write_synthetic_jsonl

ROOT = Path(__file__).resolve().parents[2]


def run_job(tmp_path: Path, config: object, *extra: str) -> subprocess.CompletedProcess[str]:
    # The package copied to a folder of its own, as the Processing job's code input would be.
    code = tmp_path / "code"
    shutil.copytree(
        ROOT / "preparation", code / "preparation", ignore=shutil.ignore_patterns("__pycache__")
    )
    (tmp_path / "config.json").write_text(json.dumps(config))
    return subprocess.run(
        [
            sys.executable,
            str(code / "preparation/job.py"),
            "--config-file",
            str(tmp_path / "config.json"),
            *extra,
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={"PATH": "/usr/bin:/bin"},  # no PYTHONPATH: the script must find its package itself
        timeout=60,
    )


def test_job_writes_and_prints_the_summary(tmp_path: Path) -> None:
    write_synthetic_jsonl(tmp_path / "corpus/a.jsonl", 200)
    result = run_job(
        tmp_path,
        {"train_shards": 2, "split_salt": "job"},
        "--input",
        str(tmp_path / "corpus"),
        "--output",
        str(tmp_path / "output"),
    )
    assert result.returncode == 0, result.stderr
    printed = json.loads(result.stdout)
    assert printed == json.loads((tmp_path / "output/dataset.json").read_text())
    assert printed["documents"]["total"] == 200
    assert printed["config"]["split_salt"] == "job"
    assert (tmp_path / "output/train/part-00001.pbr").is_file()
    assert (tmp_path / "output/auxiliary/vocab.txt").is_file()
    assert "pass 2" in result.stderr


def test_job_without_usable_documents_exits_3(tmp_path: Path) -> None:
    write_file(tmp_path / "corpus/a.txt", "")
    result = run_job(
        tmp_path, {}, "--input", str(tmp_path / "corpus"), "--output", str(tmp_path / "output")
    )
    assert result.returncode == 3
    printed = json.loads(result.stdout)
    assert printed["error"] == "no readable document in the input folder"
    assert printed["dropped"]["empty"] == 1
    assert json.loads((tmp_path / "output/dataset.json").read_text()) == printed


def test_job_rejects_a_bad_config(tmp_path: Path) -> None:
    write_synthetic_jsonl(tmp_path / "corpus/a.jsonl", 20)
    result = run_job(
        tmp_path,
        {"max_df": 2.0},
        "--input",
        str(tmp_path / "corpus"),
        "--output",
        str(tmp_path / "output"),
    )
    assert result.returncode == 2
    assert "max_df: " in result.stderr
    assert result.stdout == ""
    assert not (tmp_path / "output").exists()


def test_no_module_shadows_the_standard_library() -> None:
    # Run as a file, job.py's folder is on sys.path until the script removes it; a module named
    # like a standard one (tokenize.py, say) would break imports before that.
    names = {path.stem for path in (ROOT / "preparation").glob("*.py")}
    assert not names & sys.stdlib_module_names


# The same entry point called in-process: each exit status, what it prints and where.
def test_main_exit_statuses_and_what_each_prints(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from preparation import job

    write_synthetic_jsonl(tmp_path / "corpus/a.jsonl", 60)
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"train_shards": 1, "split_salt": "in-process é"}))
    folders = ["--input", str(tmp_path / "corpus"), "--output", str(tmp_path / "out")]

    assert job.main(["--config-file", str(config), *folders]) == 0
    printed = capsys.readouterr()
    # Printed exactly as written to dataset.json: indented, non-ASCII text as it is.
    assert printed.out == (tmp_path / "out/dataset.json").read_text(encoding="utf-8")
    summary = json.loads(printed.out)
    assert summary["config"]["split_salt"] == "in-process é"
    assert summary["documents"]["total"] == 60

    # The output folder is now not empty: refused before anything is read.
    assert job.main(["--config-file", str(config), *folders]) == job.EXIT_BAD_ARGUMENTS == 2
    printed = capsys.readouterr()
    assert printed.out == ""
    assert "is not empty" in printed.err

    missing = tmp_path / "missing.json"
    assert job.main(["--config-file", str(missing), *folders]) == 2
    assert capsys.readouterr().err.startswith(f"config {missing}: ")

    write_file(tmp_path / "empty/a.txt", "")
    empty = ["--input", str(tmp_path / "empty"), "--output", str(tmp_path / "out-empty")]
    assert job.main(["--config-file", str(config), *empty]) == job.EXIT_NO_USABLE_DOCUMENTS == 3
    printed = capsys.readouterr()
    assert json.loads(printed.out)["error"] == "no readable document in the input folder"
    assert printed.err.startswith("no usable documents: ")


def test_main_needs_a_config_and_reads_the_processing_folders_by_default(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from preparation import job

    with pytest.raises(SystemExit) as raised:
        job.main([])
    assert raised.value.code == 2
    assert "--config-file" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        job.main(["--help"])
    assert "raw documents in, an NTM dataset out" in capsys.readouterr().out
    # Outside a Processing container the default input folder does not exist.
    config = tmp_path / "config.json"
    config.write_text("{}")
    assert job.main(["--config-file", str(config)]) == 2
    assert capsys.readouterr().err == (
        "input folder /opt/ml/processing/input/corpus does not exist or is not a folder\n"
    )


def test_main_reads_and_writes_the_default_folders(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from preparation import job

    # The Processing folders, moved under tmp_path: only --config-file is given.
    monkeypatch.setattr(job, "DEFAULT_INPUT", tmp_path / "processing/input/corpus")
    monkeypatch.setattr(job, "DEFAULT_OUTPUT", tmp_path / "processing/output")
    write_synthetic_jsonl(tmp_path / "processing/input/corpus/a.jsonl", 30)
    config = tmp_path / "config.json"
    config.write_text('{"train_shards": 1}')
    assert job.main(["--config-file", str(config)]) == 0
    written = (tmp_path / "processing/output/dataset.json").read_text(encoding="utf-8")
    assert capsys.readouterr().out == written
    assert json.loads(written)["documents"]["total"] == 30


def test_the_help_describes_the_job_in_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    from preparation import job

    with pytest.raises(SystemExit):
        job.main(["--help"])
    out = capsys.readouterr().out
    first_line = "The SageMaker Processing entry point: raw documents in, an NTM dataset out."
    assert f"\n\n{first_line}\n\n" in out
    assert "Exit status" not in out and "CONFIG.json" not in out


def test_a_config_file_is_utf8_json_with_or_without_a_bom(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from preparation import job

    write_synthetic_jsonl(tmp_path / "corpus/a.jsonl", 20)
    config = tmp_path / "config.json"
    config.write_bytes(b'\xef\xbb\xbf{"split_salt": "caf\xc3\xa9", "train_shards": 1}')
    folders = ["--input", str(tmp_path / "corpus"), "--output", str(tmp_path / "out")]
    assert job.main(["--config-file", str(config), *folders]) == 0
    assert json.loads(capsys.readouterr().out)["config"]["split_salt"] == "café"

    config.write_bytes(b'{"split_salt": "caf\xe9"}')  # Latin-1
    folders = ["--input", str(tmp_path / "corpus"), "--output", str(tmp_path / "out-latin1")]
    assert job.main(["--config-file", str(config), *folders]) == 2
    printed = capsys.readouterr()
    assert printed.out == ""
    assert printed.err.startswith(f"config {config}: ")
    assert not (tmp_path / "out-latin1").exists()


def test_the_job_runs_without_docstrings_as_under_python_oo(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from preparation import job

    monkeypatch.setattr(job, "__doc__", None)  # what -OO leaves
    with pytest.raises(SystemExit):
        job.main(["--help"])
    usage, _, rest = capsys.readouterr().out.partition("\n\n")
    assert usage.startswith("usage: ") and rest.startswith("options:")  # no description
