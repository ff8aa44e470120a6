"""The result of an exercise check: truthy iff passed, shown as a message a student can act on.

A :class:`Feedback` is what every ``check_*`` function returns. Displayed (as the last
expression of a cell, or printed) it says what was checked, what is wrong with numbers, and a
hint; ``bool(feedback)`` says whether the check passed, so ``assert check_x(f)`` works too.
:func:`checker` turns a function returning Feedback into a book checker: inside the book build a
failed check raises :class:`ExerciseFailed`, so a broken reference solution stops the build.

:func:`claim` checks a sentence of the text against the numbers a chapter has just computed,
the same way: it stops the book build (and so the tests) when the numbers contradict the
text, and only warns a reader who runs the chapter elsewhere (another torch, another
machine), where thresholds tuned for the book may not hold.
"""

from __future__ import annotations

import functools
import html
import warnings
from collections.abc import Sequence
from typing import Callable

from .._core import in_book_build


class ExerciseFailed(AssertionError):
    """A check failed where it must not: in the book build, on the book's own solution."""


class ClaimFailed(AssertionError):
    """A statement of the book does not hold for the numbers the build computed."""


class ClaimWarning(UserWarning):
    """A statement of the book does not hold in this run (outside the book build)."""


def claim(holds, statement: str) -> bool:
    """Check a statement of the text against the numbers just computed; returns ``holds``.

    ``holds``: a bool (or a one-element tensor); ``statement``: the sentence it checks, as
    the reader would read it ("SmoothGrad lowers EF on every model"). In the book build a
    false claim raises :class:`ClaimFailed`, so the book never prints a number that its
    text contradicts; elsewhere it warns (:class:`ClaimWarning`) and the chapter goes on.
    """
    holds = bool(holds)
    if not holds:
        if in_book_build():
            raise ClaimFailed(f"the text says: {statement!r}, and the numbers disagree")
        warnings.warn(
            f"In this run the numbers differ from the book's: {statement!r} does not hold "
            "here (other versions of torch or another machine can change them slightly).",
            ClaimWarning,
            stacklevel=2,
        )
    return holds


class Feedback:
    """What a check found: ``passed``, a one-line ``title``, ``details`` (one line each) and a ``hint``."""

    def __init__(
        self,
        passed: bool,
        title: str,
        details: Sequence[str] = (),
        hint: str | None = None,
    ):
        self.passed = bool(passed)
        self.title = title
        self.details = list(details)
        self.hint = hint

    @classmethod
    def success(cls, title: str, details: Sequence[str] = ()) -> Feedback:
        return cls(True, title, details)

    @classmethod
    def failure(
        cls, title: str, details: Sequence[str] = (), hint: str | None = None
    ) -> Feedback:
        return cls(False, title, details, hint)

    def __bool__(self) -> bool:
        return self.passed

    def __str__(self) -> str:
        lines = [("PASSED: " if self.passed else "NOT YET: ") + self.title]
        lines += ["  - " + d for d in self.details]
        if self.hint and not self.passed:
            lines.append("  Hint: " + self.hint)
        return "\n".join(lines)

    __repr__ = __str__

    def _repr_html_(self) -> str:
        colour, mark, status = (
            ("#1a7f37", "&#10004;", "pass")
            if self.passed
            else ("#b35900", "&#10008;", "fail")
        )
        items = "".join(f"<li>{html.escape(d)}</li>" for d in self.details)
        details = f'<ul style="margin:0.2em 0">{items}</ul>' if items else ""
        hint = (
            f'<div style="margin-top:0.3em"><b>Hint:</b> {html.escape(self.hint)}</div>'
            if self.hint and not self.passed
            else ""
        )
        return (
            f'<div class="xl-feedback xl-feedback-{status}" style="border-left:4px solid {colour};'
            f'padding:0.3em 0.8em;margin:0.3em 0">'
            f'<b style="color:{colour}">{mark} {html.escape(self.title)}</b>{details}{hint}</div>'
        )


def checker(check: Callable[..., Feedback]) -> Callable[..., Feedback]:
    """Decorator for every ``check_*`` function of a chapter module.

    Passes the Feedback through; in the book build (see :func:`xai_lib._core.in_book_build`) a
    failed check raises :class:`ExerciseFailed` instead, so the build stops on a wrong solution.
    """

    @functools.wraps(check)
    def run(*args, **kwargs) -> Feedback:
        feedback = check(*args, **kwargs)
        if not isinstance(feedback, Feedback):
            raise TypeError(
                f"{check.__name__} must return a Feedback, got {type(feedback).__name__}"
            )
        if not feedback and in_book_build():
            raise ExerciseFailed(
                f"the book's solution fails {check.__name__}:\n{feedback}"
            )
        return feedback

    return run
