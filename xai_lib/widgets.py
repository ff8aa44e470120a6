"""Interactive figures for the book: live ipywidgets in a kernel, a static fallback in the HTML book.

:func:`explorer` takes a function that draws one matplotlib figure for one choice of a few
parameters, and the values each parameter may take::

    xl.widgets.explorer(
        draw,
        {"method": ["saliency", "integrated_gradients"], "sigma": [0.05, 0.1, 0.2]},
        caption="Look for the noise that SmoothGrad averages away as sigma grows.",
    )

* Categorical choices (a method, an image, a model, a preset: text values, or integer indices
  under text labels such as ``("cross", 4)``) get a menu; quantities (plain numbers, or numbers
  under labels such as ``("beta = 5", 5.0)``) get a slider. :func:`menu` and :func:`slider`
  choose explicitly, and their ``shown_when`` shows a control only where it changes the
  picture (``slider(STRENGTHS, shown_when={"preset": ["LRP-eps", "LRP-gamma"]})``: no strength
  slider on a preset without a strength).
* In a live kernel (Jupyter, Colab) the reader gets ipywidgets (a Dropdown per menu, a
  SelectionSlider per slider) re-drawing as they move. Each choice is drawn once, when first
  asked for, and kept.
* In the rendered HTML book (executed by ``jupyter-book build``, where no frontend will ever talk
  to the kernel) every combination is drawn once up front as a PNG and shown with plain HTML
  ``<select>`` / ``<input type=range>`` controls and a few lines of inline JavaScript that swap
  the picture. The page never holds a dead widget. The pictures are drawn at twice the density
  of the page (at least :data:`FRAME_WIDTH` pixels wide and :data:`MIN_DPI` dots per inch) and
  shown at the width of the text column; they are stored with a 256-colour palette where that
  keeps them faithful (plots), in full colour otherwise, so a page with a few explorers stays
  light. An optional ``caption`` under the picture says what to
  look for.
* Every control must change the picture wherever it is shown: the static page checks it (all
  pictures are drawn anyway) and raises in the book build, warns elsewhere, naming the control
  and the choice where moving it changes nothing.

Which of the two appears is decided when the explorer is displayed: the book build is told apart
by the environment variable ``XAI_LIB_BOOK_BUILD`` (:func:`xai_lib._core.in_book_build`), which
the book's Sphinx extension (:mod:`xai_lib.booktools.sphinx`, ``_config.yml``:
``sphinx.extra_extensions``) sets in the build process, whence every kernel the build starts
inherits it. Without a kernel or without ipywidgets the fallback is used too. ``_config.yml``
also ranks text/html above the widget view for the HTML builders, so an output carrying both
never shows as a widget in the book.

ipywidgets and matplotlib are imported only when needed, so ``import xai_lib`` stays light.
"""

from __future__ import annotations

import base64
import html
import io
import itertools
import json
import math
import numbers
import uuid
import warnings
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Callable

from ._core import in_book_build

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = [
    "FRAME_WIDTH",
    "MAX_COMBINATIONS",
    "MAX_PAGE_BYTES",
    "MIN_DPI",
    "PALETTE_COLOURS",
    "PALETTE_TOLERANCE",
    "WIDGET_VIEW_MIMETYPE",
    "Choices",
    "Control",
    "Explorer",
    "explorer",
    "live_frontend_possible",
    "menu",
    "slider",
]

#: The most pictures an explorer may draw: the static page holds one PNG for each. Choices that
#: differ only in a hidden control (see ``shown_when``) share one picture and count once.
MAX_COMBINATIONS = 64

#: The least resolution of the pictures, in dots per inch (twice matplotlib's 72-100 on screen).
MIN_DPI = 150

#: The least width of a picture in pixels: twice the widest text column of the book (about
#: 800 CSS pixels), so a picture shown at the column's width has two pixels per CSS pixel.
FRAME_WIDTH = 1600

