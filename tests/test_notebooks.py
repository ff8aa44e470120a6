"""Every chapter of _toc.yml executes top to bottom in the book build, which passes with -W.

The build (tests/conftest.py) runs each notebook with myst-nb, stopping at the first cell
error; these tests report per chapter, print each chapter's execution time, and fail on any
Sphinx warning (unresolved citations, references, missing files).
"""

from __future__ import annotations

import re

import pytest

from tests.conftest import ROOT
from tests.test_book_browser import PAGES

pytestmark = pytest.mark.slow
NOTEBOOKS = [page for page in PAGES if (ROOT / f"{page}.ipynb").exists()]


def test_book_builds_without_warnings(book_build):
    warnings = [
        line
        for line in book_build.log.splitlines()
        if re.search(r"\b(WARNING|ERROR)\b", line)
    ]
    assert book_build.returncode == 0, "jupyter-book build -W failed:\n" + "\n".join(
        (warnings or book_build.log.splitlines())[-40:]
    )
    if book_build.seconds is not None:
        print(
            f"\nbook build: {book_build.seconds:.0f} s; per notebook: "
            + ", ".join(
                f"{page.split('/')[-1]} {s:.0f} s"
                for page, s in sorted(book_build.notebook_seconds.items())
            )
        )


@pytest.mark.parametrize("page", NOTEBOOKS)
def test_chapter_executes(page, book_build):
    failed = [
        line
        for line in book_build.log.splitlines()
        if f"{page}.ipynb" in line and "Executing notebook failed" in line
    ]
    assert not failed, (
        f"{page} raised while executing; see the traceback in the build's reports/ folder:\n{failed[0]}"
    )
    assert (book_build.html / f"{page}.html").exists(), f"{page} was not rendered"
    if book_build.seconds is not None:
        assert page in book_build.notebook_seconds, (
            f"{page} was not executed by the build"
        )
