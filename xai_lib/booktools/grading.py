"""Grading submitted notebooks: ``python -m xai_lib.exercises grade SUBMISSIONS --out grades.csv``.

For every notebook under SUBMISSIONS (one per student, or one per student and chapter, in any
folders), :func:`grade_notebook`

1. finds its chapter (:func:`~.chapters.chapter_of`) and the chapter's table of exercises
   (``EXERCISES`` in ``xai_lib/exercises/chNN.py``);
2. starts a fresh Python kernel in the notebook's folder, outside the book build, and runs the
   code cells the answers need (:func:`~.slicing.needed_cells`; every code cell with
   ``all_cells``), each within what is left of ``timeout`` seconds for the notebook: a cell
   that raises is noted and the next one runs, a cell that runs too long is interrupted.
   Shell and ``%pip`` lines are not run: grading needs no network;
3. runs each coded exercise's checker on the student's answer in that kernel, with
   ``check_timeout`` seconds per check (a student's function that loops is interrupted);
4. reads the written answers from the notebook itself (they are graded by hand).

It returns one :class:`Row` per exercise (written parts of coded exercises get a row of their
own, ``label/written``), and never raises for what a notebook does: an answer that is missing,
raises, loops, or kills the kernel gets 0 points and a message saying so. :func:`grade` does a
folder, ``jobs`` notebooks at a time, and :func:`write_csv` writes the rows.
"""

from __future__ import annotations

import asyncio
import csv
import json
import re
import secrets
import time
from dataclasses import asdict, dataclass, fields
from pathlib import Path

from .chapters import chapter_of, written_answer
from .kernel import Kernel, offline
from .slicing import cell_names, needed_cells


@dataclass
class Row:
    """One line of grades.csv: a submission's points for one exercise (or written part)."""

    submission: str
    chapter: str
    exercise: str
    points: float | None  # None: a written answer, to be graded by hand
    max_points: int
    message: str
    seconds: float | None = None  # how long its check ran


def _names_bound(source: str) -> set[str]:
    """The names a cell binds; for a cell that does not parse, every name it mentions."""
    names = cell_names(source)
    return names.binds if names.parsed else set(re.findall(r"\w+", source))


def _table(chapter: str | None) -> dict:
    from ..exercises.table import chapter_table

    return chapter_table(chapter) if chapter else {}


def _zero_rows(name, chapter, table, message) -> list[Row]:
    from ..exercises.table import Coded

    rows = []
    for label, entry in table.items():
        rows.append(Row(name, chapter, label, 0, entry.points, message))
        if isinstance(entry, Coded) and entry.written:
            rows.append(
                Row(name, chapter, f"{label}/written", 0, entry.written, message)
            )
    return rows or [Row(name, chapter or "", "", 0, 0, message)]


def _written_row(nb, name, chapter, label, row_label, points) -> Row:
    answer = written_answer(nb, label)
    if answer is None:
        return Row(
            name, chapter, row_label, 0, points, "no answer cell for this question"
        )
    if not answer:
        return Row(
            name, chapter, row_label, 0, points, "not answered (YOUR ANSWER HERE)"
        )
    words = len(answer.split())
    return Row(
        name,
        chapter,
        row_label,
        None,
        points,
        f"answered ({words} words): grade by hand with the rubric (rubric.md, or the "
        f"table in xai_lib/exercises/{chapter}.py)",
    )


