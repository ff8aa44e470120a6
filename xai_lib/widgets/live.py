"""The live view of an explorer: ipywidgets controls above an Image that follows them.

* :func:`live_frontend_possible`: whether a live widget can work here (an IPython kernel,
  ipywidgets installed, not the book build);
* :func:`widget`: a Dropdown per menu and a SelectionSlider per slider, re-drawing as they
  move; each choice is drawn once, when first asked for, and kept
  (:meth:`~xai_lib.widgets.Explorer.widget` returns it).

ipywidgets is imported only when a widget is made.
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING

from .._core import in_book_build
from .controls import SLIDER

if TYPE_CHECKING:
    from .explorers import Explorer


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


def widget(explorer: Explorer):
    """The ipywidgets version: one control per parameter above an Image that follows them."""
    import ipywidgets as w

    inputs = []
    for c in explorer.controls:
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
        for control, visible in zip(inputs, explorer.shown(indices)):
            control.layout.display = None if visible else "none"
        errors.outputs = ()
        # an exception in render is shown here instead of vanishing in a callback
        with errors:
            image.value = explorer.png(indices)
            # as large as a plain inline figure (100 px per inch), at twice its sharpness
            key = explorer.canonical(indices)
            width = int.from_bytes(explorer._pngs[key][16:20], "big")
            image.layout.max_width = f"{round(width * 100 / explorer._dpis[key])}px"

    for i in inputs:
        i.observe(show, names="value")
    show()
    header = [w.HTML(f"<b>{html.escape(explorer.title)}</b>")] if explorer.title else []
    footer = [w.HTML(html.escape(explorer.caption))] if explorer.caption else []
    return w.VBox(
        header
        + [w.HBox(inputs, layout=w.Layout(flex_flow="row wrap")), image]
        + footer
        + [errors]
    )
