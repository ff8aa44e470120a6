"""Train the model zoo on a CPU and write its weights and cards: ``python -m xai_lib.zoo.train``.

Every recipe below is one model: dataset, architecture, activation sharpness beta, epochs,
seed. The shapes models of one family share their training seed, so they start from the same
weights (the initialization does not depend on beta) and see the same batches in the same
order: in the beta grid only the activation differs. The ResNet ablations cross BatchNorm and
skip connections with ReLU and softplus at beta = 5 and 1 on 32 px shapes; four more ResNets
(BatchNorm on and off, ReLU and beta = 1) repeat the recipe on 64 px shapes. Training uses
AdamW with a one-cycle learning rate and cross-entropy; the card's accuracy is measured on
held-out data (shapes: a different seed; digits and sentences: the fixed test split).

Usage::

    python -m xai_lib.zoo.train                    # the whole zoo (see each card's train_seconds)
    python -m xai_lib.zoo.train "shapes_*"         # the 32 px shapes models
    python -m xai_lib.zoo.train "shapes64*"        # the 64 px ResNets: the longest part
    python -m xai_lib.zoo.train "shapes_resnet*"   # only names matching these patterns
    python -m xai_lib.zoo.train --list             # the recipes, without training
    python -m xai_lib.zoo.train --threads 2        # may be faster on an idle multi-core machine

It writes into the package's weights/ folder (``--out`` elsewhere) and ends with a table of
every model trained, its accuracy and its training time. With the default single thread a
re-run on the same kind of CPU and the same torch version reproduces the weights bit for
bit; other thread counts, and CPUs whose kernels use other vector instructions, sum
floating-point numbers in another order, so their weights differ slightly and their
accuracies by a few tenths of a point (a retrained ``shapes_resnet_nobn_noskip`` scored
97.95% on an AVX-512 machine against the card's 97.50%). One thread is also the fastest
choice on a machine shared with other work.
"""

from __future__ import annotations

import argparse
import fnmatch
import functools
import json
import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypedDict

import torch
from torch import nn
from tqdm.auto import tqdm

from ... import data
from .. import architectures as models
from ..training import accuracy, fit
from . import WEIGHTS, _beta_to_json


class _ShapesSplit(TypedDict):
    """The arguments of :func:`xai_lib.data.shapes` for one split."""

    n: int
    size: int
    seed: int


SHAPES_TRAIN: _ShapesSplit = {"n": 6000, "size": 32, "seed": 0}
SHAPES_TEST: _ShapesSplit = {"n": 4000, "size": 32, "seed": 1}
BATCH_SIZE = 64
WEIGHT_DECAY = 1e-4


@dataclass(frozen=True)
class Recipe:
    name: str
    dataset: str  # "shapes", "digits" or "sentences"
    architecture: str  # a key of models.ARCHITECTURES
    description: str
    kwargs: dict = field(default_factory=dict)  # constructor arguments, beta aside
    beta: float = math.inf
    epochs: int = 10
    lr: float = 3e-3
    seed: int = 0
    size: int = 32  # image side of the shapes data (train and test)


BETA_GRID = (1.0, 2.0, 5.0, 10.0, 20.0, 50.0)
#: the sharpnesses of the ResNet ablations besides ReLU: the same four BN / skip settings at
#: each, one recipe, so the ordering of the components can be compared across beta
SMOOTH_RESNET_BETAS = (5.0, 1.0)
_SHAPES = {"in_channels": 3, "classes": len(data.SHAPE_CLASSES)}


def _activation_name(beta: float) -> str:
    return "ReLU" if math.isinf(beta) else f"softplus beta={beta:g}"


def _shapes_cnns() -> list:
    return [
        Recipe(
            name="shapes_cnn" if math.isinf(beta) else f"shapes_cnn_beta{beta:g}",
            dataset="shapes",
            architecture="cnn",
            kwargs=dict(_SHAPES),
            beta=beta,
            description=f"VGG-like CNN (16-32-64 channels, max-pooling) on 32 px shapes, {_activation_name(beta)}",
        )
        for beta in (math.inf, *BETA_GRID)
    ]


