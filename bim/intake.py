"""Intake, the first gate of a check: is the upload an IFC model at all? Content sniffing (a STEP text
starting with `ISO-10303-21;`, possibly after a UTF-8 BOM and white space, or a ZIP holding exactly
one `.ifc`), the size cap, the name's extension agreeing with the content, and for `.ifczip` a guarded,
streamed extraction (uncompressed size ≤ the cap, compression ratio cap against zip bombs, member
count cap, no path traversal, no encryption). Gives the plain .ifc to check and its SM3 digest (the
digest of the bytes checked: for .ifczip those of the extracted member).

Must not: parse the model, trust the sizes a ZIP declares, or write anywhere but `work_dir`.
"""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Literal

from bim.outcomes import Outcome, Severity
from server.security.sm3 import Sm3

CHUNK = 1024 * 1024
SNIFF_BYTES = 4096
MAX_RATIO = 100  # uncompressed : compressed; IFC text compresses about 5-15:1
RATIO_FLOOR = 1024 * 1024  # below this many uncompressed bytes the ratio is not held against a member
MAX_MEMBERS = 100
EXTRACTED_NAME = "model.ifc"
STEP_MAGIC = b"ISO-10303-21"
BOM = b"\xef\xbb\xbf"
# A damaged STEP text: no ISO-10303-21 line, but STEP sections or instances (`#12=IFCWALL(`).
_STEP_FRAGMENT = re.compile(
    rb"\s*(?:/\*.*?\*/\s*)*(?:HEADER\s*;|DATA\s*;|#\d+\s*=\s*\(?\s*[A-Za-z])", re.DOTALL
)
_KNOWN_TYPES = (
    (b"%PDF", "PDF 文档"), (b"\x89PNG", "PNG 图片"), (b"\xff\xd8\xff", "JPEG 图片"), (b"GIF8", "GIF 图片"),
    (b"\x1f\x8b", "gzip 压缩文件"), (b"Rar!", "RAR 压缩文件"), (b"7z\xbc\xaf", "7z 压缩文件"),
    (b"\xd0\xcf\x11\xe0", "Office 97-2003 文档"), (b"AC10", "DWG 图纸"), (b"<?xml", "XML 文件（ifcXML 不在接受范围）"),
)  # fmt: skip

Kind = Literal["ifc", "ifczip"]


@dataclass(frozen=True)
class IntakeResult:
    outcomes: list[Outcome]
    blocked: bool  # the later stages must not run
    ifc_path: Path | None = None  # the plain .ifc to check
    sm3: str | None = None  # SM3 (hex) of the bytes of `ifc_path`
    size: int | None = None  # bytes of `ifc_path`
    container: Kind | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def verdict(self) -> str:
        return "blocked" if self.blocked else "pass"


def _error(message: str, expected: object = None, observed: object = None) -> Outcome:
    return Outcome(
        rule="INTAKE", severity=Severity.ERROR, message=message, expected=expected, observed=observed
    )


def _refuse(message: str, expected: object = None, observed: object = None) -> IntakeResult:
    return IntakeResult([_error(message, expected, observed)], blocked=True)


def sniff(head: bytes) -> Literal["step", "step-fragment", "zip", "empty"] | str:
    """What the first bytes of a file are: "step", "step-fragment" (STEP text without its
    ISO-10303-21 start), "zip", "empty", or a Chinese description of what else it is."""
    if not head.strip(BOM + b" \t\r\n"):
        return "empty"
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return "zip"
    text = head[len(BOM) :] if head.startswith(BOM) else head
    if text.lstrip(b" \t\r\n").startswith(STEP_MAGIC):
        return "step"
    if b"\x00" not in head and _STEP_FRAGMENT.match(text):
        return "step-fragment"
    for magic, label in _KNOWN_TYPES:
        if head.startswith(magic):
            return label
    return "文本文件" if b"\x00" not in head[:SNIFF_BYTES] else "二进制文件"


def intake(
    path: Path, file_name: str, max_bytes: int, work_dir: Path, *, max_ratio: int = MAX_RATIO,
    max_members: int = MAX_MEMBERS,
) -> IntakeResult:  # fmt: skip
    """Check the upload at `path` (named `file_name` by the supplier); `max_bytes` caps the model's
    size (the .ifc, or the extracted member of a .ifczip)."""
    size = path.stat().st_size
    with path.open("rb") as f:
        head = f.read(SNIFF_BYTES)
    kind = sniff(head)
    suffix = PurePosixPath(file_name.replace("\\", "/")).suffix.lower()
    if kind == "empty":
        return _refuse("文件为空，不是 IFC 文件", "IFC 模型（.ifc 或 .ifczip）", f"{size} 字节的空白文件")
    if kind not in ("step", "step-fragment", "zip"):
        return _refuse(
            f"不是 IFC 文件：内容为{kind}",
            "以“ISO-10303-21;”开头的 IFC (STEP) 文本，或只含一个 .ifc 的 ZIP",
            kind,
        )
    expected_suffix = ".ifczip" if kind == "zip" else ".ifc"
    if suffix != expected_suffix:
        content = "ZIP 压缩包" if kind == "zip" else "IFC (STEP) 文本"
        return _refuse(
            f"文件扩展名“{suffix or '（无）'}”与内容不符：内容为{content}，扩展名应为 {expected_suffix}",
            expected_suffix, suffix or None,
        )  # fmt: skip
    if kind == "zip":
        return _intake_zip(path, size, max_bytes, work_dir, max_ratio, max_members)
    if size > max_bytes:
        return _refuse(f"文件过大：{size} 字节，超过上限 {max_bytes} 字节", max_bytes, size)
    digest = Sm3()
    with path.open("rb") as f:
        while chunk := f.read(CHUNK):
            digest.update(chunk)
    return _accepted(path, digest.hexdigest(), size, "ifc", head)


