"""Points and rubrics: the table of a chapter's exercises, which the graded edition and the
``grade`` command read.

Every chapter module ends with ``EXERCISES``, keyed by the exercise labels of its notebook::

    EXERCISES = {
        "ch05-integrated-gradients": Coded(check_integrated_gradients,
                                           "my_integrated_gradients", points=3),
        "ch05-midpoint-kink": Written(2, "- 1 point: IG(3; 0) = 1 ...\\n- 1 point: ..."),
    }

* :class:`Coded`: an exercise whose answer is a function (or class) that a checker grades:
  the check, the name the student defines, its points, and optionally a ``written`` part
  (the questions the exercise text asks besides the function) with its rubric.
* :class:`Written`: a pen-and-paper question, graded by hand with its rubric.

A rubric is one line per criterion, ``- N point(s): what earns them``; the criteria add up
to the points (tests/test_grading.py checks it). The model answer is the book's solution.
:func:`grade_answer` runs one check on a namespace (a submitted notebook's globals, inside
its kernel) and reports the result as JSON, never raising.
"""

from __future__ import annotations

import importlib
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Union

_CRITERION = re.compile(r"^- (\d+) points?: \S")


@dataclass(frozen=True)
class Coded:
    """An exercise graded by its checker: ``check(namespace[answer])`` passes or not."""

    check: Callable
    answer: str
    points: int = 2
    written: int = 0  # points of the questions the text asks besides the function
    rubric: str = ""  # how to mark the written part (one criterion per line)

    @property
    def total(self) -> int:
        return self.points + self.written


@dataclass(frozen=True)
class Written:
    """A written question, graded by hand with its rubric."""

    points: int
    rubric: str

    @property
    def total(self) -> int:
        return self.points


Entry = Union[Coded, Written]


def rubric_points(rubric: str) -> int:
    """The points of a rubric's criteria, added up; ValueError for a line that is not one."""
    total = 0
    for line in rubric.strip().splitlines():
        match = _CRITERION.match(line.strip())
        if not match:
            raise ValueError(
                f"a rubric line must read '- N point(s): ...', got {line!r}"
            )
        total += int(match[1])
    return total


def chapters() -> list[str]:
    """The chapters that have checker modules: ['ch00', 'ch01', ...]."""
    return sorted(p.stem for p in Path(__file__).parent.glob("ch[0-9][0-9].py"))


def chapter_table(chapter: str) -> dict[str, Entry]:
    """``EXERCISES`` of ``xai_lib.exercises.<chapter>``; {} for a chapter without one."""
    if chapter not in chapters():
        return {}
    module = importlib.import_module(f"{__package__}.{chapter}")
    return dict(getattr(module, "EXERCISES", {}))


def entry(label: str) -> Entry:
    """The table entry of an exercise label such as ``ch05-integrated-gradients``."""
    table = chapter_table(label.split("-", 1)[0])
    if label not in table:
        raise ValueError(f"no exercise {label!r} in the tables of xai_lib.exercises")
    return table[label]


def one_line(text: str) -> str:
    """A multi-line Feedback as one line, for a CSV cell."""
    return " ".join(line.strip() for line in str(text).splitlines() if line.strip())


def grade_answer(label: str, namespace: dict) -> str:
    """Run the check of exercise ``label`` on ``namespace[answer]``: JSON ``{"passed": bool,
    "message": str}``. A missing answer or a check that raises is a failure, not an error."""
    exercise = entry(label)
    if not isinstance(exercise, Coded):
        raise ValueError(f"{label} is a written question, graded by hand")
    if exercise.answer not in namespace:
        result = {
            "passed": False,
            "message": f"NOT YET: {exercise.answer} is not defined: write it in the answer "
            "cell of the exercise (and make sure that cell runs without an error)",
        }
    else:
        try:
            feedback = exercise.check(namespace[exercise.answer])
            result = {"passed": bool(feedback), "message": one_line(feedback)}
        except Exception as error:  # a checker must not stop the grading of the rest
            result = {
                "passed": False,
                "message": f"the check raised {type(error).__name__}: {one_line(str(error))}",
            }
    return json.dumps(result)