def _resnet(bn: bool, skip: bool, beta: float, size: int = 32) -> Recipe:
    """The small ResNet on ``size`` px shapes, BatchNorm and skips switched as given."""
    parts = [
        "shapes_resnet" if size == 32 else f"shapes{size}_resnet",
        *(["nobn"] if not bn else []),
        *(["noskip"] if not skip else []),
        *([] if math.isinf(beta) else [f"beta{beta:g}"]),
    ]
    what = f"{'with' if bn else 'without'} BatchNorm, {'with' if skip else 'without'} skip connections"
    return Recipe(
        name="_".join(parts),
        dataset="shapes",
        architecture="resnet",
        kwargs={**_SHAPES, "bn": bn, "skip": skip},
        beta=beta,
        size=size,
        description=f"small ResNet on {size} px shapes {what}, {_activation_name(beta)}",
    )


def _shapes_resnets() -> list:
    return [
        _resnet(bn, skip, beta)
        for beta in (math.inf, *SMOOTH_RESNET_BETAS)
        for bn in (True, False)
        for skip in (True, False)
    ]


#: the larger setting: the same ResNet and recipe on 64 px shapes (objects twice as many
#: pixels across, stages at 32, 16 and 8 px), BatchNorm on and off x ReLU and softplus beta=1
LARGE_SIZE, LARGE_BETA = 64, 1.0


def _large_resnets() -> list:
    return [
        _resnet(bn, True, beta, size=LARGE_SIZE)
        for bn in (True, False)
        for beta in (math.inf, LARGE_BETA)
    ]


RECIPES = (
    *_shapes_cnns(),
    *_shapes_resnets(),
    *_large_resnets(),
    Recipe(
        name="digits_mlp",
        dataset="digits",
        architecture="mlp",
        epochs=40,
        kwargs={"in_features": 64, "classes": 10, "hidden": [64, 64]},
        description="MLP (64-64 hidden units) on scikit-learn's 8x8 digits, ReLU",
    ),
    Recipe(
        name="sentiment_cnn",
        dataset="sentences",
        architecture="text",
        epochs=15,
        lr=1e-2,
        kwargs={
            "vocab_size": len(data.VOCABULARY),
            "classes": 2,
            "embed_dim": 16,
            "channels": 32,
            "kernel": 3,
        },
        description="embedding - Conv1d - max over time - linear on the templated sentiment sentences, ReLU",
    ),
)


# --------------------------------------------------------------------------- data


@functools.cache
def _data(dataset: str, size: int = 32):
    """(x_train, y_train, x_test, y_test, a description of both for the card)."""
    if dataset == "shapes":
        train_data: _ShapesSplit = {**SHAPES_TRAIN, "size": size}
        test_data: _ShapesSplit = {**SHAPES_TEST, "size": size}
        train, test = data.shapes(**train_data), data.shapes(**test_data)
        return (
            train.images,
            train.labels,
            test.images,
            test.labels,
            {"train": train_data, "test": test_data},
        )
    if dataset == "digits":
        return (
            *data.digits("train"),
            *data.digits("test"),
            {"train": "digits('train')", "test": "digits('test')"},
        )
    train, test = data.sentences("train"), data.sentences("test")
    return (
        train.tokens,
        train.labels,
        test.tokens,
        test.labels,
        {"train": "sentences('train')", "test": "sentences('test')"},
    )


# --------------------------------------------------------------------------- training


def train(recipe: Recipe, progress: bool = True) -> tuple:
    """Train one recipe -> (model in eval mode, card dict)."""
    x_train, y_train, x_test, y_test, data_card = _data(recipe.dataset, recipe.size)
    torch.manual_seed(recipe.seed)
    model = models.build(recipe.architecture, **recipe.kwargs, beta=recipe.beta)
    start = time.perf_counter()
    fit(
        model,
        x_train,
        y_train,
        epochs=recipe.epochs,
        lr=recipe.lr,
        batch_size=BATCH_SIZE,
        weight_decay=WEIGHT_DECAY,
        seed=recipe.seed,
        schedule="one_cycle",
        progress=progress,
        desc=recipe.name,
    )
    seconds = time.perf_counter() - start
    card = {
        "name": recipe.name,
        "description": recipe.description,
        "dataset": recipe.dataset,
        "data": data_card,
        "architecture": recipe.architecture,
        "kwargs": recipe.kwargs,
        "beta": _beta_to_json(recipe.beta),
        "bn": bool(recipe.kwargs.get("bn", False)),
        "skip": bool(recipe.kwargs.get("skip", False)),
        "accuracy": round(accuracy(model, x_test, y_test), 4),
        "seed": recipe.seed,
        "epochs": recipe.epochs,
        "lr": recipe.lr,
        "batch_size": BATCH_SIZE,
        "threads": torch.get_num_threads(),
        "params": sum(p.numel() for p in model.parameters()),
        "train_seconds": round(seconds, 1),
        "torch": torch.__version__,
    }
    return model.eval(), card