#: Colours of the palette a picture is stored with (PNG, no dithering), when it is faithful.
PALETTE_COLOURS = 256

#: A palette is used only if it changes the pixels by at most this much on average (levels of
#: 255 per channel): plots and the shapes' textures pass, photographs are kept in full colour.
PALETTE_TOLERANCE = 2.0

#: A static page larger than this (bytes) draws a warning: offer fewer choices or smaller figures.
MAX_PAGE_BYTES = 4_000_000

#: The most choices before hidden controls are folded away (a guard against huge products).
_MAX_RAW_COMBINATIONS = 100_000

WIDGET_VIEW_MIMETYPE = "application/vnd.jupyter.widget-view+json"

MENU, SLIDER = "menu", "slider"


def live_frontend_possible() -> bool:
    """True where a live widget can work: an IPython kernel, ipywidgets installed, not the book build."""
    if in_book_build():
        return False
    try:
        import ipywidgets  # noqa: F401
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and getattr(shell, "kernel", None) is not None


# ---------------------------------------------------------------------- choosing the controls


class Choices:
    """The values of one control and how it is shown; made by :func:`menu` and :func:`slider`."""

    def __init__(self, values, kind: str | None, shown_when=None):
        if kind not in (None, MENU, SLIDER):
            raise ValueError(f"kind must be 'menu', 'slider' or None, got {kind!r}")
        if shown_when is not None and not (
            isinstance(shown_when, Mapping) and len(shown_when) > 0
        ):
            raise ValueError(
                "shown_when must be a non-empty dict: control name -> the labels (or values) "
                f"of that control for which this one is shown, got {shown_when!r}"
            )
        self.values = values
        self.kind = kind
        self.shown_when = dict(shown_when) if shown_when is not None else {}

    def __repr__(self) -> str:
        return (
            f"{self.kind or 'control'}({self.values!r}, shown_when={self.shown_when!r})"
        )


def menu(values, *, shown_when: Mapping[str, Sequence] | None = None) -> Choices:
    """A control shown as a menu (``<select>``, a Dropdown), whatever its values are.

    ``values``: a list of values or of ``(label, value)`` pairs, as for :func:`explorer`.
    ``shown_when``: show the control only for some choices of controls listed before it, as
    ``{"preset": ["recipe", "LRP-eps"]}`` (labels as shown, or the values themselves); where it
    is hidden the picture is drawn with its first value.
    """
    return Choices(values, MENU, shown_when)


def slider(values, *, shown_when: Mapping[str, Sequence] | None = None) -> Choices:
    """A control shown as a slider over its values in order (labels shown beside it).

    ``values`` and ``shown_when`` as for :func:`menu`.
    """
    return Choices(values, SLIDER, shown_when)


