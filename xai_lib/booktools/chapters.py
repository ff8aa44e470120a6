"""What a chapter notebook holds for the course: its chapter, its exercises, and the answers.

* :func:`chapter_of`: ``"ch05"`` for a notebook of chapter 5, whatever edition it is (the book's
  own, the plain student edition, the nbgrader edition, or a student's submission of one).
* :func:`exercises`: the exercises of a book notebook, in order, each with its statement, the
  code cells and prose of its solution and its checker cell (:class:`Exercise`).
* :func:`written_answer`: the text a notebook holds as the answer to a written question (or to
  the written part of a coded exercise): the edition's answer cell, with any Markdown cells a
  student added right below it, or, in the book itself, the solution's prose.

The editions mark their answer cells with ``metadata["xai_lib"] = {"answer": label, "part":
"code" | "written"}`` and the notebook with ``metadata["xai_lib"] = {"chapter": "ch05",
"edition": ..., "cells": [ids of the edition's own cells]}``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from .myst import Directive, split_markdown

#: The text of an unanswered written answer cell (nbgrader's own ``text_stub``).
ANSWER_PLACEHOLDER = "YOUR ANSWER HERE"
#: The first words of every written answer cell of the editions.
ANSWER_HEADING = "**Your answer**"

_LABEL = re.compile(r"\b(ch\d\d)-[\w-]+")
_CHECKER_CALL = re.compile(r"\bexercises\.(ch\d\d)\.check_\w+\(")


def calls_checker(source: str) -> bool:
    """Does a code cell call an exercise checker (``xl.exercises.chNN.check_name(...)``)?"""
    return re.search(r"\bch\d\d\.check_\w+\(", source) is not None


@dataclass
class Exercise:
    """One exercise of a book notebook (indices are positions in ``nb.cells``)."""

    label: str
    title: str = ""
    text: str = ""  # the statement, Markdown
    code_cells: list[int] = field(default_factory=list)  # the solution's code cells
    prose: str = (
        ""  # the solution's prose: a {solution} body, or Markdown inside the region
    )
    checker_cell: int | None = None  # the code cell right after solution-end
    gated: bool = False  # solution-start ... solution-end (code runs in the build)


def xai_metadata(item) -> dict:
    """``metadata["xai_lib"]`` of a notebook or a cell ({} when absent)."""
    value = item.get("metadata", {}).get("xai_lib", {})
    return value if isinstance(value, dict) else {}


def chapter_of(nb, path: str | Path | None = None) -> str | None:
    """The chapter ("ch05") of a notebook: from the editions' metadata, the exercise labels
    (directives or nbgrader grade ids), the checker calls, or the file name ``05_*.ipynb``."""
    chapter = xai_metadata(nb).get("chapter")
    if isinstance(chapter, str) and re.fullmatch(r"ch\d\d", chapter):
        return chapter
    found: list[str] = []
    for cell in nb.get("cells", []):
        label = xai_metadata(cell).get("answer")
        grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id", "")
        for text in (str(label or ""), str(grade_id)):
            found += [m[1] for m in _LABEL.finditer(text)]
        if cell.get("cell_type") == "markdown":
            found += [m[1] for m in re.finditer(r":label:\s*(ch\d\d)-", cell.source)]
        elif cell.get("cell_type") == "code":
            found += [m[1] for m in _CHECKER_CALL.finditer(cell.source)]
    if found:
        return max(set(found), key=found.count)
    match = re.match(r"(\d\d)_", Path(path).name) if path is not None else None
    return f"ch{match[1]}" if match else None


def exercises(nb) -> dict[str, Exercise]:
    """The exercises of a book notebook, by label, in the order they appear."""
    found: dict[str, Exercise] = {}

    def get(label: str) -> Exercise:
        return found.setdefault(label, Exercise(label))

    in_exercise = in_solution = pending = None
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "markdown":
            if cell.cell_type != "code":
                continue
            if in_solution is not None:
                get(in_solution).code_cells.append(index)
            elif pending is not None and calls_checker(cell.source):
                get(pending).checker_cell = index
            pending = None
            continue
        for part in split_markdown(cell.source):
            if not isinstance(part, Directive):
                if in_solution is not None:
                    get(in_solution).prose += part.strip("\n") + "\n\n"
                elif in_exercise is not None:
                    get(in_exercise).text += part.strip("\n") + "\n\n"
            elif part.name in ("exercise", "exercise-start"):
                label = part.options.get("label", "")
                exercise = get(label)
                exercise.title, exercise.text = part.argument, part.body + "\n\n"
                in_exercise = label if part.name == "exercise-start" else None
            elif part.name == "exercise-end":
                in_exercise = None
            elif part.name == "solution-start":
                in_solution = part.argument
                get(in_solution).gated = True
            elif part.name == "solution-end":
                pending, in_solution = in_solution, None
            elif part.name == "solution":
                get(part.argument).prose = part.body
            elif in_solution is not None:
                get(in_solution).prose += part.text + "\n\n"
            elif in_exercise is not None:
                get(in_exercise).text += part.text + "\n\n"
    for exercise in found.values():
        exercise.text, exercise.prose = exercise.text.strip(), exercise.prose.strip()
    return {label: e for label, e in found.items() if label}


def answer_cell_text(source: str) -> str:
    """An answer cell's own words: the heading line, nbgrader's solution delimiters and the
    placeholder removed."""
    lines = source.strip().split("\n")
    if lines and lines[0].startswith(ANSWER_HEADING):
        lines = lines[1:]
    kept = [
        line
        for line in lines
        if "BEGIN SOLUTION" not in line and "END SOLUTION" not in line
    ]
    return "\n".join(kept).replace(ANSWER_PLACEHOLDER, "").strip()


def written_answer(nb, label: str) -> str | None:
    """The answer a notebook gives to the written question (or written part) ``label``; ""
    if its answer cell is unanswered; None if the notebook has no place for it."""
    own = set(xai_metadata(nb).get("cells", []))
    cells = nb.cells
    for index, cell in enumerate(cells):
        meta = xai_metadata(cell)
        if meta.get("answer") != label or meta.get("part") != "written":
            continue
        texts = [answer_cell_text(cell.source)]
        for later in cells[index + 1 :]:  # Markdown cells the student added below it
            if later.cell_type != "markdown" or not own or later.get("id") in own:
                break
            texts.append(later.source.strip())
        return "\n\n".join(t for t in texts if t).strip()
    exercise = exercises(nb).get(label)
    if exercise is not None and exercise.prose:
        return exercise.prose
    return None


# --------------------------------------------------------------------------- editions


def answer_cell(label: str, what: str = "the exercise above"):
    """A written answer cell of the editions: heading, placeholder, and its metadata."""
    import nbformat

    cell = nbformat.v4.new_markdown_cell(
        f"{ANSWER_HEADING} to {what}:\n\n{ANSWER_PLACEHOLDER}"
    )
    cell.metadata["xai_lib"] = {"answer": label, "part": "written"}
    return cell


def mark_edition(nb, edition: str, chapter: str | None) -> None:
    """Record the edition, the chapter and the ids of the edition's own cells in the notebook
    (the grader tells the cells a student added by their ids); gives every cell an id."""
    import nbformat

    nb.nbformat, nb.nbformat_minor = 4, max(nb.get("nbformat_minor", 0), 5)
    seen = set()
    for cell in nb.cells:
        if not cell.get("id") or cell["id"] in seen:
            cell["id"] = nbformat.v4.new_code_cell().id
        seen.add(cell["id"])
    nb.metadata["xai_lib"] = {
        "chapter": chapter,
        "edition": edition,
        "cells": [cell["id"] for cell in nb.cells],
    }
