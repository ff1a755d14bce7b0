"""The header of an IFC (STEP, ISO 10303-21) file, read by our own small tokenizer from the first bytes
up to `ENDSEC;` without loading the model, and checked like the buildingSMART Validation Service's
HEADER_SYNTAX and HEADER stages:

- HEADER_SYNTAX: `ISO-10303-21;` `HEADER;` FILE_DESCRIPTION(2) FILE_NAME(7) FILE_SCHEMA(1) … `ENDSEC;`
  must parse; the first problem is reported with line and column. An error here blocks every later
  stage.
- HEADER (policy, `validate: backend/apps/ifc_validation/checks/header_policy/validate_header.py`):
  attribute types of FILE_DESCRIPTION/FILE_NAME, the view definitions in FILE_DESCRIPTION, the ISO
  8601 time stamp, originating system "Company - Application - Version" (company and application
  non-blank without dashes, a PEP 440 version, no stray whitespace around any part). Policy errors do
  not block (as in the Validation Service). Plus FILE_SCHEMA against the tender's allowed list (IFC101
  semantics: official identifiers are IFC2X3, IFC4, IFC4X3_ADD2): this one blocks, the later stages
  check against that schema.

The tokenizer (`Lexer`) is also what the syntax stage uses to explain a bad DATA instance.
Must not: import ifcopenshell or read past the header (it is the fast first verdict).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from bim.outcomes import Outcome, Severity

HEADER_LIMIT = 1024 * 1024  # a header longer than this is refused (real headers are < 4 KiB)
OFFICIAL_SCHEMAS = ("IFC2X3", "IFC4", "IFC4X3_ADD2")  # IFC101
DEFAULT_ALLOWED_SCHEMAS = ("IFC4",)  # the tender's
# The Validation Service's valid_descriptions.yaml: view definitions accepted per schema (an
# "…AddOnView" is accepted beside a CoordinationView whatever its name).
DEFAULT_VIEW_DEFINITIONS: Mapping[str, Sequence[str]] = {
    "IFC2X3": (
        "CoordinationView_V2.0",
        "SpaceBoundaryAddonView",
        "BasicFMHandoverView",
        "StructuralAnalysisView",
    ),
    "IFC4": ("ReferenceView_V1.2", "IFC4Precast"),
    "IFC4X3_ADD2": ("ReferenceView", "Alignment-basedView"),
}
BOM = b"\xef\xbb\xbf"


# --- values -------------------------------------------------------------------------------------


class Enumeration(str):
    """An enumeration value `.NAME.` (the name without dots)."""


class Binary(str):
    """A binary value `"…"` (the hex digits)."""


@dataclass(frozen=True)
class Ref:
    id: int


@dataclass(frozen=True)
class Typed:
    keyword: str
    value: Any


class _Derived:
    def __repr__(self) -> str:
        return "*"


DERIVED = _Derived()


# --- tokens -------------------------------------------------------------------------------------


class StepSyntaxError(Exception):
    """The first place a STEP text does not parse: `message` in Chinese, 1-based line and column."""

    def __init__(self, message: str, line: int, column: int, found: str = "") -> None:
        super().__init__(f"{line}:{column}: {message}")
        self.message = message
        self.line = line
        self.column = column
        self.found = found


@dataclass(frozen=True)
class Token:
    kind: str  # KEYWORD STRING BINARY ENUM INT REAL REF NONE DERIVED ( ) , ; = EOF
    value: Any
    pos: int


_SPACE = frozenset(b" \t\r\n")
_KEYWORD = re.compile(rb"!?[A-Za-z_][A-Za-z0-9_]*")
_NUMBER = re.compile(rb"[+-]?[0-9]+(\.[0-9]*(?:[eE][+-]?[0-9]+)?)?")
_ENUM = re.compile(rb"\.([A-Za-z_][A-Za-z0-9_]*)\.")
_REF = re.compile(rb"#([0-9]+)")
_BINARY = re.compile(rb'"([0-3][0-9A-Fa-f]*)"')
_STRING_RUN = re.compile(rb"[\x20-\x26\x28-\x5b\x5d-\x7e]+")  # printable ASCII except ' and \
_HEX = re.compile(rb"[0-9A-F]+")


def describe(data: bytes, pos: int, width: int = 20) -> str:
    """A short printable excerpt of `data` at `pos`, for messages."""
    if pos >= len(data):
        return "文件结束"
    chunk = data[pos : pos + width].split(b"\n", 1)[0]
    return chunk.decode("utf-8", errors="replace") or repr(chr(data[pos]))


class Lexer:
    """Tokens of a STEP text, from `pos`; `line_column` maps a byte offset to a 1-based line and
    column (counted from `base`, the offset of the text's first byte in the file, and `base_line`)."""

    def __init__(self, data: bytes, pos: int = 0, base_line: int = 1) -> None:
        self.data = data
        self.pos = pos
        self.base_line = base_line
        self._peeked: Token | None = None

    def line_column(self, pos: int) -> tuple[int, int]:
        line = self.data.count(b"\n", 0, pos) + self.base_line
        column = pos - (self.data.rfind(b"\n", 0, pos) + 1) + 1
        return line, column

    def error(self, message: str, pos: int) -> StepSyntaxError:
        line, column = self.line_column(pos)
        return StepSyntaxError(message, line, column, describe(self.data, pos))

    def skip_space(self) -> None:
        data, pos, n = self.data, self.pos, len(self.data)
        while pos < n:
            if data[pos] in _SPACE:
                pos += 1
            elif data.startswith(b"/*", pos):
                end = data.find(b"*/", pos + 2)
                if end < 0:
                    raise self.error("注释 /* 没有结束的 */", pos)
                pos = end + 2
            else:
                break
        self.pos = pos

    def peek(self) -> Token:
        if self._peeked is None:
            self._peeked = self._next()
        return self._peeked

    def next(self) -> Token:
        token = self.peek()
        self._peeked = None
        return token

    def expect(self, kind: str, what: str) -> Token:
        token = self.next()
        if token.kind == "EOF" and kind != "EOF":
            raise self.error(f"文件意外结束：此处应为 {what}（文件可能被截断）", token.pos)
        if token.kind != kind:
            raise self.error(f"此处应为 {what}，实际为“{describe(self.data, token.pos)}”", token.pos)
        return token

    def _next(self) -> Token:
        self.skip_space()
        data, pos = self.data, self.pos
        if pos >= len(data):
            return Token("EOF", None, pos)
        c = data[pos]
        if c == 0x27:  # '
            text, self.pos = self.read_string(pos)
            return Token("STRING", text, pos)
        if c in b"(),;=":
            self.pos = pos + 1
            return Token(chr(c), None, pos)
        if c == 0x24:  # $
            self.pos = pos + 1
            return Token("NONE", None, pos)
        if c == 0x2A:  # *
            self.pos = pos + 1
            return Token("DERIVED", DERIVED, pos)
        for kind, pattern in (("REF", _REF), ("ENUM", _ENUM), ("BINARY", _BINARY)):
            m = pattern.match(data, pos)
            if m:
                self.pos = m.end()
                raw = m.group(1).decode("ascii")
                value: Any = (
                    Ref(int(raw)) if kind == "REF" else Enumeration(raw) if kind == "ENUM" else Binary(raw)
                )
                return Token(kind, value, pos)
        m = _NUMBER.match(data, pos)
        if m:
            self.pos = m.end()
            text = m.group().decode("ascii")
            return Token("REAL", float(text), pos) if m.group(1) is not None else Token("INT", int(text), pos)
        m = _KEYWORD.match(data, pos)
        if m:
            self.pos = m.end()
            return Token("KEYWORD", m.group().decode("ascii"), pos)
        if c == 0x22:  # "
            raise self.error('二进制值格式错误（应为 "<0-3><十六进制数字>"）', pos)
        if c >= 0x80:
            raise self.error(
                "出现非 ASCII 字符（STEP 文件只允许 ASCII，其他字符须用 \\X2\\…\\X0\\ 编码）", pos
            )
        raise self.error(f"非法字符“{describe(self.data, pos, 1)}”", pos)

    def read_string(self, start: int) -> tuple[str, int]:
        """The decoded value of the string literal at `start` and the offset after it. Line breaks
        inside a string are tolerated and dropped (as the Validation Service's parser does)."""
        data, pos, n = self.data, start + 1, len(self.data)
        parts: list[str] = []
        while True:
            m = _STRING_RUN.match(data, pos)
            if m:
                parts.append(m.group().decode("ascii"))
                pos = m.end()
            if pos >= n:
                raise self.error("字符串没有结束（缺少结束的单引号 '）", start)
            c = data[pos]
            if c == 0x27:
                if data.startswith(b"''", pos):
                    parts.append("'")
                    pos += 2
                    continue
                return "".join(parts), pos + 1
            if c == 0x5C:  # \
                text, pos = self._escape(pos)
                parts.append(text)
            elif c in b"\r\n\t":
                pos += 1
            elif c >= 0x80:
                raise self.error(
                    "字符串中出现非 ASCII 字符（STEP 文件只允许 ASCII，中文等字符须用 \\X2\\…\\X0\\ 编码）",
                    pos,
                )
            else:
                raise self.error(f"字符串中出现控制字符 0x{c:02X}", pos)

    def _escape(self, pos: int) -> tuple[str, int]:
        data = self.data
        if data.startswith(b"\\\\", pos):
            return "\\", pos + 2
        if data.startswith(b"\\X2\\", pos) or data.startswith(b"\\X4\\", pos):
            width = 4 if data[pos + 2] == 0x32 else 8
            end = data.find(b"\\X0\\", pos + 4)
            hexdigits = data[pos + 4 : end] if end >= 0 else b""
            if end < 0 or len(hexdigits) % width or not _HEX.fullmatch(hexdigits or b"0"):
                raise self.error("\\X2\\ 或 \\X4\\ 编码格式错误（应为十六进制数字并以 \\X0\\ 结束）", pos)
            chars = [chr(int(hexdigits[i : i + width], 16)) for i in range(0, len(hexdigits), width)]
            return "".join(chars).encode("utf-16", "surrogatepass").decode("utf-16", "replace"), end + 4
        if data.startswith(b"\\X\\", pos):
            digits = data[pos + 3 : pos + 5]
            if len(digits) != 2 or not _HEX.fullmatch(digits):
                raise self.error("\\X\\ 编码格式错误（应为两位十六进制数字）", pos)
            return chr(int(digits, 16)), pos + 5
        if data.startswith(b"\\S\\", pos) and pos + 3 < len(data):
            return chr(data[pos + 3] + 128), pos + 4
        m = re.compile(rb"\\P[A-I]\\").match(data, pos)
        if m:
            return "", m.end()
        return "\\", pos + 1  # a lone backslash: tolerated (many exporters write Windows paths)

    def value(self, depth: int = 0) -> Any:
        """One parameter value (recursive: lists and typed values)."""
        token = self.next()
        kind = token.kind
        if kind in ("STRING", "BINARY", "ENUM", "INT", "REAL", "REF", "NONE", "DERIVED"):
            return token.value
        if depth > 64:
            raise self.error("嵌套层次过深", token.pos)
        if kind == "(":
            items: list[Any] = []
            if self.peek().kind == ")":
                self.next()
                return tuple(items)
            while True:
                items.append(self.value(depth + 1))
                sep = self.next()
                if sep.kind == ")":
                    return tuple(items)
                if sep.kind != ",":
                    raise self.error(
                        f"列表中此处应为“,”或“)”，实际为“{describe(self.data, sep.pos)}”", sep.pos
                    )
        if kind == "KEYWORD":
            self.expect("(", "“(”")
            inner = self.value(depth + 1)
            self.expect(")", "“)”")
            return Typed(token.value, inner)
        if kind == "EOF":
            raise self.error("文件意外结束（实例不完整，文件可能被截断）", token.pos)
        raise self.error(f"此处应为一个值，实际为“{describe(self.data, token.pos)}”", token.pos)

    def parameters(self) -> tuple[Any, ...]:
        """`( value, … )` of an entity instance."""
        self.expect("(", "“(”")
        if self.peek().kind == ")":
            self.next()
            return ()
        items: list[Any] = []
        while True:
            items.append(self.value())
            sep = self.next()
            if sep.kind == ")":
                return tuple(items)
            if sep.kind != ",":
                if sep.kind == "EOF":
                    raise self.error("文件意外结束（实例不完整，文件可能被截断）", sep.pos)
                raise self.error(f"参数之间应为“,”或“)”，实际为“{describe(self.data, sep.pos)}”", sep.pos)


# --- the header ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class HeaderEntity:
    keyword: str
    params: tuple[Any, ...]
    line: int
    column: int


@dataclass(frozen=True)
class Header:
    entities: tuple[HeaderEntity, ...]
    end: int  # byte offset just after `ENDSEC;`
    end_line: int  # the line of that `ENDSEC;`
    bom: bool = False

    def get(self, keyword: str) -> HeaderEntity | None:
        return next((e for e in self.entities if e.keyword == keyword), None)

    @property
    def schema_identifiers(self) -> tuple[Any, ...]:
        entity = self.get("FILE_SCHEMA")
        value = entity.params[0] if entity and entity.params else None
        return value if isinstance(value, tuple) else (value,)


REQUIRED = (("FILE_DESCRIPTION", 2), ("FILE_NAME", 7), ("FILE_SCHEMA", 1))


def parse_header(data: bytes) -> Header:
    """The header at the start of `data` (raises StepSyntaxError)."""
    bom = data.startswith(BOM)
    lexer = Lexer(data, len(BOM) if bom else 0)
    lexer.skip_space()
    if not data.startswith(b"ISO-10303-21", lexer.pos):
        raise lexer.error(
            f"文件应以“ISO-10303-21;”开头，实际为“{describe(data, lexer.pos)}”（缺少 STEP 文件头）", lexer.pos
        )
    lexer.pos += len(b"ISO-10303-21")
    lexer.expect(";", "“;”")
    token = lexer.next()
    if token.kind != "KEYWORD" or token.value != "HEADER":
        raise lexer.error(f"此处应为“HEADER;”，实际为“{describe(data, token.pos)}”", token.pos)
    lexer.expect(";", "“;”")
    entities: list[HeaderEntity] = []
    while True:
        token = lexer.next()
        if token.kind == "EOF":
            raise lexer.error("文件头没有结束（缺少“ENDSEC;”，文件可能被截断）", token.pos)
        if token.kind != "KEYWORD":
            raise lexer.error(
                f"此处应为文件头实体名或“ENDSEC;”，实际为“{describe(data, token.pos)}”", token.pos
            )
        if token.value == "ENDSEC":
            lexer.expect(";", "“;”")
            break
        if token.value in ("DATA", "END-ISO-10303-21"):
            raise lexer.error("文件头缺少“ENDSEC;”", token.pos)
        line, column = lexer.line_column(token.pos)
        params = lexer.parameters()
        lexer.expect(";", "“;”")
        entities.append(HeaderEntity(token.value, params, line, column))
    header = Header(tuple(entities), lexer.pos, lexer.line_column(lexer.pos)[0], bom)
    _check_structure(header, lexer)
    return header


def _check_structure(header: Header, lexer: Lexer) -> None:
    names = [e.keyword for e in header.entities]
    for index, (keyword, count) in enumerate(REQUIRED):
        entity = header.get(keyword)
        if entity is None:
            raise StepSyntaxError(f"文件头缺少 {keyword}", *lexer.line_column(header.end))
        if names.index(keyword) != index:
            raise StepSyntaxError(
                f"{keyword} 位置错误：文件头必须依次为 FILE_DESCRIPTION、FILE_NAME、FILE_SCHEMA", entity.line,
                entity.column,
            )  # fmt: skip
        if names.count(keyword) > 1:
            raise StepSyntaxError(f"文件头中 {keyword} 出现了多次", entity.line, entity.column)
        if len(entity.params) != count:
            raise StepSyntaxError(
                f"{keyword} 的参数个数错误：应为 {count} 个，实际为 {len(entity.params)} 个", entity.line,
                entity.column,
            )  # fmt: skip


def read_header(path: Path, limit: int = HEADER_LIMIT) -> Header:
    """Parse the header of the file at `path` from its first `limit` bytes."""
    with path.open("rb") as f:
        data = f.read(limit)
    try:
        return parse_header(data)
    except StepSyntaxError as exc:
        if len(data) >= limit and exc.found == "文件结束":
            raise StepSyntaxError(
                f"文件头超过 {limit} 字节仍未结束（缺少“ENDSEC;”）", exc.line, exc.column
            ) from None
        raise


# --- the header policy --------------------------------------------------------------------------


@dataclass(frozen=True)
class FieldCheck:
    """One policy check: the header field it is about (the Validation Service's field names:
    description, name, time_stamp, author, organization, preprocessor_version, originating_system,
    company_name, application_name, version, authorization, implementation_level, schema) and its
    outcome."""

    field: str
    outcome: Outcome
    blocks: bool = False
    kind: str = "policy"  # "type": the attribute's EXPRESS type (STRING, LIST OF STRING) is wrong


FIELD_LABELS = {
    "description": "FILE_DESCRIPTION.description（视图定义）",
    "implementation_level": "FILE_DESCRIPTION.implementation_level（实现级别）",
    "name": "FILE_NAME.name（文件名）",
    "time_stamp": "FILE_NAME.time_stamp（时间戳）",
    "author": "FILE_NAME.author（作者）",
    "organization": "FILE_NAME.organization（组织）",
    "preprocessor_version": "FILE_NAME.preprocessor_version（预处理器版本）",
    "originating_system": "FILE_NAME.originating_system（原始系统）",
    "company_name": "FILE_NAME.originating_system 中的公司名",
    "application_name": "FILE_NAME.originating_system 中的应用程序名",
    "version": "FILE_NAME.originating_system 中的版本号",
    "authorization": "FILE_NAME.authorization（授权人）",
    "schema": "FILE_SCHEMA（IFC 模式标识）",
}

_TIME_STAMP = re.compile(
    r"^\d{4}-\d{2}-\d{2}T(?:[01]\d|2[0-3]):[0-5]\d:[0-5]\d(?:\.\d+)?(?:Z|[+-][01]\d:[0-5]\d)?$"
)
_ORIGINATING_SYSTEM = re.compile(r"(.+) - (.+) - (.+)")
# PEP 440 (the packaging library's VERSION_PATTERN), case-insensitive, without surrounding whitespace.
_PEP440 = re.compile(
    r"v?(?:[0-9]+!)?[0-9]+(?:\.[0-9]+)*"
    r"(?:[-_.]?(?:alpha|a|beta|b|preview|pre|c|rc)[-_.]?[0-9]*)?"
    r"(?:-[0-9]+|[-_.]?(?:post|rev|r)[-_.]?[0-9]*)?"
    r"(?:[-_.]?dev[-_.]?[0-9]*)?"
    r"(?:\+[a-z0-9]+(?:[-_.][a-z0-9]+)*)?",
    re.IGNORECASE,
)
_MVD_ENTRY = re.compile(r"\s*([A-Za-z0-9_]+)\s*\[([^\[\]]*)\]")
_MVD_VALUE = re.compile(r"[A-Za-z0-9 _.\-]+")


@dataclass
class ParsedDescription:
    view_definitions: list[str] | None  # None: the description does not follow the grammar
    comments: list[str] = field(default_factory=list)


def parse_description(description: Iterable[str]) -> ParsedDescription:
    """FILE_DESCRIPTION.description per the IFC header implementation guide: `ViewDefinition [a, b]`,
    `Comment […]`, `Option […]`, `ExchangeRequirement […]`, other `Keyword […]` entries."""
    text = " ".join(description)
    if not text.strip():
        return ParsedDescription(None)
    views: list[str] = []
    comments: list[str] = []
    pos = 0
    while pos < len(text):
        if not text[pos:].strip():
            break
        m = _MVD_ENTRY.match(text, pos)
        if not m:
            return ParsedDescription(None)
        keyword, content = m.group(1), m.group(2)
        if keyword == "ViewDefinition":
            values = content.split(",")
            if not all(_MVD_VALUE.fullmatch(v) and v.strip() for v in values):
                return ParsedDescription(None)
            views.extend(v.strip() for v in values)
        elif keyword == "Comment":
            comments.append(" ".join(content.split()))
        elif not content.strip():
            return ParsedDescription(None)
        pos = m.end()
    return ParsedDescription(views, comments)


def _text(value: Any) -> str:
    if value is None:
        return "$（未赋值）"
    if value is DERIVED:
        return "*"
    if isinstance(value, tuple):
        return "(" + ", ".join(_text(v) for v in value) + ")"
    if isinstance(value, str) and not isinstance(value, Enumeration | Binary):
        return repr(value)
    return str(value)


def _type_error(field_name: str, value: Any, aggregate: bool) -> str | None:
    """Like ifcopenshell.validate.validate_ifc_header: STRING, or a non-empty LIST OF STRING."""
    if aggregate:
        if not isinstance(value, tuple):
            return f"应为非空字符串列表，实际为 {_text(value)}"
        if not value:
            return "应为非空字符串列表，实际为空列表 ()"
        if not all(isinstance(v, str) and not isinstance(v, Enumeration | Binary) for v in value):
            return f"列表元素应均为字符串，实际为 {_text(value)}"
        return None
    if not isinstance(value, str) or isinstance(value, Enumeration | Binary):
        return f"应为字符串，实际为 {_text(value)}"
    return None


def policy_checks(
    header: Header,
    allowed_schemas: Sequence[str] = DEFAULT_ALLOWED_SCHEMAS,
    view_definitions: Mapping[str, Sequence[str]] = DEFAULT_VIEW_DEFINITIONS,
) -> list[FieldCheck]:
    """Every policy check of the header, in a fixed order."""
    checks: list[FieldCheck] = []

    def record(
        name: str,
        problem: str | None,
        expected: Any,
        observed: Any,
        blocks: bool = False,
        kind: str = "policy",
    ) -> None:
        label = FIELD_LABELS[name]
        if problem is None:
            outcome = Outcome(rule="HEADER", severity=Severity.PASSED, message=f"{label}符合要求",
                              expected=expected, observed=observed)  # fmt: skip
        else:
            outcome = Outcome(rule="HEADER", severity=Severity.ERROR, message=f"{label}不符合要求：{problem}",
                              expected=expected, observed=observed)  # fmt: skip
        checks.append(FieldCheck(name, outcome, blocks and problem is not None, kind))

    description_entity = header.get("FILE_DESCRIPTION")
    name_entity = header.get("FILE_NAME")
    assert description_entity is not None  # parse_header guarantees both
    assert name_entity is not None
    description, implementation_level = description_entity.params
    name, time_stamp, author, organization, preprocessor, originating, authorization = name_entity.params
    schemas = header.schema_identifiers
    schema = schemas[0] if len(schemas) == 1 and isinstance(schemas[0], str) else None

    # FILE_DESCRIPTION.description: types, then the view definitions.
    problem = _type_error("description", description, aggregate=True)
    if problem is None:
        parsed = parse_description(description)
        views = parsed.view_definitions
        allowed = list(view_definitions.get(schema or "", ()))
        if not views:
            problem = "无法识别视图定义，应为“ViewDefinition [视图名, …]”"
        elif any("AddOnView" in v for v in views) and not any("CoordinationView" in v for v in views):
            problem = f"附加视图（AddOnView）必须与 CoordinationView 同时声明，实际为 {views}"
        elif bad := [v for v in views if v not in allowed and "AddOnView" not in v]:
            problem = f"模式 {schema or _text(schemas)} 不接受视图定义 {bad}，允许 {allowed}"
        elif long := [c for c in parsed.comments if len(c) > 256]:
            problem = f"Comment 超过 256 个字符（{len(long[0])} 个）"
        record("description", problem, {"view_definitions": allowed}, _text(description))
    else:
        record("description", problem, "LIST [1:?] OF STRING", _text(description), kind="type")

    for key, value, aggregate in (
        ("implementation_level", implementation_level, False), ("name", name, False),
        ("author", author, True), ("organization", organization, True),
        ("preprocessor_version", preprocessor, False), ("authorization", authorization, False),
    ):  # fmt: skip
        record(key, _type_error(key, value, aggregate), "LIST [1:?] OF STRING" if aggregate else "STRING",
               _text(value), kind="type")  # fmt: skip

    problem = _type_error("time_stamp", time_stamp, aggregate=False)
    kind = "type" if problem else "policy"
    if problem is None and not (_TIME_STAMP.match(time_stamp) and _iso8601(time_stamp)):
        problem = f"应为 ISO 8601 日期时间（如 2024-01-31T09:30:00），实际为 {_text(time_stamp)}"
    record("time_stamp", problem, "YYYY-MM-DDThh:mm:ss[.s][Z|±hh:mm]", _text(time_stamp), kind=kind)

    problem = _type_error("originating_system", originating, aggregate=False)
    kind = "type" if problem else "policy"
    parts: tuple[str, ...] | None = None
    if problem is None:
        m = _ORIGINATING_SYSTEM.match(originating)
        if m:
            parts = (m.group(1), m.group(2), m.group(3))
        else:
            problem = f"应为“公司 - 应用程序 - 版本”格式，实际为 {_text(originating)}"
    record("originating_system", problem, "公司 - 应用程序 - 版本", _text(originating), kind=kind)
    if parts is not None:
        for key, part in (("company_name", parts[0]), ("application_name", parts[1])):
            if not part.strip():
                problem = "为空"
            elif "-" in part:
                problem = f"不得包含“-”，实际为 {part!r}"
            elif part != part.strip():
                problem = f"首尾不得有空格，实际为 {part!r}"
            else:
                problem = None
            record(key, problem, "非空、不含“-”、首尾无空格", part)
        version = parts[2]
        if version != version.strip():
            problem = f"首尾不得有空格，实际为 {version!r}"
        elif not _PEP440.fullmatch(version):
            problem = f"不是有效的版本号（如 26.0.0），实际为 {version!r}"
        else:
            problem = None
        record("version", problem, "版本号（PEP 440，如 26.0.0）", version)

    # FILE_SCHEMA: exactly one identifier, official (IFC101) and allowed by the tender.
    observed = _text(schemas)
    if schema is None:
        problem = f"应恰好声明一个模式标识，实际为 {observed}"
    elif schema not in OFFICIAL_SCHEMAS:
        problem = (
            f"“{schema}”不是 buildingSMART 正式发布的模式标识（正式标识：{', '.join(OFFICIAL_SCHEMAS)}）"
        )
    elif schema not in allowed_schemas:
        problem = f"本次招标只接受 {', '.join(allowed_schemas)}，实际为 {schema}"
    else:
        problem = None
    record("schema", problem, list(allowed_schemas), schema if schema is not None else observed, blocks=True)
    return checks


def _iso8601(text: str) -> bool:
    try:
        datetime.fromisoformat(text)
    except ValueError:
        return False
    return True


# --- the stage ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class HeaderResult:
    outcomes: list[Outcome]
    blocked: bool  # the later stages must not run
    header: Header | None = None
    schema: str | None = None  # the declared schema identifier, when there is exactly one
    checks: list[FieldCheck] = field(default_factory=list)

    @property
    def verdict(self) -> str:
        return "blocked" if self.blocked else "pass"


def check_header(
    path: Path,
    allowed_schemas: Sequence[str] = DEFAULT_ALLOWED_SCHEMAS,
    view_definitions: Mapping[str, Sequence[str]] = DEFAULT_VIEW_DEFINITIONS,
) -> HeaderResult:
    """HEADER_SYNTAX then HEADER over the file at `path`."""
    try:
        header = read_header(path)
    except StepSyntaxError as exc:
        outcome = Outcome(
            rule="HEADER_SYNTAX", severity=Severity.ERROR,
            message=f"文件头语法错误（第 {exc.line} 行第 {exc.column} 列）：{exc.message}",
            expected="ISO-10303-21; HEADER; FILE_DESCRIPTION(…); FILE_NAME(…); FILE_SCHEMA(…); ENDSEC;",
            observed=exc.found or None, location={"line": exc.line, "column": exc.column},
        )  # fmt: skip
        return HeaderResult([outcome], blocked=True)
    syntax_ok = Outcome(rule="HEADER_SYNTAX", severity=Severity.PASSED, message="文件头语法正确")
    checks = policy_checks(header, allowed_schemas, view_definitions)
    schemas = header.schema_identifiers
    schema = schemas[0] if len(schemas) == 1 and isinstance(schemas[0], str) else None
    return HeaderResult(
        [syntax_ok, *(c.outcome for c in checks)], blocked=any(c.blocks for c in checks), header=header,
        schema=schema, checks=checks,
    )  # fmt: skip
