"""The library's warnings, and how they point at the caller's line.

* :class:`TrainingModeWarning`: a model in training mode is explained in eval mode (shown once
  per process; see :func:`~xai_lib._core.guard.preserved`);
* :class:`DegenerateMapWarning`: a metric met a map (or model output) that makes it undefined
  for some samples (an all-zero map, a constant one) and says what it returned for them.

Both are ``UserWarning`` subclasses, so ``warnings.simplefilter("ignore",
xl.DegenerateMapWarning)`` silences one kind where it is expected.
"""

from __future__ import annotations

import contextlib
import sys
import warnings
from pathlib import Path
from types import FrameType

_PACKAGE = str(Path(__file__).resolve().parents[1])
_CONTEXTLIB = contextlib.__file__


class TrainingModeWarning(UserWarning):
    """The model was in training mode; xai_lib evaluated it in eval mode for the call."""


class DegenerateMapWarning(UserWarning):
    """A metric is undefined for some samples' maps; the message says what it returned."""


def warn(message: str, category: type[Warning] = UserWarning) -> None:
    """warnings.warn, attributed to the first frame outside xai_lib (the user's call)."""
    frame: FrameType | None = sys._getframe(1)
    level = 2
    while frame is not None and (
        frame.f_code.co_filename.startswith(_PACKAGE)
        or frame.f_code.co_filename == _CONTEXTLIB
    ):
        frame, level = frame.f_back, level + 1
    warnings.warn(message, category, stacklevel=level)


def samples(mask) -> str:
    """'samples 0, 3 and 7' from a boolean tensor over the batch (at most 8 listed)."""
    indices = mask.nonzero().flatten().tolist()
    shown = ", ".join(map(str, indices[:8])) + (", ..." if len(indices) > 8 else "")
    return f"sample{'s' if len(indices) > 1 else ''} {shown}"
