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

The code, one concept per module: :mod:`.controls` (menus, sliders and what each control
offers), :mod:`.explorers` (the explorer: its choices, its pictures, which view it shows),
:mod:`.static_page` (the HTML fallback), :mod:`.live` (the ipywidgets view) and
:mod:`.palette` (how the pictures are stored).
"""

from .controls import Choices, Control, menu, slider
from .explorers import (
    FRAME_WIDTH,
    MAX_COMBINATIONS,
    MIN_DPI,
    WIDGET_VIEW_MIMETYPE,
    Explorer,
    explorer,
)
from .live import live_frontend_possible
from .palette import PALETTE_COLOURS, PALETTE_TOLERANCE
from .static_page import MAX_PAGE_BYTES

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
