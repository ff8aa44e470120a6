"""``python -m xai_lib.exercises student BOOK OUT`` writes the student edition of the book folder;
``python -m xai_lib.exercises lint BOOK`` lists notebooks that break the chapter conventions."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import nbformat

from ..booktools.notebooks import convention_problems, write_student_edition


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m xai_lib.exercises", description=__doc__
    )
    commands = parser.add_subparsers(dest="command", required=True)
    student = commands.add_parser(
        "student", help="write the student edition: solutions replaced by placeholders"
    )
    student.add_argument(
        "book", type=Path, help="the folder of the chapter notebooks, e.g. book/"
    )
    student.add_argument("out", type=Path, help="where to write the copies, e.g. out/")
    lint = commands.add_parser(
        "lint", help="check the notebooks against the chapter conventions"
    )
    lint.add_argument("book", type=Path)
    args = parser.parse_args(argv)
    if args.command == "student":
        try:
            written = write_student_edition(args.book, args.out)
        except ValueError as error:
            print(f"error: {error}", file=sys.stderr)
            return 2
        print(f"wrote the student edition of {len(written)} notebook(s) to {args.out}")
        return 0
    problems = [
        p
        for path in sorted(args.book.rglob("*.ipynb"))
        if ".ipynb_checkpoints" not in path.parts
        for p in convention_problems(nbformat.read(path, as_version=4), str(path))
    ]
    print("\n".join(problems) or "all notebooks follow the conventions")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
