"""Token attributions drawn over the words: each word on a background of the diverging colour
map of :mod:`xai_lib.viz` (red: evidence for the class, blue: against, white: nothing).

* :func:`tokens_html`: a sentence as HTML for a notebook;
* :func:`draw_tokens`: the same drawn into a matplotlib axes; :func:`sentence_width` gives the
  width that aligns several drawn sentences.
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence

import torch


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

    from .maps import SIGNED_CMAP

    return colormaps[SIGNED_CMAP](0.5 + 0.5 * max(-1.0, min(1.0, value / limit)))


def _colour_scale(limit: float, signed: bool):
    """The ScalarMappable of the colours :func:`_colour` gives: -limit..limit, or its upper half 0..limit."""
    from matplotlib import colormaps
    from matplotlib.cm import ScalarMappable
    from matplotlib.colors import ListedColormap, Normalize

    from .maps import SIGNED_CMAP

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
