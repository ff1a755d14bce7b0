"""Text measuring and fitting for drawing sheets, with the same fonts ezdxf renders with.

A TEXT's height is its cap height (ezdxf's convention); a CJK glyph is about 1.36 × that wide and
reaches about 1.2 × above the baseline, so line pitches below are multiples of the height chosen to
keep glyph boxes from touching. `fit` wraps a value into a box, shrinking the height step by step
down to a floor (GB/T 50001 §5.0.4: no Chinese text under 3.5 mm in notes; title-block fields may
go to 2.5 mm, the minimum for letters and digits), and only as a last resort cuts the last line
with "…" (a value that long has no place in a title block; the cell never overflows).
Must not: create DXF entities.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from docgen import cjk, fonts

SONG = "HZ_SONG"  # DXF text style → simsun.ttc (宋体): notes and values
HEI = "HZ_HEI"  # DXF text style → simhei.ttf (黑体): titles, headings, labels
STYLE_FONTS = {SONG: fonts.SONG, HEI: fonts.HEI}

GLYPH_TOP = 1.25  # × height: top of CJK glyphs above the baseline, with a little air
GLYPH_BOTTOM = 0.36  # × height: below the baseline (Latin descenders, CJK glyph bottoms)
LINE_PITCH = 1.8  # × height between baselines of wrapped lines
SHRINK_STEP = 0.25  # mm


@functools.cache
def _char_width(style: str, char: str) -> float:
    """Advance width of one character at cap height 1 (widths are additive: no kerning in ezdxf)."""
    from ezdxf.fonts import fonts as ezdxf_fonts

    fonts.setup_ezdxf()
    font = ezdxf_fonts.make_font(STYLE_FONTS[style], 1.0)
    return float(font.text_width(char))


def width(text: str, style: str, height: float) -> float:
    return sum(_char_width(style, char) for char in text) * height


def wrap(text: str, style: str, height: float, box_width: float, first_indent: float = 0.0) -> list[str]:
    return cjk.wrap(text, box_width, lambda s: width(s, style, height), first_indent)


@dataclass(frozen=True)
class Fitted:
    height: float  # text height chosen
    lines: list[str]
    pitch: float  # distance between baselines

    @property
    def block_height(self) -> float:
        """From the top of the first line's glyphs to the bottom of the last line's."""
        return (len(self.lines) - 1) * self.pitch + (GLYPH_TOP + GLYPH_BOTTOM) * self.height


def fit(
    text: str, style: str, box_width: float, box_height: float, largest: float, smallest: float
) -> Fitted:
    """The largest height in [smallest, largest] at which `text` wraps into the box."""
    height = largest
    while True:
        lines = wrap(text, style, height, box_width)
        fitted = Fitted(height, lines, height * LINE_PITCH)
        if fitted.block_height <= box_height or height - SHRINK_STEP < smallest - 1e-9:
            break
        height -= SHRINK_STEP
    if fitted.block_height <= box_height:
        return fitted
    room = max(1, int((box_height - (GLYPH_TOP + GLYPH_BOTTOM) * height) // fitted.pitch) + 1)
    kept = lines[:room]
    last = kept[-1]
    while last and width(last + "…", style, height) > box_width:
        last = last[:-1]
    return Fitted(height, [*kept[:-1], last + "…"], fitted.pitch)
