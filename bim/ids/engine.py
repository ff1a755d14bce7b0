"""Opening and running an IDS 1.0 file: well-formed XML, valid against the IDS 1.0 XSD (the copy
that ships inside ifctester, identical to buildingSMART's `ids.xsd`), valid beyond the XSD (our
audit in `fixes`), then parsed by ifctester with our corrections applied, and run over a model.

An IDS that fails any of these is refused with `InvalidIds`, whose Chinese message says what is wrong
and where (line/column for XML syntax, element path for the XSD); nothing is half-loaded.

Must not: read ../shared or any path the caller did not pass, fetch anything over the network (DOCTYPE
and entities are refused), or shape reports (that is `report`).
"""

from __future__ import annotations

import hashlib
import io
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import ifcopenshell
from elementpath.regex import translate_pattern
from ifctester import facet as ids_facet
from ifctester import ids as ids_module
from xmlschema import XMLResource, XMLSchemaException
from xmlschema.exceptions import XMLResourceForbidden, XMLResourceParseError

from bim.ids import fixes
from server.errors import InvalidInput

MAX_IDS_BYTES = 20 * 1024 * 1024
MAX_REPORTED_PROBLEMS = 20
_PATTERN_PARAMETERS = ("name", "predefinedType", "value", "system", "propertySet", "baseName")


class InvalidIds(InvalidInput):
    """The IDS cannot be used; `data["problems"]` lists what is wrong (Chinese)."""

    code, message = "invalid_ids", "IDS 文件无效"

    def __init__(self, message: str, problems: list[str] | None = None) -> None:
        super().__init__(message, problems=problems or [message])
        self.problems: list[str] = problems or [message]


@dataclass(frozen=True)
class IdsDocument:
    """A parsed, validated IDS. `ids` is ifctester's object with our fixes; it holds the results of
    the last `validate` call, so one document is run by one caller at a time."""

    ids: Any  # ifctester.ids.Ids
    digest: str  # SHA-256 of the IDS bytes, hex
    title: str
    size_bytes: int


def _read(source: bytes | str | Path) -> bytes:
    if isinstance(source, bytes):
        return source
    if isinstance(source, str) and source.lstrip().startswith("<"):
        return source.encode("utf-8")
    path = Path(source)
    if path.stat().st_size > MAX_IDS_BYTES:
        raise InvalidIds(f"IDS 文件过大（超过 {MAX_IDS_BYTES // (1024 * 1024)} MB）")
    return path.read_bytes()


def _parse_xml(data: bytes) -> Any:
    """The root element, parsed by xmlschema's defused parser (no DTD, no entities, no network)."""
    if len(data) > MAX_IDS_BYTES:
        raise InvalidIds(f"IDS 文件过大（超过 {MAX_IDS_BYTES // (1024 * 1024)} MB）")
    if b"<!DOCTYPE" in data or b"<!ENTITY" in data:
        raise InvalidIds("IDS 文件不得包含 DOCTYPE 或实体声明")
    try:
        return _resource(data).root
    except XMLResourceForbidden as exc:
        raise InvalidIds("IDS 文件不得包含 DOCTYPE 或实体声明") from exc
    except (XMLResourceParseError, ValueError) as exc:
        where = re.search(r"line (\d+), column (\d+)", str(exc))
        place = f"第 {where.group(1)} 行第 {int(where.group(2)) + 1} 列附近" if where else "解析时"
        raise InvalidIds(f"IDS 不是格式正确的 XML：{place}出错（{exc}）") from exc


def _resource(data: bytes) -> XMLResource:
    # xmlschema needs the source text (not an Element) to resolve the xs: prefixes in QName values.
    return XMLResource(io.BytesIO(data), defuse="always")


def _schema_problems(data: bytes) -> list[str]:
    problems = []
    for error in ids_module.get_schema().iter_errors(_resource(data)):
        reason = error.reason or str(error.message)
        path = re.sub(r"\{[^}]*\}", "", error.path or "/")
        problems.append(f"不符合 IDS 1.0 XSD：{path}：{reason}")
        if len(problems) >= MAX_REPORTED_PROBLEMS:
            break
    return problems


def _pattern_problems(ids: Any) -> list[str]:
    problems = []
    for s_index, spec in enumerate(ids.specifications, start=1):
        for facet in [*spec.applicability, *spec.requirements]:
            for parameter in _PATTERN_PARAMETERS:
                value = getattr(facet, parameter, None)
                if not isinstance(value, ids_facet.Restriction):
                    continue
                patterns = value.options.get("pattern", [])
                for pattern in patterns if isinstance(patterns, list) else [patterns]:
                    try:
                        translate_pattern(
                            pattern, back_references=False, lazy_quantifiers=False, anchors=False
                        )
                    except Exception:  # elementpath raises its own RegexError family
                        problems.append(
                            f"规范 {s_index}「{spec.name}」：模式 “{pattern}” 不是合法的 XSD 正则表达式"
                        )
    return problems


def load_ids(source: bytes | str | Path) -> IdsDocument:
    """Read, validate and parse an IDS (bytes, XML text or a path). Raises `InvalidIds`."""
    data = _read(source)
    root = _parse_xml(data)
    problems = _schema_problems(data)
    if problems:
        raise InvalidIds(problems[0], problems)
    problems = fixes.audit(root)
    if problems:
        raise InvalidIds(problems[0], problems)
    try:
        decoded = ids_module.get_schema().decode(
            _resource(data), strip_namespaces=True, namespaces={"": "http://standards.buildingsmart.org/IDS"}
        )
        ids = ids_module.Ids().parse(decoded)
    except (XMLSchemaException, KeyError, TypeError, ValueError) as exc:
        raise InvalidIds(f"IDS 无法解析：{exc}") from exc
    problems = _pattern_problems(ids)
    if problems:
        raise InvalidIds(problems[0], problems)
    fixes.apply(ids)
    title = str(ids.info.get("title") or "")
    return IdsDocument(ids=ids, digest=hashlib.sha256(data).hexdigest(), title=title, size_bytes=len(data))


def validate(document: IdsDocument, model: ifcopenshell.file) -> Any:
    """Run every specification over the model (all of them, also those whose ifcVersion does not
    name the model's schema: the report marks those). Returns the validated ifctester `Ids`."""
    fixes.reset_failure_reasons(document.ids)
    document.ids.validate(model, should_filter_version=False)
    return document.ids


def case_verdict(document: IdsDocument, model: ifcopenshell.file) -> bool:
    """True when every specification passes (the verdict of an official IDS test case)."""
    validate(document, model)
    return all(bool(spec.status) for spec in document.ids.specifications)