class Control:
    """One parameter of an explorer: its name, values, labels, kind (menu or slider), condition."""

    def __init__(self, name: str, options):
        if not isinstance(name, str) or not name.isidentifier():
            raise ValueError(
                f"control names must be valid Python identifiers (they become keyword "
                f"arguments of render), got {name!r}"
            )
        spec = options if isinstance(options, Choices) else Choices(options, None)
        options = spec.values
        if isinstance(options, (str, bytes, Mapping)) or not isinstance(
            options, Iterable
        ):
            raise ValueError(
                f"control {name!r} needs a non-empty list of values, got {options!r}"
            )
        given = list(options)  # lists, tuples, ranges, numpy arrays
        pairs = [self._as_pair(option) for option in given]
        if not pairs:
            raise ValueError(
                f"control {name!r} needs a non-empty list of values, got {options!r}"
            )
        self.name = name
        self.labels = [label for label, _ in pairs]
        self.values = [value for _, value in pairs]
        if len(set(self.labels)) != len(self.labels):
            raise ValueError(
                f"control {name!r} shows the same label twice: {self.labels}; "
                f"give (label, value) pairs with distinct labels"
            )
        self.numeric = all(_is_number(v) for v in self.values)
        labelled = any(self._is_labelled(option) for option in given)
        indices = all(isinstance(v, numbers.Integral) for v in self.values)
        # quantities (plain numbers, or numbers under labels) slide; text, objects and
        # integers under names (indices of images, classes) are a choice among things
        if spec.kind is not None:
            self.kind = spec.kind
        elif self.numeric and not (labelled and indices):
            self.kind = SLIDER
        else:
            self.kind = MENU
        self.shown_when = spec.shown_when

    @staticmethod
    def _is_labelled(option) -> bool:
        return (
            isinstance(option, tuple)
            and len(option) == 2
            and isinstance(option[0], str)
        )

    @classmethod
    def _as_pair(cls, option) -> tuple[str, Any]:
        """A (label, value) pair as given, or a plain value labelled by itself (numbers as %g)."""
        if cls._is_labelled(option):
            return option
        if _is_number(option):
            return f"{option:g}", option
        return str(option), option

    def index_of(self, wanted) -> int:
        """The index of a label, or else of a value equal to ``wanted``; ValueError if neither."""
        if isinstance(wanted, str) and wanted in self.labels:
            return self.labels.index(wanted)
        for k, value in enumerate(self.values):
            try:
                if type(value) is type(wanted) and bool(value == wanted):
                    return k
            except (TypeError, ValueError, RuntimeError):  # tensors, arrays
                continue
        raise ValueError(
            f"control {self.name!r} has no label or value {wanted!r}; its labels are "
            f"{self.labels}"
        )

    def __len__(self) -> int:
        return len(self.values)


def _is_number(value) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


# ---------------------------------------------------------------------- the explorer


