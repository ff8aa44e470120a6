"""Scores for explanations, the namespace ``xl.metrics``: one place to find them all.

* faithfulness (:mod:`.faithfulness`): ``deletion``, ``insertion`` and their curves,
  ``mu_fidelity``, ``completeness_error``;
* localization (:mod:`.localization`): ``pointing_game``, ``relevance_mass``;
* sanity (:mod:`.sanity`): ``model_randomization``.

Correlations and ranks live in ``xl.stats``.
"""

from .faithfulness import (
    FIDELITY_METRICS,
    completeness_error,
    deletion,
    deletion_curve,
    insertion,
    insertion_curve,
    mu_fidelity,
)
from .localization import pointing_game, relevance_mass
from .sanity import model_randomization

__all__ = [
    "FIDELITY_METRICS",
    "completeness_error",
    "deletion",
    "deletion_curve",
    "insertion",
    "insertion_curve",
    "model_randomization",
    "mu_fidelity",
    "pointing_game",
    "relevance_mass",
]
