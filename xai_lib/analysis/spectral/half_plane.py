"""Spectra on the half plane: the map check, the frequency grid and the power sums of every measure.

* ``_check_maps``: real maps (..., H, W), at least 2 x 2 pixels, or a ValueError naming the
  problem.
* ``_half_plane``: |frequency| in cycles per pixel on the rfft2 grid (H, W//2+1), and each
  cell's multiplicity (a column 0 < kx < W/2 stands for itself and its mirror, so it counts
  twice); ``_half_power``: |rfft2|^2; ``_ring_average``: the mean full-plane power per ring,
  from half-plane power.
* ``_power_sums``: ring means and weighted sums of the full-plane power, one FFT per map, the
  squares taken in place and the sums one matrix product; on a CPU in chunks of
  :data:`SPECTRUM_CHUNK_BYTES`, with a scatter beyond :data:`DENSE_RINGS` rings. It serves
  ``radial_profile`` and ``expected_frequency`` (:mod:`.measures`) and ``summary``
  (:mod:`.one_fft`) alike.

Counting each half-plane column as often as it appears in the full spectrum gives the
full-plane numbers at half the cost.
"""

from __future__ import annotations

import torch

from ..._core import check_input


def _check_maps(
    a, name: str = "a", min_dim: int = 2, values: bool = True
) -> torch.Tensor:
    """Real maps (..., H, W) with H, W >= 2, or a ValueError naming the problem.

    ``values=False`` leaves out the pass over every value for NaN and inf (it checks one
    pixel per map): for callers that check their results instead (:func:`summary`).
    """
    if isinstance(a, torch.Tensor) and a.dim() < min_dim:
        layout = "(..., H, W)" if min_dim == 2 else "(..., C, H, W)"
        raise ValueError(
            f"{name} must be maps {layout} with at least {min_dim} dimensions, got shape {tuple(a.shape)}"
        )
    tensor = isinstance(a, torch.Tensor)
    # the one-pixel slice only where it keeps the batch's shape in the messages
    whole = values or not tensor or a.numel() == 0
    check_input(a if whole else a[..., :1, :1], name, min_dim=min_dim)
    if a.dtype in (torch.float16, torch.bfloat16):
        raise ValueError(
            f"{name} is {a.dtype}, which torch.fft does not transform on every device; "
            f"pass {name}.float()"
        )
    if min(a.shape[-2:]) < 2:
        raise ValueError(
            f"{name} maps must be at least 2 x 2 pixels, got shape {tuple(a.shape)}"
        )
    return a.detach()