class Explorer:
    """A figure per combination of control values; displays as live widgets or as a static page.

    Build it with :func:`explorer`. ``static=None`` decides at display time (see the module
    docstring); True or False forces the static page or the live widget.
    """

    def __init__(
        self,
        render: Callable[..., Figure],
        controls: Mapping[str, Sequence],
        *,
        title: str | None = None,
        caption: str | None = None,
        dpi: int | None = None,
        static: bool | None = None,
    ):
        if not callable(render):
            raise ValueError(
                f"render must be a function returning a matplotlib Figure, got {type(render).__name__}"
            )
        if not isinstance(controls, Mapping) or len(controls) == 0:
            raise ValueError(
                "controls must be a non-empty dict: name -> list of values"
            )
        if dpi is not None and (
            isinstance(dpi, bool) or not isinstance(dpi, int) or dpi < 1
        ):
            raise ValueError(f"dpi must be None or an integer >= 1, got {dpi!r}")
        if static not in (None, True, False):
            raise ValueError(f"static must be None, True or False, got {static!r}")
        for text, what in ((title, "title"), (caption, "caption")):
            if text is not None and not isinstance(text, str):
                raise ValueError(f"{what} must be a string or None, got {text!r}")
        self.render = render
        self.controls = [Control(name, options) for name, options in controls.items()]
        self.title = title
        self.caption = caption
        self.dpi = dpi
        self.static = static
        self._conditions = self._resolve_conditions()
        raw = math.prod(len(c) for c in self.controls)
        sizes = " x ".join(str(len(c)) for c in self.controls)
        if raw > _MAX_RAW_COMBINATIONS:
            raise ValueError(
                f"the controls give {sizes} = {raw} combinations: far more than the "
                f"{MAX_COMBINATIONS} pictures a static page may hold; offer fewer values"
            )
        n = len(self.pictures())
        if n > MAX_COMBINATIONS:
            hidden = " (after folding hidden controls)" if n < raw else ""
            raise ValueError(
                f"the controls give {sizes} = {n} combinations{hidden}, more than "
                f"{MAX_COMBINATIONS}: the static book page holds one picture per "
                f"combination; offer fewer values"
            )
        self._pngs: dict[tuple[int, ...], bytes] = {}
        self._dpis: dict[tuple[int, ...], int] = {}

    def _resolve_conditions(self) -> list[list[tuple[int, frozenset[int]]]]:
        """For each control, [(index of an earlier control, indices for which it is shown)]."""
        position = {c.name: k for k, c in enumerate(self.controls)}
        conditions = []
        for k, control in enumerate(self.controls):
            resolved = []
            for name, wanted in control.shown_when.items():
                if name not in position or position[name] >= k:
                    earlier = [c.name for c in self.controls[:k]]
                    raise ValueError(
                        f"control {control.name!r} is shown_when {name!r}, which must be a "
                        f"control listed before it: {earlier}"
                    )
                if isinstance(wanted, (str, bytes)) or not isinstance(wanted, Iterable):
                    wanted = [wanted]
                allowed = frozenset(
                    self.controls[position[name]].index_of(w) for w in wanted
                )
                if not allowed:
                    raise ValueError(
                        f"control {control.name!r}: shown_when[{name!r}] names no value"
                    )
                resolved.append((position[name], allowed))
            conditions.append(resolved)
        return conditions

    # ------------------------------------------------------------------ choices

    def combinations(self) -> list[tuple[int, ...]]:
        """Every combination as a tuple of value indices, the last control varying fastest."""
        return list(itertools.product(*(range(len(c)) for c in self.controls)))

    def shown(self, indices: Sequence[int]) -> list[bool]:
        """Which controls are shown for a combination (a hidden control counts as its first value)."""
        in_use = self.canonical(indices)
        return [
            all(in_use[j] in allowed for j, allowed in self._conditions[k])
            for k in range(len(self.controls))
        ]

    def canonical(self, indices: Sequence[int]) -> tuple[int, ...]:
        """The combination whose picture is shown: every hidden control at its first value."""
        if len(indices) != len(self.controls):
            raise ValueError(
                f"a combination has one index per control ({len(self.controls)}), got {indices!r}"
            )
        out = list(indices)
        for k, conditions in enumerate(self._conditions):
            if not all(out[j] in allowed for j, allowed in conditions):
                out[k] = 0
        return tuple(out)

    def pictures(self) -> list[tuple[int, ...]]:
        """The distinct combinations to draw (canonical ones), in the order of combinations()."""
        return list(dict.fromkeys(self.canonical(c) for c in self.combinations()))

    def choice(self, indices: Sequence[int]) -> dict[str, Any]:
        """The keyword arguments of render for one combination of value indices."""
        return {
            c.name: c.values[i] for c, i in zip(self.controls, self.canonical(indices))
        }

    def describe(self, indices: Sequence[int]) -> str:
        """'method=saliency, image=0': the shown controls' choices in words (the alt text)."""
        key, shown = self.canonical(indices), self.shown(indices)
        return ", ".join(
            f"{c.name}={c.labels[i]}"
            for c, i, visible in zip(self.controls, key, shown)
            if visible
        )

    # ------------------------------------------------------------------ drawing

    def frame_dpi(self, fig) -> int:
        """The dpi a figure is saved at: ``dpi`` if given, else enough for both density floors."""
        if self.dpi is not None:
            return self.dpi
        return max(MIN_DPI, math.ceil(FRAME_WIDTH / fig.get_figwidth()))

    def png(self, indices: Sequence[int]) -> bytes:
        """The PNG of one combination, drawn on first request and kept; the figure is closed."""
        import matplotlib.pyplot as plt  # here, not at import: `import xai_lib` stays light
        from matplotlib.figure import Figure

        key = self.canonical(indices)
        if key not in self._pngs:
            fig = self.render(**self.choice(key))
            if not isinstance(fig, Figure):
                raise ValueError(
                    f"render must return a matplotlib Figure (end it with `return fig`), "
                    f"got {type(fig).__name__} for {self.describe(key)}"
                )
            buffer = io.BytesIO()
            try:
                dpi = self.frame_dpi(fig)
                fig.savefig(buffer, format="png", dpi=dpi)
            finally:
                plt.close(fig)
            self._pngs[key] = _palette_png(buffer.getvalue())
            self._dpis[key] = dpi
        return self._pngs[key]

    def inert_controls(self) -> list[str]:
        """Where a shown control changes nothing: one sentence per (control, other choices).

        Draws every picture. For each control with more than one value and each choice of the
        other controls where it is shown, moving it through its values must change the picture.
        """
        problems = []
        for k, control in enumerate(self.controls):
            if len(control) < 2:
                continue
            seen = set()
            for combo in self.pictures():
                if not self.shown(combo)[k]:
                    continue
                rest = combo[:k] + combo[k + 1 :]
                if rest in seen:
                    continue
                seen.add(rest)
                moved = [combo[:k] + (i,) + combo[k + 1 :] for i in range(len(control))]
                if len({self.png(m) for m in moved}) == 1:
                    others = self.describe(combo).split(", ")
                    context = ", ".join(
                        o for o in others if not o.startswith(f"{control.name}=")
                    )
                    problems.append(
                        f"moving {control.name!r} does not change the picture"
                        + (f" when {context}" if context else "")
                    )
        return problems

    # ------------------------------------------------------------------ the static page

    def static_html(self) -> str:
        """Every combination pre-drawn, HTML controls and an inline script that swaps the picture."""
        combos = self.combinations()
        images: list[str] = []
        # combination (flat index) -> position in images; equal pictures are stored once
        order: list[int] = []
        seen: dict[bytes, int] = {}
        for combo in combos:
            png = self.png(combo)
            if png not in seen:
                seen[png] = len(images)
                images.append(base64.b64encode(png).decode("ascii"))
            order.append(seen[png])
        self._report_inert_controls()
        uid = "xl-explorer-" + uuid.uuid4().hex[:12]
        first = combos[0]
        data = {
            "names": [c.name for c in self.controls],
            "labels": [c.labels for c in self.controls],
            "sizes": [len(c) for c in self.controls],
            "conditions": [
                [[j, sorted(allowed)] for j, allowed in conditions]
                for conditions in self._conditions
            ],
            "order": order,
            "images": images,
        }
        shown = self.shown(first)
        controls = "".join(
            self._html_control(k, c, shown[k]) for k, c in enumerate(self.controls)
        )
        title = (
            f'<div class="xl-explorer-title" style="font-weight:600;margin-bottom:0.3em">'
            f"{html.escape(self.title)}</div>"
            if self.title
            else ""
        )
        caption = (
            f'<div class="xl-explorer-caption" style="margin-top:0.3em">'
            f"{html.escape(self.caption)}</div>"
            if self.caption
            else ""
        )
        note = (
            f"Pre-drawn in the book: {len(combos)} choices. Run the notebook (Jupyter or Colab) "
            f"for the live version."
        )
        page = (
            f'<div class="xl-explorer" id="{uid}" style="margin:0.5em 0 1em 0">{title}'
            f'<div class="xl-explorer-controls" style="display:flex;flex-wrap:wrap;'
            f'gap:0.4em 1.5em;align-items:center;margin-bottom:0.4em">{controls}</div>'
            f'<img class="xl-explorer-image" style="display:block;width:100%;height:auto" '
            f'alt="{html.escape(self.describe(first))}" '
            f'src="data:image/png;base64,{images[order[0]]}">{caption}'
            f'<div class="xl-explorer-note" style="font-size:0.8em;opacity:0.7">{note}</div>'
            f"<script>{_SWAP_SCRIPT % (json.dumps(uid), _script_json(data))}</script></div>"
        )
        if len(page) > MAX_PAGE_BYTES:
            warnings.warn(
                f"explorer {self.title or ''!r}: its static page holds {len(page) / 1e6:.1f} MB "
                f"of pictures, more than {MAX_PAGE_BYTES / 1e6:.0f} MB; offer fewer choices or "
                f"draw smaller figures",
                stacklevel=2,
            )
        return page

    def _report_inert_controls(self) -> None:
        problems = self.inert_controls()
        if not problems:
            return
        message = (
            f"explorer {self.title or ''!r}: every control must change the picture wherever "
            f"it is shown, but "
            + "; ".join(problems)
            + ". Draw what the control changes, "
            "or show it only where it acts (xl.widgets.slider(..., shown_when=...))."
        )
        if in_book_build():
            raise ValueError(message)
        warnings.warn(message, stacklevel=3)

    @staticmethod
    def _html_control(k: int, control: Control, shown: bool) -> str:
        name = html.escape(control.name)
        display = "flex" if shown else "none"
        box = f'<label style="display:{display};align-items:center;gap:0.4em">{name}'
        if control.kind == SLIDER:
            return (
                f'{box}<input type="range" data-control="{k}" min="0" '
                f'max="{len(control) - 1}" step="1" value="0" aria-label="{name}">'
                f"<output>{html.escape(control.labels[0])}</output></label>"
            )
        options = "".join(
            f'<option value="{i}">{html.escape(label)}</option>'
            for i, label in enumerate(control.labels)
        )
        return (
            f'{box}<select data-control="{k}" aria-label="{name}">{options}</select>'
            f"</label>"
        )

    # ------------------------------------------------------------------ the live widget

    def widget(self):
        """The ipywidgets version: one control per parameter above an Image that follows them."""
        import ipywidgets as w

        inputs = []
        for c in self.controls:
            # values are indices: any Python object works
            common = dict(
                options=list(zip(c.labels, range(len(c)))),
                value=0,
                description=c.name,
                style={"description_width": "initial"},
            )
            inputs.append(
                w.SelectionSlider(continuous_update=False, **common)
                if c.kind == SLIDER
                else w.Dropdown(**common)
            )
        image = w.Image(format="png", layout=w.Layout(width="100%"))
        errors = w.Output()

        def show(_change=None):
            indices = tuple(i.value for i in inputs)
            for control, visible in zip(inputs, self.shown(indices)):
                control.layout.display = None if visible else "none"
            errors.outputs = ()
            with errors:  # an exception in render is shown here instead of vanishing in a callback
                image.value = self.png(indices)
                # as large as a plain inline figure (100 px per inch), at twice its sharpness
                key = self.canonical(indices)
                width = int.from_bytes(self._pngs[key][16:20], "big")
                image.layout.max_width = f"{round(width * 100 / self._dpis[key])}px"

        for i in inputs:
            i.observe(show, names="value")
        show()
        header = [w.HTML(f"<b>{html.escape(self.title)}</b>")] if self.title else []
        footer = [w.HTML(html.escape(self.caption))] if self.caption else []
        return w.VBox(
            header
            + [w.HBox(inputs, layout=w.Layout(flex_flow="row wrap")), image]
            + footer
            + [errors]
        )

    # ------------------------------------------------------------------ display

    def use_static(self) -> bool:
        return (not live_frontend_possible()) if self.static is None else self.static

    def _repr_mimebundle_(self, include=None, exclude=None):
        if self.use_static():
            return {"text/html": self.static_html(), "text/plain": repr(self)}
        box = self.widget()
        # the view reference ipywidgets 7 and 8 both emit; no text/html, so nothing is pre-drawn
        return {
            "text/plain": repr(self) + " (run the notebook to use it)",
            WIDGET_VIEW_MIMETYPE: {
                "version_major": 2,
                "version_minor": 0,
                "model_id": box.model_id,
            },
        }

    def __repr__(self) -> str:
        sizes = " x ".join(f"{c.name} ({len(c)})" for c in self.controls)
        return (
            f"<explorer {self.title!r}: {sizes}>"
            if self.title
            else f"<explorer: {sizes}>"
        )


