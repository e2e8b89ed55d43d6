"""``python -m offline.demo`` and ``python -m offline`` as a user runs them: a subprocess, its
exit code, and what it says on stderr when something is wrong (the field, the user's own path,
no traceback, no emulator dump)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from preparation import synthetic

ROOT = Path(__file__).resolve().parents[2]
ENV = {
    **os.environ,
    "PYTHONPATH": f"{ROOT / 'lambdas'}{os.pathsep}{ROOT}",
    "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
}
TUNE_NTM = ROOT / "examples" / "requests" / "tune-ntm.json"
EXAMPLE_DATA = ROOT / "examples" / "data"


@pytest.fixture(scope="module")
def template_file(template: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "stack.template.json"
    path.write_text(json.dumps(template))
    return path


def _run(module: str, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", module, *args],
        capture_output=True,
        text=True,
        env=ENV,
        cwd=ROOT,
        timeout=timeout,
    )


def _clean(done: subprocess.CompletedProcess[str]) -> None:
    """Nothing meant for debugging reaches the user."""
    assert "Traceback" not in done.stderr
    assert " object at 0x" not in done.stderr
    assert "FailureEventException" not in done.stderr
    assert "s3://ntmtuning-storagedatabucket" not in done.stderr


def _tiny_corpus(folder: Path) -> Path:
    folder.mkdir(parents=True)
    words = "socket address interface packet route host port protocol server client gateway"
    for index in range(40):
        text = " ".join(words.split()[index % 5 :] + words.split()[: index % 5]) * 3
        (folder / f"page-{index}.txt").write_text(text + "\n", encoding="utf-8")
    return folder


# -- the demo: checked before anything starts ------------------------------------------------------
def test_a_missing_corpus_folder_is_named_before_anything_starts(tmp_path: Path) -> None:
    missing = tmp_path / "no such folder"
    started = time.monotonic()
    done = _run("offline.demo", "--corpus", str(missing))
    assert done.returncode == 2
    assert f"error: corpus folder {missing} does not exist" in done.stderr
    assert "stack synthesized" not in done.stderr and time.monotonic() - started < 60
    _clean(done)


def test_a_file_given_as_corpus_is_named_with_its_folder(tmp_path: Path) -> None:
    document = tmp_path / "page.txt"
    document.write_text("a document", encoding="utf-8")
    done = _run("offline.demo", "--corpus", str(document))
    assert done.returncode == 2
    assert f"corpus {document} is a file, not a folder" in done.stderr
    assert f"CORPUS={tmp_path}" in done.stderr
    _clean(done)


def test_an_empty_corpus_folder_is_named(tmp_path: Path) -> None:
    (tmp_path / "empty" / "sub").mkdir(parents=True)
    done = _run("offline.demo", "--corpus", str(tmp_path / "empty"))
    assert done.returncode == 2
    assert f"corpus folder {tmp_path / 'empty'} holds no files" in done.stderr
    _clean(done)


def test_a_missing_or_wrong_request_file_is_named(tmp_path: Path) -> None:
    missing = tmp_path / "request.json"
    done = _run("offline.demo", "--request", str(missing))
    assert done.returncode == 2
    assert f"request file {missing} does not exist" in done.stderr
    _clean(done)
    missing.write_text('{"name": "x",', encoding="utf-8")
    done = _run("offline.demo", "--request", str(missing))
    assert done.returncode == 2 and f"request file {missing} is not JSON" in done.stderr
    done = _run("offline.demo", "--request", str(TUNE_NTM))
    assert done.returncode == 2
    assert f"request file {TUNE_NTM} has no corpus.prefix" in done.stderr
    _clean(done)


def test_help_documents_every_knob_and_the_field_it_sets() -> None:
    done = _run("offline.demo", "--help")
    assert done.returncode == 0
    for option, target in (
        ("--topics", "hyperparameters.num_topics"),
        ("--epochs", "hyperparameters.epochs"),
        ("--jobs", "resource_limits.max_jobs"),
        ("--parallel-jobs", "resource_limits.max_parallel_jobs"),
        ("--strategy", "strategy"),
        ("--seed", "random_seed"),
        ("--text-field", "corpus.text_field"),
        ("--max-document-bytes", "corpus.max_document_bytes"),
    ):
        assert option in done.stdout and target in done.stdout
    assert "--timeout" in done.stdout and "Ctrl-C" in done.stdout
    assert "Exit status" in done.stdout


# -- the demo: what the workflow says ------------------------------------------------------------
def test_a_rejected_request_prints_every_violation_and_exits_1(
    tmp_path: Path, template_file: Path
) -> None:
    corpus = _tiny_corpus(tmp_path / "corpus")
    done = _run(
        "offline.demo",
        "--corpus",
        str(corpus),
        "--template",
        str(template_file),
        "--parallel-jobs",
        "0",
    )
    assert done.returncode == 1, done.stderr
    assert "NTM Tuning Request Rejected" in done.stderr
    assert (
        "resource_limits.max_parallel_jobs (greater_than_equal): Input should be greater than "
        "or equal to 1" in done.stderr
    )
    assert json.loads(done.stdout)["detail-type"] == "NTM Tuning Request Rejected"
    assert done.stderr.count("waiting for") <= 2  # no line per poll
    _clean(done)


def test_dropped_files_are_explained_with_the_users_paths_settings_and_fixes(
    tmp_path: Path, template_file: Path
) -> None:
    corpus = tmp_path / "my texts"
    (corpus / "sub").mkdir(parents=True)
    (corpus / "program").write_bytes(b"\x7fELF\x00\x00" * 50)  # binary, no extension
    (corpus / "sub" / "program.txt").write_bytes(b"\x7fELF\x00\x00" * 50)  # binary, named .txt
    (corpus / "big.txt").write_text("word " * 500, encoding="utf-8")  # 2,500 bytes
    (corpus / "records.jsonl").write_text('{"body": "text elsewhere"}\n', encoding="utf-8")
    request = json.loads((ROOT / "examples/requests/demo-stdlib.json").read_text())
    request["corpus"]["prefix"] = "s3://my-bucket/any/prefix"  # not the demo's corpora/demo/
    (tmp_path / "request.json").write_text(json.dumps(request), encoding="utf-8")
    done = _run(
        "offline.demo",
        "--corpus",
        str(corpus),
        "--request",
        str(tmp_path / "request.json"),
        "--template",
        str(template_file),
        "--max-document-bytes",
        "2000",
    )
    assert done.returncode == 1, done.stderr
    err = done.stderr
    assert "corpus.prefix (usable_documents)" in err
    assert f"in {corpus}: 3 file(s) read, 0 document(s) found" in err
    assert "binary: 2 - not text" in err
    assert str(corpus / "program") in err and str(corpus / "sub" / "program.txt") in err
    assert "too_large: 1 - more than corpus.max_document_bytes (2,000) bytes" in err
    assert str(corpus / "big.txt") in err and "raise --max-document-bytes" in err
    assert 'missing_text: 1 - no text in the field corpus.text_field ("text")' in err
    assert "--text-field NAME" in err
    assert "unsupported_file" not in err
    _clean(done)


def test_a_timeout_says_the_state_and_how_to_give_more_time(
    tmp_path: Path, template_file: Path
) -> None:
    # A corpus that trains: eight jobs of 100 epochs cannot end within the second given.
    synthetic.write_corpus(tmp_path, documents=400)
    done = _run(
        "offline.demo",
        *("--corpus", str(tmp_path / "corpora"), "--template", str(template_file)),
        *("--timeout", "1"),
    )
    assert done.returncode == 3, done.stderr
    assert "timed out: still running after --timeout 1 s, in state '" in done.stderr
    assert "--timeout SECONDS" in done.stderr and "--timeout 0" in done.stderr
    assert "execution stopped" in done.stderr
    _clean(done)


def test_ctrl_c_stops_the_execution_and_the_local_training_jobs(
    tmp_path: Path, template_file: Path
) -> None:
    # Enough documents that two training jobs of 100 epochs are still running when Ctrl-C comes.
    synthetic.write_corpus(tmp_path, documents=4000)
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "offline.demo",
            *("--corpus", str(tmp_path / "corpora"), "--template", str(template_file)),
            *("--jobs", "2", "--parallel-jobs", "2", "--epochs", "100"),
        ],
        stderr=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=ENV,
        cwd=ROOT,
        start_new_session=True,  # its own process group, as a terminal's foreground job
    )
    assert process.stderr is not None
    seen = []
    for line in process.stderr:
        seen.append(line)
        if "waiting for the tuning job" in line:
            break
    time.sleep(2)  # the training jobs start
    os.killpg(process.pid, signal.SIGINT)  # what Ctrl-C does: the whole group
    out, rest = process.communicate(timeout=120)
    err = "".join(seen) + rest
    assert process.returncode == 130, err
    stopped = next(line for line in err.splitlines() if line.startswith("stopped by Ctrl-C"))
    assert stopped.removeprefix("stopped by Ctrl-C, in state ").strip("'.") in {
        "Wait for tuning job",
        "Describe tuning job",
        "Tuning job status",
    }
    assert "execution stopped; 2 local training job(s) stopped" in err
    assert "Traceback" not in err and "KeyboardInterrupt" not in err
    assert out == ""  # no event: the execution was stopped, not ended by the workflow


# -- python -m offline ---------------------------------------------------------------------------
def test_offline_a_missing_request_file_is_named(tmp_path: Path) -> None:
    done = _run("offline", str(tmp_path / "request.json"))
    assert done.returncode == 2
    assert f"error: request file {tmp_path / 'request.json'} does not exist" in done.stderr
    _clean(done)
    done = _run("offline", str(TUNE_NTM), "--data", str(tmp_path / "data"))
    assert done.returncode == 2
    assert f"error: data folder {tmp_path / 'data'} does not exist" in done.stderr


@pytest.mark.parametrize(
    ("outcome", "code", "message"),
    [
        ("Failed", "TuningJobFailed", "All training jobs failed"),
        ("Stopped", "TuningJobStopped", "the tuning job was stopped"),
    ],
)
def test_offline_failed_and_stopped_print_code_and_message_and_exit_1(
    template_file: Path, outcome: str, code: str, message: str
) -> None:
    done = _run(
        "offline",
        *(str(TUNE_NTM), "--data", str(EXAMPLE_DATA), "--template", str(template_file)),
        *("--outcome", outcome),
    )
    assert done.returncode == 1, done.stderr
    assert f": {code}: {message}" in done.stderr
    _clean(done)


def test_offline_a_rejected_request_names_each_field_and_exits_1(
    tmp_path: Path, template_file: Path
) -> None:
    request = json.loads(TUNE_NTM.read_text())
    request["hyperparameters"]["num_topics"] = 1
    request["resource_limits"] = {"max_jobs": 0}
    (tmp_path / "bad.json").write_text(json.dumps(request), encoding="utf-8")
    done = _run(
        "offline",
        *(
            str(tmp_path / "bad.json"),
            "--data",
            str(EXAMPLE_DATA),
            "--template",
            str(template_file),
        ),
    )
    assert done.returncode == 1, done.stderr
    assert "NTM Tuning Request Rejected; every problem" in done.stderr
    assert "resource_limits.max_jobs (greater_than_equal)" in done.stderr
    _clean(done)


def test_offline_a_timeout_says_the_state_and_how_to_give_more_time(template_file: Path) -> None:
    done = _run(
        "offline",
        *(str(TUNE_NTM), "--data", str(EXAMPLE_DATA), "--template", str(template_file)),
        *("--timeout", "0.2"),
    )
    assert done.returncode == 3, done.stderr
    assert "timed out: the execution was still running after --timeout 0.2 s" in done.stderr
    assert "--timeout SECONDS" in done.stderr
    _clean(done)
