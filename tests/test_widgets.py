"""xl.widgets.explorer: the static fallback's pictures and data, the live widget, the mode switch.

Also: pictures at twice the page's density with a palette, menus for choices and sliders for
quantities, controls shown only where they act (shown_when), the check that every shown control
changes the picture, the caption, and the static page's script run in node (where installed).
"""

import base64
import io
import json
import re
import shutil
import subprocess
import warnings
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
import yaml

import xai_lib as xl
from xai_lib._core import BOOK_BUILD_ENV, in_book_build, progress
from xai_lib.booktools.sphinx import setup as sphinx_setup
from xai_lib.widgets import (
    FRAME_WIDTH,
    MAX_COMBINATIONS,
    MIN_DPI,
    WIDGET_VIEW_MIMETYPE,
    Explorer,
    explorers,
    live,
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


@pytest.fixture(autouse=True)
def small_frames(request, monkeypatch):
    """Small pictures keep the tests fast; the density test keeps the real floors."""
    if "density" not in request.node.name:
        # where Explorer.frame_dpi reads them
        monkeypatch.setattr(explorers, "FRAME_WIDTH", 200)
        monkeypatch.setattr(explorers, "MIN_DPI", 30)


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

    with pytest.warns(UserWarning, match="'shade' does not change the picture"):
        data = static_data(Explorer(same, {"shade": [1, 2, 3]}).static_html())
    assert data["order"] == [0, 0, 0] and len(data["images"]) == 1


def png_size(png: bytes) -> tuple[int, int]:
    return int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")


def test_pictures_have_the_requested_dpi():
    explorer = Explorer(Drawing(), CONTROLS, dpi=50)
    assert png_size(explorer.png((0, 0))) == (100, 75)  # (2, 1.5) inches at 50 dpi


def test_pictures_are_drawn_at_twice_the_density_of_the_column():
    # a small figure is drawn FRAME_WIDTH pixels wide; a wide one at MIN_DPI
    small = Explorer(Drawing(), CONTROLS).png((0, 0))
    assert png_size(small) == (FRAME_WIDTH, FRAME_WIDTH * 3 // 4)

    def wide(k):
        fig, ax = plt.subplots(figsize=(12, 3))
        ax.plot([0, k])
        return fig

    assert png_size(Explorer(wide, {"k": [1, 2]}).png((1,))) == (
        12 * MIN_DPI,
        3 * MIN_DPI,
    )
    page = Explorer(Drawing(), CONTROLS).static_html()
    image = re.search(r'<img class="xl-explorer-image" style="([^"]*)"', page).group(1)
    assert "width:100%" in image and "max-width" not in image  # the column's width


def drawn_and_stored(draw, value):
    """The drawing as matplotlib saves it (RGB) and as the explorer stores it."""
    from PIL import Image

    fig = draw(value)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100)
    plt.close(fig)
    drawn = np.asarray(Image.open(buffer).convert("RGB"), dtype=float)
    stored = Image.open(io.BytesIO(Explorer(draw, {"v": [value]}, dpi=100).png((0,))))
    return drawn, stored


def test_plots_are_stored_with_a_palette_close_to_the_drawing():
    def plot(v):
        shade = v
        fig, ax = plt.subplots(figsize=(3, 2))
        ax.imshow(np.linspace(0, shade, 64).reshape(8, 8), cmap="viridis")
        ax.set_title("smooth colours")
        return fig

    drawn, stored = drawn_and_stored(plot, 1.0)
    assert stored.mode == "P" and len(stored.getcolors()) <= 256
    kept = np.asarray(stored.convert("RGB"), dtype=float)
    assert drawn.shape == kept.shape
    assert np.abs(drawn - kept).mean() <= xl.widgets.PALETTE_TOLERANCE
    assert np.abs(drawn - kept).max() <= 16  # a smooth colour map keeps its shades


def test_pictures_a_palette_would_change_are_kept_in_full_colour():
    def photo(v):  # random colours: far more than 256 of them
        pixels = np.random.default_rng(v).random((64, 64, 3))
        fig, ax = plt.subplots(figsize=(3, 3))
        ax.imshow(pixels)
        return fig

    drawn, stored = drawn_and_stored(photo, 0)
    assert stored.mode == "RGB"
    np.testing.assert_array_equal(np.asarray(stored, dtype=float), drawn)  # lossless


def test_label_value_pairs_and_escaping():
    seen = []

    def draw(image, name):
        seen.append((image, name))
        fig, ax = plt.subplots(figsize=(1, 1))
        ax.bar([0], [image])
        ax.set_ylim(0, 30)
        return fig

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
    # integers under text labels are indices of things (images): a menu, not a slider
    assert 'type="range"' not in page and page.count("<select") == 2


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
    monkeypatch.setattr(live, "live_frontend_possible", lambda: True)
    assert Explorer(Drawing(), CONTROLS).use_static() is False
    monkeypatch.undo()
    monkeypatch.setenv(BOOK_BUILD_ENV, "1")
    assert in_book_build() and not xl.widgets.live_frontend_possible()
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
    assert not in_book_build()
    assert not progress(range(2), 2, "loop").disable
    assert sphinx_setup(app=None)["parallel_read_safe"]
    assert in_book_build()
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


# ---------------------------------------------------------------------- menus and sliders


def kinds(controls) -> list[str]:
    return [c.kind for c in Explorer(lambda **_: None, controls).controls]


def test_choices_get_menus_and_quantities_get_sliders():
    assert kinds(
        {
            "method": ["saliency", "smoothgrad"],  # text: a menu
            "sigma": [0.1, 0.2],  # plain numbers: a slider
            "image": [("cross", 4), ("circle", 1)],  # indices under names: a menu
            "beta": [("beta = 1", 1.0), ("ReLU", float("inf"))],  # labelled quantity
            "steps": range(3),  # plain integers: a slider
        }
    ) == ["menu", "slider", "menu", "slider", "slider"]
    # explicit kinds win over the inference
    assert kinds(
        {"k": xl.widgets.menu([1, 2]), "name": xl.widgets.slider(["a", "b"])}
    ) == ["menu", "slider"]


def test_menus_and_sliders_in_the_static_page():
    def draw(image, strength):
        fig, ax = plt.subplots(figsize=(1, 1))
        ax.plot([0, image + strength])
        return fig

    page = Explorer(
        draw, {"image": [("a", 0), ("b", 1)], "strength": [1.0, 2.0]}
    ).static_html()
    assert re.search(r'<select data-control="0" aria-label="image">', page)
    assert re.search(r'<input type="range" data-control="1"', page)


# ---------------------------------------------------------------------- shown_when


class Presets:
    """Like chapter 8: a strength acts on two presets, not on "plain"."""

    def __init__(self):
        self.calls = []

    def __call__(self, preset, strength, image):
        self.calls.append((preset, strength, image))
        fig, ax = plt.subplots(figsize=(1.5, 1))
        scale = 1.0 if preset == "plain" else strength
        ax.plot([0, scale * (1 + image)], color="C0" if preset != "gamma" else "C1")
        return fig


PRESET_CONTROLS = {
    "preset": ["eps", "plain", "gamma"],
    "strength": xl.widgets.slider(
        [0.1, 0.5, 1.0], shown_when={"preset": ["eps", "gamma"]}
    ),
    "image": [("first", 0), ("second", 1)],
}


def test_hidden_controls_are_drawn_once_at_their_first_value():
    drawing = Presets()
    explorer = Explorer(drawing, PRESET_CONTROLS)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # every shown control acts: no warning
        page = explorer.static_html()
    # eps and gamma: 3 strengths x 2 images; plain: one strength x 2 images
    assert len(drawing.calls) == len(set(drawing.calls)) == 14
    assert {c for c in drawing.calls if c[0] == "plain"} == {
        ("plain", 0.1, 0),
        ("plain", 0.1, 1),
    }
    assert len(explorer.pictures()) == 14
    data = static_data(page)
    assert data["conditions"] == [[], [[0, [0, 2]]], []]
    plain = [
        data["order"][flat]
        for flat, combo in enumerate(explorer.combinations())
        if combo[0] == 1 and combo[2] == 0
    ]
    assert len(plain) == 3 and len(set(plain)) == 1  # every strength: one picture
    assert explorer.shown((1, 2, 0)) == [True, False, True]
    assert explorer.canonical((1, 2, 0)) == (1, 0, 0)
    assert explorer.choice((1, 2, 0)) == {
        "preset": "plain",
        "strength": 0.1,
        "image": 0,
    }
    assert explorer.describe((1, 2, 0)) == "preset=plain, image=first"
    assert explorer.describe((0, 2, 1)) == "preset=eps, strength=1, image=second"


def test_a_control_hidden_at_first_is_hidden_in_the_markup():
    controls = dict(PRESET_CONTROLS, preset=["plain", "eps", "gamma"])
    page = Explorer(Presets(), controls).static_html()
    strength = re.search(r'<label style="([^"]*)">strength', page).group(1)
    assert strength.startswith("display:none")
    assert 'alt="preset=plain, image=first"' in page


def test_the_cap_counts_pictures_not_hidden_choices():
    # 2 presets x 40 strengths would be 80 choices; with strength hidden on one preset, 41
    controls = {
        "preset": ["plain", "eps"],
        "strength": xl.widgets.slider(list(range(40)), shown_when={"preset": "eps"}),
    }
    explorer = Explorer(lambda preset, strength: None, controls)
    assert len(explorer.pictures()) == 41 <= MAX_COMBINATIONS
    controls["strength"] = xl.widgets.slider(
        list(range(70)), shown_when={"preset": "eps"}
    )
    with pytest.raises(ValueError, match="71 combinations .after folding hidden"):
        Explorer(lambda preset, strength: None, controls)


@pytest.mark.parametrize(
    "strength, message",
    [
        (xl.widgets.slider([1, 2], shown_when={"image": [0]}), "listed before it"),
        (xl.widgets.slider([1, 2], shown_when={"strength": [1]}), "listed before it"),
        (xl.widgets.slider([1, 2], shown_when={"nothing": [1]}), "listed before it"),
        (
            xl.widgets.slider([1, 2], shown_when={"preset": ["lrp"]}),
            "no label or value",
        ),
        (xl.widgets.slider([1, 2], shown_when={"preset": []}), "names no value"),
    ],
)
def test_bad_conditions_raise(strength, message):
    controls = {"preset": ["eps", "plain"], "strength": strength, "image": [0, 1]}
    with pytest.raises(ValueError, match=message):
        Explorer(lambda **_: None, controls)


def test_bad_choices_raise():
    with pytest.raises(ValueError, match="shown_when must be a non-empty dict"):
        xl.widgets.menu([1, 2], shown_when=[("preset", "eps")])
    with pytest.raises(ValueError, match="shown_when must be a non-empty dict"):
        xl.widgets.slider([1, 2], shown_when={})
    with pytest.raises(ValueError, match="non-empty list"):
        Explorer(lambda k: None, {"k": xl.widgets.menu([])})


def test_conditions_may_name_values():
    controls = {
        "model": [("small", 0), ("large", 1)],
        "depth": xl.widgets.slider([1, 2], shown_when={"model": [1]}),
    }
    explorer = Explorer(lambda model, depth: None, controls)
    assert explorer.shown((0, 1)) == [True, False]
    assert explorer.shown((1, 1)) == [True, True]


# ---------------------------------------------------------------------- every control acts


def test_a_control_that_changes_nothing_is_reported_and_stops_the_book_build(
    monkeypatch,
):
    # the strength does nothing on "zero": chapter 8's old explorer
    def lrp(preset, strength):
        fig, ax = plt.subplots(figsize=(1, 1))
        ax.plot([0, 0.5 if preset == "zero" else strength])
        return fig

    controls = {"preset": ["eps", "zero"], "strength": [1.0, 2.0]}
    problems = Explorer(lrp, controls).inert_controls()
    assert problems == [
        "moving 'strength' does not change the picture when preset=zero"
    ]
    with pytest.warns(UserWarning, match="when preset=zero"):
        Explorer(lrp, controls).static_html()
    monkeypatch.setenv(BOOK_BUILD_ENV, "1")
    with pytest.raises(ValueError, match="every control must change the picture"):
        Explorer(lrp, controls).static_html()
    controls["strength"] = xl.widgets.slider([1.0, 2.0], shown_when={"preset": "eps"})
    assert Explorer(lrp, controls).inert_controls() == []
    Explorer(lrp, controls).static_html()  # the fix: no strength slider on "zero"


# ---------------------------------------------------------------------- the caption


def test_caption_under_the_picture_escaped():
    page = Explorer(
        Drawing(), CONTROLS, caption="Look for <noise> & edges."
    ).static_html()
    caption = re.search(r'<div class="xl-explorer-caption"[^>]*>(.*?)</div>', page)
    assert caption.group(1) == "Look for &lt;noise&gt; &amp; edges."
    assert page.index("<img") < caption.start() < page.index("xl-explorer-note")
    assert "xl-explorer-caption" not in Explorer(Drawing(), CONTROLS).static_html()
    with pytest.raises(ValueError, match="caption"):
        Explorer(Drawing(), CONTROLS, caption=3)


def test_live_widget_hides_controls_and_shows_the_caption():
    drawing = Presets()
    explorer = Explorer(drawing, PRESET_CONTROLS, static=False, caption="Look here.")
    box = explorer.widget()
    controls, image, caption = box.children[0], box.children[1], box.children[2]
    preset, strength, picture = controls.children
    assert type(picture).__name__ == "Dropdown"  # an image is a menu
    assert caption.value == "Look here."
    assert image.layout.width == "100%" and image.layout.max_width.endswith("px")
    assert strength.layout.display is None
    preset.value = 1  # "plain": no strength
    assert strength.layout.display == "none"
    assert image.value == explorer.png((1, 0, 0))
    strength.value = 2  # hidden: the picture stays
    assert image.value == explorer.png((1, 0, 0))
    preset.value = 2
    assert strength.layout.display is None and image.value == explorer.png((2, 2, 0))
    assert plt.get_fignums() == []


# ---------------------------------------------------------------------- the page's script

# A few lines of DOM for node: the controls the script reads, their labels, the picture.
NODE_HARNESS = """
const spec = JSON.parse(process.argv[2]);
const listeners = [];
const controls = spec.kinds.map((kind, k) => {
  const out = kind === "slider" ? {textContent: ""} : null;
  const label = {style: {display: "flex"}, querySelector: () => out};
  return {value: "0", parentNode: label, out: out,
          addEventListener: (type, f) => listeners.push([k, type, f])};
});
const img = {src: "", alt: ""};
const root = {
  querySelectorAll: () => controls,
  querySelector: () => img,
};
global.document = {getElementById: () => root};
SCRIPT
const seen = [];
for (const combo of spec.combos) {
  combo.forEach((i, k) => { controls[k].value = String(i); });
  listeners.filter((l) => l[1] === "change").forEach((l) => l[2]());
  seen.push({src: img.src, alt: img.alt,
             shown: controls.map((c) => c.parentNode.style.display !== "none"),
             outputs: controls.map((c) => (c.out ? c.out.textContent : null))});
}
console.log(JSON.stringify(seen));
"""


@pytest.mark.skipif(shutil.which("node") is None, reason="needs node to run the script")
def test_the_static_script_shows_the_picture_of_every_choice(tmp_path):
    explorer = Explorer(Presets(), PRESET_CONTROLS)
    page = explorer.static_html()
    script = re.search(r"<script>(.*)</script>", page, re.S).group(1)
    harness = tmp_path / "harness.js"
    harness.write_text(NODE_HARNESS.replace("SCRIPT", script))
    combos = explorer.combinations()
    spec = {"kinds": [c.kind for c in explorer.controls], "combos": combos}
    result = subprocess.run(
        ["node", str(harness), json.dumps(spec)],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    seen = json.loads(result.stdout)
    for combo, state in zip(combos, seen):
        expected = base64.b64encode(explorer.png(combo)).decode("ascii")
        assert state["src"] == "data:image/png;base64," + expected, combo
        assert state["alt"] == explorer.describe(combo)
        assert state["shown"] == explorer.shown(combo)
        strength = explorer.controls[1]
        assert state["outputs"][1] == strength.labels[combo[1]]
