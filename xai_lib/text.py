"""Token attributions: explain a text model's prediction word by word, and show it in colour.

A text model reads token ids (N, T) through an embedding layer. Ids cannot be differentiated,
so the gradient methods attribute over the embeddings (N, T, E), the model's first float
input, and each token's E numbers are then pooled into one score per token, exactly as the
channels of a pixel are pooled into one value per pixel (:func:`xai_lib.aggregation.aggregate`):

* ``"sum"`` (signed): for Gradient x Input, sum_e x_te d f / d x_te is the token's term of the
  first-order Taylor expansion of f at the all-zero ("all padding") input, so the per-token
  scores add up like the per-feature ones;
* ``"l2"``, ``"max_abs"``, ``"abs_sum"`` (unsigned): how strongly the output reacts to the
  token's embedding, the usual choice for plain saliency, whose signed sum over E would be the
  derivative along the arbitrary all-ones direction of the embedding space.

What is inside:

* :func:`token_scores`: an (N, T, E) attribution -> (N, T) scores;
* :func:`token_attributions`: embed the tokens, run any attribution method of ``xl.METHODS`` on
  the embeddings, pool -> (N, T);
* :func:`tokens_html` and :func:`draw_tokens`: a sentence with each word on a background of the
  diverging colour map of :mod:`xai_lib.viz` (red: evidence for the class, blue: against, white:
  nothing), as HTML for a notebook or drawn into a matplotlib axes. :func:`sentence_width` gives
  the width that aligns several drawn sentences.

Following the course slides' "I am really happy" example (sources/004) and the token
attributions of Integrated Gradients (Sundararajan, Taly and Yan, 2017).
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from typing import Callable

import torch
from torch import nn

from ._core import check_choice, check_input, check_model, get_method
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
    with torch.no_grad():
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


def sentence_width(sentences: Sequence[Sequence[str]]) -> int:
    """The ``width`` of :func:`draw_tokens` that fits the longest of these sentences (lists of words)."""
    return max(
        (sum(len(w) for w in words) + len(words) + 1 for words in sentences), default=1
    )


def _scores_for(words: Sequence[str], scores) -> list:
    words = list(words)
    if not all(isinstance(w, str) for w in words):
        raise ValueError("words must be a sequence of strings")
    values = torch.as_tensor(scores, dtype=torch.float64).detach().cpu().flatten()
    if values.numel() != len(words):
        raise ValueError(
            f"one score per word is needed: {len(words)} words, {values.numel()} scores"
        )
    if not torch.isfinite(values).all():
        raise ValueError("scores contain NaN or infinite values")
    return values.tolist()


def _limit(values: Sequence[float], limit: float | None) -> float:
    """The colour scale's half-width: ``limit`` if given, else the largest |score| (never zero)."""
    if limit is not None:
        if (
            isinstance(limit, bool)
            or not isinstance(limit, (int, float))
            or not math.isfinite(limit)
            or limit <= 0
        ):
            raise ValueError(f"limit must be a finite number > 0, got {limit!r}")
        return float(limit)
    largest = max((abs(v) for v in values), default=0.0)
    return largest if largest > 0 else 1.0


def _colour(value: float, limit: float):
    """An RGBA tuple of the book's diverging colour map (white at 0), scores beyond +-limit clipped."""
    from matplotlib import colormaps

    from .viz import SIGNED_CMAP

    return colormaps[SIGNED_CMAP](0.5 + 0.5 * max(-1.0, min(1.0, value / limit)))


def _colour_scale(limit: float, signed: bool):
    """The ScalarMappable of the colours :func:`_colour` gives: -limit..limit, or its upper half 0..limit."""
    from matplotlib import colormaps
    from matplotlib.cm import ScalarMappable
    from matplotlib.colors import ListedColormap, Normalize

    from .viz import SIGNED_CMAP

    if signed:
        return ScalarMappable(norm=Normalize(-limit, limit), cmap=SIGNED_CMAP)
    upper = ListedColormap(
        colormaps[SIGNED_CMAP](torch.linspace(0.5, 1.0, 128).tolist())
    )  # white to red
    return ScalarMappable(norm=Normalize(0.0, limit), cmap=upper)


def _text_colour(background) -> str:
    """Black on light backgrounds, white on dark ones (perceived luminance)."""
    r, g, b = background[:3]
    return "black" if 0.299 * r + 0.587 * g + 0.114 * b > 0.5 else "white"


def tokens_html(words: Sequence[str], scores, *, limit: float | None = None) -> str:
    """The words as HTML spans on backgrounds coloured by their scores (hover shows the score).

    ``limit``: the score drawn at full colour (default: the largest |score| of this sentence);
    give the same limit to several sentences to compare them.
    """
    values = _scores_for(words, scores)
    scale = _limit(values, limit)
    spans = []
    for word, value in zip(words, values):
        background = _colour(value, scale)
        rgb = ",".join(str(round(255 * c)) for c in background[:3])
        spans.append(
            f'<span title="{value:+.4g}" style="background:rgb({rgb});color:{_text_colour(background)};'
            f'padding:0.1em 0.3em;margin:0 0.1em;border-radius:0.25em">{html.escape(word)}</span>'
        )
    return (
        '<div class="xl-tokens" style="line-height:2;font-family:monospace">'
        + "".join(spans)
        + "</div>"
    )


def draw_tokens(
    words: Sequence[str],
    scores,
    ax=None,
    *,
    limit: float | None = None,
    signed: bool | None = None,
    width: int | None = None,
    title: str | None = None,
    fontsize: float = 11,
):
    """Draw the words in one line of ``ax``, each on a box coloured by its score.

    Returns a ScalarMappable with the colour scale, for ``fig.colorbar(mappable, ax=...)``: from
    -limit to limit, or from 0 to limit when ``signed`` is False (None: signed iff a score is
    negative). ``limit`` as in :func:`tokens_html`. The words are set in a monospace font and laid
    out by their number of characters: the axes holds ``width`` characters (default: this
    sentence's, so it fills the line); give several sentences the same width to align them.
    """
    import matplotlib.pyplot as plt

    values = _scores_for(words, scores)
    scale = _limit(values, limit)
    signed = any(v < 0 for v in values) if signed is None else bool(signed)
    ax = ax or plt.gca()
    characters = (
        sum(len(w) for w in words) + len(words) + 1
    )  # a space around every word
    if width is not None:
        if isinstance(width, bool) or not isinstance(width, int) or width < characters:
            raise ValueError(
                f"width must be an integer >= the sentence's {characters} characters, got {width!r}"
            )
        characters = width
    position = 1.0
    for word, value in zip(words, values):
        background = _colour(value, scale)
        ax.text(
            (position + len(word) / 2) / characters,
            0.5,
            word,
            ha="center",
            va="center",
            family="monospace",
            fontsize=fontsize,
            color=_text_colour(background),
            bbox={
                "boxstyle": "round,pad=0.3",
                "facecolor": background,
                "edgecolor": "0.6",
                "linewidth": 0.5,
            },
        )
        position += len(word) + 1
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.axis("off")
    if title:
        ax.set_title(title, fontsize=9, loc="left")
    return _colour_scale(scale, signed)
