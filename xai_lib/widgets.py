"""Interactive figures for the book: live ipywidgets in a kernel, a static fallback in the HTML book.

:func:`explorer` takes a function that draws one matplotlib figure for one choice of a few
parameters, and the values each parameter may take::

    xl.widgets.explorer(draw, {"method": ["saliency", "integrated_gradients"], "image": [0, 1, 2]})

* In a live kernel (Jupyter, Colab) the reader gets ipywidgets: a Dropdown for a parameter with
  text values, a SelectionSlider for one with numeric values, re-drawing as they move. Each
  choice is drawn once, when first asked for, and kept.
* In the rendered HTML book (executed by ``jupyter-book build``, where no frontend will ever talk
  to the kernel) every combination is drawn once up front, saved as a small PNG, and shown with
  plain HTML ``<select>`` / ``<input type=range>`` controls and a few lines of inline JavaScript
  that swap the picture. The page never holds a dead widget.

Which of the two appears is decided when the explorer is displayed: the book build is told apart
by the environment variable ``XAI_LIB_BOOK_BUILD`` (:func:`xai_lib._core.in_book_build`), which
this module, loaded as a Sphinx extension (``_config.yml``: ``sphinx.extra_extensions``), sets in
the build process, whence every kernel the build starts inherits it. Without a kernel or without
ipywidgets the fallback is used too. ``_config.yml`` also ranks text/html above the widget view
for the HTML builders, so an output carrying both never shows as a widget in the book.

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
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Callable

from ._core import in_book_build

if TYPE_CHECKING:
    from matplotlib.figure import Figure

#: The most combinations an explorer may offer: the static page holds one PNG for each.
MAX_COMBINATIONS = 64

#: Resolution of the pictures: small enough that a page with a few explorers stays light.
DEFAULT_DPI = 75

WIDGET_VIEW_MIMETYPE = "application/vnd.jupyter.widget-view+json"


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


class Control:
    """One parameter of an explorer: its name, and its values with the labels shown to the reader."""

    def __init__(self, name: str, options):
        if not isinstance(name, str) or not name.isidentifier():
            raise ValueError(
                f"control names must be valid Python identifiers (they become keyword "
                f"arguments of render), got {name!r}"
            )
        if isinstance(options, (str, bytes, Mapping)) or not isinstance(
            options, Iterable
        ):
            raise ValueError(
                f"control {name!r} needs a non-empty list of values, got {options!r}"
            )
        pairs = [
            self._as_pair(option) for option in options
        ]  # lists, tuples, ranges, numpy arrays
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
        self.numeric = all(
            isinstance(v, numbers.Real) and not isinstance(v, bool) for v in self.values
        )

    @staticmethod
    def _as_pair(option) -> tuple[str, Any]:
        """A (label, value) pair as given, or a plain value labelled by itself (numbers as %g)."""
        if (
            isinstance(option, tuple)
            and len(option) == 2
            and isinstance(option[0], str)
        ):
            return option
        if isinstance(option, numbers.Real) and not isinstance(option, bool):
            return f"{option:g}", option
        return str(option), option

    def __len__(self) -> int:
        return len(self.values)


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
        dpi: int = DEFAULT_DPI,
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
        if isinstance(dpi, bool) or not isinstance(dpi, int) or dpi < 1:
            raise ValueError(f"dpi must be an integer >= 1, got {dpi!r}")
        if static not in (None, True, False):
            raise ValueError(f"static must be None, True or False, got {static!r}")
        self.render = render
        self.controls = [Control(name, options) for name, options in controls.items()]
        self.title = title
        self.dpi = dpi
        self.static = static
        n = math.prod(len(c) for c in self.controls)
        if n > MAX_COMBINATIONS:
            sizes = " x ".join(str(len(c)) for c in self.controls)
            raise ValueError(
                f"the controls give {sizes} = {n} combinations, more than {MAX_COMBINATIONS}: "
                f"the static book page holds one picture per combination; offer fewer values"
            )
        self._pngs: dict[tuple[int, ...], bytes] = {}

    # ------------------------------------------------------------------ drawing

    def combinations(self) -> list[tuple[int, ...]]:
        """Every combination as a tuple of value indices, the last control varying fastest."""
        return list(itertools.product(*(range(len(c)) for c in self.controls)))

    def choice(self, indices: Sequence[int]) -> dict[str, Any]:
        """The keyword arguments of render for one combination of value indices."""
        return {c.name: c.values[i] for c, i in zip(self.controls, indices)}

    def png(self, indices: Sequence[int]) -> bytes:
        """The PNG of one combination, drawn on first request and kept; the figure is closed."""
        import matplotlib.pyplot as plt  # here, not at import: `import xai_lib` stays light
        from matplotlib.figure import Figure

        key = tuple(indices)
        if key not in self._pngs:
            fig = self.render(**self.choice(key))
            if not isinstance(fig, Figure):
                raise ValueError(
                    f"render must return a matplotlib Figure (end it with `return fig`), "
                    f"got {type(fig).__name__} for {self.describe(key)}"
                )
            buffer = io.BytesIO()
            try:
                fig.savefig(buffer, format="png", dpi=self.dpi)
            finally:
                plt.close(fig)
            self._pngs[key] = buffer.getvalue()
        return self._pngs[key]

    def describe(self, indices: Sequence[int]) -> str:
        """'method=saliency, image=0': the combination in words (the picture's alt text)."""
        return ", ".join(
            f"{c.name}={c.labels[i]}" for c, i in zip(self.controls, indices)
        )

    # ------------------------------------------------------------------ the static page

    def static_html(self) -> str:
        """Every combination pre-drawn, HTML controls and an inline script that swaps the picture."""
        combos = self.combinations()
        images: list[str] = []
        order: list[
            int
        ] = []  # combination (flat index) -> position in images; equal pictures stored once
        seen: dict[bytes, int] = {}
        for combo in combos:
            png = self.png(combo)
            if png not in seen:
                seen[png] = len(images)
                images.append(base64.b64encode(png).decode("ascii"))
            order.append(seen[png])
        uid = "xl-explorer-" + uuid.uuid4().hex[:12]
        first = combos[0]
        data = {
            "names": [c.name for c in self.controls],
            "labels": [c.labels for c in self.controls],
            "sizes": [len(c) for c in self.controls],
            "order": order,
            "images": images,
        }
        controls = "".join(
            self._html_control(k, c) for k, c in enumerate(self.controls)
        )
        title = (
            f'<div style="font-weight:600;margin-bottom:0.3em">{html.escape(self.title)}</div>'
            if self.title
            else ""
        )
        note = (
            f"Pre-drawn in the book: {len(combos)} choices. Run the notebook (Jupyter or Colab) "
            f"for the live version."
        )
        return (
            f'<div class="xl-explorer" id="{uid}" style="margin:0.5em 0 1em 0">{title}'
            f'<div class="xl-explorer-controls" style="display:flex;flex-wrap:wrap;gap:0.4em 1.5em;'
            f'align-items:center;margin-bottom:0.4em">{controls}</div>'
            f'<img class="xl-explorer-image" style="max-width:100%;height:auto" '
            f'alt="{html.escape(self.describe(first))}" src="data:image/png;base64,{images[order[0]]}">'
            f'<div class="xl-explorer-note" style="font-size:0.8em;opacity:0.7">{note}</div>'
            f"<script>{_SWAP_SCRIPT % (json.dumps(uid), _script_json(data))}</script></div>"
        )

    @staticmethod
    def _html_control(k: int, control: Control) -> str:
        name = html.escape(control.name)
        if control.numeric:
            return (
                f'<label style="display:flex;align-items:center;gap:0.4em">{name}'
                f'<input type="range" data-control="{k}" min="0" max="{len(control) - 1}" step="1" value="0" '
                f'aria-label="{name}"><output>{html.escape(control.labels[0])}</output></label>'
            )
        options = "".join(
            f'<option value="{i}">{html.escape(label)}</option>'
            for i, label in enumerate(control.labels)
        )
        return (
            f'<label style="display:flex;align-items:center;gap:0.4em">{name}'
            f'<select data-control="{k}" aria-label="{name}">{options}</select></label>'
        )

    # ------------------------------------------------------------------ the live widget

    def widget(self):
        """The ipywidgets version: one control per parameter above an Image that follows them."""
        import ipywidgets as w

        inputs = []
        for c in self.controls:
            options = list(
                zip(c.labels, range(len(c)))
            )  # values are indices: any Python object works
            common = dict(
                options=options,
                value=0,
                description=c.name,
                style={"description_width": "initial"},
            )
            inputs.append(
                w.SelectionSlider(continuous_update=False, **common)
                if c.numeric
                else w.Dropdown(**common)
            )
        image = w.Image(format="png")
        errors = w.Output()

        def show(_change=None):
            indices = tuple(i.value for i in inputs)
            errors.outputs = ()
            with errors:  # an exception in render is shown here instead of vanishing in a callback
                image.value = self.png(indices)

        for i in inputs:
            i.observe(show, names="value")
        show()
        header = [w.HTML(f"<b>{html.escape(self.title)}</b>")] if self.title else []
        return w.VBox(
            header
            + [w.HBox(inputs, layout=w.Layout(flex_flow="row wrap")), image, errors]
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
    dpi: int = DEFAULT_DPI,
    static: bool | None = None,
) -> Explorer:
    """An interactive figure: ``render(**choice)`` draws one matplotlib Figure per choice.

    ``controls`` maps each keyword of ``render`` to the values it may take: a list of values, or
    of ``(label, value)`` pairs. Numeric values get a slider, anything else a dropdown. At most
    :data:`MAX_COMBINATIONS` combinations in all. Show the result by making it the last
    expression of a cell. See the module docstring for where it is live and where static.
    """
    return Explorer(render, controls, title=title, dpi=dpi, static=static)


def _script_json(data) -> str:
    """JSON safe inside a <script> element (no '</' that could close it)."""
    return json.dumps(data, separators=(",", ":")).replace("</", "<\\/")


# The static explorer's behaviour: read every control, show the picture of that combination.
_SWAP_SCRIPT = """(function () {
  var root = document.getElementById(%s), data = %s;
  var controls = root.querySelectorAll("[data-control]"), img = root.querySelector("img.xl-explorer-image");
  function show() {
    var flat = 0, words = [];
    controls.forEach(function (c, k) {
      var i = parseInt(c.value, 10);
      flat = flat * data.sizes[k] + i;
      words.push(data.names[k] + "=" + data.labels[k][i]);
      var out = c.parentNode.querySelector("output");
      if (out) { out.textContent = data.labels[k][i]; }
    });
    img.src = "data:image/png;base64," + data.images[data.order[flat]];
    img.alt = words.join(", ");
  }
  controls.forEach(function (c) { c.addEventListener("input", show); c.addEventListener("change", show); });
})();"""
