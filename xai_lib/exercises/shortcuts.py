"""Refusing shortcuts: a "write it by hand" answer may not call the library function it rewrites.

:func:`refusing` is a context manager that, while it is open, makes the given library
functions raise :class:`ShortcutUsed` when called. It swaps each function's code object (and
that of every function it wraps, ``__wrapped__``), so every alias raises at once: ``xl.saliency``,
``xai_lib.methods.gradients.saliency``, ``xl.METHODS["saliency"]``, a name the student imported
with ``from xai_lib import saliency as s``, a ``functools.partial`` of it, a reference kept in a
list. On leaving, the original code objects are restored, also when the student's code raised.

:class:`ShortcutUsed` derives from BaseException, so a student's ``except Exception:`` does not
swallow it; and every refused call is recorded, so even a bare ``except:`` cannot hide it
(:func:`check_function` fails such an answer with :func:`shortcut_feedback`).
"""

from __future__ import annotations

import contextlib
import functools
import types
from collections.abc import Iterator, Sequence
from typing import Any, Callable

from .feedback import Feedback


class ShortcutUsed(BaseException):
    """Raised by a refused library function: the answer called what it should write by hand."""

    def __init__(self, name: str):
        super().__init__(name)
        self.name = name
        if _CALLS:
            _CALLS[-1].append(name)


_CALLS: list[list[str]] = []  # one list of refused calls per open refusing() context


#: the public namespaces of xl, most specific first, in which the book names functions
_NAMESPACES = (
    "spectral",
    "shattered",
    "metrics",
    "rules",
    "text",
    "self_explaining",
    "activations",
)


def public_name(function: Callable) -> str:
    """``xl.saliency``, ``xl.spectral.low_pass``: how the book names a library function.

    The first public namespace of ``xl`` that holds the function under its own name, else
    ``xl.<name>`` for the package's own functions, else ``module.name``.
    """
    import xai_lib

    module = getattr(function, "__module__", "") or ""
    name = getattr(function, "__qualname__", getattr(function, "__name__", "?"))
    for namespace in _NAMESPACES:
        if getattr(getattr(xai_lib, namespace), name, None) is function:
            return f"xl.{namespace}.{name}"
    if getattr(xai_lib, name, None) is function or module.startswith("xai_lib"):
        return f"xl.{name}"
    return f"{module}.{name}"


def _raising_code(function: types.FunctionType, name: str) -> types.CodeType:
    """A code object that raises ShortcutUsed(name), with as many free variables as the
    function's own (a function's __code__ may only be swapped for one with the same number)."""
    free = function.__code__.co_freevars
    lines = ["def outer():"]
    lines += [f"    {v} = None" for v in free]
    lines.append("    def refused(*args, **kwargs):")
    if free:
        lines.append(
            f"        ({', '.join(free)},)"
        )  # make them free variables of refused
    lines.append(
        "        raise __import__('xai_lib.exercises.shortcuts', fromlist=['_'])"
        f".ShortcutUsed({name!r})"
    )
    lines.append("    return refused")
    namespace: dict = {}
    exec(compile("\n".join(lines), f"<refused {name}>", "exec"), namespace)
    code = namespace["outer"]().__code__
    return code.replace(co_name=function.__code__.co_name)


def _functions(function: Any) -> Iterator[types.FunctionType]:
    """The Python function behind a callable, and every function it wraps."""
    seen = set()
    while function is not None and id(function) not in seen:
        seen.add(id(function))
        if isinstance(function, functools.partial):
            function = function.func
            continue
        target = getattr(function, "__func__", function)  # bound methods
        if isinstance(target, types.FunctionType):
            yield target
        function = getattr(target, "__wrapped__", None)


@contextlib.contextmanager
def refusing(functions: Sequence[Callable]) -> Iterator[list[str]]:
    """While open, every function in ``functions`` (and all its aliases) raises ShortcutUsed.

    Yields the list of refused calls made inside (their public names), for the caller to
    inspect after the student's code ran. Restores every function on leaving.
    """
    swapped: list[tuple[types.FunctionType, types.CodeType]] = []
    calls: list[str] = []
    _CALLS.append(calls)
    try:
        for function in functions:
            name = public_name(function)
            for target in _functions(function):
                if any(target is done for done, _ in swapped):
                    continue
                swapped.append((target, target.__code__))
                target.__code__ = _raising_code(target, name)
        yield calls
    finally:
        for target, code in reversed(swapped):
            target.__code__ = code
        _CALLS.remove(calls)


def shortcut_feedback(function_name: str, calls: Sequence[str], hint: str | None):
    """The failure of an answer that called a refused library function."""
    used = ", ".join(dict.fromkeys(calls))
    return Feedback.failure(
        f"{function_name} calls {used}, the library function this exercise asks you to "
        "write by hand",
        [
            "the check runs your function with that library function switched off, so "
            "that it tests your own code; compute the result yourself (the library is the "
            "reference the checker compares with)"
        ],
        hint,
    )
