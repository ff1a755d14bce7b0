"""The STEP syntax stage: does the whole file follow ISO 10303-21, and does the IFC library open it?

`ifcopenshell.open` (C++, fast) is lenient: it opens truncated files, unknown tokens, a missing
`ENDSEC;` and duplicate instance names without a word. So the DATA section is also scanned by one
regular expression per instance (C speed, possessive, no backtracking): instance names, keywords,
parameters (strings, numbers, enumerations, references, binaries, `$`, `*`, nested lists and typed
values), `;`, then `ENDSEC;` and `END-ISO-10303-21;`. Where the scan stops, our tokenizer
(`bim.header.Lexer`) explains the problem with line and column. Duplicate and zero instance names are
errors too (as in the Validation Service's syntax check, `ifcopenshell.simple_spf`, which is 50-65x
slower and is not used).

Must not: run the schema checks, or keep the file's bytes after it returns (only the opened model).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import ifcopenshell

from bim.header import Lexer, StepSyntaxError, read_header
from bim.outcomes import Outcome, Severity

MAX_DEPTH = 10  # nesting of lists and typed values the fast scan follows (IFC uses at most 4)
MAX_ERRORS = 20  # duplicate-name findings reported (the rest are counted)

_WS = rb"(?:[ \t\r\n]++|/\*(?:[^*]++|\*(?!/))*+\*/)*+"
# Raw UTF-8 (bytes 0x80–0xFF) is tolerated inside strings of the DATA section: Chinese exporters write
# names that way instead of \X2\ escapes (ISO 10303-21 edition 3 allows UTF-8); the header stays
# strict ASCII, as the Validation Service's header checks require.
_STRING = rb"'(?:[\x20-\x26\x28-\x7e\x80-\xff]++|''|[\r\n\t]++)*+'"
_SIMPLE = (
    _STRING + rb"|\"[0-3][0-9A-Fa-f]*+\"|\.[A-Za-z_][A-Za-z0-9_]*+\."
    rb"|[+-]?[0-9]++(?:\.[0-9]*+(?:[eE][+-]?[0-9]++)?)?|#[0-9]++|\$|\*"
)
_KEYWORD = rb"!?[A-Za-z_][A-Za-z0-9_]*+"


def _params(inner: bytes) -> bytes:
    """`( p, p, … )` whose items match `inner`: an item is followed by `,` (and another item) or `)`."""
    return rb"\(" + _WS + rb"(?:(?:" + inner + rb")" + _WS + rb"(?:," + _WS + rb"(?=[^)])|(?=\))))*+\)"


def _param(depth: int) -> bytes:
    if depth == 0:
        return _SIMPLE
    return _SIMPLE + rb"|(?:" + _KEYWORD + _WS + rb")?" + _params(_param(depth - 1))


_RECORD = _KEYWORD + _WS + _params(_param(MAX_DEPTH))
_INSTANCE = (
    rb"#([0-9]++)" + _WS + rb"=" + _WS
    + rb"(?:" + _RECORD + rb"|\(" + _WS + rb"(?:" + _RECORD + _WS + rb")++\))" + _WS + rb";"
)  # fmt: skip
INSTANCE = re.compile(_WS + _INSTANCE)
INSTANCES = re.compile(rb"(?:" + _WS + _INSTANCE + rb")*+")
DATA_START = re.compile(_WS + rb"DATA" + _WS + rb"(?:\([^;]*\)" + _WS + rb")?;")
ENDSEC = re.compile(_WS + rb"ENDSEC" + _WS + rb";")
END = re.compile(_WS + rb"END-ISO-10303-21" + _WS + rb";" + _WS + rb"\Z")
_FLAT_INSTANCE = (
    rb"[ \t\r\n]*+#[0-9]++[ \t\r\n]*+=[ \t\r\n]*+(?:[-A-Za-z0-9_.,#$*+()!\" \t\r\n]++|" + _STRING
    + rb"|/\*(?:[^*]++|\*(?!/))*+\*/)*+;"
)  # fmt: skip
FLAT_INSTANCES = re.compile(rb"(?:" + _FLAT_INSTANCE + rb")*+")
STRICT_LIMIT = 64 * 1024 * 1024  # files up to this size get the full structural scan (about 1 s per 40 MB)
_OVERWRITTEN = re.compile(r"Overwriting instance with name #(\d+)")


@dataclass
class SyntaxResult:
    outcomes: list[Outcome]
    blocked: bool
    model: Any = None  # the opened ifcopenshell.file, when it opened
    schema: str | None = None
    parse_log: str = ""  # the IFC library's JSON log of the parse (the schema stage reports from it)

    @property
    def verdict(self) -> str:
        return "blocked" if self.blocked else "pass"


def _syntax_error(exc: StepSyntaxError, what: str = "STEP 语法错误") -> Outcome:
    return Outcome(
        rule="SYNTAX", severity=Severity.ERROR, message=f"{what}（第 {exc.line} 行第 {exc.column} 列）：{exc.message}",
        expected="符合 ISO 10303-21 的 STEP 文本", observed=exc.found or None,
        location={"line": exc.line, "column": exc.column},
    )  # fmt: skip


def scan(data: bytes, start: int, strict: bool = True) -> list[Outcome]:
    """Scan the DATA section(s) of `data` from byte offset `start` (just after the header's
    `ENDSEC;`): syntax errors, none when it follows ISO 10303-21. `strict` adds the parameter
    structure (lists, typed values, separators) to the lexical scan."""
    lexer = Lexer(data)
    pos, sections = start, 0
    while True:
        m = DATA_START.match(data, pos)
        if m is None:
            if sections and END.match(data, pos):
                return []
            if sections and re.compile(_WS + rb"END-ISO-10303-21" + _WS + rb";").match(data, pos):
                return [
                    _syntax_error(lexer.error("“END-ISO-10303-21;”之后还有多余内容", _skip(data, pos, 17)))
                ]
            what = "“DATA;”" if not sections else "“DATA;”或“END-ISO-10303-21;”"
            at = _skip(data, pos)
            if at >= len(data):
                message = f"文件意外结束：缺少 {what}（文件可能被截断）"
            else:
                message = f"此处应为 {what}，实际为“{_excerpt(data, at)}”"
            return [_syntax_error(lexer.error(message, at))]
        sections += 1
        pos = m.end()
        body = (INSTANCES if strict else FLAT_INSTANCES).match(data, pos)
        assert body is not None  # `*+` always matches
        pos = body.end()
        m = ENDSEC.match(data, pos)
        if m is None:
            return [_explain(data, lexer, pos)]
        pos = m.end()


def _skip(data: bytes, pos: int, extra: int = 0) -> int:
    m = re.compile(_WS).match(data, pos)
    return (m.end() if m else pos) + extra


def _excerpt(data: bytes, pos: int) -> str:
    chunk = data[pos : pos + 20].split(b"\n", 1)[0]
    return chunk.decode("utf-8", errors="replace")


def _explain(data: bytes, lexer: Lexer, pos: int) -> Outcome:
    """Why the instance at `pos` (where the fast scan stopped) does not parse."""
    pos = _skip(data, pos)
    lexer.pos, lexer._peeked = pos, None
    try:
        token = lexer.next()
        if token.kind == "EOF":
            raise lexer.error("文件意外结束：缺少“ENDSEC;”（文件可能被截断）", token.pos)
        if token.kind != "REF":
            raise lexer.error(
                f"此处应为实例（如 #12=IFCWALL(…);）或“ENDSEC;”，实际为“{_excerpt(data, pos)}”", pos
            )
        lexer.expect("=", "“=”")
        if lexer.peek().kind == "(":
            lexer.next()
            while lexer.peek().kind == "KEYWORD":
                lexer.next()
                lexer.parameters()
            lexer.expect(")", "“)”")
        else:
            keyword = lexer.next()
            if keyword.kind != "KEYWORD":
                raise lexer.error(f"此处应为实体名，实际为“{_excerpt(data, keyword.pos)}”", keyword.pos)
            lexer.parameters()
        end = lexer.next()
        if end.kind != ";":
            if end.kind == "EOF":
                raise lexer.error("文件意外结束：实例缺少结尾的“;”（文件可能被截断）", end.pos)
            raise lexer.error(f"实例应以“;”结尾，实际为“{_excerpt(data, end.pos)}”", end.pos)
    except StepSyntaxError as exc:
        return _syntax_error(exc)
    # The tokenizer accepts what the scan did not (e.g. nesting deeper than MAX_DEPTH).
    return _syntax_error(lexer.error(f"无法解析的实例（嵌套超过 {MAX_DEPTH} 层或格式异常）", pos))


def _duplicates(data: bytes, start: int, parse_log: str) -> list[Outcome]:
    """Duplicate instance names (the IFC library logs "Overwriting instance with name #n" and keeps
    one) and the invalid name #0, located in the text."""
    names = sorted({int(n) for n in _OVERWRITTEN.findall(parse_log)})
    zero = re.compile(rb"(?<![0-9A-Za-z_'])#0++" + _WS + rb"=")
    found: list[tuple[int, int, int]] = []  # (name, offset, offset of its first definition)
    if (z := zero.search(data, start)) is not None:
        found.append((0, z.start(), -1))
    for name in names[:MAX_ERRORS]:
        definitions = [
            m.start() for m in re.finditer(rb"(?<![0-9A-Za-z_'])#%d" % name + _WS + rb"=", data[start:])
        ]
        if len(definitions) >= 2:
            found.append((name, start + definitions[1], start + definitions[0]))
    lexer = Lexer(data)
    outcomes = []
    for name, offset, first in found:
        line, column = lexer.line_column(offset)
        if name == 0:
            message = f"STEP 语法错误（第 {line} 行第 {column} 列）：实例名 #0 无效（实例名须为正整数）"
        else:
            first_line = lexer.line_column(first)[0]
            message = f"STEP 语法错误（第 {line} 行第 {column} 列）：实例名 #{name} 重复（首次在第 {first_line} 行）"
        outcomes.append(Outcome(rule="SYNTAX", severity=Severity.ERROR, message=message, expected="实例名唯一",
                                observed=f"#{name}", location={"line": line, "column": column}))  # fmt: skip
    if len(names) > MAX_ERRORS:
        message = f"另有 {len(names) - MAX_ERRORS} 个重复的实例名未逐一列出"
        outcomes.append(Outcome(rule="SYNTAX", severity=Severity.ERROR, message=message))
    return outcomes


