"""Blank forms (空表) of the materials in the 开工一件事 guide: an A4 PDF with the item's and the material's
name, the material's note, the catalogue version, and blank fields to fill in by hand (applicant, codes,
contact, the material's own content, signature and seal), drawn with reportlab in the embedded CJK font.

Generated instead of stored files: the catalogue names a template file per material but holds no file,
and a generated sheet always matches the published catalogue it came from. Must not: do IO besides
building the bytes (callers run it in a worker thread: reportlab is CPU-bound).
"""

from __future__ import annotations

import io
import textwrap
from typing import Final

from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfgen import canvas

from docgen.fonts import register_reportlab

FIELDS: Final = (
    "申请单位（盖章）",
    "统一社会信用代码",
    "项目名称",
    "项目代码（GB/T 40058）",
    "建设地点",
    "联系人",
    "联系电话",
)
NOTE_CHARS: Final = 48  # CJK characters per line at 9.5 pt across the 170 mm text width


def blank_form_pdf(*, item_name: str, material_name: str, note: str, required: bool, version: int) -> bytes:
    """One page: heading, what the material is, a box per field, the content area, signature lines."""
    font = register_reportlab()
    out = io.BytesIO()
    pdf = canvas.Canvas(out, pagesize=A4, pageCompression=1)
    pdf.setTitle(f"{material_name}（空表）")
    pdf.setAuthor("上海市工程建设项目审批管理系统")
    pdf.setSubject(item_name)
    width, height = A4
    left, right = 20 * mm, width - 20 * mm
    y = height - 25 * mm
    pdf.setFont(font, 18)
    pdf.drawCentredString(width / 2, y, material_name)
    y -= 9 * mm
    pdf.setFont(font, 11)
    pdf.drawCentredString(
        width / 2, y, f"所属事项：{item_name}（{'必交' if required else '按情形提交'}材料 · 空表）"
    )
    y -= 8 * mm
    pdf.setFont(font, 9.5)
    for line in textwrap.wrap(
        f"填写说明：{note}" if note else "填写说明：请如实、完整填写，字迹清楚。", NOTE_CHARS
    ):
        pdf.drawString(left, y, line)
        y -= 5.5 * mm
    y -= 3 * mm
    row = 11 * mm
    label_w = 48 * mm
    pdf.setLineWidth(0.8)
    pdf.setFont(font, 11)
    for label in FIELDS:
        pdf.rect(left, y - row, right - left, row)
        pdf.line(left + label_w, y - row, left + label_w, y)
        pdf.drawString(left + 3 * mm, y - row + 3.8 * mm, label)
        y -= row
    area = 70 * mm
    pdf.rect(left, y - area, right - left, area)
    pdf.line(left + label_w, y - area, left + label_w, y)
    pdf.drawString(left + 3 * mm, y - 8 * mm, "材料内容")
    pdf.setFont(font, 9)
    pdf.drawString(left + 3 * mm, y - 14 * mm, "（可另附页）")
    y -= area + 14 * mm
    pdf.setFont(font, 11)
    pdf.drawString(left, y, "申请单位法定代表人（签字）：____________________")
    pdf.drawString(left + 100 * mm, y, "日期：______年____月____日")
    y -= 10 * mm
    pdf.drawString(left, y, "经办人（签字）：____________________")
    pdf.drawString(left + 100 * mm, y, "（单位盖章）")
    pdf.setFont(font, 8.5)
    footer = f"本空表由上海市建设项目开工“一件事”专栏依据事项目录第 {version} 版生成，可打印填写后扫描上传。"
    pdf.drawString(left, 15 * mm, footer)
    pdf.showPage()
    pdf.save()
    return out.getvalue()
