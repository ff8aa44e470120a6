"""The core every attribution method stands on: validation, targets, batching, guards.

Nothing here knows about any particular method. Every public method in `xai_lib`

* validates its input with :func:`check_input` and its options with :func:`check_positive_int`,
  :func:`check_bool`, :func:`check_seed` and friends, so a bad call fails with a `ValueError`
  that names the problem;
* turns the user's ``target`` into one class index per sample (:func:`resolve_target`,
  :func:`select_outputs`), without a forward pass when the target is given;
* calls the model through :func:`run_model` (on a copy of its input, its output checked);
* runs inside :func:`preserved`, which explains in eval mode, runs compiled models eagerly and
  outside inference mode, and restores training mode, ``requires_grad`` flags and buffers,
  also when the method raises;
* chunks work through :func:`batches` (one loop, with a progress bar), so a default call never runs
  out of memory and the result does not depend on the chunk size;
* draws random numbers from :func:`seed_generator`, never from the global RNG;
* registers itself in :data:`METHODS` via :func:`attribution_method`.
"""

from .alerts import DegenerateMapWarning, TrainingModeWarning, warn
from .batching import (
    AUTO_BATCH_ELEMENTS,
    Chunk,
    NoiseDraws,
    auto_batch_size,
    batches,
    derived_seed,
    progress,
    seed_generator,
)
from .environment import BOOK_BUILD_ENV, in_book_build
from .guard import TRAINING_MODE_POLICY, Hooks, eager, find_module, preserved
from .registry import (
    FAMILIES,
    METHODS,
    RETURNS,
    MethodInfo,
    attribution_method,
    get_method,
    register,
    takes_option,
)
from .targets import (
    PickOutput,
    as_target_tensor,
    check_output,
    check_target_range,
    gradient,
    pick_output,
    predict,
    resolve_target,
    run_model,
    select_outputs,
)
from .validation import (
    SEED_LIMIT,
    check_batch_size,
    check_bool,
    check_choice,
    check_differentiable,
    check_image_batch,
    check_input,
    check_model,
    check_nonnegative,
    check_positive_int,
    check_seed,
)

__all__ = [
    "AUTO_BATCH_ELEMENTS",
    "BOOK_BUILD_ENV",
    "Chunk",
    "DegenerateMapWarning",
    "FAMILIES",
    "Hooks",
    "METHODS",
    "MethodInfo",
    "PickOutput",
    "RETURNS",
    "SEED_LIMIT",
    "TRAINING_MODE_POLICY",
    "NoiseDraws",
    "TrainingModeWarning",
    "as_target_tensor",
    "attribution_method",
    "auto_batch_size",
    "batches",
    "check_batch_size",
    "check_bool",
    "check_choice",
    "check_differentiable",
    "check_image_batch",
    "check_input",
    "check_model",
    "check_nonnegative",
    "check_output",
    "check_positive_int",
    "check_seed",
    "check_target_range",
    "derived_seed",
    "eager",
    "find_module",
    "get_method",
    "gradient",
    "in_book_build",
    "pick_output",
    "predict",
    "preserved",
    "progress",
    "register",
    "resolve_target",
    "run_model",
    "seed_generator",
    "select_outputs",
    "takes_option",
    "warn",
]
