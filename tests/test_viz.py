"""Channel aggregation and the pictures: diverging colormaps centred at zero, colour bars."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

import xai_lib as xl  # noqa: E402
from xai_lib import viz  # noqa: E402


def test_aggregations_on_a_known_tensor():
    a = torch.tensor([[[[1.0, -2.0]], [[-3.0, 0.0]], [[2.0, 2.0]]]])  # (1, 3, 1, 2)
    assert xl.aggregate(a, "sum").flatten().tolist() == [0.0, 0.0]
    assert xl.aggregate(a, "max_abs").flatten().tolist() == [3.0, 2.0]
    assert xl.aggregate(a, "abs_sum").flatten().tolist() == [6.0, 4.0]
    torch.testing.assert_close(
        xl.aggregate(a, "l2").flatten(), torch.tensor([14.0, 8.0]).sqrt()
    )
    assert xl.aggregate(a, "sum").shape == (1, 1, 1, 2)


def test_aggregate_rejects_bad_input():
    with pytest.raises(ValueError, match="how"):
        xl.aggregate(torch.zeros(1, 3, 2, 2), "median")
    with pytest.raises(ValueError, match=r"\(N, C, H, W\)"):
        xl.aggregate(torch.zeros(3, 2, 2))


def test_signed_heatmap_is_centred_at_zero_with_a_colour_bar():
    fig, ax = plt.subplots()
    a = torch.zeros(8, 8)
    a[0, 0], a[1, 1] = 5.0, -1.0
    image = viz.heatmap(a, ax, percentile=100)
    low, high = image.get_clim()
    assert low == -high == -5.0
    assert image.get_cmap().name == viz.SIGNED_CMAP
    assert len(fig.axes) == 2  # the map and its colour bar
    plt.close(fig)


def test_unsigned_heatmap_starts_at_zero():
    fig, ax = plt.subplots()
    image = viz.heatmap(torch.rand(8, 8), ax)
    assert image.get_clim()[0] == 0 and image.get_cmap().name == viz.UNSIGNED_CMAP
    plt.close(fig)


def test_grid_has_one_row_per_image_and_one_column_per_method():
    images = torch.rand(2, 3, 8, 8)
    maps = {"a": torch.randn(2, 3, 8, 8), "b": torch.rand(2, 1, 8, 8)}
    fig = viz.grid(images, maps, colorbar=False)
    assert len(fig.axes) == 2 * 3
    plt.close(fig)
    fig = viz.overlay(images[0], maps["a"][0]).figure
    assert len(fig.axes) == 2
    plt.close(fig)


def test_table_renders_one_html_table_with_formatted_numbers():
    styled = viz.table(
        [
            {"method": "saliency", "EF": 0.12345, "images": 3},
            {"method": "IG", "EF": 0.2, "images": 12000},
        ],
        index="method",
        formats={"EF": "{:.2f}"},
        caption="two methods",
    )
    html = styled.to_html()
    assert html.count("<table") == 1 and "two methods" in html
    assert "0.12" in html and "0.12345" not in html and "12,000" in html


@pytest.mark.parametrize(
    "data, options, message",
    [
        (3, {}, "list of dicts"),
        ([], {}, "list of dicts|no rows"),
        ([{"a": 1.0}], {"index": "b"}, "not a column"),
        ([{"a": 1.0}], {"formats": {"b": "{:.1f}"}}, "lacks"),
    ],
)
def test_table_rejects_bad_arguments(data, options, message):
    with pytest.raises(ValueError, match=message):
        viz.table(data, **options)
