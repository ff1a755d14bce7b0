"""The multi-column layout engine of notes sheets: blocks (headings, paragraphs, list items, tables)
become items of known height that flow down the columns of as many sheets as needed.

Rules: one TEXT per wrapped line (ezdxf's MTEXT does not wrap CJK, and CAD programs disagree on
MTEXT wrapping anyway); a heading never ends a column (it keeps with what follows, chains included);
a table continued in a new column repeats its header row; space before an item is dropped at a
column top; the last sheet's columns are balanced (the smallest column height that still holds
its items, found by bisection), full sheets are filled top to bottom.
Must not: know what the notes say (`notes`) or draw the frame (`frame`).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from docgen.sheets import measure
from docgen.sheets.frame import NOTES, TABLES, Pen
from docgen.sheets.measure import HEI, SONG

BODY_H = 3.5  # notes text height (GB/T 50001 §5.0.4 minimum for Chinese)
HEADING_H = 5.0
CELL_PAD_X, CELL_PAD_Y = 1.2, 1.0
LW_TABLE_OUTLINE = 35

Draw = Callable[[Pen, float, float, float], None]  # (pen, x left, y top, column width)


@dataclass
class Item:
    height: float
    draw: Draw
    space_before: float = 0.0
    keep_with_next: bool = False
    table: int | None = None  # rows of one table share an id
    header: Item | None = None  # repeated when the table continues at a column top
    close: Draw | None = None  # a table's bottom line, drawn under the last row of a column


@dataclass
class Column:
    placed: list[tuple[Item, float]] = field(default_factory=list)  # (item, offset from the top)
    used: float = 0.0


# ---- building items ----------------------------------------------------------------------------------


def heading(text: str, width: float, level: int = 2) -> list[Item]:
    size = HEADING_H if level <= 2 else 4.0
    lines = measure.wrap(text, HEI, size, width)
    items = [_line(line, HEI, size, 0.0, NOTES) for line in lines]
    items[0].space_before = size * 0.8
    for item in items:
        item.keep_with_next = True
    return items


_ENUMERATOR = re.compile(
    r"^\s*((?:\d+(?:\.\d+)*[.、．])|(?:[（(]\d+[)）])|(?:[①-⑳])|(?:[一二三四五六七八九十]+、))\s*"
)


def paragraph(text: str, width: float, indent: float = 0.0, marker: str = "") -> list[Item]:
    """Lines of one paragraph: a marker ("1.", "•") or an enumerator the text starts with hangs in
    the margin and the following lines align after it; other paragraphs indent their first line
    by two characters, as Chinese text does."""
    text = text.strip()
    match = _ENUMERATOR.match(text)
    if not marker and match:
        marker, text = match.group(1), text[match.end() :]
    if marker:
        hang = measure.width(marker + " ", SONG, BODY_H)
        lines = measure.wrap(text, SONG, BODY_H, width - indent - hang)
        items = [_line(line, SONG, BODY_H, indent + hang, NOTES) for line in lines]
        items[0] = _line(marker, SONG, BODY_H, indent, NOTES, then=items[0])
        return items
    first = measure.width("国国", SONG, BODY_H)  # two full-width characters
    lines = measure.wrap(text, SONG, BODY_H, width - indent, first)
    return [
        _line(line, SONG, BODY_H, indent + (first if i == 0 else 0), NOTES) for i, line in enumerate(lines)
    ]


def _line(text: str, style: str, size: float, indent: float, layer: str, then: Item | None = None) -> Item:
    pitch = size * measure.LINE_PITCH

    def draw(pen: Pen, x: float, top: float, width: float) -> None:
        if text:
            pen.text(x + indent, top - measure.GLYPH_TOP * size, text, style, size, layer)
        if then is not None:
            then.draw(pen, x, top, width)

    return Item(pitch, draw)


_table_ids = itertools.count(1)


def table(columns: list[tuple[str, float]], rows: list[list[str]], width: float) -> list[Item]:
    """A table as one item per row; `columns` are (header label, relative width)."""
    total = sum(weight for _, weight in columns)
    widths = [width * weight / total for _, weight in columns]
    table_id = next(_table_ids)
    header = _row([label for label, _ in columns], widths, HEI, table_id, None)
    header.keep_with_next = True
    header.space_before = 1.5
    items = [header]
    items += [_row(row, widths, SONG, table_id, header) for row in rows]
    return items


def _row(cells: list[str], widths: list[float], style: str, table_id: int, header: Item | None) -> Item:
    wrapped = [
        measure.wrap(cell, style, BODY_H, w - 2 * CELL_PAD_X) for cell, w in zip(cells, widths, strict=True)
    ]
    pitch = BODY_H * measure.LINE_PITCH
    glyphs = (measure.GLYPH_TOP + measure.GLYPH_BOTTOM) * BODY_H
    height = max((len(lines) - 1) * pitch + glyphs for lines in wrapped) + 2 * CELL_PAD_Y

    def draw(pen: Pen, x: float, top: float, width: float) -> None:
        lineweight = LW_TABLE_OUTLINE if header is None else -1
        pen.line(x, top, x + sum(widths), top, TABLES, lineweight)
        left = x
        for i, (lines, w) in enumerate(zip(wrapped, widths, strict=True)):
            outer = i == 0
            pen.line(left, top, left, top - height, TABLES, LW_TABLE_OUTLINE if outer else -1)
            block = (len(lines) - 1) * pitch + glyphs
            first = top - (height - block) / 2 - measure.GLYPH_TOP * BODY_H
            for j, line in enumerate(lines):
                if line:
                    pen.text(left + CELL_PAD_X, first - j * pitch, line, style, BODY_H, TABLES)
            left += w
        pen.line(left, top, left, top - height, TABLES, LW_TABLE_OUTLINE)

    def close(pen: Pen, x: float, bottom: float, width: float) -> None:
        pen.line(x, bottom, x + sum(widths), bottom, TABLES, LW_TABLE_OUTLINE)

    return Item(height, draw, table=table_id, header=header, close=close)


# ---- flowing -----------------------------------------------------------------------------------------


def _fill(items: list[Item], start: int, height: float, columns: int) -> tuple[list[Column], int]:
    """Place items from `start` into at most `columns` columns of `height`; returns the columns and
    the index of the first item left over."""
    cols = [Column()]
    i = start
    while i < len(items):
        item = items[i]
        col = cols[-1]
        continuing = item.header is not None and i > 0 and items[i - 1].table == item.table
        prefix = [item.header] if (continuing and item.header is not None and not col.placed) else []
        need = _chain_height(items, i, bool(col.placed))
        if col.placed and col.used + need > height + 1e-9:
            if len(cols) == columns:
                return cols, i
            cols.append(Column())
            continue
        for placing in [*prefix, item]:
            gap = placing.space_before if col.placed else 0.0
            col.placed.append((placing, col.used + gap))
            col.used += gap + placing.height
        i += 1
    return cols, len(items)


def _chain_height(items: list[Item], i: int, after_something: bool) -> float:
    """Height of items[i] plus everything it keeps with (headings stay with the next line)."""
    total = items[i].space_before if after_something else 0.0
    while True:
        total += items[i].height
        if not items[i].keep_with_next or i + 1 >= len(items):
            return total
        i += 1
        total += items[i].space_before


def paginate(items: list[Item], height: float, columns: int) -> list[list[Column]]:
    """Sheets of columns; the last sheet balanced."""
    sheets: list[list[Column]] = []
    start = 0
    while start < len(items) or not sheets:
        cols, following = _fill(items, start, height, columns)
        if following >= len(items):
            cols = _balanced(items, start, height, columns, cols)
        elif following == start:  # an item taller than a column: place it alone rather than loop
            following = start + 1
            cols = [Column([(items[start], 0.0)], items[start].height)]
        sheets.append(cols)
        start = following
    return sheets


def _balanced(items: list[Item], start: int, height: float, columns: int, full: list[Column]) -> list[Column]:
    low = sum(item.height for item in items[start:]) / columns
    low = max([low, *(item.height for item in items[start:])]) if items[start:] else height
    high, best = height, full
    for _ in range(16):
        if high - low < 0.5:
            break
        middle = (low + high) / 2
        cols, following = _fill(items, start, middle, columns)
        if following >= len(items):
            high, best = middle, cols
        else:
            low = middle
    return best


def draw_columns(pen: Pen, columns: list[Column], lefts: list[float], width: float, top: float) -> None:
    for col, x in zip(columns, lefts, strict=False):
        for n, (item, offset) in enumerate(col.placed):
            item.draw(pen, x, top - offset, width)
            following = col.placed[n + 1][0] if n + 1 < len(col.placed) else None
            if item.close is not None and (following is None or following.table != item.table):
                item.close(pen, x, top - offset - item.height, width)
