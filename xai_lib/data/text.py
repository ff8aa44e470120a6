"""Templated positive/negative sentences ("I am really happy", "this movie was not good") over
a fixed vocabulary, for token attributions; :func:`encode`, :func:`decode` and :func:`tokenize`
move between text and token ids.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import NamedTuple

import torch

from .._core import check_positive_int
from .splits import _split_indices

PAD, UNK = "<pad>", "<unk>"
PAD_ID, UNK_ID = 0, 1


class Sentences(NamedTuple):
    texts: list  # N strings
    tokens: torch.Tensor  # (N, T) long, padded with PAD_ID
    labels: torch.Tensor  # (N,) long: 0 negative, 1 positive


_PEOPLE = (("i", ("am", "feel", "was")), ("we", ("are", "feel", "were")))


_FEELINGS = {
    1: ("happy", "glad", "delighted", "excited", "cheerful"),
    0: ("sad", "angry", "upset", "unhappy", "miserable"),
}


_THINGS = (
    ("this movie", ("is", "was")),
    ("the food", ("is", "was")),
    ("the service", ("is", "was")),
    ("my day", ("is", "was")),
    ("the weather", ("is", "was")),
    ("this book", ("is", "was")),
    ("the hotel", ("is", "was")),
)


_QUALITIES = {
    1: (
        "good",
        "great",
        "wonderful",
        "excellent",
        "lovely",
        "amazing",
        "nice",
        "fantastic",
        "pleasant",
    ),
    0: (
        "bad",
        "terrible",
        "awful",
        "horrible",
        "boring",
        "poor",
        "disappointing",
        "dreadful",
        "ugly",
    ),
}


_INTENSIFIERS = ("", "really", "very", "quite", "so", "extremely", "truly")


# A negation flips the sentiment: "this movie was not good" is negative, "i am not sad" positive.
_NEGATIONS = ("", "not", "never")


def _templated():
    """Every sentence of the grammar, in a fixed order, with its label."""
    for groups, adjectives in ((_PEOPLE, _FEELINGS), (_THINGS, _QUALITIES)):
        for (subject, verbs), negation, intensifier, sentiment in itertools.product(
            groups, _NEGATIONS, _INTENSIFIERS, (1, 0)
        ):
            for verb, adjective in itertools.product(verbs, adjectives[sentiment]):
                words = (subject, verb, negation, intensifier, adjective)
                yield " ".join(w for w in words if w), sentiment ^ bool(negation)


def _vocabulary() -> tuple:
    words = {w for text, _ in _templated() for w in tokenize(text)}
    return (PAD, UNK, *sorted(words))


def tokenize(text: str) -> list:
    """Lower-case words split on whitespace."""
    if not isinstance(text, str):
        raise ValueError(f"text must be a string, got {type(text).__name__}")
    return text.lower().split()


#: Every word of the sentence grammar, with "<pad>" at 0 and "<unk>" at 1.
VOCABULARY = _vocabulary()


_WORD_ID = {w: i for i, w in enumerate(VOCABULARY)}


def encode(texts: Sequence[str], length: int | None = None) -> torch.Tensor:
    """Strings -> token ids (N, length), padded with PAD_ID; unknown words get UNK_ID.

    ``length=None``: the longest text's number of tokens. Longer texts are cut at ``length``.
    """
    if isinstance(texts, str):
        raise ValueError(
            "texts must be a sequence of strings, not one string (wrap it in a list)"
        )
    words = [tokenize(t) for t in texts]
    if not words:
        raise ValueError("texts is empty")
    length = (
        max(map(len, words)) if length is None else check_positive_int(length, "length")
    )
    tokens = torch.full((len(words), length), PAD_ID, dtype=torch.long)
    for row, sentence in enumerate(words):
        ids = [_WORD_ID.get(w, UNK_ID) for w in sentence[:length]]
        tokens[row, : len(ids)] = torch.tensor(ids, dtype=torch.long)
    return tokens


def decode(tokens: torch.Tensor) -> list:
    """Token ids (N, T) -> N lists of words, padding dropped."""
    if (
        not isinstance(tokens, torch.Tensor)
        or tokens.dim() != 2
        or tokens.is_floating_point()
    ):
        raise ValueError("tokens must be an integer tensor of shape (N, T)")
    if tokens.numel() and (tokens.min() < 0 or tokens.max() >= len(VOCABULARY)):
        raise ValueError(f"token ids must lie in [0, {len(VOCABULARY)})")
    return [[VOCABULARY[i] for i in row if i != PAD_ID] for row in tokens.tolist()]


def sentences(split: str = "all") -> Sentences:
    """The templated sentiment sentences -> Sentences(texts, tokens (N, T), labels (N,)).

    "all" holds every sentence of the grammar (labels balanced); "train" / "test" are the fixed
    split of :func:`train_test_split`. Tokens are padded to the longest sentence, so all
    splits share one length.
    """
    everything = list(_templated())
    index = _split_indices(len(everything), split)
    texts = [everything[i][0] for i in index.tolist()]
    labels = torch.tensor([everything[i][1] for i in index.tolist()], dtype=torch.long)
    length = max(len(tokenize(t)) for t, _ in everything)
    return Sentences(texts, encode(texts, length), labels)
