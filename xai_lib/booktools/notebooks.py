"""The chapter notebooks' conventions, checked, and the plain student edition made from them.

* :data:`COLAB_INSTALL_CELL`: the first code cell of every chapter, verbatim. It installs xai_lib
  from :data:`REPOSITORY_URL` (which equals ``repository.url`` in ``_config.yml``) in Colab only.
* :func:`convention_problems`: what a notebook does against the conventions of the package
  docstring (install cell first, outputs stripped, gated solutions in dropdowns, each followed by
  a checker cell).
* :func:`student_edition`: a copy of a notebook with every solution replaced by a placeholder
  code cell (a skeleton of the solution's functions, raising NotImplementedError), exercises shown
  as plain Markdown, an answer cell for every written question (and for the written part of a
  coded exercise, see the tables of :mod:`xai_lib.exercises.table`), and the checker cells kept:
  the notebook runs to the end, each checker telling the student what is still missing.
  :func:`write_student_edition` does a whole folder. The nbgrader edition is :mod:`.course`.

The MyST reading (:func:`split_markdown`, :class:`Directive`) lives in :mod:`.myst`.
"""

from __future__ import annotations

import ast
import copy
import re
import shutil
from pathlib import Path

from .chapters import answer_cell, calls_checker, chapter_of, mark_edition
from .myst import Directive, directives, exercise_markdown, split_markdown

__all__ = [
    "COLAB_INSTALL_CELL",
    "PLACEHOLDER",
    "REPOSITORY_URL",
    "Directive",
    "calls_checker",
    "convention_problems",
    "first_code_cell",
    "skeleton",
    "split_markdown",
    "starts_with_install_cell",
    "student_edition",
    "write_student_edition",
]

#: The repository the book and the Colab install cell point at (``repository.url`` in _config.yml).
REPOSITORY_URL = "https://github.com/xai-lib/xai-lib"

#: The first code cell of every chapter notebook, verbatim.
COLAB_INSTALL_CELL = f'''# In Google Colab only: install xai_lib from the book's repository (torch is there).
import sys

if "google.colab" in sys.modules:
    %pip install -q "xai_lib @ git+{REPOSITORY_URL}"'''

PLACEHOLDER = "# Your solution here"


def first_code_cell(nb) -> str | None:
    return next((c.source for c in nb.cells if c.cell_type == "code"), None)


def starts_with_install_cell(nb) -> bool:
    """Is the first code cell :data:`COLAB_INSTALL_CELL` (trailing whitespace aside)?"""
    first = first_code_cell(nb)
    return first is not None and first.rstrip() == COLAB_INSTALL_CELL


# --------------------------------------------------------------------------- conventions


def convention_problems(nb, name: str = "notebook") -> list[str]:
    """Everything in ``nb`` against the chapter conventions (see the package docstring); [] if none."""
    problems = []
    if not starts_with_install_cell(nb):
        problems.append(
            f"{name}: the first code cell must be xai_lib.exercises.notebooks.COLAB_INSTALL_CELL verbatim"
        )
    for k, cell in enumerate(nb.cells):
        if cell.cell_type == "code" and (
            cell.get("outputs") or cell.get("execution_count")
        ):
            problems.append(
                f"{name}: cell {k} holds outputs; store notebooks without outputs"
            )
    labels = {
        d.options.get("label")
        for c in nb.cells
        for d in directives(c)
        if d.name in ("exercise", "exercise-start")
    }
    problems += [
        f"{name}: exercise label {label!r} should read chNN-name (e.g. ch05-baselines)"
        for label in sorted(map(str, labels))
        if not re.fullmatch(r"ch\d\d-[\w-]+", label)
    ]
    open_at, code_inside, last_end = None, False, None
    for k, cell in enumerate(nb.cells):
        if cell.cell_type == "code":
            code_inside = code_inside or open_at is not None
            if last_end is not None:
                if not calls_checker(cell.source):
                    problems.append(
                        f"{name}: the code cell after the solution ending in cell {last_end} must call "
                        f"its checker (xl.exercises.chNN.check_...)"
                    )
                last_end = None
            continue
        for d in directives(cell):
            if d.name == "solution-start":
                if open_at is not None:
                    problems.append(
                        f"{name}: cell {k} starts a solution inside the one started in cell {open_at}"
                    )
                if d.argument not in labels:
                    problems.append(
                        f"{name}: cell {k}: solution-start {d.argument!r} names no exercise label"
                    )
                if "dropdown" not in d.options.get("class", "").split():
                    problems.append(
                        f"{name}: cell {k}: solution-start {d.argument!r} needs `:class: dropdown`"
                    )
                open_at, code_inside = k, False
            elif d.name == "solution-end":
                if open_at is None:
                    problems.append(
                        f"{name}: cell {k} ends a solution that was never started"
                    )
                elif code_inside:
                    last_end = k
                open_at = None
    if open_at is not None:
        problems.append(
            f"{name}: the solution started in cell {open_at} never ends (solution-end)"
        )
    if last_end is not None:
        problems.append(
            f"{name}: the solution ending in cell {last_end} must be followed by a checker code cell"
        )
    return problems


# --------------------------------------------------------------------------- the student edition


def skeleton(code: str) -> str:
    """A solution's placeholder: its imports, its functions' and classes' signatures and
    docstrings (methods raising NotImplementedError), and ``name = ...`` for its top-level
    assignments."""
    try:
        tree = ast.parse(code)
    except SyntaxError:  # IPython magics and the like: nothing to keep
        return ""
    stubs = [_stub(node) for node in tree.body]
    return "\n\n".join(stub for stub in stubs if stub)


