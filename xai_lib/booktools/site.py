"""The student site: the rendered book without its solutions, for a course to publish in term.

``python -m xai_lib.exercises site . out/site`` (:func:`build_student_site`) copies the book
project (``_config.yml``, ``_toc.yml``, ``book/``) into ``out/site/project``, replaces every
notebook by the executed copy an earlier build left in ``_build/jupyter_execute`` with its
solutions removed (:func:`site_edition`), turns execution off and sphinx-exercise's
``hide_solutions`` on, and builds it: HTML in ``out/site/_build/html``. No chapter runs again,
so it takes the time of Sphinx alone; the figures and numbers are those of the full build.

sphinx-exercise's ``hide_solutions`` alone is not enough: it drops ``{solution}`` blocks, but
the code cells between ``solution-start`` and ``solution-end`` would stay on the page.
"""

from __future__ import annotations

import copy
import shutil
import subprocess
import sys
from pathlib import Path

from .chapters import calls_checker
from .myst import Directive, split_markdown


def site_edition(nb):
    """A copy of an executed notebook without solutions: the cells and text between
    solution-start and solution-end, and ``{solution}`` blocks, removed; the exercises kept
    as sphinx-exercise directives; the checker cells kept without their output."""
    out = copy.deepcopy(nb)
    cells, inside, after_solution = [], False, False
    for cell in nb.cells:
        if cell.cell_type != "markdown":
            if inside:
                continue
            cell = copy.deepcopy(cell)
            if (
                after_solution
                and cell.cell_type == "code"
                and calls_checker(cell.source)
            ):
                cell.outputs, cell.execution_count = (
                    [],
                    None,
                )  # "PASSED: ..." on the solution
            after_solution = False
            cells.append(cell)
            continue
        kept = []
        for part in split_markdown(cell.source):
            if isinstance(part, Directive) and part.name == "solution-start":
                inside = True
            elif isinstance(part, Directive) and part.name == "solution-end":
                inside, after_solution = False, True
            elif isinstance(part, Directive) and part.name == "solution":
                continue
            elif not inside:
                kept.append(part if isinstance(part, str) else part.text)
        text = "\n".join(kept).strip("\n")
        if text:
            cell = copy.deepcopy(cell)
            cell.source = text
            cells.append(cell)
    out.cells = cells
    return out


def _project_config(config_path: Path) -> None:
    import yaml

    config = yaml.safe_load(config_path.read_text())
    config.setdefault("execute", {})["execute_notebooks"] = "off"
    config.setdefault("sphinx", {}).setdefault("config", {})["hide_solutions"] = True
    config_path.write_text(yaml.safe_dump(config, sort_keys=False, allow_unicode=True))


def build_student_site(
    root: str | Path, out: str | Path, *, executed: str | Path | None = None
) -> Path:
    """Build the book at ``root`` without solutions into ``out``; returns the HTML folder.

    ``executed``: the executed notebooks of an earlier build (default
    ``root/_build/jupyter_execute``); every notebook of ``root/book`` must have one there.
    RuntimeError with the build's log when jupyter-book fails.
    """
    import nbformat

    root, out = Path(root).resolve(), Path(out).resolve()
    executed = (
        Path(executed).resolve() if executed else root / "_build" / "jupyter_execute"
    )
    if not (root / "_config.yml").is_file() or not (root / "book").is_dir():
        raise ValueError(f"{root} is not the book's project (no _config.yml and book/)")
    if (
        out == root
        or root in out.parents
        and "_build" not in out.relative_to(root).parts
    ):
        raise ValueError(f"build the student site outside the project, not into {out}")
    missing = [
        p.name
        for p in sorted((root / "book").glob("*.ipynb"))
        if not (executed / "book" / p.name).is_file()
    ]
    if missing:
        raise ValueError(
            f"no executed copy of {', '.join(missing)} in {executed}: build the book first "
            "(jupyter-book build .), or pass --executed"
        )
    project = out / "project"
    if project.exists():
        shutil.rmtree(project)
    ignore = shutil.ignore_patterns("_build", ".ipynb_checkpoints", "__pycache__")
    shutil.copytree(root / "book", project / "book", ignore=ignore)
    for name in ("_config.yml", "_toc.yml"):
        shutil.copy2(root / name, project / name)
    _project_config(project / "_config.yml")
    for path in sorted((project / "book").glob("*.ipynb")):
        nb = nbformat.read(executed / "book" / path.name, as_version=4)
        nbformat.write(site_edition(nb), path)
    command = [
        sys.executable,
        "-c",
        "from jupyter_book.cli.main import main; main()",
        "build",
        str(project),
        "--path-output",
        str(out),
        "--keep-going",
    ]
    done = subprocess.run(command, capture_output=True, text=True, cwd=project)
    html = out / "_build" / "html"
    if done.returncode != 0 or not (html / "index.html").is_file():
        log = (done.stdout + done.stderr)[-4000:]
        raise RuntimeError(f"the student site's build failed:\n{log}")
    return html
