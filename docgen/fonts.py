"""The Chinese fonts every generated document uses, from wheels that pip installs (no system fonts).

Two faces: Noto Serif SC (`pylopdf-fonts-zh-cn`, OFL 1.1, CFF outlines) stands in for 宋体 and
WenQuanYi Micro Hei (`paperang-p2-fonts-cjk`, TrueType) for 黑体. DXF sheets name the fonts a Chinese
CAD installation resolves (`simsun.ttc`, `simhei.ttf`); only our renderer maps those names to the wheel
files (`setup_ezdxf`). reportlab cannot embed CFF outlines, so PDF books embed WenQuanYi Micro Hei
subsets for all text (`register_reportlab`): never the non-embedded STSong-Light CID font.
Must not: look at system font folders, or change the names written into DXF files.
"""

from __future__ import annotations

import functools
import importlib.util
from dataclasses import dataclass
from pathlib import Path

SONG = "simsun.ttc"  # the DXF text style font for notes (宋体)
HEI = "simhei.ttf"  # the DXF text style font for headings (黑体)
PDF_FONT = "TBHei"  # reportlab's name for the embedded WenQuanYi Micro Hei


class FontsMissing(RuntimeError):
    """The font wheels are not installed: a broken deployment, not bad input."""


@dataclass(frozen=True)
class FontFiles:
    serif: Path  # Noto Serif SC (OpenType/CFF): DXF rendering of 宋体
    sans: Path  # WenQuanYi Micro Hei (TrueType collection): DXF 黑体 and every PDF


def _package_dir(name: str) -> Path:
    spec = importlib.util.find_spec(name)
    if spec is None or spec.origin is None:
        raise FontsMissing(f"font package {name} is not installed (pip install -e .)")
    return Path(spec.origin).parent


@functools.cache
def font_files() -> FontFiles:
    serif = _package_dir("pylopdf_fonts_zh_cn") / "NotoSerifSC-Regular.otf"
    sans = _package_dir("paperang_p2_fonts_cjk") / "fonts" / "wqy-microhei.ttc"
    for path in (serif, sans):
        if not path.is_file():
            raise FontsMissing(f"font file {path} is missing")
    return FontFiles(serif=serif, sans=sans)


@functools.cache
def setup_ezdxf() -> None:
    """Teach ezdxf's font manager the wheel fonts and let `simsun.ttc`/`simhei.ttf` resolve to them
    (idempotent; measuring and rendering text both go through it)."""
    from ezdxf.fonts import fonts

    files = font_files()
    manager = fonts.font_manager
    manager.scan_all([str(files.serif.parent), str(files.sans.parent)])
    manager.add_synonyms({files.serif.name.lower(): SONG, files.sans.name.lower(): HEI}, reverse=False)


@functools.cache
def register_reportlab() -> str:
    """Register the embedded TrueType font with reportlab once; returns its name (`PDF_FONT`)."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    pdfmetrics.registerFont(TTFont(PDF_FONT, str(font_files().sans), subfontIndex=0))
    return PDF_FONT
