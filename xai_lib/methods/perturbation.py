"""Perturbation methods: occlusion and RISE. They only run the model, never differentiate it.

* Occlusion (Zeiler and Fergus, 2014): slide a patch over the image, set it to a value, and
  credit every pixel under the patch with the drop f(x) - f(occluded). A pixel covered by
  several windows gets the mean of their drops, as in captum's ``Occlusion``; windows that
  would cross the border are cut there, so every pixel is covered when stride <= patch.
* RISE, Randomized Input Sampling for Explanation (Petsiuk, Das and Saenko, 2018): keep the
  pixels of x under random smooth masks M and weigh the masks by the class score,
  S = sum_m f(x * M_m) M_m / (n_masks * p), a Monte-Carlo estimate of E[f(x * M) M] / p.

Both return one score per pixel, (N, 1, H, W), and evaluate the perturbed copies in batches:
the (window or mask, sample) pairs are flattened and cut into chunks of ``batch_size``.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from .._core import (
    attribution_method,
    batches,
    check_batch_size,
    check_image_batch,
    check_positive_int,
    predict,
    resolve_target,
    run_model,
    seed_generator,
    select_outputs,
)
from .baselines import baseline_like

# --------------------------------------------------------------------------- occlusion


@attribution_method("occlusion", family="perturbation", returns="pixels")
def occlusion(
    model,
    x,
    target=None,
    *,
    patch=8,
    stride=None,
    value=0.0,
    baseline=None,
    batch_size=None,
):
    """Per pixel: the mean, over the windows covering it, of f_target(x) - f_target(occluded x).

    ``patch`` and ``stride`` are an int or an (h, w) pair; ``stride=None`` means stride = patch.
    All channels of a window are set to ``value``, or, when ``baseline`` is given (a tensor
    broadcastable to x, e.g. a blurred copy), to the baseline's values there. Scores are the
    model's raw outputs (logits), as in captum. Pixels that no window covers (only possible with
    stride > patch) score 0. ``batch_size`` caps the occluded images per forward pass.
    """
    check_image_batch(x)
    check_batch_size(batch_size)
    size = tuple(x.shape[-2:])
    patch = _pair(patch, "patch")
    stride = patch if stride is None else _pair(stride, "stride")
    if patch[0] > size[0] or patch[1] > size[1]:
        raise ValueError(f"patch {patch} is larger than the image {size}")
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(
            f"value must be a number (give a tensor as baseline=), got {type(value).__name__}"
        )
    if baseline is not None and value != 0.0:
        raise ValueError("give either value or baseline, not both")
    x = x.detach()
    fill = (
        baseline_like(value, x, "value")
        if baseline is None
        else baseline_like(baseline, x)
    )
    tops = _window_starts(size[0], patch[0], stride[0], x.device)
    lefts = _window_starts(size[1], patch[1], stride[1], x.device)
    drops = _window_drops(
        model, x, target, fill, tops, lefts, patch, batch_size
    )  # (N, 1, rows, cols)
    sums = _spread(drops, patch, stride, size)  # (N, 1, H, W)
    counts = _spread(torch.ones_like(drops[:1]), patch, stride, size)  # (1, 1, H, W)
    return (sums / counts.clamp_min(1)).to(x.dtype)


def _window_drops(
    model, x, target, fill, tops, lefts, patch, batch_size
) -> torch.Tensor:
    """f_target(x) - f_target(x with the window filled) for every window: (N, 1, rows, cols)."""
    clean, target = select_outputs(predict(model, x, batch_size), target)  # (N,), (N,)
    n, n_windows = x.shape[0], len(tops) * len(lefts)
    drops = torch.empty(n_windows * n, dtype=clean.dtype, device=x.device)
    # variant = window, row-major over the window grid
    with torch.no_grad():
        for chunk in batches(
            n_windows, n, batch_size, x[0].numel(), x.device, "occlusion"
        ):
            window, sample = chunk.variant, chunk.sample
            inside = _window_masks(
                tops[window // len(lefts)],
                lefts[window % len(lefts)],
                patch,
                x.shape[-2:],
            )
            occluded = torch.where(inside, fill[sample], x[sample])  # (Q, C, H, W)
            scores = select_outputs(
                run_model(model, occluded, copy=False), target[sample]
            )[0]
            drops[chunk.part] = clean[sample] - scores
    drops = drops.view(len(tops), len(lefts), n)  # (rows, cols, N)
    return drops.permute(2, 0, 1)[:, None]  # (N, 1, rows, cols)


def _pair(value, name: str) -> tuple[int, int]:
    """An int or an (h, w) pair of ints >= 1 -> (h, w)."""
    if isinstance(value, (tuple, list)):
        if len(value) != 2:
            raise ValueError(f"{name} must be an int or an (h, w) pair, got {value!r}")
        return check_positive_int(value[0], name), check_positive_int(value[1], name)
    check_positive_int(value, name)
    return value, value


def _window_starts(length: int, patch: int, stride: int, device) -> torch.Tensor:
    """First index of each window along one axis; the last may stick out and is cut at the border.

    With stride > patch the grid could place a last window wholly past the border: it is dropped,
    since it would cost a forward pass and occlude nothing.
    """
    starts = (
        torch.arange(math.ceil((length - patch) / stride) + 1, device=device) * stride
    )
    return starts[starts < length]


def _window_masks(
    tops: torch.Tensor,
    lefts: torch.Tensor,
    patch: tuple[int, int],
    size: tuple[int, int],
):
    """(Q,) window corners -> (Q, 1, H, W) boolean masks, True inside each window."""
    rows = torch.arange(size[0], device=tops.device)
    cols = torch.arange(size[1], device=tops.device)
    in_rows = (rows >= tops[:, None]) & (rows < tops[:, None] + patch[0])  # (Q, H)
    in_cols = (cols >= lefts[:, None]) & (cols < lefts[:, None] + patch[1])  # (Q, W)
    return (in_rows[:, :, None] & in_cols[:, None, :])[:, None]  # (Q, 1, H, W)


def _spread(grid: torch.Tensor, patch, stride, size) -> torch.Tensor:
    """Sum at every pixel the values of the windows covering it: (B, 1, rows, cols) -> (B, 1, H, W).

    A transposed convolution with a patch of ones stamps each window's value onto its pixels.
    """
    ones = torch.ones(1, 1, *patch, dtype=grid.dtype, device=grid.device)
    stamped = F.conv_transpose2d(
        grid, ones, stride=stride
    )  # (B, 1, h, w): windows may stick out
    # With stride > patch the last windows can end before the border: those pixels get nothing.
    stamped = F.pad(
        stamped,
        (
            0,
            max(0, size[1] - stamped.shape[-1]),
            0,
            max(0, size[0] - stamped.shape[-2]),
        ),
    )
    return stamped[..., : size[0], : size[1]]


# --------------------------------------------------------------------------- RISE


@attribution_method("rise", family="perturbation", returns="pixels")
def rise(
    model,
    x,
    target=None,
    *,
    n_masks: int = 1000,
    cell: int = 8,
    p: float = 0.5,
    seed: int | None = None,
    probabilities: bool = True,
    batch_size=None,
):
    """RISE saliency: sum_m score(x * M_m) M_m / (n_masks * p), shaped (N, 1, H, W).

    The masks are those of :func:`rise_masks` (a ``cell`` x ``cell`` random grid, upsampled and
    shifted); all samples share them, and the same ``seed`` gives the same result for any
    ``batch_size``. ``probabilities=True`` scores with the softmax probability of the target, as
    the paper does; a model with a single output is scored by its raw output either way.
    ``probabilities=False`` uses the raw outputs (logits). ``batch_size`` caps the masked images
    per forward pass.
    """
    check_image_batch(x)
    check_batch_size(batch_size)
    x = x.detach()
    masks = _RiseMasks(tuple(x.shape[-2:]), n_masks, cell, p, seed, x.device, x.dtype)
    target = resolve_target(model, x, target, batch_size)
    n = x.shape[0]
    saliency = torch.zeros(n, 1, *x.shape[-2:], dtype=x.dtype, device=x.device)
    with torch.no_grad():
        for chunk in batches(n_masks, n, batch_size, x[0].numel(), x.device, "RISE"):
            mask, sample = chunk.variant, chunk.sample
            first = int(mask[0])
            block = masks(first, int(mask[-1]) + 1)[mask - first]  # (Q, 1, H, W)
            outputs = run_model(model, x[sample] * block, copy=False)
            if probabilities and outputs.dim() == 2 and outputs.shape[1] > 1:
                outputs = outputs.softmax(dim=1)
            scores = select_outputs(outputs, target[sample])[0].to(x.dtype)  # (Q,)
            saliency.index_add_(0, sample, scores[:, None, None, None] * block)
    return saliency / (n_masks * p)


def rise_masks(
    size,
    n_masks: int = 1000,
    cell: int = 8,
    p: float = 0.5,
    seed: int | None = None,
    *,
    device=None,
    dtype=torch.float32,
) -> torch.Tensor:
    """The (n_masks, 1, H, W) masks that :func:`rise` uses with the same arguments and seed.

    As in the RISE paper: a random binary ``cell`` x ``cell`` grid (``cell`` counts the cells
    per side, the paper's s; each cell kept with probability p) is upsampled bilinearly to
    (cell + 1) * ceil(H / cell) pixels (and the same for W), then an H x W window is cropped at a
    random shift of less than one cell (ceil(H / cell) pixels), so the masks are smooth and their
    edges fall anywhere. ``size`` is (H, W). The upsampling is torch's
    bilinear (align_corners=False), which repeats the border cell where the paper's skimage resize
    reflects; the two differ only within half a cell of the upsampled grid's edge.
    """
    if not (isinstance(size, (tuple, list)) and len(size) == 2):
        raise ValueError(f"size must be an (H, W) pair, got {size!r}")
    size = (check_positive_int(size[0], "size"), check_positive_int(size[1], "size"))
    masks = _RiseMasks(size, n_masks, cell, p, seed, device, dtype)
    return masks(0, n_masks)


class _RiseMasks:
    """RISE masks made on demand: masks(start, stop) -> masks start..stop-1, (M, 1, H, W).

    The random grids and shifts of all masks are drawn up front on the CPU (they are small), so
    the masks do not depend on the device or on how they are requested; the full-size masks,
    which can be large, are only ever built a chunk at a time.
    """

    def __init__(self, size, n_masks, cell, p, seed, device, dtype) -> None:
        check_positive_int(n_masks, "n_masks")
        check_positive_int(cell, "cell")
        if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0 < p <= 1:
            raise ValueError(
                f"p (the probability of keeping a cell) must be in (0, 1], got {p!r}"
            )
        # on the CPU; seed=None: fresh OS entropy, never the global RNG
        generator = seed_generator(seed)
        self.size = size
        self.cell_size = (math.ceil(size[0] / cell), math.ceil(size[1] / cell))
        self.upsampled = (
            (cell + 1) * self.cell_size[0],
            (cell + 1) * self.cell_size[1],
        )
        grids = (
            torch.rand(n_masks, 1, cell, cell, generator=generator) < p
        )  # (n_masks, 1, cell, cell)
        self.grids = grids.to(device=device, dtype=dtype)
        shifts = [
            torch.randint(0, c, (n_masks,), generator=generator) for c in self.cell_size
        ]
        self.shifts = torch.stack(shifts, dim=1).to(
            device
        )  # (n_masks, 2): row and column offsets

    def __call__(self, start: int, stop: int) -> torch.Tensor:
        smooth = F.interpolate(
            self.grids[start:stop],
            size=self.upsampled,
            mode="bilinear",
            align_corners=False,
        )  # (M, 1, (cell+1) ch, (cell+1) cw)
        shifts = self.shifts[start:stop]
        rows = shifts[:, :1] + torch.arange(
            self.size[0], device=shifts.device
        )  # (M, H)
        cols = shifts[:, 1:] + torch.arange(
            self.size[1], device=shifts.device
        )  # (M, W)
        which = torch.arange(stop - start, device=shifts.device)[
            :, None, None
        ]  # (M, 1, 1)
        return smooth[which, 0, rows[:, :, None], cols[:, None, :]][
            :, None
        ]  # (M, 1, H, W)
