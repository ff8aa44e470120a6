"""Exercises: checkers that tell a student what is wrong, and the student edition of the book.

What is inside
--------------
* :class:`Feedback` (feedback.py): the result of every check. Truthy iff passed; displayed, it
  says what was checked, what is wrong (with numbers), and a hint.
* :func:`checker`: the decorator of every ``check_*`` function. In the book build a failed check
  raises :class:`ExerciseFailed`, so a wrong reference solution stops the build.
* :func:`compare`, :func:`check_function` (checks.py), :class:`Case`, :func:`random_cases`
  (cases.py): compare an answer or a student's function with the reference, on several cases,
  catching and explaining exceptions and in-place changes.
* :mod:`xai_lib.booktools.notebooks` (not loaded with the checkers): the Colab install cell,
  the conventions check and the student edition. ``python -m xai_lib.exercises student book/ out/`` writes it;
  ``python -m xai_lib.exercises lint book/`` lists breaches of the conventions below.
* ``chNN.py``: one module per chapter with its ``check_*`` functions, reached as
  ``xl.exercises.chNN`` (imported on first use). ch00.py is the worked example.

Writing a chapter's checkers (xai_lib/exercises/chNN.py)
--------------------------------------------------------
::

    from ..methods.gradients import integrated_gradients
    from .cases import random_cases
    from .checks import check_function
    from .feedback import Feedback, checker

    def _case(generator):  # the arguments of one call, from a seeded generator
        ...
        return model, x

    @checker
    def check_integrated_gradients(my_integrated_gradients) -> Feedback:
        \"\"\"my_integrated_gradients(model, x, baseline, steps): shaped like x.\"\"\"
        return check_function(
            my_integrated_gradients,
            lambda model, x, b, s: integrated_gradients(model, x, 0, baseline=b, steps=s),
            random_cases(_case, seeds=(0, 1, 2)),
            rtol=1e-4,
            atol=1e-6,
            hint="average the gradients at baseline + k/steps (x - baseline)",
        )

The reference is the library itself wherever it can be; cases are small (CPU, milliseconds) and
float64; a check returns a :class:`Feedback` (never raises on wrong student code), with a hint
that helps without giving the answer away. For a single value (a number, a tensor) use
``return compare(answer, expected, name="your answer", hint=...)``. Test every checker in
tests/test_exercises.py: it passes on the reference solution and fails, with a useful message,
on a typical mistake.

A "write it by hand" checker passes ``forbid=(the library functions it rewrites,)`` to
:func:`check_function`: an answer that calls one of them fails, saying why (shortcuts.py).
Every chapter module ends with ``EXERCISES``, its exercises' points and rubrics, keyed by
label (table.py); the graded edition and ``python -m xai_lib.exercises grade`` read it.

Exercises in a chapter notebook
-------------------------------
Every notebook under book/ starts with the Colab install cell (its first code cell is
``COLAB_INSTALL_CELL`` verbatim) and is stored without outputs. An exercise is written with
sphinx-exercise's gated directives, each fence in a Markdown cell::

    [markdown]  ```{exercise-start} Integrated Gradients by hand
                :label: ch05-integrated-gradients
                ```
                Write `my_integrated_gradients(model, x, baseline, steps)` ...
                ```{exercise-end}
                ```
    [markdown]  ```{solution-start} ch05-integrated-gradients
                :class: dropdown
                ```
    [code]      def my_integrated_gradients(model, x, baseline, steps):
                    ...                  # the solution: any number of code cells
    [markdown]  ```{solution-end}
                ```
    [code]      xl.exercises.ch05.check_integrated_gradients(my_integrated_gradients)

Labels are ``chNN-name``; the solution cells run at build time and render as a closed dropdown
("Solution to Exercise N"); the checker cell comes right after the solution-end and shows the
Feedback (in the build, a failure stops the build). A pen-and-paper exercise may use a plain
``{solution}`` directive with prose and no checker. ``lint`` (and tests/test_exercises.py)
enforce all of this.

The student edition
-------------------
For each notebook: the solution cells and the solution directives are removed; in their place a
code cell starting ``# Your solution here`` holds the solution's imports, its functions'
signatures and docstrings raising NotImplementedError, and ``name = ...`` for its top-level
variables; exercise directives become plain Markdown; checker cells stay. So the notebook runs
from top to bottom, and each checker says what is missing until the student has written it.
"""

from __future__ import annotations

import importlib
import re
from pathlib import Path

from .cases import Case, random_cases
from .checks import check_function, compare
from .feedback import (
    ClaimFailed,
    ClaimWarning,
    ExerciseFailed,
    Feedback,
    checker,
    claim,
)

__all__ = [
    "Case",
    "ClaimFailed",
    "ClaimWarning",
    "ExerciseFailed",
    "Feedback",
    "check_function",
    "checker",
    "claim",
    "compare",
    "random_cases",
    # the chapters' checker modules, imported on first use
    *sorted(p.stem for p in Path(__file__).parent.glob("ch[0-9][0-9].py")),
]


def __getattr__(name: str):
    """``xl.exercises.ch05`` imports the chapter's checker module on first use."""
    if re.fullmatch(r"ch\d\d", name):
        try:
            return importlib.import_module(f".{name}", __name__)
        except ModuleNotFoundError as error:
            if error.name == f"{__name__}.{name}":
                raise AttributeError(
                    f"no exercises for chapter {name[2:]} yet ({__name__}.{name})"
                ) from None
            raise
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
