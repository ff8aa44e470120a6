"""The core every attribution method stands on: validation, targets, batching, guards.

Nothing here knows about any particular method. Every public method in `xai_lib`

* validates its input with :func:`check_input` and its options with :func:`check_positive_int`
  and friends, so a bad call fails with a `ValueError` that names the problem;
* turns the user's ``target`` into one class index per sample (:func:`resolve_target`,
  :func:`select_outputs`);
* runs inside :func:`preserved`, which restores training mode and ``requires_grad`` flags and
  removes every hook it handed out, also when the method raises;
* chunks work through :func:`batches` (one loop, with a progress bar), so a default call never runs
  out of memory and the result does not depend on the chunk size;
* registers itself in :data:`METHODS` via :func:`register`.
"""

from .batching import (
    AUTO_BATCH_ELEMENTS,
    Chunk,
    NoiseDraws,
    auto_batch_size,
    batches,
    progress,
)
from .environment import BOOK_BUILD_ENV, in_book_build
from .guard import Hooks, find_module, preserved
from .registry import (
    FAMILIES,
    METHODS,
    RETURNS,
    MethodInfo,
    attribution_method,
    get_method,
    register,
)
from .targets import as_target_tensor, gradient, predict, resolve_target, select_outputs
from .validation import (
    check_batch_size,
    check_choice,
    check_image_batch,
    check_input,
    check_model,
    check_nonnegative,
    check_positive_int,
)

__all__ = [
    "AUTO_BATCH_ELEMENTS",
    "BOOK_BUILD_ENV",
    "Hooks",
    "FAMILIES",
    "FAMILIES",
    "METHODS",
    "MethodInfo",
    "RETURNS",
    "MethodInfo",
    "RETURNS",
    "NoiseDraws",
    "as_target_tensor",
    "attribution_method",
    "auto_batch_size",
    "check_batch_size",
    "check_choice",
    "check_image_batch",
    "check_input",
    "check_model",
    "check_nonnegative",
    "check_positive_int",
    "batches",
    "Chunk",
    "find_module",
    "get_method",
    "gradient",
    "in_book_build",
    "predict",
    "preserved",
    "progress",
    "register",
    "resolve_target",
    "select_outputs",
]
