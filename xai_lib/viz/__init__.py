"""Pictures of attributions (``xl.viz``, loaded on first use: it imports matplotlib).

* :mod:`.maps`: heatmaps with a diverging colormap centred at zero, overlays on the image,
  and a grid of methods x images, every signed map with a colour bar; object outlines;
* :mod:`.panels`: a figure of equal panels, the input with its object's outline, and one
  image explained by many methods (the landing page's figure);
* :mod:`.tokens`: token attributions drawn over the words, as HTML or into an axes;
* :mod:`.tables`: tabular results as one HTML table (a pandas Styler);
* :mod:`.spectra`: frequency axes in cycles per pixel, radial power profiles, 2-D power
  spectra, and the input | attribution | profile panels of the spectral chapters.
"""

from .maps import (
    SIGNED_CMAP,
    UNSIGNED_CMAP,
    as_image,
    grid,
    heatmap,
    outline,
    overlay,
    symmetric_limit,
)
from .panels import method_grid, show_image, subplots
from .spectra import (
    frequency_axis,
    frequency_ticks,
    power_profile,
    profile_statistics,
    spectrum_image,
    spectrum_panels,
)
from .tables import table
from .tokens import draw_tokens, sentence_width, tokens_html

__all__ = [
    "SIGNED_CMAP",
    "UNSIGNED_CMAP",
    "as_image",
    "draw_tokens",
    "frequency_axis",
    "frequency_ticks",
    "grid",
    "heatmap",
    "method_grid",
    "outline",
    "overlay",
    "power_profile",
    "profile_statistics",
    "sentence_width",
    "show_image",
    "subplots",
    "spectrum_image",
    "spectrum_panels",
    "symmetric_limit",
    "table",
    "tokens_html",
]
