"""The explorer: a figure per combination of control values, shown live or as a static page.

:class:`Explorer` (made by :func:`explorer`) reads its controls (:mod:`.controls`), works out
which controls are shown for which choices and which combinations share a picture, draws each
picture once at twice the density of the page (:data:`MIN_DPI`, :data:`FRAME_WIDTH`; stored
by :mod:`.palette`), checks that every shown control changes the picture, and decides when
displayed between the live widget (:mod:`.live`) and the static page (:mod:`.static_page`).
At most :data:`MAX_COMBINATIONS` pictures.
"""

from __future__ import annotations

import io
import itertools
import math
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Callable

from . import live, static_page
from .controls import Control
from .palette import _palette_png

if TYPE_CHECKING:
    from matplotlib.figure import Figure

#: The most pictures an explorer may draw: the static page holds one PNG for each. Choices that
#: differ only in a hidden control (see ``shown_when``) share one picture and count once.
MAX_COMBINATIONS = 64

#: The least resolution of the pictures, in dots per inch (twice matplotlib's 72-100 on screen).
MIN_DPI = 150

#: The least width of a picture in pixels: twice the widest text column of the book (about
#: 800 CSS pixels), so a picture shown at the column's width has two pixels per CSS pixel.
FRAME_WIDTH = 1600

#: The most choices before hidden controls are folded away (a guard against huge products).
_MAX_RAW_COMBINATIONS = 100_000

WIDGET_VIEW_MIMETYPE = "application/vnd.jupyter.widget-view+json"


class Explorer:
    """A figure per combination of control values; displays as live widgets or as a static page.

    Build it with :func:`explorer`. ``static=None`` decides at display time (see the docstring
    of :mod:`xai_lib.widgets`); True or False forces the static page or the live widget.
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
        return static_page.static_html(self)

    # ------------------------------------------------------------------ the live widget

    def widget(self):
        """The ipywidgets version: one control per parameter above an Image that follows them."""
        return live.widget(self)

    # ------------------------------------------------------------------ display

    def use_static(self) -> bool:
        return (
            (not live.live_frontend_possible()) if self.static is None else self.static
        )

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
    expression of a cell. See :mod:`xai_lib.widgets` for where it is live and where static.
    """
    return Explorer(
        render, controls, title=title, caption=caption, dpi=dpi, static=static
    )
