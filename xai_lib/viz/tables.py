"""Tabular results as tables: one HTML ``<table>`` per result, in Jupyter, Colab and the book.

:func:`table` takes rows (a list of dicts, one per row), columns (a dict of lists) or a
pandas DataFrame and returns a pandas ``Styler`` with the numbers formatted, which every
notebook front end and the rendered book show as one table. pandas is imported here, on
first use.
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping, Sequence


def table(
    data,
    *,
    index: str | None = None,
    formats: str | Mapping[str, str] = "{:.3f}",
    caption: str | None = None,
):
    """A table of results, ready to display: a pandas Styler of ``data``.

    ``data``: a list of dicts (one per row, keys are column names), a dict of columns
    (name -> list of values) or a DataFrame. ``index``: a column to use as the row labels.
    ``formats``: a format for every non-integer number (default three decimals), or a dict
    column -> format (e.g. ``{"accuracy": "{:.1%}", "EF": "{:.4f}"}``) for those columns,
    other numbers keeping the default. Text and integers are shown as they are.
    ``caption`` is shown above the table. The table has one header row: the ``index``
    column's name heads the row labels; without ``index`` the rows are unlabelled (a
    DataFrame keeps its own index, unless that is the plain range 0, 1, 2, ...).
    """
    import pandas as pd

    if isinstance(data, pd.DataFrame):
        frame = data.copy()
    elif isinstance(data, Mapping):
        frame = pd.DataFrame(dict(data))
    elif isinstance(data, Sequence) and all(isinstance(r, Mapping) for r in data):
        frame = pd.DataFrame(list(data))
    else:
        raise ValueError(
            "data must be a list of dicts (rows), a dict of columns or a DataFrame, "
            f"got {type(data).__name__}"
        )
    if frame.empty:
        raise ValueError("data holds no rows")
    if index is not None:
        if index not in frame.columns:
            raise ValueError(f"index {index!r} is not a column: {list(frame.columns)}")
        frame = frame.set_index(index)
        # the label column's name heads its column, on the one header row of the table
        frame.columns.name, frame.index.name = frame.index.name, None
    default = formats if isinstance(formats, str) else "{:.3f}"
    chosen = {} if isinstance(formats, str) else dict(formats)
    unknown = set(chosen) - set(frame.columns)
    if unknown:
        raise ValueError(f"formats names columns the table lacks: {sorted(unknown)}")

    def formatter(column):
        fmt = chosen.get(column, default)

        def show(value):
            if isinstance(value, bool) or not isinstance(value, numbers.Number):
                return str(value)
            if isinstance(value, numbers.Integral) and column not in chosen:
                return f"{value:,}" if abs(value) >= 10_000 else str(value)
            return fmt.format(value)

        return show

    styler = frame.style.format({c: formatter(c) for c in frame.columns})
    if index is None and isinstance(frame.index, pd.RangeIndex):
        # row numbers 0, 1, 2 say nothing to a reader
        styler = styler.hide(axis="index")
    if caption:
        styler = styler.set_caption(caption)
    return styler
