"""xl.widgets.explorer: the static fallback's pictures and data, the live widget, the mode switch."""

import base64
import json
import re
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
import yaml

import xai_lib as xl
from xai_lib._core import BOOK_BUILD_ENV, progress
from xai_lib.booktools.sphinx import setup as sphinx_setup
from xai_lib.widgets import (
    MAX_COMBINATIONS,
    WIDGET_VIEW_MIMETYPE,
    Explorer,
)

ROOT = Path(__file__).resolve().parents[1]


class Drawing:
    """A render function that counts its calls and draws something different for every choice."""

    def __init__(self):
        self.calls = []

    def __call__(self, method, sigma):
        self.calls.append((method, sigma))
        fig, ax = plt.subplots(figsize=(2, 1.5))
        ax.plot(np.arange(5) * (1 + sigma), label=method)
        ax.set_title(f"{method} {sigma}")
        return fig


CONTROLS = {"method": ["saliency", "integrated_gradients"], "sigma": [0.0, 0.1, 0.2]}


def static_data(page: str) -> dict:
    """The JSON the inline script of a static explorer reads."""
    return json.loads(re.search(r"data = (\{.*?\});\n", page).group(1))


def test_static_page_draws_each_choice_once_and_closes_figures():
    drawing = Drawing()
    page = xl.widgets.explorer(drawing, CONTROLS, title="T").static_html()
    assert sorted(drawing.calls) == sorted(
        (m, s) for m in CONTROLS["method"] for s in CONTROLS["sigma"]
    )
    assert plt.get_fignums() == []
    assert page.count("<img") == 1 and page.count("<script>") == 1
    assert re.search(
        r'<select data-control="0"[^>]*>.*saliency.*integrated_gradients.*</select>',
        page,
    )
    assert re.search(
        r'<input type="range" data-control="1" min="0" max="2" step="1" value="0"', page
    )
    assert 'alt="method=saliency, sigma=0"' in page


def test_static_data_maps_every_combination_to_its_picture():
    explorer = Explorer(Drawing(), CONTROLS)
    data = static_data(explorer.static_html())
    assert data["names"] == ["method", "sigma"] and data["sizes"] == [2, 3]
    assert data["labels"] == [["saliency", "integrated_gradients"], ["0", "0.1", "0.2"]]
    assert len(data["order"]) == 6 and len(data["images"]) == 6
    # the script's flat index: flat = flat * size_k + index_k, the last control varying fastest
    for flat, combo in enumerate(explorer.combinations()):
        assert flat == combo[0] * 3 + combo[1]
        png = base64.b64decode(data["images"][data["order"][flat]])
        assert png == explorer.png(combo) and png.startswith(b"\x89PNG")


def test_equal_pictures_are_stored_once():
    def same(shade):
        fig, ax = plt.subplots(figsize=(1, 1))
        ax.imshow(np.zeros((2, 2)))
        return fig

    data = static_data(Explorer(same, {"shade": [1, 2, 3]}).static_html())
    assert data["order"] == [0, 0, 0] and len(data["images"]) == 1


def test_pictures_are_small_at_the_requested_dpi():
    explorer = Explorer(Drawing(), CONTROLS, dpi=50)
    png = explorer.png((0, 0))
    width, height = int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")
    assert (width, height) == (100, 75)  # figsize (2, 1.5) inches at 50 dpi


def test_label_value_pairs_and_escaping():
    seen = []

    def draw(image, name):
        seen.append((image, name))
        return plt.figure(figsize=(1, 1))

    page = Explorer(
        draw,
        {"image": [("first <b>", 10), ("second", 20)], "name": ["a&b"]},
        static=True,
    ).static_html()
    markup = page.split("<script>")[
        0
    ]  # the script sets labels as textContent: no markup there
    assert "first &lt;b&gt;" in markup and "first <b>" not in markup
    assert "a&amp;b" in markup
    assert sorted(seen) == [(10, "a&b"), (20, "a&b")]
    assert 'type="range"' in page  # numeric values under text labels still get a slider


def test_numpy_values_and_ranges_are_numbers():
    explorer = Explorer(
        lambda sigma, k: plt.figure(figsize=(1, 1)),
        {"sigma": np.linspace(0, 1, 3), "k": range(2)},
    )
    assert [c.labels for c in explorer.controls] == [["0", "0.5", "1"], ["0", "1"]]
    assert all(c.numeric for c in explorer.controls)


def test_script_data_cannot_close_its_script_element():
    page = Explorer(
        lambda name: plt.figure(figsize=(1, 1)), {"name": ["</script><script>alert(1)"]}
    ).static_html()
    script = page.split("<script>", 1)[1]
    assert script.count("</script>") == 1


