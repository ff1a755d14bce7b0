"""Line breaking for Chinese text mixed with Latin words and numbers, for any width function.

Rules (the common subset of GB/T 15834 typesetting practice and JIS X 4051 kinsoku):
- a break may fall between any two CJK characters;
- closing punctuation （，。、；：？！）》」』】 …) never starts a line and opening punctuation
  （（《「『【 …) never ends one: they stick to their neighbour;
- a Latin word or number ("C30", "0.10g", "50009-2012", "W/(m²·K)") is one unit, and a standard's
  code stays with its number ("GB 50009-2012", "DG/TJ 08-205-2015") when the pair fits on a line;
- a unit wider than the line (a long URL) is cut by characters: text never exceeds the width.
Must not: know fonts or DXF (the caller passes `measure`, the width of a string in its units).
"""

from __future__ import annotations

import re
from collections.abc import Callable

Measure = Callable[[str], float]

CLOSING = set("，。、；：？！）》」』】〕〉”’・…—％‰°℃,.;:?!)]}%")
OPENING = set("（《「『【〔〈“‘([{")

# A Latin/number run: letters, digits and the joiners that occur inside codes, values and units.
_WORD = re.compile(r"[A-Za-z0-9\u00b2\u00b3\u00b5\u00b7\u2160-\u217f_.\-+/=×~@#&*<>≤≥±φ′″]+")
# "GB 50009", "JGJ 3", "DG/TJ 08": an upper-case code followed by a space and a number.
_CODE_SPACE = re.compile(r"(?<=[A-Z]) (?=[0-9])")


def units(text: str) -> list[str]:
    """The unbreakable pieces of `text`, in order; joining them gives `text` back."""
    pieces: list[str] = []
    i = 0
    while i < len(text):
        match = _WORD.match(text, i)
        if match:
            pieces.append(match.group())
            i = match.end()
        else:
            pieces.append(text[i])
            i += 1
    return _glue(pieces)


def _glue(pieces: list[str]) -> list[str]:
    """Attach closing punctuation to the unit before it, opening punctuation to the unit after it,
    and a standard code's space to both sides."""
    out: list[str] = []
    pending_open = ""
    for piece in pieces:
        if piece in OPENING:
            pending_open += piece
            continue
        piece = pending_open + piece
        pending_open = ""
        closing = piece[0] in CLOSING
        code_space = piece == " " and _CODE_SPACE.search(out[-1] + " 0") if out else False
        code_number = out and out[-1].endswith(" ") and _CODE_SPACE.search(out[-1] + piece[:1])
        if out and (closing or code_space or code_number):
            out[-1] += piece
        else:
            out.append(piece)
    if pending_open:
        out.append(pending_open)
    return out


def wrap(text: str, width: float, measure: Measure, first_indent: float = 0.0) -> list[str]:
    """Greedy line breaking of one paragraph into lines no wider than `width` (by `measure`); the
    first line is `first_indent` narrower.

    Spaces at a line start or end are dropped; an empty text gives one empty line."""
    if width <= 0 or not 0 <= first_indent < width:
        raise ValueError("width must be positive and larger than the indent")
    lines: list[str] = []
    line, line_width = "", first_indent
    for unit in units(text):
        if not line:
            unit = unit.lstrip()
            if not unit:
                continue
        unit_width = measure(unit)
        if line and line_width + measure(unit.rstrip()) > width:
            lines.append(line.rstrip())
            unit = unit.lstrip()
            line, line_width = "", 0.0
            if not unit:
                continue
            unit_width = measure(unit)
        if unit_width > width and measure(unit.rstrip()) > width:  # longer than a line: cut it
            for char in unit:
                char_width = measure(char)
                if line and line_width + char_width > width:
                    carry = ""  # kinsoku inside a cut unit too: move characters down with it
                    while len(line) > 1 and ((carry or char)[0] in CLOSING or line[-1] in OPENING):
                        carry, line = line[-1] + carry, line[:-1]
                    lines.append(line.rstrip())
                    line, line_width = carry, measure(carry)
                if line or not char.isspace():
                    line += char
                    line_width += char_width
            continue
        line += unit
        line_width += unit_width
    if line.strip() or not lines:
        lines.append(line.rstrip())
    return lines
