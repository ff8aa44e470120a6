"""The model zoo: trained weights that ship inside the package, one JSON card per model.

* :func:`available` lists the models (optionally only those whose card matches some fields);
* :func:`card` gives a model's card: dataset, architecture, beta (math.inf for ReLU), bn,
  skip, test accuracy, training seed, epochs, parameter count, ...;
* :func:`load` rebuilds the model from :mod:`xai_lib.models` and its weights, in eval mode
  on the CPU. Nothing is downloaded.

The weights are made by ``python -m xai_lib.models.zoo.train`` (see :mod:`xai_lib.models.zoo.train`), which
anyone can re-run on a CPU. The zoo holds the shapes CNN at a grid of softplus sharpnesses
beta plus ReLU, and the shapes ResNet with BatchNorm and skip connections each on and off,
with ReLU and with a smooth activation: the models of the complexity-faithfulness trade-off
(Mehrpanah et al., ICCV 2025).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import torch
from torch import nn

from .. import architectures as models

WEIGHTS = Path(__file__).parent / "weights"


def _card_path(name: str, folder: Path = WEIGHTS) -> Path:
    return folder / f"{name}.json"


def _shipped() -> list:
    """The names of the models in the zoo's folder: a card and its weights, side by side."""
    return sorted(
        path.stem for path in WEIGHTS.glob("*.json") if path.with_suffix(".pt").exists()
    )


def available(**match) -> list:
    """Sorted names of the shipped models; keyword arguments keep those whose card has those values.

    ``available(dataset="shapes", architecture="cnn")`` is the beta grid of the shapes CNN.
    """
    return [
        name
        for name in _shipped()
        if all(card(name).get(k) == v for k, v in match.items())
    ]


def _check_name(name) -> str:
    """A zoo name, exactly as :func:`available` lists it: never a path to somewhere else."""
    if not isinstance(name, str) or name not in _shipped():
        raise ValueError(
            f"no zoo model named {name!r} (give a name, not a path); available: "
            f"{', '.join(_shipped())}"
        )
    return name


def card(name: str) -> dict:
    """The model's card as a dict; ``beta`` is a float, math.inf for ReLU."""
    with open(_card_path(_check_name(name))) as file:
        info = json.load(file)
    info["beta"] = _beta_from_json(info["beta"])
    return info


def _beta_from_json(beta):
    # JSON has no infinity: ReLU's beta is stored as the string "inf".
    return None if beta is None else float(beta)


def _beta_to_json(beta):
    return "inf" if beta is not None and math.isinf(beta) else beta


def load(name: str) -> nn.Module:
    """The trained model, rebuilt from its card and weights, in eval mode on the CPU.

    ``name`` is one of :func:`available` (a name, never a path: only the zoo's own files load).
    """
    info = card(name)
    model = models.build(info["architecture"], **info["kwargs"], beta=info["beta"])
    state = torch.load(
        _card_path(name).with_suffix(".pt"), map_location="cpu", weights_only=True
    )
    model.load_state_dict(state)
    return model.eval()