def _with_docstring(node, body: list) -> list:
    docstring = ast.get_docstring(node, clean=False)
    return ([ast.Expr(ast.Constant(docstring))] if docstring is not None else []) + body


def _stub(node) -> str | None:
    """One top-level statement of a solution as it appears in the student's placeholder."""
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        return ast.unparse(node)
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        stub = copy.deepcopy(node)
        stub.body = _with_docstring(
            node,
            [
                ast.parse('raise NotImplementedError("write your solution here")').body[
                    0
                ]
            ],
        )
        return ast.unparse(stub)
    if isinstance(node, ast.ClassDef):
        # the class keeps its bases and its methods' signatures, so code that names it still runs
        klass = copy.deepcopy(node)
        methods: list[ast.stmt] = [
            ast.parse(_stub(item) or "pass").body[0]
            for item in node.body
            if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef))
        ]
        klass.body = _with_docstring(node, methods or [ast.Pass()])
        return ast.unparse(klass)
    if isinstance(node, ast.Assign):
        names = [t.id for t in node.targets if isinstance(t, ast.Name)]
        if len(names) == len(node.targets):
            return " = ".join(names) + " = ..."
    return None


def _written_parts(nb) -> set[str]:
    """Labels of the coded exercises whose table entry has a written part (points > 0)."""
    from ..exercises.table import Coded, chapter_table

    chapter = chapter_of(nb)
    table = chapter_table(chapter) if chapter else {}
    return {k for k, e in table.items() if isinstance(e, Coded) and e.written}


def student_edition(nb):
    """A copy of ``nb`` for students: solutions out, placeholders in, checkers kept, outputs cleared,
    an answer cell for every written question (and written part of a coded exercise), and the
    Colab install cell first (added if missing). Raises ValueError on unbalanced
    solution-start / solution-end.
    """
    import nbformat  # only the student edition needs it: `import xai_lib` works without

    out = copy.deepcopy(nb)
    cells = (
        []
        if starts_with_install_cell(nb)
        else [nbformat.v4.new_code_cell(COLAB_INSTALL_CELL)]
    )
    written_parts = _written_parts(nb)
    solution_label, solution_code, checked = None, [], None
    for cell in nb.cells:
        if cell.cell_type != "markdown":
            if solution_label is not None:
                solution_code.append(cell.source)
                continue
            cells.append(_cleared(cell))
            if checked in written_parts and calls_checker(cell.source):
                cells.append(
                    answer_cell(checked, "the questions of the exercise above")
                )
            checked = None
            continue
        kept: list[str] = []
        first_piece = True

        def flush():
            nonlocal kept, first_piece
            text = "\n".join(kept).strip("\n")
            if text:
                piece = (
                    copy.deepcopy(cell)  # noqa: B023 (flush runs inside the loop)
                    if first_piece
                    else nbformat.v4.new_markdown_cell()
                )
                piece.source = text
                cells.append(piece)
                first_piece = False
            kept = []

        for part in split_markdown(cell.source):
            if isinstance(part, str):
                if solution_label is None:
                    kept.append(part)
            elif part.name == "solution-start":
                if solution_label is not None:
                    raise ValueError(
                        f"solution {part.argument!r} starts inside solution {solution_label!r}"
                    )
                solution_label, solution_code = part.argument or "?", []
            elif part.name == "solution-end":
                if solution_label is None:
                    raise ValueError("a solution-end without its solution-start")
                flush()
                stubs = [s for s in (skeleton(code) for code in solution_code) if s]
                placeholder = nbformat.v4.new_code_cell(
                    "\n\n\n".join([PLACEHOLDER] + stubs)
                )
                placeholder.metadata["xai_lib"] = {
                    "answer": solution_label,
                    "part": "code",
                }
                cells.append(placeholder)
                solution_label, checked = None, solution_label
            elif part.name == "solution" and solution_label is None:
                flush()
                cells.append(answer_cell(part.argument))
            elif solution_label is not None or part.name in (
                "solution",
                "exercise-end",
            ):
                continue
            elif part.name in ("exercise", "exercise-start"):
                kept.append(exercise_markdown(part))
            else:
                kept.append(part.text)
        flush()
    if solution_label is not None:
        raise ValueError(f"solution {solution_label!r} never ends (no solution-end)")
    out.cells = cells
    mark_edition(out, "plain", chapter_of(nb))
    return out


def _cleared(cell):
    cell = copy.deepcopy(cell)
    if cell.cell_type == "code":
        cell.outputs = []
        cell.execution_count = None
    return cell


def write_student_edition(source: str | Path, destination: str | Path) -> list[Path]:
    """Copy the book folder ``source`` to ``destination``, every notebook as its student edition.

    Returns the notebooks written. ``destination`` may not lie inside ``source`` (or be it).
    """
    import nbformat

    source, destination = Path(source).resolve(), Path(destination).resolve()
    if not source.is_dir():
        raise ValueError(f"{source} is not a folder")
    if destination == source or source in destination.parents:
        raise ValueError(
            f"the student edition must go outside the book folder, not into {destination}"
        )
    ignore = shutil.ignore_patterns(
        ".ipynb_checkpoints", "_build", "__pycache__", "*.ipynb"
    )
    shutil.copytree(source, destination, ignore=ignore, dirs_exist_ok=True)
    written = []
    for path in sorted(source.rglob("*.ipynb")):
        relative = path.relative_to(source)
        if any(part in (".ipynb_checkpoints", "_build") for part in relative.parts):
            continue
        target = destination / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            edition = student_edition(nbformat.read(path, as_version=4))
        except ValueError as error:
            raise ValueError(f"{path}: {error}") from None
        nbformat.write(edition, target)
        written.append(target)
    return written
