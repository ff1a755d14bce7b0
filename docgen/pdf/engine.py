"""The one engine that renders every JSON template (`docgen.pdf.template`) into a PDF certificate or form.

Blocks, in template order:
- `title` {text, size: title|subtitle}; `paragraph` {text, align: left|center|right|justify, indent};
- `grid` {columns: label/value pairs per row, label_width mm, cells: [{field} | {label, text}, span]}:
  a ruled key-value form; long values wrap inside their cells;
- `table` {field, numbered, widths (fractions)}: rows of a table field, header repeated across pages;
- `signatures` {roles, names: {role: text}}: 职责/姓名/签名/日期 table;
- `qr` {note, size mm}: the vector verification QR with id, revision and short digest;
- `seal` {lines}: the authority's seal area; `notes` {title, items}: numbered small-print notes;
- `spacer` {height mm}; `row` {blocks: [[…], […]], widths}: blocks side by side (QR beside the seal);
- `next_column`: continue in the next page column (`page.columns`, e.g. the two halves of a permit).
Must not: contain layout code for one particular document (add a JSON template instead).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from reportlab.lib.enums import TA_CENTER, TA_JUSTIFY, TA_LEFT, TA_RIGHT
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import Flowable, Frame, FrameBreak, Paragraph, Spacer, Table

from docgen.errors import DataInvalid
from docgen.output import Rendered
from docgen.pdf.flowables import QrBlock, SealArea, cell, ruled_table
from docgen.pdf.pages import Furniture
from docgen.pdf.render import Page, build_pdf, footer_identity, rendered
from docgen.pdf.style import page_size, styles, text
from docgen.pdf.template import (
    PLACEHOLDER,
    Template,
    TemplateInvalid,
    check_data,
    check_template,
    display,
    sample_data,
    template,
    templates,
)
from docgen.stamp import Stamp

__all__ = [
    "construction_permit",
    "fire_acceptance_record",
    "render",
    "render_template",
    "sample_data",
    "templates",
    "utility_service_sheet",
]

ALIGN = {"left": TA_LEFT, "center": TA_CENTER, "right": TA_RIGHT, "justify": TA_JUSTIFY}
CERTIFICATE_MARGIN = 20 * mm  # inside it runs the double border; the footer sits below the border


def render_template(kind: str, data: dict[str, Any], stamp: Stamp) -> Rendered:
    """Validate `data` against the shipped template `kind` and render it (KeyError for an unknown kind)."""
    return render(template(kind), data, stamp)


def render(tpl: Template, data: dict[str, Any], stamp: Stamp) -> Rendered:
    """Render any template given as data: TemplateInvalid when the template is broken, DataInvalid
    listing every problem when the input is."""
    broken = check_template(tpl)
    if broken:
        raise TemplateInvalid("; ".join(broken))
    problems = check_data(tpl, data)
    if problems:
        raise DataInvalid(problems)
    return rendered(_build(tpl, data, stamp))


def utility_service_sheet(data: dict[str, Any], stamp: Stamp) -> Rendered:
    """联合报装服务单 with its 报装服务编码 and QR."""
    return render_template("utility_service_sheet", data, stamp)


def fire_acceptance_record(data: dict[str, Any], stamp: Stamp) -> Rendered:
    """消防验收备案凭证."""
    return render_template("fire_acceptance_record", data, stamp)


def construction_permit(data: dict[str, Any], stamp: Stamp) -> Rendered:
    """建筑工程施工许可证, laid out as the national permit: statement left, particulars right."""
    return render_template("construction_permit", data, stamp)


class _Filler:
    """Turns template text into paragraph markup with the data's values filled in (XML-escaped)."""

    def __init__(self, tpl: Template, data: dict[str, Any], stamp: Stamp) -> None:
        fields = {f["key"]: f for f in tpl["fields"] if f["type"] != "table"}
        self.values = {key: display(field, data.get(key)) for key, field in fields.items()}
        self.values |= {
            "doc_id": stamp.doc_id,
            "revision": str(stamp.revision),
            "issued_on": display({"type": "date"}, stamp.issued_on),
            "short_digest": stamp.short_digest,
        }

    def __call__(self, template_text: str) -> str:
        return PLACEHOLDER.sub(lambda m: text(self.values[m.group(1)]), text(template_text))

    def plain(self, template_text: str) -> str:
        return PLACEHOLDER.sub(lambda m: self.values[m.group(1)], template_text)


