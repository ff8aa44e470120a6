"""The nbgrader course made from the book: ``student BOOK OUT --format nbgrader``.

:func:`write_nbgrader_course` writes, for every chapter with exercises, one assignment, and
runs nbgrader on it::

    OUT/nbgrader_config.py             the course's configuration (stubs, time limits)
    OUT/rubric.md                      every exercise's points, rubric and model answer
    OUT/source/05_integrated_gradients/05_integrated_gradients.ipynb   the instructors' copy
    OUT/release/05_integrated_gradients/05_integrated_gradients.ipynb  the students' copy

The instructors' copies are made by :func:`~.nbgrader.graded_notebook`; the students' copies by
nbgrader itself (``nbgrader generate_assignment``), which checks every cell's metadata on the
way. A notebook names its images by paths relative to book/; those files are copied along.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from .chapters import chapter_of, exercises
from .nbgrader import CODE_STUB, graded_notebook

CONFIG = '''"""nbgrader's configuration of the course written by
`python -m xai_lib.exercises student BOOK OUT --format nbgrader` (run nbgrader from this folder)."""

import os

c = get_config()  # noqa: F821 (nbgrader provides it)
c.CourseDirectory.root = os.path.dirname(os.path.abspath(__file__))
c.CourseDirectory.course_id = {course_id!r}
c.ClearSolutions.code_stub = {{"python": {code_stub!r}}}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"
# nbgrader validate and autograde run each notebook: at most this many seconds per cell
c.Execute.timeout = {timeout}
c.Execute.interrupt_on_timeout = True
'''


def _assets(book: Path, nb_text: str) -> list[Path]:
    """The files of the book folder a notebook names (images and the like)."""
    return [
        path
        for path in sorted(book.rglob("*"))
        if path.is_file()
        and path.suffix != ".ipynb"
        and "_build" not in path.parts
        and path.relative_to(book).as_posix() in nb_text
    ]


def rubric_markdown(book: Path, tables: dict[str, tuple[Path, dict]]) -> str:
    """rubric.md: every chapter's exercises, their points, rubrics and model answers."""
    import nbformat

    from ..exercises.table import Coded

    lines = ["# Points and rubrics (instructors only)", ""]
    for path, table in tables.values():
        found = exercises(nbformat.read(path, as_version=4))
        total = sum(e.total for e in table.values())
        lines += [f"## {path.stem} ({total} points)", ""]
        for label, entry in table.items():
            title = found[label].title if label in found else ""
            if isinstance(entry, Coded):
                lines.append(
                    f"- **{label}** ({title}): {entry.points} point(s) when "
                    f"`{entry.check.__name__}({entry.answer})` passes"
                    + (
                        f"; written part, {entry.written} point(s):"
                        if entry.written
                        else ""
                    )
                )
            else:
                lines.append(
                    f"- **{label}** ({title}): written, {entry.points} point(s):"
                )
            if entry.rubric:
                lines += ["  " + line for line in entry.rubric.strip().splitlines()]
                model = found[label].prose if label in found else ""
                lines.append("  - model answer: " + " ".join(model.split()))
        lines.append("")
    return "\n".join(lines)


def write_nbgrader_course(
    book: str | Path,
    out: str | Path,
    *,
    course_id: str = "xai-book",
    timeout: int = 300,
    release: bool = True,
) -> list[Path]:
    """Write the nbgrader course of the book folder ``book`` into ``out`` (see the module
    doc); with ``release``, run ``nbgrader generate_assignment`` on every assignment, which
    validates the cells and writes the students' copies. Returns the instructors' notebooks.
    """
    import nbformat

    from ..exercises.table import chapter_table

    book, out = Path(book).resolve(), Path(out).resolve()
    if not book.is_dir():
        raise ValueError(f"{book} is not a folder")
    if out == book or book in out.parents:
        raise ValueError(f"the course must go outside the book folder, not into {out}")
    tables: dict[str, tuple[Path, dict]] = {}
    written = []
    for path in sorted(book.glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        chapter = chapter_of(nb, path)
        table = chapter_table(chapter) if chapter else {}
        if not chapter or not table:
            continue  # no exercises: not an assignment
        tables[chapter] = (path, table)
        folder = out / "source" / path.stem
        folder.mkdir(parents=True, exist_ok=True)
        for asset in _assets(book, path.read_text()):
            target = folder / asset.relative_to(book)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(asset, target)
        nbformat.write(graded_notebook(nb, table, chapter), folder / path.name)
        written.append(folder / path.name)
    (out / "nbgrader_config.py").write_text(
        CONFIG.format(course_id=course_id, code_stub=CODE_STUB, timeout=int(timeout))
    )
    (out / "rubric.md").write_text(rubric_markdown(book, tables))
    if release and written:
        generate_assignment(out, [notebook.parent.name for notebook in written])
    return written


def generate_assignment(course: Path, assignments: list[str]) -> None:
    """``nbgrader generate_assignment --force "*"`` in the course folder: nbgrader validates
    every assignment's cells and writes the students' copies to release/. RuntimeError with
    nbgrader's log if it fails (or is not installed)."""
    command = [sys.executable, "-m", "nbgrader", "generate_assignment", "--force", "*"]
    done = subprocess.run(
        command, cwd=course, capture_output=True, text=True, timeout=900
    )
    missing = [a for a in assignments if not (course / "release" / a).is_dir()]
    if done.returncode != 0 or missing:
        log = (done.stdout + done.stderr).strip()
        if "No module named nbgrader" in log:
            log = "nbgrader is not installed: pip install -r requirements.txt (it pins nbgrader)"
        raise RuntimeError(
            f"nbgrader generate_assignment failed (no release of {', '.join(missing) or '-'}):"
            f"\n{log[-4000:]}"
        )