def test_mime_bundle_is_static_html_outside_a_kernel_and_in_the_book_build(monkeypatch):
    bundle = Explorer(Drawing(), CONTROLS)._repr_mimebundle_()
    assert "text/html" in bundle and WIDGET_VIEW_MIMETYPE not in bundle
    monkeypatch.setattr(xl.widgets, "live_frontend_possible", lambda: True)
    assert Explorer(Drawing(), CONTROLS).use_static() is False
    monkeypatch.undo()
    monkeypatch.setenv(BOOK_BUILD_ENV, "1")
    assert xl.widgets.in_book_build() and not xl.widgets.live_frontend_possible()
    assert Explorer(Drawing(), CONTROLS).use_static() is True


def test_live_widget_draws_lazily_and_follows_its_controls():
    drawing = Drawing()
    explorer = Explorer(drawing, CONTROLS, static=False, title="T")
    bundle = explorer._repr_mimebundle_()
    assert (
        set(bundle) == {"text/plain", WIDGET_VIEW_MIMETYPE}
        and bundle[WIDGET_VIEW_MIMETYPE]["model_id"]
    )
    assert drawing.calls == [("saliency", 0.0)]  # nothing pre-drawn in a live kernel
    box = explorer.widget()
    _, controls, image, _ = box.children
    method, sigma = controls.children
    assert (
        type(method).__name__ == "Dropdown"
        and type(sigma).__name__ == "SelectionSlider"
    )
    assert image.value == explorer.png((0, 0))
    sigma.value = 2
    method.value = 1
    assert image.value == explorer.png((1, 2))
    method.value = 0
    assert image.value == explorer.png((0, 2))
    assert len(drawing.calls) == len(set(drawing.calls)) == 3  # each choice drawn once
    assert plt.get_fignums() == []


@pytest.mark.parametrize(
    "controls, message",
    [
        ({}, "non-empty dict"),
        ({"method": []}, "non-empty list"),
        ({"method": "saliency"}, "non-empty list"),
        ({"method": 3}, "non-empty list"),
        ({"not a name": [1]}, "identifiers"),
        ({"method": [("a", 1), ("a", 2)]}, "same label twice"),
        (
            {"a": list(range(4)), "b": list(range(5)), "c": list(range(4))},
            r"4 x 5 x 4 = 80 combinations",
        ),
    ],
)
def test_bad_controls_raise(controls, message):
    with pytest.raises(ValueError, match=message):
        xl.widgets.explorer(Drawing(), controls)


def test_the_cap_is_inclusive():
    Explorer(
        lambda a, b: None,
        {"a": list(range(8)), "b": list(range(MAX_COMBINATIONS // 8))},
    )


def test_bad_render_or_options_raise():
    with pytest.raises(ValueError, match="render must be a function"):
        Explorer("draw", CONTROLS)
    with pytest.raises(
        ValueError, match="must return a matplotlib Figure.*method=saliency"
    ):
        Explorer(lambda method, sigma: None, CONTROLS).static_html()
    with pytest.raises(ValueError, match="dpi"):
        Explorer(Drawing(), CONTROLS, dpi=0)
    with pytest.raises(ValueError, match="static"):
        Explorer(Drawing(), CONTROLS, static="yes")


def test_figure_is_closed_when_saving_fails():
    def draw(method):
        fig = plt.figure(figsize=(1, 1))
        fig.text(
            0.5, 0.5, r"$\notacommand$"
        )  # mathtext fails only when the figure is drawn
        return fig

    with pytest.raises(ValueError):
        Explorer(draw, {"method": ["a"]}).png((0,))
    assert plt.get_fignums() == []


def test_sphinx_extension_marks_the_build(monkeypatch):
    monkeypatch.setenv(BOOK_BUILD_ENV, "0")  # restored (to unset) after the test
    assert not xl.widgets.in_book_build()
    assert not progress(range(2), 2, "loop").disable
    assert sphinx_setup(app=None)["parallel_read_safe"]
    assert xl.widgets.in_book_build()
    assert progress(
        range(2), 2, "loop"
    ).disable  # a notebook bar would be a dead widget in the page


def test_book_config_loads_the_extension_and_prefers_html_over_widget_views():
    from myst_nb.core.render import get_mime_priority

    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    assert "xai_lib.booktools.sphinx" in config["sphinx"]["extra_extensions"]
    overrides = [
        tuple(o) for o in config["sphinx"]["config"]["nb_mime_priority_overrides"]
    ]
    for builder in ("html", "dirhtml", "singlehtml"):
        priority = get_mime_priority(builder, overrides)
        assert priority.index("text/html") < priority.index(WIDGET_VIEW_MIMETYPE)
