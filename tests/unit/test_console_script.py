"""``make install`` installs the ``ntm-tuning`` command, and it runs."""

from __future__ import annotations

import subprocess
import sys
from importlib.metadata import entry_points
from pathlib import Path


def test_the_console_script_is_installed_and_answers_help() -> None:
    scripts = {ep.name: ep for ep in entry_points(group="console_scripts")}
    assert "ntm-tuning" in scripts, "ntm-tuning is not installed: run make install"
    script = scripts["ntm-tuning"]
    assert script.value == "ntm_cli.main:main"
    command = Path(sys.executable).parent / "ntm-tuning"
    assert command.is_file(), f"no {command}: run make install"
    result = subprocess.run(
        [str(command), "--help"], capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr
    for name in ("submit", "watch", "result", "list", "report"):
        assert name in result.stdout
