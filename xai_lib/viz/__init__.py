"""Pictures of attributions (``xl.viz``, loaded on first use: it imports matplotlib).

* :mod:`.maps`: heatmaps with a diverging colormap centred at zero, overlays on the image,
  and a grid of methods x images, every signed map with a colour bar;
* :mod:`.tokens`: token attributions drawn over the words, as HTML or into an axes;
* :mod:`.tables`: tabular results as one HTML table (a pandas Styler).
"""

from .maps import (
    SIGNED_CMAP,
    UNSIGNED_CMAP,
    as_image,
    grid,
    heatmap,
    overlay,
    symmetric_limit,
)
from .tables import table
from .tokens import draw_tokens, sentence_width, tokens_html

__all__ = [
    "SIGNED_CMAP",
    "UNSIGNED_CMAP",
    "as_image",
    "draw_tokens",
    "grid",
    "heatmap",
    "overlay",
    "sentence_width",
    "symmetric_limit",
    "table",
    "tokens_html",
]
