"""The controls of an explorer: :func:`menu`, :func:`slider` and what each control offers.

* :class:`Choices`: the values of one control and how it is shown (menu, slider, or left to
  :class:`Control` to infer), with its ``shown_when`` condition; made by :func:`menu` and
  :func:`slider`.
* :class:`Control`: one parameter of an explorer, its values under distinct labels and its
  kind: numbers (plain, or under labels: quantities) slide, text and integers under names
  (indices of images, classes: a choice among things) get a menu.
"""

from __future__ import annotations

import numbers
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

MENU, SLIDER = "menu", "slider"


class Choices:
    """The values of one control and how it is shown; made by :func:`menu` and :func:`slider`."""

    def __init__(self, values, kind: str | None, shown_when=None):
        if kind not in (None, MENU, SLIDER):
            raise ValueError(f"kind must be 'menu', 'slider' or None, got {kind!r}")
        if shown_when is not None and not (
            isinstance(shown_when, Mapping) and len(shown_when) > 0
        ):
            raise ValueError(
                "shown_when must be a non-empty dict: control name -> the labels (or values) "
                f"of that control for which this one is shown, got {shown_when!r}"
            )
        self.values = values
        self.kind = kind
        self.shown_when = dict(shown_when) if shown_when is not None else {}

    def __repr__(self) -> str:
        return (
            f"{self.kind or 'control'}({self.values!r}, shown_when={self.shown_when!r})"
        )


def menu(values, *, shown_when: Mapping[str, Sequence] | None = None) -> Choices:
    """A control shown as a menu (``<select>``, a Dropdown), whatever its values are.

    ``values``: a list of values or of ``(label, value)`` pairs, as for :func:`explorer`.
    ``shown_when``: show the control only for some choices of controls listed before it, as
    ``{"preset": ["recipe", "LRP-eps"]}`` (labels as shown, or the values themselves); where it
    is hidden the picture is drawn with its first value.
    """
    return Choices(values, MENU, shown_when)


def slider(values, *, shown_when: Mapping[str, Sequence] | None = None) -> Choices:
    """A control shown as a slider over its values in order (labels shown beside it).

    ``values`` and ``shown_when`` as for :func:`menu`.
    """
    return Choices(values, SLIDER, shown_when)


class Control:
    """One parameter of an explorer: its name, values, labels, kind (menu or slider), condition."""

    def __init__(self, name: str, options):
        if not isinstance(name, str) or not name.isidentifier():
            raise ValueError(
                f"control names must be valid Python identifiers (they become keyword "
                f"arguments of render), got {name!r}"
            )
        spec = options if isinstance(options, Choices) else Choices(options, None)
        options = spec.values
        if isinstance(options, (str, bytes, Mapping)) or not isinstance(
            options, Iterable
        ):
            raise ValueError(
                f"control {name!r} needs a non-empty list of values, got {options!r}"
            )
        given = list(options)  # lists, tuples, ranges, numpy arrays
        pairs = [self._as_pair(option) for option in given]
        if not pairs:
            raise ValueError(
                f"control {name!r} needs a non-empty list of values, got {options!r}"
            )
        self.name = name
        self.labels = [label for label, _ in pairs]
        self.values = [value for _, value in pairs]
        if len(set(self.labels)) != len(self.labels):
            raise ValueError(
                f"control {name!r} shows the same label twice: {self.labels}; "
                f"give (label, value) pairs with distinct labels"
            )
        self.numeric = all(_is_number(v) for v in self.values)
        labelled = any(self._is_labelled(option) for option in given)
        indices = all(isinstance(v, numbers.Integral) for v in self.values)
        # quantities (plain numbers, or numbers under labels) slide; text, objects and
        # integers under names (indices of images, classes) are a choice among things
        if spec.kind is not None:
            self.kind = spec.kind
        elif self.numeric and not (labelled and indices):
            self.kind = SLIDER
        else:
            self.kind = MENU
        self.shown_when = spec.shown_when

    @staticmethod
    def _is_labelled(option) -> bool:
        return (
            isinstance(option, tuple)
            and len(option) == 2
            and isinstance(option[0], str)
        )

    @classmethod
    def _as_pair(cls, option) -> tuple[str, Any]:
        """A (label, value) pair as given, or a plain value labelled by itself (numbers as %g)."""
        if cls._is_labelled(option):
            return option
        if _is_number(option):
            return f"{option:g}", option
        return str(option), option

    def index_of(self, wanted) -> int:
        """The index of a label, or else of a value equal to ``wanted``; ValueError if neither."""
        if isinstance(wanted, str) and wanted in self.labels:
            return self.labels.index(wanted)
        for k, value in enumerate(self.values):
            try:
                if type(value) is type(wanted) and bool(value == wanted):
                    return k
            except (TypeError, ValueError, RuntimeError):  # tensors, arrays
                continue
        raise ValueError(
            f"control {self.name!r} has no label or value {wanted!r}; its labels are "
            f"{self.labels}"
        )

    def __len__(self) -> int:
        return len(self.values)


def _is_number(value) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)