def check_syntax(path: Path, *, open_model: bool = True, strict_limit: int = STRICT_LIMIT) -> SyntaxResult:
    """Scan the file at `path` (with the structural scan when it is at most `strict_limit` bytes),
    then open it with ifcopenshell (kept in the result for the later stages, with the library's parse
    log). Any error blocks the later stages."""
    try:
        header = read_header(path)
    except StepSyntaxError as exc:
        return SyntaxResult([_syntax_error(exc, "文件头语法错误")], blocked=True)
    data = path.read_bytes()
    library: Any = ifcopenshell
    model, schema, parse_log = None, None, ""
    try:
        outcomes = scan(data, header.end, strict=len(data) <= strict_limit)
        if open_model and not outcomes:
            library.get_log()  # clears it
            library.ifcopenshell_wrapper.set_log_format_json()
            try:
                model = ifcopenshell.open(str(path))
                schema = model.schema_identifier
            except Exception as exc:  # the library's own words are kept as the observed detail
                outcomes.append(Outcome(
                    rule="SYNTAX", severity=Severity.ERROR, message="IFC 解析库无法打开该文件（语法或模式标识错误）",
                    expected="可被 IfcOpenShell 解析的 IFC 文件", observed=f"{type(exc).__name__}: {exc}",
                ))  # fmt: skip
            parse_log = library.get_log()
            outcomes.extend(_duplicates(data, header.end, parse_log))
    finally:
        del data
    if not outcomes:
        outcomes.append(Outcome(rule="SYNTAX", severity=Severity.PASSED, message="STEP 语法正确"))
    blocked = any(o.severity == Severity.ERROR for o in outcomes)
    return SyntaxResult(outcomes, blocked=blocked, model=model, schema=schema, parse_log=parse_log)
