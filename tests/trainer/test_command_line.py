"""``python -m trainer`` as a user runs it: a subprocess, its exit code and what it prints."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from .conftest import WORDS, planted_rows, write_channels

ROOT = Path(__file__).resolve().parents[2]


def _trainer(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": f"{ROOT / 'lambdas'}{os.pathsep}{ROOT}"}
    return subprocess.run(
        [sys.executable, "-m", "trainer", *args, "--threads", "1"],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=300,
    )


def test_feature_dim_comes_from_vocab_txt_when_not_given(tmp_path: Path) -> None:
    data = write_channels(
        tmp_path / "data",
        {"train": planted_rows(60, 41), "validation": planted_rows(20, 42)},
        WORDS,
    )
    done = _trainer(str(data), str(tmp_path / "out"), "num_topics=3", "epochs=1")
    assert done.returncode == 0, done.stderr
    assert f"feature_dim={len(WORDS)}, the lines of auxiliary/vocab.txt" in done.stdout
    assert (tmp_path / "out" / "model.tar.gz").is_file()


def test_a_given_feature_dim_is_kept_and_checked_against_the_data(tmp_path: Path) -> None:
    data = write_channels(tmp_path / "data", {"train": planted_rows(40, 43)}, WORDS)
    done = _trainer(str(data), str(tmp_path / "out"), "num_topics=3", "feature_dim=7")
    assert done.returncode == 2
    assert "ClientError:" in done.stderr and "Traceback" not in done.stderr
    assert "the lines of auxiliary/vocab.txt" not in done.stdout


def test_without_vocab_txt_feature_dim_is_required(tmp_path: Path) -> None:
    data = write_channels(tmp_path / "data", {"train": planted_rows(40, 44)}, WORDS)
    (data / "auxiliary" / "vocab.txt").unlink()
    done = _trainer(str(data), str(tmp_path / "out"), "num_topics=3", "epochs=1")
    assert done.returncode == 2
    assert "feature_dim" in done.stderr and "Traceback" not in done.stderr