async def grade_notebook(
    path: Path,
    name: str,
    *,
    timeout: float = 300,
    check_timeout: float = 60,
    all_cells: bool = False,
) -> list[Row]:
    """The rows of one submitted notebook (see the module docstring)."""
    import nbformat

    from ..exercises.table import Coded

    try:
        nb = nbformat.read(path, as_version=4)
    except Exception as error:  # not JSON, not a notebook: 0 for everything
        chapter = chapter_of({"cells": []}, path)
        return _zero_rows(
            name, chapter, _table(chapter), f"cannot read the notebook: {error}"
        )
    chapter = chapter_of(nb, path) or ""
    table = _table(chapter)
    if not table:
        return [Row(name, chapter, "", 0, 0, "no exercises of the book found here")]
    coded = {label: e for label, e in table.items() if isinstance(e, Coded)}
    sources = [offline(c.source) for c in nb.cells if c.cell_type == "code"]
    if all_cells:
        order = list(range(len(sources)))
    else:
        order = needed_cells(sources, {e.answer for e in coded.values()})
    problems: dict[str, list[str]] = {e.answer: [] for e in coded.values()}
    rows: list[Row] = []
    start = time.monotonic()
    dead = None
    try:
        async with Kernel(path.resolve().parent) as kernel:
            for index in order:
                outcome = await kernel.run(
                    sources[index], timeout - (time.monotonic() - start)
                )
                trouble = (
                    "did not finish within the time limit"
                    if outcome.timed_out
                    else f"raised {outcome.error}"
                    if outcome.error
                    else ""
                )
                if trouble:
                    for answer in problems.keys() & _names_bound(sources[index]):
                        problems[answer].append(f"code cell {index + 1} {trouble}")
                if outcome.dead:
                    dead = f"the kernel stopped answering while running code cell {index + 1}"
                    break
            nonce = secrets.token_hex(8)
            # load the checkers first, so that a check's time limit is the check's alone
            await kernel.run(
                f"import xai_lib.exercises.table, xai_lib.exercises.{chapter}", 300
            )
            for label, entry in table.items():
                if not isinstance(entry, Coded):
                    rows.append(
                        _written_row(nb, name, chapter, label, label, entry.points)
                    )
                    continue
                if dead is None:
                    rows.append(
                        await _check(
                            kernel,
                            name,
                            chapter,
                            label,
                            entry,
                            nonce,
                            check_timeout,
                            problems[entry.answer],
                        )
                    )
                    if rows[-1].message.startswith("the kernel"):
                        dead = rows[-1].message
                else:
                    rows.append(
                        Row(
                            name,
                            chapter,
                            label,
                            0,
                            entry.points,
                            f"not checked: {dead}",
                        )
                    )
                if entry.written:
                    rows.append(
                        _written_row(
                            nb, name, chapter, label, f"{label}/written", entry.written
                        )
                    )
    except Exception as error:  # the kernel would not start or broke down
        done = {row.exercise for row in rows}
        rows += [
            row
            for row in _zero_rows(
                name, chapter, table, f"could not run the notebook: {error}"
            )
            if row.exercise not in done
        ]
    return rows


async def _check(kernel, name, chapter, label, entry, nonce, limit, problems) -> Row:
    code = (
        f"print({nonce!r} + __import__('xai_lib.exercises.table', fromlist=['_'])"
        f".grade_answer({label!r}, globals()))"
    )
    began = time.monotonic()
    outcome = await kernel.run(code, limit)
    seconds = round(time.monotonic() - began, 3)
    found = [
        line[len(nonce) :]
        for line in outcome.stdout.splitlines()
        if line.startswith(nonce)
    ]
    if found:
        result = json.loads(found[-1])
        passed, message = bool(result["passed"]), result["message"]
    elif outcome.dead:
        passed, message = False, "the kernel died or stopped answering during the check"
    elif outcome.timed_out:
        passed = False
        message = f"the check did not finish within {limit:g} s: does the answer loop forever?"
    else:
        passed, message = False, f"the check stopped: {outcome.error or 'no result'}"
    if not passed and problems:
        message += f" ({'; '.join(problems)})"
    return Row(
        name,
        chapter,
        label,
        entry.points if passed else 0,
        entry.points,
        message,
        seconds,
    )


def notebooks(submissions: Path) -> list[tuple[Path, str]]:
    """(path, name) of every notebook under ``submissions`` (or the notebook itself)."""
    submissions = Path(submissions)
    if submissions.is_file():
        return [(submissions, submissions.name)]
    if not submissions.is_dir():
        raise ValueError(f"{submissions} is neither a folder nor a notebook")
    found = sorted(
        p
        for p in submissions.rglob("*.ipynb")
        if ".ipynb_checkpoints" not in p.parts and "_build" not in p.parts
    )
    return [(p, p.relative_to(submissions).as_posix()) for p in found]


def grade(submissions: Path, *, jobs: int = 1, **options) -> list[Row]:
    """The rows of every notebook under ``submissions``, ``jobs`` kernels at a time."""
    found = notebooks(submissions)

    async def run_all():
        limit = asyncio.Semaphore(max(1, int(jobs)))

        async def one(path, name):
            async with limit:
                return await grade_notebook(path, name, **options)

        return await asyncio.gather(*(one(p, n) for p, n in found))

    return [row for rows in asyncio.run(run_all()) for row in rows]


def write_csv(rows: list[Row], out: Path) -> None:
    """grades.csv: submission, chapter, exercise, points, max_points, message, seconds."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", newline="", encoding="utf-8") as file:
        writer = csv.DictWriter(file, fieldnames=[f.name for f in fields(Row)])
        writer.writeheader()
        for row in rows:
            record = asdict(row)
            record["points"] = "" if row.points is None else f"{row.points:g}"
            record["seconds"] = "" if row.seconds is None else f"{row.seconds:.2f}"
            writer.writerow(record)
