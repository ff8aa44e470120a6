"""Comparing a student's answer with the reference, and saying precisely what differs.

* :func:`compare`: one answer (tensor, array, number, or a tuple/list of them) against the
  expected one: type, shape, dtype, NaNs, then values with ``torch.allclose`` tolerances,
  reporting the largest difference, where it is, how many values are off, and whether the answer
  is the expected one scaled or with its sign flipped.
* :func:`check_function`: a student's function against a reference function on several cases
  (:class:`~xai_lib.exercises.cases.Case`, :func:`~xai_lib.exercises.cases.random_cases`):
  exceptions in the student's code are caught and reported with the line that raised, inputs
  changed in place are caught, the first wrong case is shown; with ``forbid=(library
  functions)``, an answer that calls one of them fails: a "write it by hand" exercise is not
  solved by calling the library (see :mod:`.shortcuts`).

The cases themselves (:class:`Case`, :func:`random_cases`, :func:`random_parameters`,
:func:`occlude_features`, :func:`describe`) live in :mod:`.cases`; they are re-exported here,
so ``from xai_lib.exercises.checks import Case`` keeps working.
"""

from __future__ import annotations

import copy
import numbers
import traceback
from collections.abc import Sequence
from typing import Any, Callable, SupportsFloat

import numpy as np
import torch

from .cases import Case, describe, occlude_features, random_cases, random_parameters
from .feedback import Feedback
from .shortcuts import ShortcutUsed, refusing, shortcut_feedback

__all__ = [
    "DEFAULT_ATOL",
    "DEFAULT_RTOL",
    "Case",
    "check_function",
    "compare",
    "describe",
    "occlude_features",
    "random_cases",
    "random_parameters",
]

DEFAULT_RTOL = 1e-5
DEFAULT_ATOL = 1e-8


def _as_tensor(value) -> torch.Tensor:
    return torch.as_tensor(value).detach().cpu()


def _values_problem(
    got: torch.Tensor, expected: torch.Tensor, name: str, rtol: float, atol: float
) -> list[str]:
    """Details of how got's values differ from expected's, or [] when they are close."""
    got64, expected64 = got.double(), expected.double()
    if torch.isnan(got64).any() and not torch.isnan(expected64).any():
        return [
            f"{name} contains {int(torch.isnan(got64).sum())} NaN value(s); none are expected"
        ]
    close = torch.isclose(got64, expected64, rtol=rtol, atol=atol, equal_nan=True)
    if bool(close.all()):
        return []
    diff = (got64 - expected64).abs().nan_to_num(nan=float("inf"))
    where = (
        np.unravel_index(int(diff.argmax()), tuple(diff.shape)) if diff.dim() else ()
    )
    index = tuple(int(i) for i in where)
    at = f" at index {index}" if index else ""
    details = [
        f"{int((~close).sum())} of {close.numel()} value(s) differ by more than atol={atol:g} + rtol={rtol:g} x |expected|",
        f"the largest difference is {float(diff.max()):.4g}{at}: yours {float(got64[index]):.6g}, "
        f"expected {float(expected64[index]):.6g}",
    ]
    details += _scale_remark(got64, expected64, rtol, atol)
    return details


def _scale_remark(
    got: torch.Tensor, expected: torch.Tensor, rtol: float, atol: float
) -> list[str]:
    """'yours = -1 x expected' or 'yours = 2 x expected' when that is what happened."""
    norm = float((expected * expected).sum())
    if norm == 0 or got.numel() < 2:
        return []
    factor = (
        float((got * expected).sum()) / norm
    )  # least-squares scale of expected onto got
    if (
        factor == 0
        or abs(factor - 1) < 1e-3
        or not torch.allclose(got, factor * expected, rtol=rtol, atol=atol)
    ):
        return []
    if abs(factor + 1) < 1e-3:
        return ["yours is the expected result with its sign flipped"]
    return [
        f"yours is the expected result times {factor:.4g}: a missing or extra factor?"
    ]


