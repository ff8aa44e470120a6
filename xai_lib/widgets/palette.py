"""How an explorer's pictures are stored: a PNG with a 256-colour palette where that keeps it faithful.

Plots hold few colours, so a palette of :data:`PALETTE_COLOURS` colours (median cut, no
dither) keeps them to within :data:`PALETTE_TOLERANCE` levels at a third to a half of the
size; photographs and smooth shades stay in full colour. The static page holds every
picture, so this keeps a chapter with a few explorers light.
"""

from __future__ import annotations

import io

#: Colours of the palette a picture is stored with (PNG, no dithering), when it is faithful.
PALETTE_COLOURS = 256

#: A palette is used only if it changes the pixels by at most this much on average (levels of
#: 255 per channel): plots and the shapes' textures pass, photographs are kept in full colour.
PALETTE_TOLERANCE = 2.0


def _palette_png(png: bytes) -> bytes:
    """The picture as a small PNG: with a palette when that keeps it faithful, else in RGB.

    Plots hold few colours: a palette of :data:`PALETTE_COLOURS` colours (median cut, no
    dither) reproduces them to within :data:`PALETTE_TOLERANCE` levels of 255 on average, at
    a third to a half of the size. Pictures it would change more (photographs, many smooth
    shades) are stored in full colour, without the alpha channel. Transparency is laid on
    white first.
    """
    import numpy as np
    from PIL import Image  # matplotlib's own dependency

    drawn: Image.Image = Image.open(io.BytesIO(png))
    if drawn.mode in ("RGBA", "LA", "P"):
        white = Image.new("RGBA", drawn.size, (255, 255, 255, 255))
        drawn = Image.alpha_composite(white, drawn.convert("RGBA"))
    picture = drawn.convert("RGB")
    palette = picture.quantize(
        colors=PALETTE_COLOURS,
        method=Image.Quantize.MEDIANCUT,
        dither=Image.Dither.NONE,
    )
    change = np.abs(
        np.asarray(palette.convert("RGB"), dtype=np.int16)
        - np.asarray(picture, dtype=np.int16)
    ).mean()
    faithful = change <= PALETTE_TOLERANCE
    out = io.BytesIO()
    (palette if faithful else picture).save(out, format="PNG", optimize=not faithful)
    return out.getvalue()
