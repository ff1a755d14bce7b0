"""Chinese line breaking in PDF paragraphs: closing punctuation never starts a line, at any width,
through both of reportlab's wrapping paths (plain text and text with markup), for single closing marks."""

from __future__ import annotations

import pytest
from reportlab.platypus import Paragraph

from docgen.cjk import CLOSING
from docgen.pdf.style import styles

# One closing mark at a time: reportlab hangs one mark in the margin, never two ("）：" can still leave
# the second one at a line start, a known limit of its algorithm).
TEXT = "五、凡未取得本证擅自施工的违法建设，将按《中华人民共和国建筑法》的规定予以处罚。荷载（kN/m²）见附表；备注！"


def line_starts(paragraph: Paragraph) -> list[str]:
    starts = []
    for line in paragraph.blPara.lines[1:]:
        if isinstance(line, tuple):  # plain text: (extra space, [text])
            starts.append(line[1][0][:1])
        else:  # fragments: the first word's text
            first = line.words[0]
            starts.append((first.text if hasattr(first, "text") else str(first))[:1])
    return starts


@pytest.mark.parametrize("markup", [False, True], ids=["plain", "markup"])
def test_closing_punctuation_never_starts_a_line_at_any_width(markup: bool) -> None:
    text = TEXT.replace("建筑法", "<b>建筑法</b>") if markup else TEXT
    seen_lines = 0
    for width in range(40, 420, 2):
        paragraph = Paragraph(text, styles().small)
        paragraph.wrap(width, 10_000)
        starts = line_starts(paragraph)
        seen_lines += len(starts)
        assert not [s for s in starts if s in CLOSING], (width, starts)
    assert seen_lines > 300  # the widths really made many lines
