"""The MyST Markdown the chapters are written in, read just far enough for the course tools.

* :func:`split_markdown`: a Markdown cell as plain-text chunks and top-level :class:`Directive`
  blocks (```` ```{name} argument ```` or ``:::{name}`` fences, their ``:key: value`` options
  and body), in order; nested fences stay inside their parent's body.
* :func:`directives`: the directives of a notebook cell ([] for a code cell).
* :func:`exercise_markdown`: an exercise directive as plain Markdown that reads well in
  Jupyter and Colab, which do not render MyST directives.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

# An opening MyST directive fence: ```{name} argument  or  :::{name} argument
_FENCE_OPEN = re.compile(
    r"^ {0,3}(?P<fence>`{3,}|:{3,})\{(?P<name>[\w-]+)\}\s*(?P<argument>.*?)\s*$"
)
_OPTION = re.compile(r"^:(?P<key>[\w-]+):\s*(?P<value>.*?)\s*$")


@dataclass
class Directive:
    """One directive block of a Markdown cell: name, argument, ``:key: value`` options and body."""

    name: str
    argument: str
    options: dict = field(default_factory=dict)
    body: str = ""
    text: str = ""  # the whole block as written


def split_markdown(source: str) -> list[str | Directive]:
    """A Markdown cell as a list of plain-text chunks and top-level :class:`Directive` blocks, in order."""
    lines = source.split("\n")
    parts: list[str | Directive] = []
    plain: list[str] = []
    i = 0
    while i < len(lines):
        opening = _FENCE_OPEN.match(lines[i])
        if not opening:
            plain.append(lines[i])
            i += 1
            continue
        fence = opening["fence"]
        end = i + 1
        # the closing fence: the same character, at least as long, nothing else on the line
        while end < len(lines) and not re.fullmatch(
            rf" {{0,3}}{re.escape(fence[0])}{{{len(fence)},}}\s*", lines[end]
        ):
            end += 1
        inner = lines[i + 1 : end]
        options = {}
        while inner and _OPTION.match(inner[0]):
            option = _OPTION.match(inner.pop(0))
            if option:
                options[option["key"]] = option["value"]
        if plain:
            parts.append("\n".join(plain))
            plain = []
        parts.append(
            Directive(
                opening["name"],
                opening["argument"],
                options,
                "\n".join(inner).strip("\n"),
                "\n".join(lines[i : end + 1]),
            )
        )
        i = end + 1
    if plain:
        parts.append("\n".join(plain))
    return parts


def directives(cell) -> list[Directive]:
    """The top-level directives of a notebook cell; [] for a code cell."""
    if cell.cell_type != "markdown":
        return []
    return [p for p in split_markdown(cell.source) if isinstance(p, Directive)]


def exercise_markdown(d: Directive) -> str:
    """An exercise directive as Markdown that reads well in Jupyter and Colab."""
    heading = f"**Exercise: {d.argument}**" if d.argument else "**Exercise**"
    # a blank line: the text below is a new paragraph
    return heading + "\n" + (f"\n{d.body}" if d.body else "")
