"""Checkers for chapter 4, gradients: a saliency map by hand, and token contributions of a sentence.

* :func:`check_saliency_map`: d f_target / d x with autograd, pooled over the colour channels by
  the largest absolute value (Simonyan et al., 2014); the reference is
  ``xl.aggregate(xl.saliency(...), "max_abs")``.
* :func:`check_token_contributions`: Gradient x Input over a text model's embeddings, summed over
  the embedding dimension, one number per token; the reference is
  :func:`xai_lib.text.token_attributions`.
"""

from __future__ import annotations

import torch
from torch import nn

from .._core.targets import gradient
from ..methods.aggregation import aggregate
from ..methods.gradients import gradient_x_input, saliency, smoothgrad
from ..methods.text import token_attributions, token_scores
from ..models import TextClassifier
from .cases import random_cases, random_parameters
from .checks import check_function
from .feedback import Feedback, checker
from .table import Coded, Written


def _image_case(generator: torch.Generator) -> tuple:
    """A small ReLU CNN with max-pooling, a batch of RGB images and one target per image."""
    n = int(torch.randint(2, 4, (1,), generator=generator))
    model = random_parameters(
        nn.Sequential(
            nn.Conv2d(3, 4, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Flatten(),
            nn.Linear(4 * 4 * 4, 3),
        ),
        generator,
    )
    x = torch.rand(n, 3, 8, 8, generator=generator, dtype=torch.float64)
    target = torch.randint(0, 3, (n,), generator=generator)
    return model, x, target


def _reference_saliency_map(model, x, target):
    return aggregate(saliency(model, x, target), "max_abs")


@checker
def check_saliency_map(saliency_map) -> Feedback:
    """``saliency_map(model, x, target)``: for images x (N, C, H, W) and one target class per image,
    the gradient of model(x)[n, target[n]] with respect to x, pooled over channels by max |.|,
    shaped (N, 1, H, W)."""
    return check_function(
        saliency_map,
        _reference_saliency_map,
        random_cases(_image_case, seeds=(0, 1, 2)),
        name="saliency_map",
        forbid=(saliency, gradient_x_input, smoothgrad, gradient),
        rtol=1e-7,
        atol=1e-10,
        hint="make a copy of x that requires grad, pick each image's target output with "
        "output.gather(1, target[:, None]), backpropagate their sum (torch.autograd.grad), then take "
        "the absolute value of the gradient and its maximum over dim=1, keeping that dimension.",
    )


def _text_case(generator: torch.Generator) -> tuple:
    """A small TextClassifier with random weights and a batch of random token ids."""
    model = random_parameters(
        TextClassifier(vocab_size=20, classes=2, embed_dim=6, channels=5), generator
    )
    n, t = (int(v) for v in torch.randint(2, 6, (2,), generator=generator))
    tokens = torch.randint(1, 20, (n, t), generator=generator)
    target = int(torch.randint(0, 2, (1,), generator=generator))
    return model, tokens, target


def _reference_token_contributions(model, tokens, target):
    return token_attributions(
        model, tokens, target, method="gradient_x_input", how="sum"
    )


@checker
def check_token_contributions(token_contributions) -> Feedback:
    """``token_contributions(model, tokens, target)``: for a TextClassifier and token ids (N, T),
    Gradient x Input of model(...)[:, target] over the embeddings model.embed(tokens) (N, T, E),
    summed over the embedding dimension: one number per token, shaped (N, T)."""
    return check_function(
        token_contributions,
        _reference_token_contributions,
        random_cases(_text_case, seeds=(0, 1, 2)),
        name="token_contributions",
        forbid=(token_attributions, token_scores, gradient_x_input, saliency),
        rtol=1e-7,
        atol=1e-10,
        hint="differentiate with respect to the embeddings, not the token ids: e = model.embed(tokens)"
        ".detach().requires_grad_(), run model(e), take the gradient of the target column's sum, "
        "multiply it by e and sum over the last dimension.",
    )


#: The graded edition's table (see :mod:`xai_lib.exercises.table`): exercise label -> points,
#: the checker and the answer it grades, and the rubric of the written parts.
EXERCISES = {
    "ch04-saliency-map": Coded(
        check_saliency_map,
        "saliency_map",
        points=2,
        written=1,
        rubric="- 1 point: the images of a batch do not interact (eval mode), so the "
        "gradient of the sum of the target scores with respect to image n is that of image "
        "n's own score",
    ),
    "ch04-token-contributions": Coded(
        check_token_contributions,
        "token_contributions",
        points=2,
        written=1,
        rubric="- 1 point: the difference is the network's local bias: the biases of the "
        "active convolution units and of the output layer, which belong to no token",
    ),
    "ch04-relu-unit": Written(
        3,
        "- 1 point: (a) active: saliency w, Gradient x Input w ⊙ x; inactive: both zero "
        "(the gradient sees only the flat piece)\n"
        "- 1 point: (b) where the unit is active, Σ_i w_i x_i = w·x = f(x) - b\n"
        "- 1 point: (c) b = 0: the unit is then positively homogeneous of degree 1, and "
        "x·∇f(x) = f(x) (Euler's theorem)",
    ),
    "ch04-aggregation": Written(
        2,
        "- 1 point: (a) ∇f = (1, -1, 0): max_abs 1, sum 0, l2 √2, abs_sum 2; the signed sum "
        "says the pixel is ignored although two channels matter (they cancel)\n"
        "- 1 point: (b) x ⊙ ∇f = (0.5, -0.5, 0): max_abs 0.5, sum 0, l2 ≈ 0.71, abs_sum 1; "
        "here the sum is right: the pixel was looked at but contributed nothing to f = 0",
    ),
}
