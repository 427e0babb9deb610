"""The README's example commands print what the README shows (like nbval for the README).

Every fenced ``text`` block whose first line is ``$ python -m analysis ...`` is run from the
repository root and its output (stdout, then stderr) must equal the block's remaining lines.
After a change to data/ or analysis/, refresh the blocks with
``REFRESH_README=1 .venv/bin/python -m pytest tests/test_readme_examples.py``.
"""
from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys

import pytest

from analysis.paths import REPO

README = REPO / "README.md"
BLOCK = re.compile(r"```text\n(\$ python -m analysis [^\n]*)\n(.*?)```", re.S)


def examples(text: str) -> list[tuple[str, str]]:
    """(command line, shown output) of every example block, in README order."""
    return [(m.group(1), m.group(2)) for m in BLOCK.finditer(text)]


def run_example(command: str) -> str:
    """What ``command`` (a README line starting with ``$ python -m analysis``) prints, as the README
    shows it: stdout then stderr, each line right-stripped, ending with a newline."""
    argv = shlex.split(command[2:])
    proc = subprocess.run([sys.executable] + argv[1:], cwd=REPO, capture_output=True, text=True,
                          env={**os.environ, "COLUMNS": "200"})
    out = (proc.stdout + proc.stderr).rstrip("\n")
    return "\n".join(line.rstrip() for line in out.splitlines()) + "\n"


def test_the_readme_has_examples():
    # the What-ifs section's commands and its refusals: at least one of each kind
    cmds = [c for c, _ in examples(README.read_text(encoding="utf-8"))]
    for sub in ("predict decode", "predict training", "predict allreduce", "predict checkpoint", "compare decode",
                "compare training"):
        assert any(f"analysis {sub} " in c for c in cmds), sub


@pytest.mark.parametrize("command,shown", examples(README.read_text(encoding="utf-8")),
                         ids=lambda v: v.split(" --")[0][len("$ python -m analysis "):] if v.startswith("$") else "")
def test_readme_example_output_is_current(command, shown):
    got = run_example(command)
    if os.environ.get("REFRESH_README"):
        text = README.read_text(encoding="utf-8")
        README.write_text(text.replace(f"```text\n{command}\n{shown}```", f"```text\n{command}\n{got}```", 1),
                          encoding="utf-8")
        return
    assert got == shown, f"README example is stale: {command}\n(refresh: REFRESH_README=1 pytest {__file__})"
