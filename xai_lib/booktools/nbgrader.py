"""The graded edition's notebooks: a chapter as nbgrader's instructors' copy.

:func:`graded_notebook` makes the instructors' copy of one chapter (:mod:`.course` writes the
whole course and has nbgrader make the students' copies from it).

In the instructors' copy (:func:`graded_notebook`):

* every code cell of a solution is an nbgrader *autograded answer* cell, its solution between
  ``### BEGIN SOLUTION`` and ``### END SOLUTION``: inside each function (and each method) after
  its signature and docstring, and around top-level code (:func:`mark_solution`). nbgrader
  replaces each region by ``raise NotImplementedError()``, so the students' copy keeps the
  signatures and docstrings;
* the checker cell is an *autograder tests* cell worth the exercise's points (the table in
  ``xai_lib/exercises/chNN.py``): ``assert`` on the checker's Feedback;
* every written question, and the written part of a coded exercise, has a *manually graded
  answer* cell worth its points, holding the book's model answer and the rubric inside the
  solution region: the students' copy reads ``YOUR ANSWER HERE``.
"""

from __future__ import annotations

import ast
import copy
import re

from .chapters import ANSWER_HEADING, exercises, mark_edition
from .myst import exercise_markdown, split_markdown
from .notebooks import COLAB_INSTALL_CELL, starts_with_install_cell

BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"
CODE_STUB = "# YOUR CODE HERE\nraise NotImplementedError()"


def _nbgrader(kind: str, grade_id: str, points: int | None = None) -> dict:
    """nbgrader cell metadata (schema 3) of an "answer", "tests" or "written" cell."""
    meta = {
        "grade": kind in ("tests", "written"),
        "solution": kind in ("answer", "written"),
        "locked": kind == "tests",
        "grade_id": grade_id,
        "schema_version": 3,
        "task": False,
    }
    if points is not None:
        meta["points"] = points
    return meta


def _header_end(lines: list[str], node) -> int:
    """The last line (1-based) of a def's signature: the last code line before its body."""
    end = node.lineno
    for number in range(node.lineno, node.body[0].lineno):
        text = lines[number - 1].strip()
        if text and not text.startswith("#"):
            end = number
    return end


def _body_region(lines: list[str], node) -> tuple[int, int, str] | None:
    """(first line, last line, indent) of a function's body after its docstring, or None."""
    body = node.body
    if ast.get_docstring(node, clean=False) is not None:
        first, body = body[0].end_lineno + 1, body[1:]
    else:
        first = _header_end(lines, node) + 1
    if (
        not body or body[0].lineno <= node.lineno
    ):  # nothing left, or `def f(): return 1`
        return None
    indent = re.match(r"\s*", lines[body[0].lineno - 1])
    return first, node.end_lineno or node.lineno, indent[0] if indent else ""


def mark_solution(code: str) -> str:
    """A solution cell with its solution between nbgrader's delimiters (see the module doc).

    Imports stay outside; functions keep their signature and docstring; classes their
    methods' signatures; other top-level code is a region of its own. A cell that does not
    parse (IPython magics) is one region."""
    lines = code.split("\n")
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return "\n".join([BEGIN, *lines, END])
    regions: list[tuple[int, int, str]] = []
    loose: list[int] = []  # top-level lines of code outside defs and imports

    def function(node) -> bool:
        region = _body_region(lines, node)
        if region is not None:
            regions.append(region)
        return region is not None

    for node in tree.body:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            continue
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and function(node):
            continue
        if isinstance(node, ast.ClassDef) and all(
            function(item)
            for item in node.body
            if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef))
        ):
            continue
        loose += list(range(node.lineno, (node.end_lineno or node.lineno) + 1))
    for number in sorted(set(loose)):  # consecutive loose lines: one region
        if regions and regions[-1][2] == "" and regions[-1][1] >= number - 1:
            regions[-1] = (regions[-1][0], number, "")
        else:
            regions.append((number, number, ""))
    out = list(lines)
    for first, last, indent in sorted(regions, reverse=True):
        out[last:last] = [indent + END]
        out[first - 1 : first - 1] = [indent + BEGIN]
    return "\n".join(out)