def _accepted(ifc_path: Path, sm3: str, size: int, container: Kind, head: bytes) -> IntakeResult:
    what = "IFC (STEP) 文本" if container == "ifc" else "IFC 压缩包（.ifczip，已解压其中的 .ifc）"
    outcomes = [Outcome(rule="INTAKE", severity=Severity.PASSED, message=f"文件类型为{what}，模型大小 {size} 字节",
                        observed={"container": container, "bytes": size})]  # fmt: skip
    if head.startswith(BOM):
        message = "文件以 UTF-8 BOM 开头，ISO 10303-21 不允许（已忽略 BOM 继续检查）"
        outcomes.append(Outcome(rule="INTAKE", severity=Severity.WARNING, message=message))
    if sniff(head) == "step-fragment":
        message = "文件不以“ISO-10303-21;”开头，疑似不完整的 STEP 文件（具体位置见文件头检查）"
        outcomes.append(Outcome(rule="INTAKE", severity=Severity.WARNING, message=message))
    return IntakeResult(outcomes, blocked=False, ifc_path=ifc_path, sm3=sm3, size=size, container=container)


def _unsafe_name(name: str) -> bool:
    if name.startswith(("/", "\\")) or "\\" in name or re.match(r"^[A-Za-z]:", name) or "\x00" in name:
        return True
    return any(part == ".." for part in name.split("/"))


def _intake_zip(
    path: Path, size: int, max_bytes: int, work_dir: Path, max_ratio: int, max_members: int
) -> IntakeResult:
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        return _refuse("ZIP 压缩包已损坏，无法读取", "完整的 ZIP 文件", str(exc))
    with archive:
        members = archive.infolist()
        if len(members) > max_members:
            return _refuse(
                f"压缩包内文件过多：{len(members)} 个，上限 {max_members} 个", max_members, len(members)
            )
        unsafe = sorted(m.filename for m in members if _unsafe_name(m.filename))
        if unsafe:
            return _refuse(f"压缩包含有不安全的路径（绝对路径或“..”路径穿越）：{', '.join(unsafe[:5])}",
                           "压缩包内的相对路径", unsafe[:5])  # fmt: skip
        ifcs = [m for m in members if not m.is_dir() and m.filename.lower().endswith(".ifc")]
        if len(ifcs) != 1:
            names = sorted(m.filename for m in ifcs)
            message = ("压缩包中没有 .ifc 文件" if not ifcs
                       else f"压缩包中有 {len(ifcs)} 个 .ifc 文件（{', '.join(names[:5])}），只能有一个")  # fmt: skip
            return _refuse(message, "恰好一个 .ifc 文件", names[:10])
        member = ifcs[0]
        if member.flag_bits & 0x1:
            return _refuse("压缩包中的 .ifc 已加密，无法检查", "未加密的 .ifc", member.filename)
        if member.file_size > max_bytes:
            return _refuse(
                f"解压后文件过大：{member.file_size} 字节，超过上限 {max_bytes} 字节",
                max_bytes,
                member.file_size,
            )
        limit = min(max_bytes, max(RATIO_FLOOR, max_ratio * max(member.compress_size, 1)))
        if member.file_size > limit:
            return _refuse_bomb(member.file_size, member.compress_size, max_ratio)
        work_dir.mkdir(parents=True, exist_ok=True)
        target = work_dir / EXTRACTED_NAME
        digest = Sm3()
        written = 0
        head = b""
        try:
            with archive.open(member) as source, target.open("wb") as sink:
                while chunk := source.read(CHUNK):
                    written += len(chunk)
                    if written > limit:  # the declared size lied
                        sink.close()
                        target.unlink(missing_ok=True)
                        if written > max_bytes:
                            return _refuse(
                                f"解压后文件过大：超过上限 {max_bytes} 字节", max_bytes, f"> {max_bytes}"
                            )
                        return _refuse_bomb(written, member.compress_size, max_ratio)
                    if len(head) < SNIFF_BYTES:
                        head += chunk[: SNIFF_BYTES - len(head)]
                    digest.update(chunk)
                    sink.write(chunk)
        except (zipfile.BadZipFile, OSError, EOFError, NotImplementedError, RuntimeError) as exc:
            target.unlink(missing_ok=True)
            return _refuse(f"压缩包中的 {member.filename} 无法解压（文件损坏或压缩方式不受支持）", "可解压的 .ifc",
                           str(exc))  # fmt: skip
    if sniff(head) not in ("step", "step-fragment"):
        target.unlink(missing_ok=True)
        return _refuse(f"压缩包中的 {member.filename} 不是 IFC (STEP) 文本（内容为{_label(sniff(head))}）",
                       "以“ISO-10303-21;”开头的 IFC 文本", _label(sniff(head)))  # fmt: skip
    return _accepted(target, digest.hexdigest(), written, "ifczip", head)


def _label(kind: str) -> str:
    return {"empty": "空文件", "zip": "ZIP 压缩包"}.get(kind, kind)


def _refuse_bomb(uncompressed: int, compressed: int, max_ratio: int) -> IntakeResult:
    ratio = uncompressed / max(compressed, 1)
    return _refuse(
        f"压缩比异常（{ratio:.0f}:1，上限 {max_ratio}:1），疑似压缩炸弹，已拒绝解压",
        f"≤ {max_ratio}:1", f"{ratio:.0f}:1",
    )  # fmt: skip
