"""CJK line breaking: kinsoku, whole Latin words and standard numbers, widths never exceeded."""

from __future__ import annotations

import pytest

from docgen import cjk
from docgen.samples import ARCHITECTURE_NOTES, STRUCTURE_NOTES

PARAGRAPHS = [p for _, paragraphs in ARCHITECTURE_NOTES + STRUCTURE_NOTES for p in paragraphs]


def measure(text: str) -> float:
    """Full-width characters 1, everything else 0.5: the proportions of a CJK font."""
    return sum(1.0 if ord(char) > 0x2E80 else 0.5 for char in text)


def all_lines(width: float) -> list[list[str]]:
    return [cjk.wrap(paragraph, width, measure) for paragraph in PARAGRAPHS]


@pytest.mark.parametrize("width", [6, 9.5, 13, 17, 24, 31])
def test_every_line_fits_its_width(width: float) -> None:
    for lines in all_lines(width):
        assert all(measure(line) <= width for line in lines), lines


@pytest.mark.parametrize("width", [6, 9.5, 13, 17, 24, 31])
def test_closing_punctuation_never_starts_a_line_and_opening_never_ends_one(width: float) -> None:
    for lines in all_lines(width):
        for line in lines[1:]:
            assert line[0] not in cjk.CLOSING, lines
        for line in lines[:-1]:
            assert line[-1] not in cjk.OPENING, lines


@pytest.mark.parametrize("width", [6, 9.5, 13, 17, 24, 31])
def test_wrapping_only_drops_the_spaces_at_breaks(width: float) -> None:
    for paragraph, lines in zip(PARAGRAPHS, all_lines(width), strict=True):
        assert "".join(lines).replace(" ", "") == paragraph.replace(" ", "")


def test_standard_numbers_and_values_stay_whole_when_they_fit() -> None:
    text = (
        "荷载按《建筑结构荷载规范》GB 50009-2012 取值，混凝土 C30，加速度 0.10g，传热系数 K≤0.80 W/(m²·K)。"
    )
    for width in (10, 12, 15, 20):
        joined = "\n".join(cjk.wrap(text, width, measure))
        for whole in ("GB 50009-2012", "C30", "0.10g", "K≤0.80"):
            assert whole in joined, (width, joined)


def test_a_unit_wider_than_the_line_is_cut_by_characters() -> None:
    url = "http://127.0.0.1:8000/verify/TB20261129K7Q2M9XA?sm3=" + "ab" * 32
    lines = cjk.wrap(url, 10, measure)
    assert len(lines) > 5
    assert all(measure(line) <= 10 for line in lines)
    assert "".join(lines) == url


def test_a_first_line_indent_narrows_only_the_first_line() -> None:
    text = "本工程室内地坪设计标高相当于绝对标高，各层标注标高为建筑完成面标高，屋面标高为结构面标高。"
    indented, plain = cjk.wrap(text, 10, measure, first_indent=2), cjk.wrap(text, 10, measure)
    assert measure(indented[0]) <= 8 < measure(plain[0])
    assert all(measure(line) <= 10 for line in indented[1:])


def test_an_empty_text_is_one_empty_line() -> None:
    assert cjk.wrap("", 10, measure) == [""]
