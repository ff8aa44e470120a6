"""xl.viz spectra: frequency axes, radial power profiles, 2-D spectra, the explorer panels."""

import math

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

import xai_lib as xl  # noqa: E402
from xai_lib import viz  # noqa: E402

SIZE = 32


def wave(k: int, size: int = SIZE, phase: float = 0.0) -> torch.Tensor:
    """A horizontal cosine with k periods across a size x size map, float64."""
    x = torch.arange(size, dtype=torch.float64) / size
    return torch.cos(2 * math.pi * k * x + phase)[None, :].expand(size, size).clone()


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def test_frequency_ticks_are_powers_of_two_from_one_period_to_nyquist():
    assert viz.frequency_ticks(32) == [1 / 32, 1 / 16, 1 / 8, 1 / 4, 1 / 2]
    assert viz.frequency_ticks(20) == [1 / 16, 1 / 8, 1 / 4, 1 / 2]  # 1/20 < 1/16
    assert viz.frequency_ticks(2) == [1 / 2]
    for bad in (1, 0, 32.0, True, "32"):
        with pytest.raises(ValueError, match="size"):
            viz.frequency_ticks(bad)


def test_frequency_axis_is_logarithmic_with_fraction_labels():
    fig, ax = plt.subplots()
    ax.plot([1 / 32, 1 / 2], [1, 2])
    viz.frequency_axis(ax, 64)
    assert ax.get_xscale() == "log"
    np.testing.assert_allclose(ax.get_xticks(), [2.0**-k for k in range(6, 0, -1)])
    fig.canvas.draw()
    labels = [t.get_text() for t in ax.get_xticklabels()]
    assert labels == ["1/64", "1/32", "1/16", "1/8", "1/4", "1/2"]
    assert ax.xaxis.get_minorticklocs().size == 0
    low, high = ax.get_xlim()
    assert low < 1 / 64 and 0.5 < high < 0.6
    assert "cycles/pixel" in ax.get_xlabel()
    viz.frequency_axis(ax, 16, axis="y", label="f", fontsize=6)
    assert ax.get_yscale() == "log" and ax.get_ylabel() == "f"
    assert ax.yaxis.label.get_fontsize() == 6
    with pytest.raises(ValueError, match="axis"):
        viz.frequency_axis(ax, axis="z")


def test_a_single_wave_puts_all_its_power_in_one_ring():
    freqs, mean, error = viz.profile_statistics(
        torch.stack([wave(4), wave(4, phase=1.0)])
    )
    assert freqs[0] == 1 / SIZE and freqs[-1] == 0.5 and len(freqs) == SIZE // 2
    at = int(np.argmax(mean))
    assert freqs[at] == 4 / SIZE
    np.testing.assert_allclose(mean[at], 1.0, atol=1e-12)
    np.testing.assert_allclose(mean.sum(), 1.0, atol=1e-12)
    np.testing.assert_allclose(error, 0.0, atol=1e-12)  # two maps with equal shares


def test_standard_error_over_maps():
    # two maps: all power at 2/32, and all power at 8/32: shares (1, 0) and (0, 1)
    freqs, mean, error = viz.profile_statistics(torch.stack([wave(2), wave(8)]))
    for k in (2, 8):
        at = list(freqs).index(k / SIZE)
        np.testing.assert_allclose(mean[at], 0.5, atol=1e-12)
        # std of (1, 0) with Bessel's correction is sqrt(1/2); / sqrt(2) maps
        np.testing.assert_allclose(error[at], 0.5, atol=1e-12)


def test_raw_power_ratio_and_zero_frequency():
    maps = torch.randn(3, SIZE, SIZE, dtype=torch.float64) + 1.0
    freqs, raw, _ = viz.profile_statistics(maps, share=False, skip_zero=False)
    expected_freqs, profile = xl.spectral.radial_profile(maps)
    np.testing.assert_allclose(freqs, expected_freqs.numpy())
    np.testing.assert_allclose(raw, profile.mean(0).numpy())
    _, ratio, ratio_error = viz.profile_statistics(2 * maps, relative_to=maps)
    np.testing.assert_allclose(ratio, 4.0)  # twice the amplitude, four times the power
    np.testing.assert_allclose(ratio_error, 0.0, atol=1e-12)
    with pytest.raises(ValueError, match="relative_to must have"):
        viz.profile_statistics(maps, relative_to=maps[:2])
    with pytest.raises(ValueError, match="no power"):
        viz.profile_statistics(torch.ones(SIZE, SIZE))


def test_inputs_of_any_real_type_are_left_as_they_were():
    maps32 = torch.randn(2, 1, 16, 16)  # float32, leading dims flattened into maps
    before, state = maps32.clone(), torch.get_rng_state()
    freqs, mean, _ = viz.profile_statistics(maps32)
    assert torch.equal(maps32, before) and torch.equal(torch.get_rng_state(), state)
    _, from_numpy, _ = viz.profile_statistics(maps32.numpy())
    np.testing.assert_allclose(mean, from_numpy)
    assert len(freqs) == 8 and mean.dtype == np.float64