class _Layout:
    def __init__(self, tpl: Template, data: dict[str, Any], stamp: Stamp, widths: list[float]) -> None:
        self.tpl, self.data, self.stamp = tpl, data, stamp
        self.fill = _Filler(tpl, data, stamp)
        self.fields = {f["key"]: f for f in tpl["fields"]}
        self.widths = widths  # width of each page column
        self.column = 0
        self.builders: dict[str, Callable[[dict[str, Any], float], list[Flowable]]] = {
            "title": self.title, "paragraph": self.paragraph, "grid": self.grid, "table": self.table,
            "signatures": self.signatures, "qr": self.qr, "seal": self.seal, "notes": self.notes,
            "spacer": self.spacer, "row": self.row, "next_column": self.next_column,
        }  # fmt: skip

    def story(self) -> list[Flowable]:
        return self.blocks(self.tpl["blocks"], None)

    def blocks(self, blocks: list[dict[str, Any]], width: float | None) -> list[Flowable]:
        story: list[Flowable] = []
        for block in blocks:
            story += self.builders[block["type"]](block, width or self.widths[self.column])
        return story

    def title(self, block: dict[str, Any], width: float) -> list[Flowable]:
        style = styles().subtitle if block.get("size") == "subtitle" else styles().title
        return [Paragraph(self.fill(block["text"]), style)]

    def paragraph(self, block: dict[str, Any], width: float) -> list[Flowable]:
        base = styles().body
        style = ParagraphStyle(
            f"tb-p-{block.get('align', 'justify')}-{block.get('indent', True)}",
            parent=base,
            alignment=ALIGN[block.get("align", "justify")],
            firstLineIndent=base.firstLineIndent if block.get("indent", True) else 0,
            fontSize=block.get("font_size", base.fontSize),
            leading=block.get("font_size", base.fontSize) * 1.75,
        )
        return [Paragraph(self.fill(block["text"]), style)]

    def grid(self, block: dict[str, Any], width: float) -> list[Flowable]:
        pairs = block.get("columns", 1)
        label_width = block.get("label_width", 30) * mm
        value_width = (width - pairs * label_width) / pairs
        rows: list[list[Any]] = []
        spans: list[tuple[tuple[int, int], tuple[int, int]]] = []
        current: list[Any] = []
        for item in block["cells"]:
            if "field" in item:
                field = self.fields[item["field"]]
                label, value = field["label"], text(display(field, self.data.get(item["field"])))
            else:
                label, value = self.fill.plain(item["label"]), self.fill(item["text"])
            pair = [cell(label, "center"), Paragraph(value, styles().cell)]
            if item.get("span") and current:
                rows.append(current + [""] * (2 * pairs - len(current)))
                current = []
            current += pair
            if item.get("span"):
                spans.append(((1, len(rows)), (2 * pairs - 1, len(rows))))
                current += [""] * (2 * pairs - len(current))
            if len(current) == 2 * pairs:
                rows.append(current)
                current = []
        if current:
            rows.append(current + [""] * (2 * pairs - len(current)))
        widths = [label_width, value_width] * pairs
        padding = block.get("padding", 5)
        return [ruled_table(rows, widths, 0, list(range(0, 2 * pairs, 2)), spans, padding), Spacer(1, 3 * mm)]

    def table(self, block: dict[str, Any], width: float) -> list[Flowable]:
        field = self.fields[block["field"]]
        columns = field["columns"]
        numbered = block.get("numbered", True)
        fractions = block.get("widths") or [1 / len(columns)] * len(columns)
        number_width = 12 * mm if numbered else 0
        widths = ([number_width] if numbered else []) + [f * (width - number_width) for f in fractions]
        head = (["序号"] if numbered else []) + [
            f"{c['label']}（{c['unit']}）" if c.get("unit") else c["label"] for c in columns
        ]
        rows: list[list[Any]] = [[cell(h, "center") for h in head]]
        for index, row in enumerate(self.data.get(block["field"]) or [], start=1):
            values = [cell(display({**c, "unit": None}, row.get(c["key"]))) for c in columns]
            rows.append(([cell(index, "center")] if numbered else []) + values)
        caption = [Paragraph(self.fill(block["caption"]), styles().h3)] if block.get("caption") else []
        return [*caption, ruled_table(rows, widths), Spacer(1, 3 * mm)]

    def signatures(self, block: dict[str, Any], width: float) -> list[Flowable]:
        names = block.get("names", {})
        rows: list[list[Any]] = [[cell(h, "center") for h in ("职责", "姓名", "签名", "日期")]]
        rows += [
            [cell(role, "center"), Paragraph(self.fill(names.get(role, "")), styles().cell_center), "", ""]
            for role in block["roles"]
        ]
        widths = [0.2 * width, 0.3 * width, 0.3 * width, 0.2 * width]
        return [ruled_table(rows, widths, padding=6), Spacer(1, 3 * mm)]

    def qr(self, block: dict[str, Any], width: float) -> list[Flowable]:
        return [QrBlock(self.stamp, block.get("size", 30) * mm, block.get("note", "扫描二维码核验文件真伪"))]

    def seal(self, block: dict[str, Any], width: float) -> list[Flowable]:
        return [SealArea([self.fill.plain(line) for line in block["lines"]], block.get("diameter", 38) * mm)]

    def notes(self, block: dict[str, Any], width: float) -> list[Flowable]:
        small = ParagraphStyle("tb-note", parent=styles().small, fontSize=9, leading=14)
        story: list[Flowable] = [Paragraph(self.fill(block.get("title", "注意事项")), styles().h3)]
        marks = "一二三四五六七八九十"
        story += [
            Paragraph(f"{marks[i] if i < len(marks) else i + 1}、{self.fill(item)}", small)
            for i, item in enumerate(block["items"])
        ]
        return story

    def spacer(self, block: dict[str, Any], width: float) -> list[Flowable]:
        return [Spacer(1, block.get("height", 5) * mm)]

    def row(self, block: dict[str, Any], width: float) -> list[Flowable]:
        fractions = block.get("widths") or [1 / len(block["blocks"])] * len(block["blocks"])
        widths = [f * width for f in fractions]
        cells = [self.blocks(blocks, w) for blocks, w in zip(block["blocks"], widths, strict=True)]
        table = Table([cells], colWidths=widths)
        table.setStyle([
            ("FONTNAME", (0, 0), (-1, -1), styles().font),  # else Table sets non-embedded Helvetica
            ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
            ("ALIGN", (0, 0), (-1, -1), "CENTER"),
            ("LEFTPADDING", (0, 0), (-1, -1), 0),
            ("RIGHTPADDING", (0, 0), (-1, -1), 0),
        ])  # fmt: skip
        return [table, Spacer(1, 3 * mm)]

    def next_column(self, block: dict[str, Any], width: float) -> list[Flowable]:
        self.column = min(self.column + 1, len(self.widths) - 1)
        return [FrameBreak()]