def compare(
    got: Any,
    expected: Any,
    *,
    name: str = "your result",
    rtol: float = DEFAULT_RTOL,
    atol: float = DEFAULT_ATOL,
    check_dtype: bool = True,
    hint: str | None = None,
) -> Feedback:
    """Is ``got`` the ``expected`` answer? Tensors, arrays, numbers and tuples/lists of them.

    Checks in order: answered at all (not None / ``...``), kind, length of tuples, shape, dtype
    (``check_dtype``), NaNs, and the values with ``torch.isclose(rtol, atol)``.
    """
    if got is Ellipsis:
        return Feedback.failure(
            f"{name}: not answered yet", ["replace the `...` with your answer"], hint
        )
    if got is None and expected is not None:
        return Feedback.failure(
            f"{name} is None", ["did you forget a `return` statement?"], hint
        )
    if isinstance(expected, (tuple, list)):
        if not isinstance(got, (tuple, list)) or len(got) != len(expected):
            return Feedback.failure(
                f"{name} should be a sequence of {len(expected)} values",
                [
                    f"got {describe(got)}"
                    + (
                        f" of length {len(got)}"
                        if isinstance(got, (tuple, list))
                        else ""
                    )
                ],
                hint,
            )
        for i, (g, e) in enumerate(zip(got, expected)):
            part = compare(
                g,
                e,
                name=f"{name}[{i}]",
                rtol=rtol,
                atol=atol,
                check_dtype=check_dtype,
                hint=hint,
            )
            if not part:
                return part
        return Feedback.success(f"{name} is correct")
    if isinstance(expected, (torch.Tensor, np.ndarray)):
        return _compare_arrays(got, expected, name, rtol, atol, check_dtype, hint)
    # a number float() takes (not a Python complex, which has no __float__)
    if isinstance(expected, numbers.Number) and isinstance(expected, SupportsFloat):
        if isinstance(got, (torch.Tensor, np.ndarray)) and _as_tensor(got).numel() == 1:
            got = _as_tensor(got).item()
        if (
            not isinstance(got, numbers.Number)
            or not isinstance(got, SupportsFloat)
            or isinstance(got, bool) != isinstance(expected, bool)
        ):
            return Feedback.failure(
                f"{name} should be a number like {expected!r}",
                [f"got {describe(got)}"],
                hint,
            )
        problems = _values_problem(
            torch.tensor(float(got)), torch.tensor(float(expected)), name, rtol, atol
        )
        if problems:
            return Feedback.failure(
                f"{name} is {got!r}, expected {expected!r}", [], hint
            )
        return Feedback.success(f"{name} is correct")
    if got != expected:
        return Feedback.failure(f"{name} is {got!r}, expected {expected!r}", [], hint)
    return Feedback.success(f"{name} is correct")


def _compare_arrays(got, expected, name, rtol, atol, check_dtype, hint) -> Feedback:
    kind = "torch.Tensor" if isinstance(expected, torch.Tensor) else "numpy array"
    if not isinstance(got, (torch.Tensor, np.ndarray)):
        return Feedback.failure(
            f"{name} should be a {kind}",
            [f"got {describe(got)}"],
            hint or "convert with torch.as_tensor(...) / np.asarray(...)",
        )
    if isinstance(got, torch.Tensor) and got.requires_grad:
        got = got.detach()
    g, e = _as_tensor(got), _as_tensor(expected)
    if tuple(g.shape) != tuple(e.shape):
        details = [f"yours has shape {tuple(g.shape)}, expected {tuple(e.shape)}"]
        if g.numel() == e.numel():
            details.append(
                "same number of values: a missing reshape, transpose or keepdim?"
            )
        elif g.numel() == 1:
            details.append("a single number: did you sum or average over everything?")
        return Feedback.failure(
            f"{name} has the wrong shape",
            details,
            hint
            or "keep the batch dimension first and the result shaped like the input",
        )
    if check_dtype and g.dtype != e.dtype:
        return Feedback.failure(
            f"{name} has dtype {str(g.dtype).replace('torch.', '')}, "
            f"expected {str(e.dtype).replace('torch.', '')}",
            [
                "compute in the input's dtype (e.g. torch.zeros_like(x), not torch.zeros(...))"
            ],
            hint,
        )
    if (
        isinstance(got, torch.Tensor)
        and isinstance(expected, torch.Tensor)
        and got.device != expected.device
    ):
        return Feedback.failure(
            f"{name} is on {got.device}, expected {expected.device}",
            ["create new tensors on the input's device (device=x.device)"],
            hint,
        )
    problems = _values_problem(g, e, name, rtol, atol)
    if problems:
        return Feedback.failure(
            f"{name} has the right shape but wrong values", problems, hint
        )
    return Feedback.success(f"{name} is correct")


