"""The shared panels of the chapters: outlines, the input panel, equal panels, the method grid."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

import xai_lib as xl  # noqa: E402
from xai_lib import viz  # noqa: E402


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def square_mask(size=8):
    mask = torch.zeros(1, 1, size, size, dtype=torch.bool)
    mask[..., 2:6, 2:6] = True
    return mask


def test_outline_follows_the_mask_border_and_accepts_every_layout():
    fig, ax = plt.subplots()
    mask = square_mask()
    for layout in (mask, mask[0], mask[0, 0], mask[0, 0].float()):
        lines = viz.outline(layout, ax)
        (path,) = [p for p in lines.get_paths() if len(p.vertices)]
        xs, ys = path.vertices[:, 0], path.vertices[:, 1]
        # the 0.5 contour of pixels 2..5 runs half a pixel outside their centres
        assert xs.min() == pytest.approx(1.5) and xs.max() == pytest.approx(5.5)
        assert ys.min() == pytest.approx(1.5) and ys.max() == pytest.approx(5.5)
    assert viz.outline(torch.zeros(8, 8), ax) is None  # nothing to outline
    assert viz.outline(torch.ones(8, 8), ax) is None


def test_outline_halo_and_colour():
    fig, ax = plt.subplots()
    lines = viz.outline(square_mask(), ax, color="lime")
    assert len(lines.get_path_effects()) == 1  # the black halo
    assert matplotlib.colors.same_color(lines.get_edgecolor()[0], "lime")
    plain = viz.outline(square_mask(), ax, halo=False)
    assert not plain.get_path_effects()


@pytest.mark.parametrize(
    "mask, message",
    [(torch.zeros(2, 8, 8), "mask must be"), (torch.full((8, 8), float("nan")), "NaN")],
)
def test_outline_rejects_bad_masks(mask, message):
    with pytest.raises(ValueError, match=message):
        viz.outline(mask, plt.gca())


def test_heatmap_draws_the_outline_in_a_colour_that_shows_on_its_colormap():
    fig, (left, right) = plt.subplots(1, 2)
    mask = square_mask()
    viz.heatmap(torch.randn(8, 8), left, signed=True, mask=mask)
    viz.heatmap(torch.rand(8, 8), right, signed=False, mask=mask)
    (signed_lines,) = left.collections
    (unsigned_lines,) = right.collections
    assert matplotlib.colors.same_color(signed_lines.get_edgecolor()[0], "black")
    assert matplotlib.colors.same_color(unsigned_lines.get_edgecolor()[0], "cyan")
    fig, ax = plt.subplots()
    viz.overlay(torch.rand(3, 8, 8), torch.randn(1, 8, 8), ax, mask=mask)
    assert len(ax.collections) == 1


def test_show_image_stretches_or_keeps_the_values():
    x = torch.full((3, 4, 4), 0.25)
    x[:, 0, 0] = 0.5
    fig, (left, right) = plt.subplots(1, 2)
    stretched = viz.show_image(x, left, title="input", ylabel="row")
    kept = viz.show_image(x[None], right, stretch=False)
    assert stretched.get_array().max() == 1.0 and stretched.get_array().min() == 0.0
    np.testing.assert_allclose(kept.get_array()[1, 1], [0.25, 0.25, 0.25])
    assert left.get_title() == "input" and left.get_ylabel() == "row"
    assert list(left.get_xticks()) == [] and list(left.get_yticks()) == []


def test_show_image_draws_one_channel_in_grey_with_the_outline():
    fig, ax = plt.subplots()
    shown = viz.show_image(torch.rand(1, 1, 8, 8), ax, mask=square_mask())
    assert shown.get_cmap().name == "gray" and len(ax.collections) == 1
    clipped = viz.show_image(torch.full((1, 8, 8), 2.0), ax, stretch=False)
    assert clipped.get_array().max() == 1.0


@pytest.mark.parametrize(
    "x", [torch.rand(2, 3, 4, 4), torch.rand(2, 4, 4), torch.rand(4)]
)
def test_show_image_rejects_anything_but_one_picture(x):
    with pytest.raises(ValueError, match="one picture"):
        viz.show_image(x, plt.gca())


def test_subplots_sizes_equal_panels_and_always_returns_a_grid():
    fig, axes = viz.subplots(2, 3, cell=2.0, colorbar=False)
    assert axes.shape == (2, 3)
    np.testing.assert_allclose(fig.get_size_inches(), [6.0, 4.0])
    fig, axes = viz.subplots(cell=2.0)
    assert axes.shape == (1, 1)
    np.testing.assert_allclose(
        fig.get_size_inches(), [2.0 * viz.panels.COLORBAR_WIDTH, 2.0]
    )
    fig, axes = viz.subplots(1, 2, height=3.0, sharey=True)
    assert fig.get_size_inches()[1] == 3.0
    assert fig.get_layout_engine() is not None  # constrained layout


@pytest.mark.parametrize(
    "options, message",
    [({"rows": 0}, "rows"), ({"columns": 1.5}, "columns"), ({"cell": -1}, "cell")],
)
def test_subplots_rejects_bad_sizes(options, message):
    with pytest.raises(ValueError, match=message):
        viz.subplots(**options)


def test_method_grid_wraps_the_panels_and_scales_signed_maps_symmetrically():
    x = torch.rand(1, 3, 8, 8)
    maps = {
        "signed": torch.randn(1, 3, 8, 8),
        "unsigned": torch.rand(1, 1, 8, 8),
        "flat": torch.ones(8, 8),
        "also signed": torch.randn(8, 8),
    }
    fig = viz.method_grid(x, maps, columns=3, mask=square_mask())
    panels = [ax for ax in fig.axes if ax.get_label() != "<colorbar>"]
    assert len(panels) == 6  # 2 rows of 3: the input, four maps, one empty
    titles = [ax.get_title() for ax in panels]
    assert titles[:5] == [
        "input",
        "signed",
        "unsigned",
        "flat (constant)",
        "also signed",
    ]
    assert not panels[5].axison
    colorbars = [ax for ax in fig.axes if ax.get_label() == "<colorbar>"]
    assert len(colorbars) == 4  # one per map
    images = {ax.get_title(): ax.images[0] for ax in panels[1:5]}
    for name in ("signed", "also signed"):
        low, high = images[name].get_clim()
        assert low == -high and images[name].get_cmap().name == viz.SIGNED_CMAP
    assert images["unsigned"].get_clim()[0] == 0
    assert images["unsigned"].get_cmap().name == viz.UNSIGNED_CMAP


def test_method_grid_rejects_bad_maps():
    with pytest.raises(ValueError, match="non-empty"):
        viz.method_grid(torch.rand(3, 8, 8), {})
    with pytest.raises(ValueError, match="one shape"):
        viz.method_grid(
            torch.rand(3, 8, 8), {"a": torch.rand(8, 8), "b": torch.rand(4, 4)}
        )
    with pytest.raises(ValueError, match="columns"):
        viz.method_grid(torch.rand(3, 8, 8), {"a": torch.rand(8, 8)}, columns=0)


def test_method_grid_on_a_real_model_leaves_its_inputs_alone():
    model = xl.zoo.load("shapes_cnn")
    images, _, masks = xl.data.shapes(1, seed=3)
    before = images.clone()
    maps = {
        "saliency": xl.saliency(model, images),
        "grad cam": xl.grad_cam(model, images),
    }
    fig = viz.method_grid(images, maps, mask=masks[0])
    assert torch.equal(images, before)
    assert len([ax for ax in fig.axes if ax.get_label() == "<colorbar>"]) == 2


def test_table_has_one_header_row_and_no_row_numbers():
    rows = [{"method": "saliency", "EF": 0.1}, {"method": "IG", "EF": 0.2}]
    labelled = viz.table(rows, index="method").to_html()
    assert labelled.count("<tr>") == 3  # one header row, two rows
    assert ">method</th>" in labelled and ">saliency</th>" in labelled
    plain = viz.table(rows).to_html()
    assert ">0</th>" not in plain and "saliency" in plain