def _written_cell(label, grade_id, points, what, model, rubric):
    import nbformat

    cell = nbformat.v4.new_markdown_cell(
        f"{ANSWER_HEADING} to {what} ({points} point{'s' * (points != 1)}):\n\n"
        f"{BEGIN}\n**Model answer.** {model or '(see the book)'}\n\n"
        f"**Rubric.**\n{rubric.strip()}\n{END}"
    )
    cell.metadata["nbgrader"] = _nbgrader("written", grade_id, points)
    cell.metadata["xai_lib"] = {"answer": label, "part": "written"}
    return cell


def _tests_cell(chapter: str, label: str, entry):
    import nbformat

    call = f"xl.exercises.{chapter}.{entry.check.__name__}({entry.answer})"
    cell = nbformat.v4.new_code_cell(
        f"# The check of exercise {label}: {entry.points} point(s) when it passes.\n"
        "import warnings\n\nimport xai_lib as xl\n\n"
        "with warnings.catch_warnings():  # nbgrader gives 0 to a test that writes to stderr\n"
        '    warnings.simplefilter("ignore")\n'
        f"    feedback = {call}\n"
        "print(feedback)\n"
        'assert feedback, "the check failed: see its message above"'
    )
    cell.metadata["nbgrader"] = _nbgrader("tests", f"{label}-check", entry.points)
    return cell


def graded_notebook(nb, table: dict, chapter: str):
    """The instructors' copy of a chapter notebook for nbgrader (see the module doc)."""
    import nbformat

    from ..exercises.table import Coded

    found = exercises(nb)
    out = copy.deepcopy(nb)
    cells = (
        []
        if starts_with_install_cell(nb)
        else [nbformat.v4.new_code_cell(COLAB_INSTALL_CELL)]
    )
    solution, pending, answers = None, None, 0
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell = copy.deepcopy(cell)
            cell.outputs, cell.execution_count = [], None
            if solution is not None:
                answers += 1
                cell.source = mark_solution(cell.source)
                cell.metadata["nbgrader"] = _nbgrader(
                    "answer", f"{solution}-answer-{answers}"
                )
                cell.metadata["xai_lib"] = {"answer": solution, "part": "code"}
            elif pending is not None:
                label, pending = pending, None
                entry = table.get(label)
                if isinstance(entry, Coded):  # the checker cell: nbgrader's tests
                    cells.append(_tests_cell(chapter, label, entry))
                    if entry.written:
                        cells.append(
                            _written_cell(
                                label,
                                f"{label}-written",
                                entry.written,
                                "the questions of the exercise above",
                                found[label].prose,
                                entry.rubric,
                            )
                        )
                    continue
            cells.append(cell)
            continue
        if cell.cell_type != "markdown":
            cells.append(copy.deepcopy(cell))
            continue
        kept: list[str] = []

        def flush(kept=kept):
            text = "\n".join(kept).strip("\n")
            if text:
                cells.append(nbformat.v4.new_markdown_cell(text))
            kept.clear()

        for part in split_markdown(cell.source):
            if isinstance(part, str):
                if solution is None:
                    kept.append(part)
            elif part.name == "solution-start":
                solution, answers = part.argument, 0
            elif part.name == "solution-end":
                pending, solution = solution, None
            elif part.name == "solution":
                flush()
                entry = table.get(part.argument)
                if entry is not None:
                    cells.append(
                        _written_cell(
                            part.argument,
                            part.argument,
                            entry.total,
                            "the exercise above",
                            part.body,
                            entry.rubric,
                        )
                    )
            elif solution is not None or part.name == "exercise-end":
                continue
            elif part.name in ("exercise", "exercise-start"):
                kept.append(exercise_markdown(part))
            else:
                kept.append(part.text)
        flush()
    out.cells = cells
    out.metadata.setdefault(
        "kernelspec",
        {"name": "python3", "display_name": "Python 3", "language": "python"},
    )
    mark_edition(out, "nbgrader", chapter)
    return out