def _half_plane(
    h: int, w: int, like: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """|frequency| in cycles/pixel on the rfft2 grid (H, W//2+1), and each cell's multiplicity.

    A column 0 < kx < W/2 stands for itself and its mirror -kx in the full spectrum, so it counts
    twice; column 0 and, for even W, the Nyquist column W/2 count once.
    """
    fy = torch.fft.fftfreq(h, dtype=like.dtype, device=like.device)[:, None]  # (H, 1)
    fx = torch.fft.rfftfreq(w, dtype=like.dtype, device=like.device)[
        None, :
    ]  # (1, W//2+1)
    radius = (fy.square() + fx.square()).sqrt()  # (H, W//2+1)
    multiplicity = torch.full_like(fx, 2.0)
    multiplicity[:, 0] = 1
    if w % 2 == 0:
        multiplicity[:, -1] = 1
    return radius, multiplicity.expand(h, -1)


def _half_power(a: torch.Tensor) -> torch.Tensor:
    """|rfft2(a)|^2 over the last two dims: (..., H, W) -> (..., H, W//2+1), in a's dtype."""
    spectrum = torch.fft.rfft2(a)
    return spectrum.real.square().addcmul_(
        spectrum.imag, spectrum.imag
    )  # one new buffer, not three


def _ring_average(
    power: torch.Tensor, ring: torch.Tensor, multiplicity: torch.Tensor, rings: int
) -> torch.Tensor:
    """Mean full-plane power per ring, from half-plane power (..., H, W//2+1) -> (..., rings).

    ``ring`` holds each cell's ring index; cells with index >= rings are left out (weight 0).
    Each cell counts with its multiplicity, in the ring sums and in the ring sizes alike.
    """
    cells = ring.numel()
    kept = ring.flatten() < rings
    index = ring.flatten().clamp(max=rings - 1)  # (cells,)
    weight = multiplicity.flatten() * kept  # (cells,)
    flat = power.reshape(-1, cells)  # (B, cells)
    sums = flat.new_zeros(flat.shape[0], rings).index_add_(
        1, index, flat * weight
    )  # (B, rings)
    sizes = weight.new_zeros(rings).index_add_(0, index, weight)  # (rings,)
    return (sums / sizes).reshape(*power.shape[:-2], rings)


#: Bytes of half-plane spectrum per chunk of maps on a CPU: the FFT, the squares and the
#: reductions of one chunk stay in the core's cache, which halves the time of 1024 float64 maps
#: of 64 x 64 against one transform of them all. A GPU takes all the maps at once.
SPECTRUM_CHUNK_BYTES = 2**22

#: Up to this many rings, the ring sums are one dense matrix product with the other sums (a
#: BLAS product beats a scatter); beyond (maps over about 128 pixels) the product grows as the
#: cube of the side and a scatter (index_add_) takes over.
DENSE_RINGS = 64


def _power_sums(
    a: torch.Tensor,
    multiplicity: torch.Tensor,
    ring: torch.Tensor | None = None,
    rings: int = 0,
    columns: torch.Tensor | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Ring means and weighted sums of the full-plane power of maps (..., H, W), one FFT each.

    ``multiplicity`` (H, W//2+1): how often each half-plane cell appears in the full plane;
    ``ring`` (H, W//2+1): each cell's ring, for ``rings`` rings (cells with ring >= rings are
    in none); ``columns`` (H, W//2+1, J): weights, multiplicities included. Returns (mean
    power per ring (..., rings), sum of power times each column (..., J)). Each complex cell
    is stored as (re, im), so its power re^2 + im^2 is the product of the squared pair with
    the cell's weights given twice: the squares are taken in place and the sums are one matrix
    product (the ring means too, up to :data:`DENSE_RINGS` rings; a scatter beyond).
    """
    h, w = a.shape[-2:]
    maps = a.reshape(-1, h, w)
    cells = multiplicity.numel()
    if columns is None:
        columns = multiplicity.new_zeros(h, w // 2 + 1, 0)
    sums = columns.shape[-1]
    dense = rings <= DENSE_RINGS
    weights = columns.new_zeros(cells, 2, (rings if dense else 0) + sums)
    weights[:, :, weights.shape[-1] - sums :] = columns.reshape(cells, 1, sums)
    if rings:
        assert ring is not None, "rings > 0 needs each cell's ring"
        ring, multiplicity = ring.flatten(), multiplicity.flatten()
        kept = (ring < rings).nonzero()[:, 0]  # the cells in some ring, not far corners
        sizes = multiplicity.new_zeros(rings).index_add_(
            0, ring[kept], multiplicity[kept]
        )
        ring_weight = torch.zeros_like(multiplicity)
        ring_weight[kept] = multiplicity[kept] / sizes[ring[kept]]  # each ring's mean
        if dense:
            weights[kept, :, ring[kept]] = ring_weight[kept, None]
        else:
            index = ring.clamp(max=rings - 1).repeat_interleave(2)  # (2 cells,)
            spread = ring_weight.repeat_interleave(2)  # 0 outside the rings
    weights = weights.reshape(2 * cells, -1)  # rows (re, im) of cell 0, of cell 1, ...
    out = maps.new_empty(maps.shape[0], rings + sums)  # (B, ring means | sums)
    step = (
        max(1, SPECTRUM_CHUNK_BYTES // (2 * cells * a.element_size()))
        if a.device.type == "cpu"
        else max(1, maps.shape[0])
    )
    for start in range(0, maps.shape[0], step):
        part = slice(start, start + step)
        spectrum = torch.view_as_real(torch.fft.rfft2(maps[part]))  # (b, H, W//2+1, 2)
        squares = spectrum.square_().reshape(spectrum.shape[0], 2 * cells)
        if dense:
            torch.mm(squares, weights, out=out[part])
            continue
        out[part, :rings] = out.new_zeros(len(squares), rings).index_add_(
            1, index, squares * spread
        )
        if sums:
            out[part, rings:] = squares @ weights
    out = out.reshape(*a.shape[:-2], rings + sums)
    return out[..., :rings], out[..., rings:]