def save(model: nn.Module, card: dict, folder: Path) -> None:
    """Write <name>.pt (float32 state_dict) and <name>.json (the card) into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    state = {
        k: v.detach().float() if v.is_floating_point() else v.detach()
        for k, v in model.state_dict().items()
    }
    torch.save(state, folder / f"{card['name']}.pt")
    with open(folder / f"{card['name']}.json", "w") as file:
        json.dump(card, file, indent=2)
        file.write("\n")


def select(patterns) -> list:
    """The recipes whose names match any of the glob patterns (all for none)."""
    if not patterns:
        return list(RECIPES)
    chosen = [
        r for r in RECIPES if any(fnmatch.fnmatchcase(r.name, p) for p in patterns)
    ]
    if not chosen:
        raise ValueError(
            f"no recipe matches {patterns}; recipes: {', '.join(r.name for r in RECIPES)}"
        )
    return chosen


def _row(cells, widths) -> str:
    return "  ".join(str(c).ljust(w) for c, w in zip(cells, widths))


def summary(cards: list) -> str:
    """A plain-text table of the trained models."""
    header = (
        "name",
        "dataset",
        "arch",
        "beta",
        "bn",
        "skip",
        "params",
        "epochs",
        "accuracy",
        "seconds",
    )
    rows = [
        (
            c["name"],
            c["dataset"],
            c["architecture"],
            c["beta"],
            c["bn"],
            c["skip"],
            c["params"],
            c["epochs"],
            f"{100 * c['accuracy']:.2f}%",
            c["train_seconds"],
        )
        for c in cards
    ]
    widths = [max(len(str(x)) for x in column) for column in zip(header, *rows)]
    return "\n".join(
        [
            _row(header, widths),
            _row(["-" * w for w in widths], widths),
            *(_row(r, widths) for r in rows),
        ]
    )


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(
        description="Train the xai_lib model zoo on the CPU."
    )
    parser.add_argument(
        "patterns",
        nargs="*",
        help="glob patterns of model names to train (default: all)",
    )
    parser.add_argument(
        "--out", type=Path, default=WEIGHTS, help=f"output folder (default: {WEIGHTS})"
    )
    parser.add_argument(
        "--threads",
        type=int,
        default=1,
        help="torch CPU threads (default: 1, which reproduces the shipped weights exactly)",
    )
    parser.add_argument("--list", action="store_true", help="list the recipes and exit")
    args = parser.parse_args(argv)
    try:
        recipes = select(args.patterns)
    except ValueError as error:
        parser.error(str(error))
    if args.list:
        for recipe in recipes:
            print(f"{recipe.name:32s} {recipe.description}")
        return
    torch.set_num_threads(args.threads)
    start = time.perf_counter()
    cards = []
    for recipe in tqdm(recipes, desc="zoo", unit="model"):
        model, card = train(recipe)
        save(model, card, args.out)
        cards.append(card)
        tqdm.write(
            f"{card['name']}: accuracy {100 * card['accuracy']:.2f}% in {card['train_seconds']:.0f} s"
        )
    size = sum((args.out / f"{c['name']}.pt").stat().st_size for c in cards)
    print()
    print(summary(cards))
    print(
        f"\n{len(cards)} models in {time.perf_counter() - start:.0f} s; weights {size / 2**20:.2f} MiB in {args.out}"
    )


if __name__ == "__main__":
    main()
