"""The tender's data-item list (招标文件数据项清单) as data, and its IDS 1.0 XML.

`bim/data/shanghai_bid_items.json` is the seed list: per element class the items a bid model must
carry (material name, fire rating, dimensions, load-bearing, is-external, thermal transmittance...)
mapped to IFC4 standard property and quantity sets, attributes or the material facet, each with its
Chinese label. `to_ids_xml` turns such a list into an IDS: one optional specification per class (it
applies only when the model has such elements), one requirement facet per item, the Chinese label in
the facet's `instructions` (the report shows it in the fill-in list). The XML is built as text in a
fixed order, so the same list always gives the same bytes.

Must not: read anything but the packaged seed file, or depend on ifctester (the IDS is checked by
`engine.load_ids` where it is used).
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Literal
from xml.sax.saxutils import escape, quoteattr

from pydantic import BaseModel, ConfigDict, Field

SEED_FILE = "shanghai_bid_items.json"
_FACET_ORDER = {"attribute": 0, "property": 1, "material": 2}  # the IDS XSD's order inside requirements


class DataItem(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    label: str = Field(min_length=1)  # Chinese name of the data item, e.g. 耐火极限
    facet: Literal["attribute", "property", "material"]
    name: str = ""  # attribute name, or property name (baseName)
    property_set: str = ""
    data_type: str = ""  # IFC data type in upper case, e.g. IFCLABEL
    value: str = ""  # required value (simpleValue); empty = must be provided
    enumeration: list[str] = Field(default_factory=list)  # allowed values instead of `value`


class ElementClass(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    code: str = Field(pattern=r"^[A-Z][A-Z0-9_]*$")
    label: str = Field(min_length=1)  # 墙, 板, 柱…
    entities: list[str] = Field(min_length=1)  # IFC classes in upper case (IDS does not match subclasses)
    items: list[DataItem] = Field(min_length=1)


class DataItemList(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    title: str
    version: str
    ifc_versions: list[Literal["IFC2X3", "IFC4", "IFC4X3_ADD2"]] = Field(min_length=1)
    author: str = ""
    purpose: str = ""
    milestone: str = ""
    description: str = ""
    classes: list[ElementClass] = Field(min_length=1)


def load_seed() -> DataItemList:
    """The packaged Shanghai bid data-item list."""
    text = resources.files("bim").joinpath("data", SEED_FILE).read_text(encoding="utf-8")
    return DataItemList.model_validate(json.loads(text))


def _value(tag: str, simple: str = "", enumeration: list[str] | None = None, indent: str = "") -> list[str]:
    if enumeration:
        lines = [f"{indent}<ids:{tag}>", f'{indent}  <xs:restriction base="xs:string">']
        lines += [f"{indent}    <xs:enumeration value={quoteattr(v)}/>" for v in enumeration]
        return [*lines, f"{indent}  </xs:restriction>", f"{indent}</ids:{tag}>"]
    return [f"{indent}<ids:{tag}><ids:simpleValue>{escape(simple)}</ids:simpleValue></ids:{tag}>"]


def _facet(item: DataItem, indent: str) -> list[str]:
    inner = indent + "  "
    label = quoteattr(item.label)
    if item.facet == "material":
        body = _value("value", item.value, item.enumeration, inner) if item.value or item.enumeration else []
        if not body:
            return [f'{indent}<ids:material cardinality="required" instructions={label}/>']
        opening = f'{indent}<ids:material cardinality="required" instructions={label}>'
        return [opening, *body, f"{indent}</ids:material>"]
    lines = []
    if item.facet == "attribute":
        lines.append(f'{indent}<ids:attribute cardinality="required" instructions={label}>')
        lines += _value("name", item.name, indent=inner)
    else:
        data_type = f" dataType={quoteattr(item.data_type)}" if item.data_type else ""
        lines.append(f'{indent}<ids:property{data_type} cardinality="required" instructions={label}>')
        lines += _value("propertySet", item.property_set, indent=inner)
        lines += _value("baseName", item.name, indent=inner)
    if item.value or item.enumeration:
        lines += _value("value", item.value, item.enumeration, inner)
    return [*lines, f"{indent}</ids:{item.facet}>"]


def to_ids_xml(items: DataItemList) -> str:
    """The IDS 1.0 document for a data-item list (deterministic text, UTF-8 declared)."""
    info = [
        f"    <ids:title>{escape(items.title)}</ids:title>",
        f"    <ids:version>{escape(items.version)}</ids:version>",
    ]
    if items.description:
        info.append(f"    <ids:description>{escape(items.description)}</ids:description>")
    if items.author:
        info.append(f"    <ids:author>{escape(items.author)}</ids:author>")
    if items.purpose:
        info.append(f"    <ids:purpose>{escape(items.purpose)}</ids:purpose>")
    if items.milestone:
        info.append(f"    <ids:milestone>{escape(items.milestone)}</ids:milestone>")
    lines = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<ids:ids xmlns:ids="http://standards.buildingsmart.org/IDS" xmlns:xs="http://www.w3.org/2001/XMLSchema"'
        ' xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"'
        ' xsi:schemaLocation="http://standards.buildingsmart.org/IDS http://standards.buildingsmart.org/IDS/1.0/ids.xsd">',
        "  <ids:info>", *info, "  </ids:info>", "  <ids:specifications>",
    ]  # fmt: skip
    versions = " ".join(items.ifc_versions)
    for element_class in items.classes:
        labels = "、".join(item.label for item in element_class.items)
        name = f"{element_class.label}：{labels}"
        lines.append(
            f"    <ids:specification name={quoteattr(name)} ifcVersion={quoteattr(versions)}"
            f" identifier={quoteattr('SH-' + element_class.code)}"
            f" instructions={quoteattr(f'{element_class.label}构件须提供：{labels}')}>"
        )
        lines.append('      <ids:applicability minOccurs="0" maxOccurs="unbounded">')
        lines.append("        <ids:entity>")
        if len(element_class.entities) == 1:
            lines += _value("name", element_class.entities[0], indent="          ")
        else:
            lines += _value("name", enumeration=element_class.entities, indent="          ")
        lines += ["        </ids:entity>", "      </ids:applicability>", "      <ids:requirements>"]
        for item in sorted(element_class.items, key=lambda i: _FACET_ORDER[i.facet]):
            lines += _facet(item, "        ")
        lines += ["      </ids:requirements>", "    </ids:specification>"]
    lines += ["  </ids:specifications>", "</ids:ids>", ""]
    return "\n".join(lines)


def seed_ids_xml() -> str:
    """The IDS of the packaged seed list."""
    return to_ids_xml(load_seed())
