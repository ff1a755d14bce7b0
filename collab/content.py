"""A form document's content as canonical JSON, and making one document's content equal another's.

Canonical JSON (the 资料目录 data that drawing and book generation read) follows the schema, not the
document: every declared section and field appears (null when empty), in schema order, table rows
as objects of their declared columns, rich text as ProseMirror JSON (`{"type": "doc", "content": …}`,
marks sorted by name). Keys the schema does not declare are left out. Numbers that are whole are
written as integers (Yjs numbers arrive as floats). `canonical_bytes` is the byte form to hash or
sign: sorted keys, no spaces, UTF-8.

`fill` writes canonical content into an empty document (imported data, demo data), as an editor's
edits would. `restore` rewrites the sections of a document so that its content equals a version's: as edits on
the current document (a new update for everyone), never by replacing its history.
Must not: validate (`collab.validation`) or touch storage.
"""

from __future__ import annotations

import json
from typing import Any

from pycrdt import Array, Doc, Map, XmlElement, XmlFragment, XmlText

from collab.schema import FieldsSection, FormSchema, RichTextSection, TableSection

Json = Any
PRIMITIVES = (str, int, float, bool)


def plain(value: Any) -> Json:
    """A field value as JSON: whole floats as ints; shared types and other objects are not values."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return int(value)
    if isinstance(value, PRIMITIVES):
        return value
    return None


def content_of(doc: Doc[Any], schema: FormSchema) -> dict[str, Json]:
    sections: dict[str, Json] = {}
    for section in schema.sections:
        if isinstance(section, FieldsSection):
            values = doc.get(section.key, type=Map)
            sections[section.key] = {f.key: plain(values.get(f.key)) for f in section.fields}
        elif isinstance(section, TableSection):
            rows = doc.get(section.key, type=Array)
            sections[section.key] = [
                {c.key: plain(row.get(c.key)) for c in section.columns}
                for row in rows
                if isinstance(row, Map)
            ]
        else:
            sections[section.key] = richtext_json(doc.get(section.key, type=XmlFragment))
    return {"form": schema.id, "form_version": schema.version, "sections": sections}


def canonical_bytes(content: dict[str, Json]) -> bytes:
    return json.dumps(content, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


def richtext_json(fragment: XmlFragment) -> dict[str, Json]:
    return {"type": "doc", "content": [node for child in fragment.children for node in _nodes(child)]}


def _nodes(node: Any) -> list[dict[str, Json]]:
    if isinstance(node, XmlText):
        return [_text(chunk, attrs) for chunk, attrs in node.diff() if isinstance(chunk, str) and chunk]
    if not isinstance(node, XmlElement):
        return []
    out: dict[str, Json] = {"type": node.tag}
    attrs = {k: plain(v) for k, v in sorted(_attributes(node)) if plain(v) is not None}
    if attrs:
        out["attrs"] = attrs
    children = [n for child in node.children for n in _nodes(child)]
    if children:
        out["content"] = children
    return [out]


def _attributes(node: XmlElement) -> list[tuple[str, Any]]:
    return list(node.attributes.__iter__())  # pycrdt types its iterator as a plain Iterable


def _text(chunk: str, attrs: dict[str, Any] | None) -> dict[str, Json]:
    out: dict[str, Json] = {"type": "text", "text": chunk}
    if attrs:
        marks = []
        for name in sorted(attrs):
            mark: dict[str, Json] = {"type": name}
            if isinstance(attrs[name], dict):
                mark_attrs = {k: plain(v) for k, v in sorted(attrs[name].items()) if plain(v) is not None}
                if mark_attrs:
                    mark["attrs"] = mark_attrs
            marks.append(mark)
        out["marks"] = marks
    return out


def restore(doc: Doc[Any], version: Doc[Any], schema: FormSchema) -> bool:
    """Edit `doc` so that every section of `schema` holds what it holds in `version`. Whether anything
    changed (an update of `doc` always carries its delete set, so its size cannot tell)."""
    changed = False
    with doc.transaction():
        for section in schema.sections:
            if isinstance(section, FieldsSection):
                changed |= _restore_map(doc.get(section.key, type=Map), version.get(section.key, type=Map))
            elif isinstance(section, TableSection):
                changed |= _restore_rows(
                    doc.get(section.key, type=Array), version.get(section.key, type=Array)
                )
            elif isinstance(section, RichTextSection):
                target, source = (
                    doc.get(section.key, type=XmlFragment),
                    version.get(section.key, type=XmlFragment),
                )
                changed |= _restore_fragment(target, source)
    return changed


def _values(source: Map[Any]) -> dict[str, Any]:
    return {k: v for k, v in source.items() if isinstance(v, PRIMITIVES)}


def _restore_map(target: Map[Any], source: Map[Any]) -> bool:
    wanted = _values(source)
    present = set(target.keys())
    stale = present - wanted.keys()
    for key in stale:
        del target[key]
    differing = {k: v for k, v in wanted.items() if k not in present or target.get(k) != v}
    for key, value in differing.items():
        target[key] = value
    return bool(stale or differing)


def _restore_rows(target: Array[Any], source: Array[Any]) -> bool:
    wanted = [_values(row) for row in source if isinstance(row, Map)]
    current = [_values(row) if isinstance(row, Map) else None for row in target]
    if current == wanted:
        return False
    if len(target):
        del target[:]
    for row in wanted:
        target.append(Map(row))
    return True


def _restore_fragment(target: XmlFragment, source: XmlFragment) -> bool:
    if richtext_json(target) == richtext_json(source):
        return False
    if len(target.children):
        del target.children[:]
    for child in source.children:
        _copy_node(child, target)
    return True


def _copy_node(node: Any, parent: XmlFragment | XmlElement) -> None:
    if isinstance(node, XmlText):
        text = XmlText()
        parent.children.append(text)
        # Chunks are inserted at index 0, last first: pycrdt 0.14 miscounts nonzero indices after
        # multi-byte characters (y-crdt/pycrdt#379), and CJK text is the normal case here.
        for chunk, attrs in reversed(node.diff()):
            if isinstance(chunk, str) and chunk:
                text.insert(0, chunk, dict(attrs) if attrs else None)
        return
    if not isinstance(node, XmlElement):
        return
    attrs = {k: v for k, v in _attributes(node) if isinstance(v, PRIMITIVES)}
    element = XmlElement(node.tag, attrs)
    parent.children.append(element)
    for child in node.children:
        _copy_node(child, element)


def fill(doc: Doc[Any], content: dict[str, Json]) -> None:
    """Write canonical `content` (its `sections`) into `doc`, which holds none of them yet."""
    for key, value in content["sections"].items():
        if isinstance(value, dict) and value.get("type") == "doc":
            fragment = doc.get(key, type=XmlFragment)
            for node in value.get("content", []):
                _append_block(fragment, node)
        elif isinstance(value, dict):
            doc.get(key, type=Map).update({k: v for k, v in value.items() if v is not None})
        elif isinstance(value, list):
            rows = doc.get(key, type=Array)
            for row in value:
                rows.append(Map({k: v for k, v in row.items() if v is not None}))


def _append_block(parent: XmlFragment | XmlElement, node: dict[str, Json]) -> None:
    """A ProseMirror block as y-prosemirror stores it: the element first, then its text or children (a
    shared type takes content only once it is part of the document). Marks are not written."""
    texts = [c for c in node.get("content", []) if c.get("type") == "text"]
    attrs = node.get("attrs") or None
    if texts:
        text = XmlText()
        parent.children.append(XmlElement(node["type"], attrs, [text]))
        text.insert(0, "".join(t["text"] for t in texts))
        return
    element = XmlElement(node["type"], attrs)
    parent.children.append(element)
    for child in node.get("content", []):
        _append_block(element, child)