def _frames(tpl: Template, page: Page) -> list[Frame]:
    x, y, width, height = page.frame
    fractions = tpl["page"].get("columns", [1.0])
    gap = tpl["page"].get("gap", 10) * mm
    usable = width - gap * (len(fractions) - 1)
    frames, left = [], x
    for index, fraction in enumerate(fractions):
        frames.append(Frame(left, y, usable * fraction, height, 0, 0, 0, 0, id=f"column{index}"))
        left += usable * fraction + gap
    return frames


def _build(tpl: Template, data: dict[str, Any], stamp: Stamp) -> bytes:
    spec = tpl["page"]
    margin = CERTIFICATE_MARGIN if spec.get("border") else 20 * mm
    page = Page(page_size(spec["size"], spec["orientation"]), margin, margin, margin, margin)
    frames = _frames(tpl, page)
    layout = _Layout(tpl, data, stamp, [frame._width for frame in frames])
    filler = _Filler(tpl, data, stamp)
    furniture = Furniture(
        frame=page.frame,
        footer_left=footer_identity(stamp),
        footer_right=filler.plain(spec.get("footer_right", "")),
        border=bool(spec.get("border")),
    )
    return build_pdf(layout.story(), page, furniture, filler.plain(tpl["title"]), stamp, frames)