def explorer(
    render: Callable[..., Figure],
    controls: Mapping[str, Sequence],
    *,
    title: str | None = None,
    caption: str | None = None,
    dpi: int | None = None,
    static: bool | None = None,
) -> Explorer:
    """An interactive figure: ``render(**choice)`` draws one matplotlib Figure per choice.

    ``controls`` maps each keyword of ``render`` to the values it may take: a list of values, or
    of ``(label, value)`` pairs, or :func:`menu` / :func:`slider` of such a list. Without
    those, numbers get a slider (plain, or under labels: quantities) and anything else a menu,
    as do integers under text labels (indices of images, classes: a choice among things).
    At most :data:`MAX_COMBINATIONS` pictures in all. ``caption``: one line under the picture
    saying what to look for. ``dpi``: the pictures' resolution (default: enough for
    :data:`MIN_DPI` and :data:`FRAME_WIDTH`). Show the result by making it the last
    expression of a cell. See the module docstring for where it is live and where static.
    """
    return Explorer(
        render, controls, title=title, caption=caption, dpi=dpi, static=static
    )


def _palette_png(png: bytes) -> bytes:
    """The picture as a small PNG: with a palette when that keeps it faithful, else in RGB.

    Plots hold few colours: a palette of :data:`PALETTE_COLOURS` colours (median cut, no
    dither) reproduces them to within :data:`PALETTE_TOLERANCE` levels of 255 on average, at
    a third to a half of the size. Pictures it would change more (photographs, many smooth
    shades) are stored in full colour, without the alpha channel. Transparency is laid on
    white first.
    """
    import numpy as np
    from PIL import Image  # matplotlib's own dependency

    drawn: Image.Image = Image.open(io.BytesIO(png))
    if drawn.mode in ("RGBA", "LA", "P"):
        white = Image.new("RGBA", drawn.size, (255, 255, 255, 255))
        drawn = Image.alpha_composite(white, drawn.convert("RGBA"))
    picture = drawn.convert("RGB")
    palette = picture.quantize(
        colors=PALETTE_COLOURS,
        method=Image.Quantize.MEDIANCUT,
        dither=Image.Dither.NONE,
    )
    change = np.abs(
        np.asarray(palette.convert("RGB"), dtype=np.int16)
        - np.asarray(picture, dtype=np.int16)
    ).mean()
    faithful = change <= PALETTE_TOLERANCE
    out = io.BytesIO()
    (palette if faithful else picture).save(out, format="PNG", optimize=not faithful)
    return out.getvalue()


