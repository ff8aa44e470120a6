"""The book, built once per test session and shared by the notebook and browser tests.

``jupyter-book build -W --keep-going`` executes every chapter (raising on any cell error, and
turning every Sphinx warning — unresolved citations and references included — into a failure),
so the notebook tests and the browser tests check the same build instead of executing the book
twice. Set ``XAI_LIB_BOOK_HTML=_build/html`` to reuse an existing build instead.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BOOK_HTML_ENV = "XAI_LIB_BOOK_HTML"
# myst-nb's log line per executed notebook: "<path>.ipynb: Executed notebook in 12.34 seconds"
EXECUTED = re.compile(r"(\S+?)\.ipynb: .*?Executed notebook in ([\d.]+) seconds")


@dataclass
class BookBuild:
    html: Path
    log: str
    seconds: float | None
    returncode: int
    notebook_seconds: dict[str, float] = field(
        default_factory=dict
    )  # 'book/05_...' -> s


@pytest.fixture(scope="session")
def book_build(tmp_path_factory) -> BookBuild:
    if os.environ.get(BOOK_HTML_ENV):
        html = Path(os.environ[BOOK_HTML_ENV]).resolve()
        assert (html / "index.html").exists(), (
            f"{BOOK_HTML_ENV}={html} holds no built book"
        )
        return BookBuild(html=html, log="", seconds=None, returncode=0)
    out = tmp_path_factory.mktemp("book")
    start = time.perf_counter()
    build = subprocess.run(
        [
            sys.executable,
            "-c",
            "from jupyter_book.cli.main import main; main()",
            "build",
            str(ROOT),
            "--path-output",
            str(out),
            "-W",
            "--keep-going",
            "-v",
        ],
        capture_output=True,
        text=True,
    )
    log = re.sub(
        r"\x1b\[[0-9;]*m", "", build.stdout + build.stderr
    )  # no terminal colours
    notebook_seconds = {
        str(Path(path).resolve().relative_to(ROOT).with_suffix("")): float(s)
        for path, s in EXECUTED.findall(log)
        if Path(path).resolve().is_relative_to(ROOT)
    }
    return BookBuild(
        html=out / "_build" / "html",
        log=log,
        seconds=time.perf_counter() - start,
        returncode=build.returncode,
        notebook_seconds=notebook_seconds,
    )


@pytest.fixture(autouse=True)
def not_in_book_build(monkeypatch):
    """Tests run as in Jupyter, not as in the book build (where failed checks raise and explorers
    draw their static fallback), even when pytest itself is started from a build."""
    from xai_lib._core import BOOK_BUILD_ENV

    monkeypatch.delenv(BOOK_BUILD_ENV, raising=False)