def _student_error(
    error: BaseException, student: Callable, fn_name: str, case: Case, hint: str | None
) -> Feedback:
    """Kind words for an exception raised inside the student's function, with their line that raised."""
    if isinstance(error, NotImplementedError):
        return Feedback.failure(
            f"{fn_name} is not written yet",
            ["replace `raise NotImplementedError` with your solution"],
            hint,
        )
    details = [f"{type(error).__name__}: {error}", f"on {case.label}"]
    # the deepest frame in the student's own file (a notebook cell), not inside torch
    own_file = getattr(getattr(student, "__code__", None), "co_filename", None)
    frames = [
        f
        for f in traceback.extract_tb(error.__traceback__)[1:]
        if f.filename == own_file
    ]
    if frames:
        frame = frames[-1]
        line = (frame.line or "").strip()
        details.append(
            f"in {frame.name}, line {frame.lineno}" + (f": {line}" if line else "")
        )
    return Feedback.failure(f"{fn_name} raised an exception", details, hint)


def _changed_inputs(before: Case, after: Case) -> list[str]:
    """Names of tensor arguments the student's call changed in place."""
    changed = []
    pairs = [
        (f"argument {i + 1}", b, a)
        for i, (b, a) in enumerate(zip(before.args, after.args))
    ]
    pairs += [(k, before.kwargs[k], after.kwargs[k]) for k in before.kwargs]
    for label, b, a in pairs:
        if isinstance(b, torch.Tensor) and not torch.equal(a.detach(), b.detach()):
            changed.append(label)
    return changed


def check_function(
    student: Callable,
    reference: Callable,
    cases: Sequence[Case],
    *,
    name: str | None = None,
    rtol: float = DEFAULT_RTOL,
    atol: float = DEFAULT_ATOL,
    check_dtype: bool = True,
    hint: str | None = None,
    forbid: Sequence[Callable] = (),
) -> Feedback:
    """Call ``student`` and ``reference`` on every case and :func:`compare` the results.

    The student's function gets deep copies of the arguments, so it cannot spoil the reference's
    inputs, and changing an input in place is reported. Stops at the first wrong case.
    ``forbid``: library functions the student's function may not call (every alias of them
    raises while it runs, see :func:`~xai_lib.exercises.shortcuts.refusing`); calling one
    fails the check with a message saying why.
    """
    name = str(name or getattr(student, "__name__", "your function"))
    if not callable(student):
        return Feedback.failure(
            f"{name} should be a function",
            [f"got {describe(student)}"],
            "pass the function itself, without calling it: check(my_function)",
        )
    if not cases:
        raise ValueError("check_function needs at least one case")
    for number, case in enumerate(cases, start=1):
        mine = Case(
            *copy.deepcopy(case.args), label=case.label, **copy.deepcopy(case.kwargs)
        )
        calls: list[str] = []
        try:
            with refusing(forbid) as calls:
                got = student(*mine.args, **mine.kwargs)
        except ShortcutUsed:
            return shortcut_feedback(name, calls, hint)
        except Exception as error:  # the student's code: report any failure kindly
            if calls:  # a refused call, caught by the student's code, then a failure
                return shortcut_feedback(name, calls, hint)
            return _student_error(error, student, name, case, hint)
        if calls:  # the student's code caught the refusal and went on
            return shortcut_feedback(name, calls, hint)
        # only now: while the student's function runs, the expected answer exists nowhere
        # (not in this frame's locals, which the function could read), and the reference,
        # which calls the refused functions, raises if the student's code calls it
        expected = reference(*case.args, **case.kwargs)
        result = compare(
            got,
            expected,
            name=f"{name}'s result",
            rtol=rtol,
            atol=atol,
            check_dtype=check_dtype,
            hint=hint,
        )
        if not result:
            result.details.append(f"on case {number} of {len(cases)}: {case.label}")
            return result
        changed = _changed_inputs(case, mine)
        if changed:
            return Feedback.failure(
                f"{name} changed its input in place ({', '.join(changed)})",
                [f"on case {number} of {len(cases)}: {case.label}"],
                "work on a copy (x.clone()) or use out-of-place operations (x * w, not x.mul_(w))",
            )
    return Feedback.success(f"{name} is correct on all {len(cases)} cases")