@pytest.mark.parametrize(
    "bad, message",
    [
        (torch.zeros(5), r"\(\.\.\., H, W\)"),
        (torch.zeros(1, 32), "H, W >= 2"),
        (torch.zeros(0, 4, 4), "no maps"),
        (torch.full((4, 4), float("nan")), "NaN"),
        (torch.zeros(4, 4, dtype=torch.complex64), "real"),
        ("maps", "tensor or array"),
        (None, "tensor or array"),
    ],
)
def test_bad_maps_raise(bad, message):
    with pytest.raises(ValueError, match=message):
        viz.profile_statistics(bad)


def test_power_profile_draws_the_mean_with_a_band():
    fig, ax = plt.subplots()
    maps = torch.stack([wave(2), wave(8)]) + 0.1 * torch.randn(
        2, SIZE, SIZE, dtype=torch.float64, generator=torch.Generator().manual_seed(0)
    )
    line = viz.power_profile(ax, maps, label="two waves", color="C2")
    freqs, mean, _ = viz.profile_statistics(maps)
    np.testing.assert_allclose(line.get_xdata(), freqs)
    np.testing.assert_allclose(line.get_ydata(), mean)
    assert line.get_label() == "two waves" and line.get_color() == "C2"
    assert ax.get_xscale() == ax.get_yscale() == "log"
    assert len(ax.collections) == 1  # the +- s.e. band
    assert ax.get_ylabel() == "share of power per ring"
    single = viz.power_profile(ax, maps[0], ls="--")  # one map: no band
    assert single.get_linestyle() == "--" and len(ax.collections) == 1
    viz.power_profile(ax, 2 * maps, relative_to=maps, spread=False)
    assert ax.get_ylabel() == "power / reference power"


def test_spectrum_image_puts_a_wave_at_its_frequency():
    fig, ax = plt.subplots()
    image = viz.spectrum_image(ax, wave(4), cutoff=0.25, decades=4)
    assert image.get_clim() == (-4, 0)
    values = image.get_array()
    assert values.shape == (SIZE, SIZE) and values.max() == 0 and values.min() == -4
    left, right, bottom, top = image.get_extent()
    step = (right - left) / SIZE
    rows, cols = np.nonzero(values == 0)
    # pixel centres in cycles per pixel: the two peaks sit at omega = (+-4/32, 0)
    x = left + (cols + 0.5) * step
    y = top + (rows + 0.5) * (bottom - top) / SIZE
    np.testing.assert_allclose(sorted(x), [-4 / SIZE, 4 / SIZE], atol=1e-12)
    np.testing.assert_allclose(y, 0.0, atol=1e-12)
    assert len(ax.patches) == 1 and ax.patches[0].get_radius() == 0.25
    assert len(fig.axes) == 2  # the spectrum and its colour bar
    assert "cycles/pixel" in ax.get_xlabel()


def test_spectrum_image_of_precomputed_spectra_and_errors():
    fig, ax = plt.subplots()
    power = xl.spectral.power_spectrum(wave(2))
    shown = viz.spectrum_image(ax, power, precomputed=True, colorbar=False)
    direct = viz.spectrum_image(ax, wave(2), colorbar=False)
    np.testing.assert_allclose(shown.get_array(), direct.get_array())
    assert len(fig.axes) == 1
    with pytest.raises(ValueError, match="no power"):
        viz.spectrum_image(ax, torch.zeros(8, 8))
    with pytest.raises(ValueError, match=">= 0"):
        viz.spectrum_image(ax, -power, precomputed=True)
    for bad in (0, -1, True, "6"):
        with pytest.raises(ValueError, match="decades"):
            viz.spectrum_image(ax, wave(2), decades=bad)
    for bad in (0, 0.8, True):
        with pytest.raises(ValueError, match="cutoff"):
            viz.spectrum_image(ax, wave(2), cutoff=bad)


def test_spectrum_panels_figure():
    generator = torch.Generator().manual_seed(1)
    image = torch.rand(3, SIZE, SIZE, generator=generator)
    a = torch.randn(3, SIZE, SIZE, generator=generator)
    reference = torch.randn(4, SIZE, SIZE, generator=generator)
    before = a.clone()
    fig = viz.spectrum_panels(
        image, a, reference=reference, title="map", profile_title="EF 0.2"
    )
    left, middle, right = fig.axes[:3]
    assert len(fig.axes) == 4  # the three panels and the heatmap's colour bar
    assert middle.get_title() == "map" and right.get_title() == "EF 0.2"
    labels = [line.get_label() for line in right.get_lines()]
    assert labels == ["reference", "attribution"]
    _, expected, _ = viz.profile_statistics(a.sum(dim=0))
    np.testing.assert_allclose(right.get_lines()[1].get_ydata(), expected)
    assert torch.equal(a, before)
    plt.close(fig)
    fig = viz.spectrum_panels(image[0], a[0])  # (H, W) image and map, no reference
    assert len(fig.axes[2].get_lines()) == 1
    with pytest.raises(ValueError, match="same H x W"):
        viz.spectrum_panels(image[:, :16], a)
    with pytest.raises(ValueError, match="reference maps"):
        viz.spectrum_panels(image, a, reference=reference[:, :16])
    with pytest.raises(ValueError, match="one map"):
        viz.spectrum_panels(image, a[None, None])
