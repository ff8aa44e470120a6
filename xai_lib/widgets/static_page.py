"""The static page of an explorer: every picture pre-drawn, HTML controls and a swap script.

In the rendered HTML book no frontend talks to the kernel, so :func:`static_html` draws every
combination up front and writes plain ``<select>`` / ``<input type=range>`` controls, each
distinct picture once (base64 PNG), and a few lines of inline JavaScript (``_SWAP_SCRIPT``)
that show the picture of the chosen combination and hide the controls whose ``shown_when``
fails. Since all pictures are drawn anyway, it checks that every shown control changes the
picture: it raises in the book build and warns elsewhere. A page over
:data:`MAX_PAGE_BYTES` draws a warning.
"""

from __future__ import annotations

import base64
import html
import json
import uuid
import warnings
from typing import TYPE_CHECKING

from .._core import in_book_build
from .controls import SLIDER, Control

if TYPE_CHECKING:
    from .explorers import Explorer

#: A static page larger than this (bytes) draws a warning: offer fewer choices or smaller figures.
MAX_PAGE_BYTES = 4_000_000


def static_html(explorer: Explorer) -> str:
    """Every combination pre-drawn, HTML controls and an inline script that swaps the picture."""
    combos = explorer.combinations()
    images: list[str] = []
    # combination (flat index) -> position in images; equal pictures are stored once
    order: list[int] = []
    seen: dict[bytes, int] = {}
    for combo in combos:
        png = explorer.png(combo)
        if png not in seen:
            seen[png] = len(images)
            images.append(base64.b64encode(png).decode("ascii"))
        order.append(seen[png])
    _report_inert_controls(explorer)
    uid = "xl-explorer-" + uuid.uuid4().hex[:12]
    first = combos[0]
    data = {
        "names": [c.name for c in explorer.controls],
        "labels": [c.labels for c in explorer.controls],
        "sizes": [len(c) for c in explorer.controls],
        "conditions": [
            [[j, sorted(allowed)] for j, allowed in conditions]
            for conditions in explorer._conditions
        ],
        "order": order,
        "images": images,
    }
    shown = explorer.shown(first)
    controls = "".join(
        _html_control(k, c, shown[k]) for k, c in enumerate(explorer.controls)
    )
    title = (
        f'<div class="xl-explorer-title" style="font-weight:600;margin-bottom:0.3em">'
        f"{html.escape(explorer.title)}</div>"
        if explorer.title
        else ""
    )
    caption = (
        f'<div class="xl-explorer-caption" style="margin-top:0.3em">'
        f"{html.escape(explorer.caption)}</div>"
        if explorer.caption
        else ""
    )
    note = (
        f"Pre-drawn in the book: {len(combos)} choices. Run the notebook (Jupyter or Colab) "
        f"for the live version."
    )
    page = (
        f'<div class="xl-explorer" id="{uid}" style="margin:0.5em 0 1em 0">{title}'
        f'<div class="xl-explorer-controls" style="display:flex;flex-wrap:wrap;'
        f'gap:0.4em 1.5em;align-items:center;margin-bottom:0.4em">{controls}</div>'
        f'<img class="xl-explorer-image" style="display:block;width:100%;height:auto" '
        f'alt="{html.escape(explorer.describe(first))}" '
        f'src="data:image/png;base64,{images[order[0]]}">{caption}'
        f'<div class="xl-explorer-note" style="font-size:0.8em;opacity:0.7">{note}</div>'
        f"<script>{_SWAP_SCRIPT % (json.dumps(uid), _script_json(data))}</script></div>"
    )
    if len(page) > MAX_PAGE_BYTES:
        warnings.warn(
            f"explorer {explorer.title or ''!r}: its static page holds {len(page) / 1e6:.1f} MB "
            f"of pictures, more than {MAX_PAGE_BYTES / 1e6:.0f} MB; offer fewer choices or "
            f"draw smaller figures",
            stacklevel=3,
        )
    return page


def _report_inert_controls(explorer: Explorer) -> None:
    problems = explorer.inert_controls()
    if not problems:
        return
    message = (
        f"explorer {explorer.title or ''!r}: every control must change the picture wherever "
        f"it is shown, but " + "; ".join(problems) + ". Draw what the control changes, "
        "or show it only where it acts (xl.widgets.slider(..., shown_when=...))."
    )
    if in_book_build():
        raise ValueError(message)
    warnings.warn(message, stacklevel=4)


def _html_control(k: int, control: Control, shown: bool) -> str:
    name = html.escape(control.name)
    display = "flex" if shown else "none"
    box = f'<label style="display:{display};align-items:center;gap:0.4em">{name}'
    if control.kind == SLIDER:
        return (
            f'{box}<input type="range" data-control="{k}" min="0" '
            f'max="{len(control) - 1}" step="1" value="0" aria-label="{name}">'
            f"<output>{html.escape(control.labels[0])}</output></label>"
        )
    options = "".join(
        f'<option value="{i}">{html.escape(label)}</option>'
        for i, label in enumerate(control.labels)
    )
    return (
        f'{box}<select data-control="{k}" aria-label="{name}">{options}</select>'
        f"</label>"
    )


def _script_json(data) -> str:
    """JSON safe inside a <script> element (no '</' that could close it)."""
    return json.dumps(data, separators=(",", ":")).replace("</", "<\\/")


# The static explorer's behaviour: read every control (a hidden one counts as its first value),
# hide the controls whose condition fails, and show the picture of that combination.
_SWAP_SCRIPT = """(function () {
  var root = document.getElementById(%s), data = %s;
  var controls = root.querySelectorAll("[data-control]");
  var img = root.querySelector("img.xl-explorer-image");
  function show() {
    var used = [], flat = 0, words = [];
    controls.forEach(function (c, k) {
      var visible = data.conditions[k].every(function (rule) {
        return rule[1].indexOf(used[rule[0]]) >= 0;
      });
      c.parentNode.style.display = visible ? "flex" : "none";
      var i = visible ? parseInt(c.value, 10) : 0;
      used.push(i);
      flat = flat * data.sizes[k] + i;
      if (visible) { words.push(data.names[k] + "=" + data.labels[k][i]); }
      var out = c.parentNode.querySelector("output");
      if (out) { out.textContent = data.labels[k][parseInt(c.value, 10)]; }
    });
    img.src = "data:image/png;base64," + data.images[data.order[flat]];
    img.alt = words.join(", ");
  }
  controls.forEach(function (c) {
    c.addEventListener("input", show);
    c.addEventListener("change", show);
  });
  show();
})();"""
