"""The flowchart (流程图) of 开工一件事 as a server-side SVG: one box per item, laid out left to right by
predecessor depth (items with no predecessor in the first column), an arrow for every predecessor link.
Each box names the item, its department and its 法定/承诺 working-day limits; when the node carries a
case state, the box also says the state and the deadline in text, and its colour only repeats that
(a colour-blind reader or a screen reader loses nothing). The SVG is an accessible image: `role="img"`,
an `aria-label`, a `<title>` and a `<desc>` that lists every item in words.

Nodes come from the published catalogue (`catalogue_nodes`: no state) or from a project's cases
(`case_nodes`: with state). Must not: do IO, run JavaScript, or put any text into the SVG unescaped.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from server.approval.catalogue import Catalogue

BOX_W: Final = 260
COL_GAP: Final = 70
ROW_GAP: Final = 24
MARGIN: Final = 16
LINE_H: Final = 18
NAME_CHARS: Final = 18  # CJK characters per line of an item name at 13 px bold in a 260 px box
TITLE_H: Final = 30
LEGEND_H: Final = 30

# Fill and stroke per case state; the state label is always written in the box as well.
STATE_STYLE: Final[Mapping[str, tuple[str, str]]] = {
    "draft": ("#f3f4f6", "#6b7280"),
    "submitted": ("#eef2ff", "#4338ca"),
    "accepted": ("#e0f2fe", "#0369a1"),
    "reviewing": ("#e0f2fe", "#0369a1"),
    "correction": ("#fef9c3", "#a16207"),
    "approved": ("#dcfce7", "#15803d"),
    "refused": ("#fee2e2", "#b91c1c"),
    "withdrawn": ("#f3f4f6", "#6b7280"),
}
PLAIN_STYLE: Final = ("#ffffff", "#1f4e79")
DEADLINE_COLOUR: Final[Mapping[str, str]] = {"due_soon": "#a16207", "overdue": "#b91c1c"}
NOT_STARTED: Final = "待受理，未开始计时"  # a submitted case has no clock until its department accepts it
_XML_UNSAFE: Final = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


@dataclass(frozen=True)
class Node:
    """One item box. `state` is None for a catalogue flowchart (no case yet)."""

    code: str
    name: str
    dept: str
    statutory_wd: int
    committed_wd: int
    predecessors: tuple[str, ...] = ()
    state: str | None = None
    state_label: str = ""
    deadline_state: str = ""
    deadline_label: str = ""
    due_on: str | None = None


@dataclass
class _Box:
    node: Node
    x: int = 0
    y: int = 0
    h: int = 0
    lines: list[tuple[str, str]] = field(default_factory=list)  # (css class, text)


def catalogue_nodes(
    catalogue: Catalogue, dept_names: Mapping[str, str], bundle: str | None = "kaigong"
) -> list[Node]:
    """The items of `bundle` (every item when None or unknown) in topological order, with department names
    (the code when a department is missing from `dept_names`)."""
    wanted = catalogue.content.bundles.get(bundle) if bundle else None
    codes = set(wanted.items) if wanted else None
    return [
        Node(code=i.code, name=i.name, dept=dept_names.get(i.dept_code, i.dept_code),
             statutory_wd=i.statutory_workdays, committed_wd=i.committed_workdays, predecessors=i.predecessors)
        for i in (c.item for c in catalogue.items)
        if codes is None or i.code in codes
    ]  # fmt: skip


def case_nodes(cases: Iterable[Mapping[str, Any]]) -> list[Node]:
    """Nodes from a project's public cases (`Case.public()` or rows shaped alike); when one item has
    several cases (a bundle withdrawn and submitted again), the last one shows."""
    latest: dict[str, Node] = {}
    for c in cases:
        due = c.get("due_on")
        latest[c["item_code"]] = Node(
            code=c["item_code"], name=c["item_name"], dept=c["dept_name"], statutory_wd=c["statutory_wd"],
            committed_wd=c["committed_wd"], predecessors=tuple(c.get("predecessors") or ()), state=c["state"],
            state_label=c.get("state_label", ""), deadline_state=c.get("deadline_state", ""),
            deadline_label=c.get("deadline_label", ""), due_on=str(due) if due else None,
        )  # fmt: skip
    return list(latest.values())


def _text(value: object) -> str:
    """Escaped for XML text and attribute values alike; characters XML 1.0 cannot hold are dropped."""
    return html.escape(_XML_UNSAFE.sub("", str(value)), quote=True)


def _wrap(text: str, width: int) -> list[str]:
    return [text[i : i + width] for i in range(0, len(text), width)] or [""]


def depths(nodes: Sequence[Node]) -> dict[str, int]:
    """Column of each node: 0 without a predecessor among `nodes`, else one after its deepest one.
    Predecessors outside `nodes` (items that do not apply) are ignored; a cycle cannot occur (the
    catalogue refuses one), but would be cut rather than loop."""
    known = {n.code: n for n in nodes}
    found: dict[str, int] = {}

    def depth(code: str, path: frozenset[str]) -> int:
        if code not in found:
            preds = [p for p in known[code].predecessors if p in known and p not in path]
            found[code] = 1 + max((depth(p, path | {code}) for p in preds), default=-1)
        return found[code]

    for node in nodes:
        depth(node.code, frozenset())
    return found


def _lines(node: Node) -> list[tuple[str, str]]:
    lines = [("name", part) for part in _wrap(node.name, NAME_CHARS)]
    lines.append(("dept", node.dept))
    lines.append(("limits", f"法定 {node.statutory_wd} 个工作日 · 承诺 {node.committed_wd} 个工作日"))
    if node.state is not None:
        lines.append(("state", f"状态：{node.state_label or node.state}"))
        waiting = node.state == "submitted" and not node.due_on
        deadline = f"时限：{NOT_STARTED if waiting else node.deadline_label or '—'}"
        if node.due_on and node.deadline_state not in ("done", ""):
            deadline += f"（截止 {node.due_on}）"
        lines.append(("deadline", deadline))
    return lines


def _layout(nodes: Sequence[Node], top: int) -> tuple[list[_Box], int, int]:
    column_of = depths(nodes)
    columns: dict[int, list[_Box]] = {}
    for node in nodes:
        lines = _lines(node)
        columns.setdefault(column_of[node.code], []).append(
            _Box(node, lines=lines, h=16 + LINE_H * len(lines))
        )
    boxes: list[_Box] = []
    height = 0
    for index in sorted(columns):
        y = top
        for box in columns[index]:
            box.x, box.y = MARGIN + index * (BOX_W + COL_GAP), y
            y += box.h + ROW_GAP
            boxes.append(box)
        height = max(height, y - ROW_GAP)
    width = MARGIN * 2 + len(columns) * BOX_W + max(len(columns) - 1, 0) * COL_GAP
    return boxes, max(width, 320), height


def _box_svg(box: _Box) -> str:
    node = box.node
    fill, stroke = STATE_STYLE.get(node.state, PLAIN_STYLE) if node.state else PLAIN_STYLE
    dashed = ' stroke-dasharray="6 4"' if node.state in ("correction", "withdrawn") else ""
    attrs = f'class="item" data-code="{_text(node.code)}"'
    if node.state:
        attrs += f' data-state="{_text(node.state)}" data-deadline="{_text(node.deadline_state)}"'
    parts = [
        f"<g {attrs}>",
        f"<title>{_text(_summary(node))}</title>",
        f'<rect x="{box.x}" y="{box.y}" width="{BOX_W}" height="{box.h}" rx="6" fill="{fill}" '
        f'stroke="{stroke}" stroke-width="2"{dashed}/>',
    ]
    y = box.y + 8 + LINE_H - 4
    for kind, text in box.lines:
        colour = DEADLINE_COLOUR.get(node.deadline_state, "#1f2933") if kind == "deadline" else "#1f2933"
        weight = ' font-weight="700"' if kind in ("name", "state") else ""
        size = 13 if kind in ("name", "state") else 12
        parts.append(
            f'<text class="{kind}" x="{box.x + 10}" y="{y}" font-size="{size}" fill="{colour}"{weight}>'
            f"{_text(text)}</text>"
        )
        y += LINE_H
    parts.append("</g>")
    return "".join(parts)


def _summary(node: Node) -> str:
    text = f"{node.name}（{node.dept}；法定 {node.statutory_wd} 个工作日，承诺 {node.committed_wd} 个工作日"
    if node.predecessors:
        text += f"；前置事项：{'、'.join(node.predecessors)}"
    if node.state is not None:
        text += f"；状态：{node.state_label or node.state}；时限：{node.deadline_label or '—'}"
        if node.due_on:
            text += f"，截止 {node.due_on}"
    return text + "）"


def _edges_svg(boxes: Sequence[_Box]) -> list[str]:
    at = {b.node.code: b for b in boxes}
    edges = []
    for box in boxes:
        for code in box.node.predecessors:
            source = at.get(code)
            if source is None:
                continue
            x1, y1 = source.x + BOX_W, source.y + source.h // 2
            x2, y2 = box.x - 4, box.y + box.h // 2
            mid = (x1 + x2) // 2
            edges.append(
                f'<path class="edge" data-from="{_text(code)}" data-to="{_text(box.node.code)}" '
                f'd="M{x1},{y1} C{mid},{y1} {mid},{y2} {x2},{y2}" fill="none" stroke="#52606d" '
                f'stroke-width="1.5" marker-end="url(#fc-arrow)"/>'
            )
    return edges


def _legend(nodes: Sequence[Node], y: int) -> list[str]:
    shown: dict[str, str] = {}
    for n in nodes:
        if n.state and n.state not in shown:
            shown[n.state] = n.state_label or n.state
    parts, x = ['<g class="legend">'], MARGIN
    for state, label in shown.items():
        fill, stroke = STATE_STYLE.get(state, PLAIN_STYLE)
        parts.append(f'<rect x="{x}" y="{y}" width="16" height="12" fill="{fill}" stroke="{stroke}"/>')
        parts.append(f'<text x="{x + 20}" y="{y + 11}" font-size="12" fill="#1f2933">{_text(label)}</text>')
        x += 36 + 13 * len(label)
    parts.append("</g>")
    return parts


def flowchart_svg(nodes: Sequence[Node], *, title: str) -> str:
    """The whole SVG document (no XML declaration, so it can also be inlined into a page)."""
    top = MARGIN + TITLE_H
    boxes, width, bottom = _layout(nodes, top)
    with_state = any(n.state is not None for n in nodes)
    height = max(bottom, top) + MARGIN + (LEGEND_H if with_state else 0)
    description = "；".join(_summary(n) for n in nodes) or "没有事项"
    label = f"{title}：共 {len(nodes)} 个事项，按前置关系从左到右排列"
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="flowchart" role="img" aria-label="{_text(label)}" '
        f'width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        f"font-family=\"'Noto Sans CJK SC','WenQuanYi Micro Hei','Microsoft YaHei',sans-serif\">",
        f"<title>{_text(title)}</title>",
        f"<desc>{_text(description)}</desc>",
        '<defs><marker id="fc-arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="8" markerHeight="8" '
        'orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#52606d"/></marker></defs>',
        f'<text class="heading" x="{MARGIN}" y="{MARGIN + 16}" font-size="15" font-weight="700" fill="#1f2933">'
        f"{_text(title)}</text>",
        *_edges_svg(boxes),
        *(_box_svg(b) for b in boxes),
    ]
    if not nodes:
        parts.append(f'<text x="{MARGIN}" y="{top + 20}" font-size="13" fill="#52606d">没有事项</text>')
    if with_state:
        parts += _legend(nodes, height - LEGEND_H + 4)
    parts.append("</svg>")
    return "".join(parts)
