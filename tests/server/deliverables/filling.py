"""Writing canonical filling content (docgen.samples) into a Yjs document as an editor would."""

from __future__ import annotations

from typing import Any

from pycrdt import Array, Doc, Map, XmlElement, XmlFragment, XmlText


def _append(parent: Any, node: dict[str, Any]) -> None:
    """Append a ProseMirror block as the editor's binding does: the element, then its text or children
    (a shared type takes content only once it is part of the document)."""
    texts = [c for c in node.get("content", []) if c.get("type") == "text"]
    if texts:
        text = XmlText()
        parent.children.append(XmlElement(node["type"], node.get("attrs") or None, [text]))
        text.insert(0, "".join(t["text"] for t in texts))
        return
    element = XmlElement(node["type"], node.get("attrs") or None)
    parent.children.append(element)
    for child in node.get("content", []):
        _append(element, child)


def write_content(content: dict[str, Any]) -> Any:
    """An edit (for YClient.change) that writes `content`'s sections into the document."""

    def edit(doc: Doc[Any]) -> None:
        for key, value in content["sections"].items():
            if isinstance(value, dict) and value.get("type") == "doc":
                fragment = doc.get(key, type=XmlFragment)
                for node in value["content"]:
                    _append(fragment, node)
            elif isinstance(value, dict):
                doc.get(key, type=Map).update({k: v for k, v in value.items() if v is not None})
            else:
                rows = doc.get(key, type=Array)
                for row in value:
                    rows.append(Map({k: v for k, v in row.items() if v is not None}))

    return edit
