"""Analysis of attributions: the spectral view, shattered gradients, metrics, statistics.

* :mod:`.spectral` (``xl.spectral``): power spectra, expected frequency, tails, low-pass
  filters and the optimal cutoff;
* :mod:`.shattered` (``xl.shattered``): the sawtooth network, linear pieces, gradient
  autocorrelation, shatteredness;
* :mod:`.metrics` (``xl.metrics``): faithfulness, localization and sanity checks;
* :mod:`.stats` (``xl.stats``): ranks and correlations.

Analysis may call the methods; the methods never import it.
"""

from . import metrics, shattered, spectral, stats

__all__ = ["metrics", "shattered", "spectral", "stats"]