def _script_json(data) -> str:
    """JSON safe inside a <script> element (no '</' that could close it)."""
    return json.dumps(data, separators=(",", ":")).replace("</", "<\\/")


# The static explorer's behaviour: read every control (a hidden one counts as its first value),
# hide the controls whose condition fails, and show the picture of that combination.
_SWAP_SCRIPT = """(function () {
  var root = document.getElementById(%s), data = %s;
  var controls = root.querySelectorAll("[data-control]");
  var img = root.querySelector("img.xl-explorer-image");
  function show() {
    var used = [], flat = 0, words = [];
    controls.forEach(function (c, k) {
      var visible = data.conditions[k].every(function (rule) {
        return rule[1].indexOf(used[rule[0]]) >= 0;
      });
      c.parentNode.style.display = visible ? "flex" : "none";
      var i = visible ? parseInt(c.value, 10) : 0;
      used.push(i);
      flat = flat * data.sizes[k] + i;
      if (visible) { words.push(data.names[k] + "=" + data.labels[k][i]); }
      var out = c.parentNode.querySelector("output");
      if (out) { out.textContent = data.labels[k][parseInt(c.value, 10)]; }
    });
    img.src = "data:image/png;base64," + data.images[data.order[flat]];
    img.alt = words.join(", ");
  }
  controls.forEach(function (c) {
    c.addEventListener("input", show);
    c.addEventListener("change", show);
  });
  show();
})();"""
