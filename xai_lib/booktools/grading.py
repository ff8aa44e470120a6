"""Grading submitted notebooks: ``python -m xai_lib.exercises grade SUBMISSIONS --out grades.csv``.

For every notebook under SUBMISSIONS (one per student, or one per student and chapter, in any
folders), :func:`grade_notebook`

1. finds its chapter (:func:`~.chapters.chapter_of`) and the chapter's table of exercises
   (``EXERCISES`` in ``xai_lib/exercises/chNN.py``);
2. starts a fresh Python kernel in the notebook's folder, outside the book build, and runs the
   code cells the answers need (:func:`~.slicing.needed_cells`; every code cell with
   ``all_cells``), each within ``cell_timeout`` seconds and what is left of ``timeout`` for
   the notebook: a cell that raises is noted and the next one runs, a cell that runs too long
   is interrupted, and a cell that kills the kernel is left out of a fresh kernel, which runs
   the other cells again. Shell and ``%pip`` lines are not run: grading needs no network;
3. runs each coded exercise's checker on the student's answer in that kernel, with
   ``check_timeout`` seconds per check (a student's function that loops is interrupted; one
   that kills the kernel gets 0, and a fresh kernel checks the exercises after it);
4. reads the written answers from the notebook itself (they are graded by hand).

It returns one :class:`Row` per exercise (written parts of coded exercises get a row of their
own, ``label/written``), and never raises for what a notebook does: an answer that is missing,
raises, loops, or kills the kernel gets 0 points and a message saying so, and costs no other
answer its points.

The checks run in the student's kernel, as nbgrader's do, so a student who sets out to can
interfere with them. Where that shows, a row says so: a check whose verdict contradicts its
own message, or whose result line appears twice, gets 0 and "interfered with"; a notebook
whose code uses names that reach into the checks (:data:`_REACHES_INTO_CHECKS`) has every
coded row marked "inspect by hand". :func:`grade` does a
folder, ``jobs`` notebooks at a time, and :func:`write_csv` writes the rows.
"""

from __future__ import annotations

import asyncio
import contextlib
import csv
import functools
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
    cell_timeout: float = 120,
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
    deadline = time.monotonic() + timeout
    killers: set[int] = set()  # cells that killed the kernel: left out of every restart
    nonce = secrets.token_hex(8)
    suspicious = suspicious_names(sources)
    prepare = functools.partial(
        _prepared_kernel,
        path.resolve().parent,
        chapter,
        sources,
        order,
        deadline,
        cell_timeout,
        problems,
        killers,
    )
    kernel = None
    try:
        kernel = await prepare()
        for label, entry in table.items():
            if not isinstance(entry, Coded):
                rows.append(_written_row(nb, name, chapter, label, label, entry.points))
                continue
            row = await _check(
                kernel,
                name,
                chapter,
                label,
                entry,
                nonce,
                check_timeout,
                problems[entry.answer],
                suspicious,
            )
            rows.append(row)
            if row.message.startswith("the kernel"):
                # the check killed it: a fresh kernel for the exercises still to check
                await _close(kernel)
                kernel = None
                kernel = await prepare()
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
    finally:
        if kernel is not None:
            await _close(kernel)
    return rows


async def _close(kernel: Kernel) -> None:
    """Shut a kernel down, dead or alive (a stuck one is killed)."""
    with contextlib.suppress(Exception):
        await kernel.__aexit__(None, None, None)


async def _prepared_kernel(
    folder: Path,
    chapter: str,
    sources: list[str],
    order: list[int],
    deadline: float,
    cell_timeout: float,
    problems: dict[str, list[str]],
    killers: set[int],
) -> Kernel:
    """A fresh kernel in ``folder`` that has run the needed cells, except those that killed
    one before.

    Each cell gets ``cell_timeout`` seconds at most, within what is left of the notebook's
    time (``deadline``), so a cell that loops costs the answers that need it, not the others.
    A cell that kills the kernel is noted for the answers it binds and left out: the kernel is
    started again without it (and without every earlier such cell).
    """
    while True:
        kernel = await Kernel(folder).__aenter__()
        try:
            for index in order:
                if index in killers:
                    continue
                left = deadline - time.monotonic()
                outcome = await kernel.run(sources[index], min(left, cell_timeout))
                if left <= 0:
                    trouble = "was not run: the notebook's time was used up"
                elif outcome.dead:
                    trouble = (
                        "stopped the kernel (it was left out, and the kernel restarted)"
                    )
                elif outcome.timed_out:
                    trouble = "did not finish within the time limit"
                else:
                    trouble = f"raised {outcome.error}" if outcome.error else ""
                if trouble:
                    note = f"code cell {index + 1} {trouble}"
                    for answer in problems.keys() & _names_bound(sources[index]):
                        if note not in problems[answer]:
                            problems[answer].append(note)
                if outcome.dead:
                    killers.add(index)
                    break
            else:
                # load the checkers first, so that a check's time limit is the check's alone
                await kernel.run(
                    f"import xai_lib.exercises.table, xai_lib.exercises.{chapter}", 300
                )
                return kernel
        except BaseException:
            await _close(kernel)
            raise
        await _close(kernel)  # it died: start again without the cell that killed it


#: What a check that was interfered with says (0 points): the verdict cannot be trusted.
_TAMPERED = "0 points: the check was interfered with, inspect this notebook by hand"

#: Names a notebook does not need for its answers, which reach into how they are checked
#: (the checkers' tables and feedback, the calling frame, IPython's cell events).
_REACHES_INTO_CHECKS = re.compile(
    r"\b(grade_answer|EXERCISES|Feedback|_getframe|f_locals|currentframe|inspect\.stack|"
    r"[a-z_]+_run_cell|events\.register|__bool__|"
    r"exercises\.(?:table|feedback|checks|shortcuts|cases))\b"
)


def suspicious_names(sources: list[str]) -> list[str]:
    """The names of :data:`_REACHES_INTO_CHECKS` that a notebook's code cells use."""
    return sorted(
        {m.group(1) for s in sources for m in _REACHES_INTO_CHECKS.finditer(s)}
    )


async def _check(
    kernel, name, chapter, label, entry, nonce, limit, problems, suspicious=()
) -> Row:
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
    if len(found) > 1:  # the check prints one line: the notebook's code printed others
        passed, message = False, f"{_TAMPERED}: the check's result line was forged"
    elif found:
        result = json.loads(found[0])
        passed, message = bool(result["passed"]), result["message"]
        if passed and not message.startswith("PASSED"):
            passed = False
            message = f"{_TAMPERED}: it passed with the message {message!r}"
    elif outcome.dead:
        passed, message = False, "the kernel died or stopped answering during the check"
    elif outcome.timed_out:
        passed = False
        message = f"the check did not finish within {limit:g} s: does the answer loop forever?"
    else:
        passed, message = False, f"the check stopped: {outcome.error or 'no result'}"
    if not passed and problems:
        message += f" ({'; '.join(problems)})"
    if suspicious:
        message += (
            f" [inspect by hand: the notebook's code uses {', '.join(suspicious)}, which "
            "can change how answers are checked]"
        )
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
