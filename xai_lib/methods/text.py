"""Token attributions: explain a text model's prediction word by word.

A text model reads token ids (N, T) through an embedding layer. Ids cannot be differentiated,
so the gradient methods attribute over the embeddings (N, T, E), the model's first float
input, and each token's E numbers are then pooled into one score per token, exactly as the
channels of a pixel are pooled into one value per pixel (:func:`xai_lib.aggregate`):

* ``"sum"`` (signed): for Gradient x Input, sum_e x_te d f / d x_te is the token's term of the
  first-order Taylor expansion of f at the all-zero ("all padding") input, so the per-token
  scores add up like the per-feature ones;
* ``"l2"``, ``"max_abs"``, ``"abs_sum"`` (unsigned): how strongly the output reacts to the
  token's embedding, the usual choice for plain saliency, whose signed sum over E would be the
  derivative along the arbitrary all-ones direction of the embedding space.

* :func:`token_scores`: an (N, T, E) attribution -> (N, T) scores;
* :func:`token_attributions`: embed the tokens, run any attribution method of ``xl.METHODS`` on
  the embeddings, pool -> (N, T).

:mod:`xai_lib.viz` draws the scores over the words (``viz.tokens_html``, ``viz.draw_tokens``).
Following the token attributions of Integrated Gradients (Sundararajan, Taly and Yan, 2017).
"""

from __future__ import annotations

from typing import Callable

import torch
from torch import nn

from .._core import check_choice, check_input, check_model, get_method, preserved
from .aggregation import AGGREGATIONS, aggregate


def token_scores(attribution: torch.Tensor, how: str = "sum") -> torch.Tensor:
    """Pool an (N, T, E) attribution over the embedding dimension E -> (N, T).

    ``how`` is one of ``xl.aggregation.AGGREGATIONS``: "sum", "l2", "max_abs", "abs_sum".
    """
    check_input(attribution, "attribution")
    if attribution.dim() != 3:
        raise ValueError(
            f"attribution must have shape (N, T, E), got {tuple(attribution.shape)}"
        )
    check_choice(how, "how", AGGREGATIONS)
    # the embedding dimension plays the part of the image channels: (N, T, E) -> (N, E, T, 1)
    as_image = attribution.detach().permute(0, 2, 1)[..., None]
    return aggregate(as_image, how)[:, 0, :, 0]  # (N, 1, T, 1) -> (N, T)


def token_attributions(
    model: nn.Module,
    tokens: torch.Tensor,
    target=None,
    *,
    method="gradient_x_input",
    how: str = "sum",
    embed: Callable[[torch.Tensor], torch.Tensor] | None = None,
    **options,
) -> torch.Tensor:
    """One score per token, (N, T): ``method`` over the embeddings, pooled over E with ``how``.

    ``model`` must accept the float embeddings (N, T, E) as its input, as
    :class:`xai_lib.models.TextClassifier` does; ``embed`` maps token ids (N, T) to them
    (default: ``model.embed``). ``method`` is a name in ``xl.METHODS`` or a function with the
    common signature; ``target`` and ``options`` are passed on to it. Padding positions are
    scored like any other token (the model reads them too); drop them when showing a sentence.
    """
    check_model(model)
    if (
        not isinstance(tokens, torch.Tensor)
        or tokens.is_floating_point()
        or tokens.dim() != 2
    ):
        raise ValueError("tokens must be an integer tensor of token ids, shape (N, T)")
    method = get_method(method)
    check_choice(how, "how", AGGREGATIONS)
    if embed is None:
        embed = getattr(model, "embed", None)
        if not callable(embed):
            raise ValueError(
                "the model has no embed(tokens) method; pass embed=, a function from token ids "
                "(N, T) to embeddings (N, T, E)"
            )
    with preserved(model), torch.no_grad():  # eval mode, as every method runs the model
        embeddings = embed(tokens)
    if (
        not isinstance(embeddings, torch.Tensor)
        or embeddings.dim() != 3
        or embeddings.shape[:2] != tokens.shape
    ):
        raise ValueError(
            f"embed must map tokens (N, T) = {tuple(tokens.shape)} to embeddings (N, T, E), got "
            f"{tuple(embeddings.shape) if isinstance(embeddings, torch.Tensor) else type(embeddings).__name__}"
        )
    return token_scores(method(model, embeddings.detach(), target, **options), how)
