"""The course's command line, ``python -m xai_lib.exercises COMMAND``:

* ``student BOOK OUT [--format plain|nbgrader]``: the student edition of the book folder. ``plain``
  (the default): notebooks with placeholders that run in Jupyter or Colab, each checker saying
  what is missing. ``nbgrader``: an nbgrader course in OUT (instructors' copies in source/, the
  students' copies in release/, made by ``nbgrader generate_assignment``, and rubric.md).
* ``grade SUBMISSIONS --out grades.csv``: run every submitted notebook offline, with time limits,
  check its answers, and write one CSV row per notebook and exercise.
* ``site [ROOT] OUT``: the rendered book without solutions, built from an earlier build's executed
  notebooks (no chapter runs again).
* ``lint BOOK``: list the notebooks that break the chapter conventions.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path


def _student(args) -> int:
    from ..booktools.notebooks import write_student_edition

    if args.format == "nbgrader":
        from ..booktools.course import write_nbgrader_course

        written = write_nbgrader_course(args.book, args.out, timeout=args.timeout)
        print(
            f"wrote the nbgrader course of {len(written)} chapter(s) to {args.out}: "
            f"instructors' copies in source/, students' copies in release/, rubric.md"
        )
        return 0
    written = write_student_edition(args.book, args.out)
    print(f"wrote the student edition of {len(written)} notebook(s) to {args.out}")
    return 0


def _grade(args) -> int:
    from ..booktools.grading import grade, write_csv

    start = time.perf_counter()
    rows = grade(
        args.submissions,
        jobs=args.jobs,
        timeout=args.timeout,
        check_timeout=args.check_timeout,
        cell_timeout=args.cell_timeout,
        all_cells=args.all_cells,
    )
    write_csv(rows, args.out)
    by_submission: dict[str, list] = {}
    for row in rows:
        by_submission.setdefault(row.submission, []).append(row)
    for name, own in by_submission.items():
        auto = [r for r in own if r.points is not None]
        by_hand = [r for r in own if r.points is None]
        print(
            f"{name}: {sum(r.points for r in auto):g} of {sum(r.max_points for r in auto)} "
            f"points checked"
            + (
                f", {len(by_hand)} written answer(s) ({sum(r.max_points for r in by_hand)} "
                "points) to grade by hand"
                if by_hand
                else ""
            )
        )
    print(
        f"graded {len(by_submission)} notebook(s) in {time.perf_counter() - start:.0f} s; "
        f"wrote {args.out}"
    )
    return 0


def _site(args) -> int:
    from ..booktools.site import build_student_site

    html = build_student_site(args.root, args.out, executed=args.executed)
    print(f"the student site (no solutions) is in {html}")
    return 0


def _lint(args) -> int:
    import nbformat

    from ..booktools.notebooks import convention_problems

    problems = [
        p
        for path in sorted(args.book.rglob("*.ipynb"))
        if ".ipynb_checkpoints" not in path.parts
        for p in convention_problems(nbformat.read(path, as_version=4), str(path))
    ]
    print("\n".join(problems) or "all notebooks follow the conventions")
    return 1 if problems else 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m xai_lib.exercises",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True)
    student = commands.add_parser("student", help="write the student edition")
    student.add_argument(
        "book", type=Path, help="the folder of the chapters, e.g. book/"
    )
    student.add_argument("out", type=Path, help="where to write it, e.g. out/")
    student.add_argument(
        "--format",
        choices=("plain", "nbgrader"),
        default="plain",
        help="plain notebooks (default), or an nbgrader course",
    )
    student.add_argument(
        "--timeout",
        type=int,
        default=300,
        help="nbgrader: seconds a cell may run in validate/autograde (default 300)",
    )
    grade = commands.add_parser("grade", help="grade submitted notebooks into a CSV")
    grade.add_argument("submissions", type=Path, help="a folder of notebooks, or one")
    grade.add_argument("--out", type=Path, default=Path("grades.csv"))
    grade.add_argument(
        "--timeout",
        type=float,
        default=300,
        help="seconds for running one notebook's cells (default 300)",
    )
    grade.add_argument(
        "--cell-timeout",
        type=float,
        default=120,
        help="seconds for one cell, within the notebook's time (default 120)",
    )
    grade.add_argument(
        "--check-timeout",
        type=float,
        default=60,
        help="seconds for one exercise's check (default 60)",
    )
    grade.add_argument(
        "--all-cells",
        action="store_true",
        help="run every code cell, not only those the answers need",
    )
    grade.add_argument(
        "--jobs", type=int, default=1, help="notebooks graded at once (default 1)"
    )
    site = commands.add_parser("site", help="build the book without its solutions")
    site.add_argument("root", type=Path, nargs="?", default=Path("."))
    site.add_argument("out", type=Path, help="where to build it")
    site.add_argument(
        "--executed",
        type=Path,
        default=None,
        help="the executed notebooks of a build (default ROOT/_build/jupyter_execute)",
    )
    lint = commands.add_parser("lint", help="check the chapter conventions")
    lint.add_argument("book", type=Path)
    args = parser.parse_args(argv)
    try:
        return {"student": _student, "grade": _grade, "site": _site, "lint": _lint}[
            args.command
        ](args)
    except (ValueError, RuntimeError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
