"""The static checks the ecosystem uses, run by the README's test command: ruff (lint and
format, library, tests, benchmarks and notebooks) and mypy (the library's annotations)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def run(*command: str) -> subprocess.CompletedProcess:
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True)


@pytest.mark.skipif(shutil.which("ruff") is None, reason="ruff is not installed")
def test_ruff_lint_passes():
    result = run("ruff", "check", ".")
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.skipif(shutil.which("ruff") is None, reason="ruff is not installed")
def test_code_and_notebooks_are_formatted():
    result = run("ruff", "format", "--check", ".")
    assert result.returncode == 0, (
        "run `ruff format .`:\n" + result.stdout + result.stderr
    )


@pytest.mark.slow
def test_mypy_passes_on_the_library():
    pytest.importorskip("mypy")
    result = run(sys.executable, "-m", "mypy")
    assert result.returncode == 0, result.stdout + result.stderr
