"""Scores for explanations, the namespace ``xl.metrics``: one place to find them all.

* faithfulness (:mod:`.faithfulness`): ``deletion``, ``insertion`` and their curves,
  ``mu_fidelity``, ``completeness_error``;
* localization (:mod:`.localization`): ``pointing_game``, ``relevance_mass``;
* sanity (:mod:`.sanity`): ``model_randomization``;
* local faithfulness and stability (:mod:`.local_faithfulness`): ``infidelity`` and
  ``sensitivity_max`` (Yeh et al., 2019).
* over a whole dataset (:mod:`.streaming`): ``mean_over``, any per-sample metric's mean
  and standard error over a DataLoader, streamed batch by batch.

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
from .local_faithfulness import infidelity, sensitivity_max
from .localization import pointing_game, relevance_mass
from .sanity import model_randomization
from .streaming import STREAMED_METRICS, DatasetMean, mean_over

__all__ = [
    "DatasetMean",
    "FIDELITY_METRICS",
    "STREAMED_METRICS",
    "completeness_error",
    "deletion",
    "deletion_curve",
    "insertion",
    "infidelity",
    "insertion_curve",
    "mean_over",
    "model_randomization",
    "mu_fidelity",
    "pointing_game",
    "relevance_mass",
    "sensitivity_max",
]
