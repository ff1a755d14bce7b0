"""What an uploaded file is, judged by its first bytes (magic numbers), not by its name; and the
name it may be stored and shown under.

The allowed types are those of drawing packages: PDF, DWG, DXF (text and binary), IFC (STEP text
and .ifczip), ZIP, PNG, JPEG, TIFF. A name's extension must agree with the content (a PDF renamed
.dwg is refused). Must not: trust the client's Content-Type or Upload-Metadata `filetype`.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from server.errors import InvalidInput, TongbanError

HEAD_BYTES = 512  # enough for every signature below
MAX_NAME_CHARS = 200


class UnsupportedFileType(TongbanError):
    status, code, message = (
        415,
        "unsupported_file_type",
        "文件类型不允许（仅限 PDF、DWG、DXF、IFC、ZIP、PNG、JPEG、TIFF）",
    )


@dataclass(frozen=True)
class FileType:
    media_type: str
    extensions: tuple[str, ...]


PDF = FileType("application/pdf", (".pdf",))
DWG = FileType("image/vnd.dwg", (".dwg",))
DXF = FileType("image/vnd.dxf", (".dxf",))
IFC = FileType("application/x-step", (".ifc",))
ZIP = FileType("application/zip", (".zip", ".ifczip"))
PNG = FileType("image/png", (".png",))
JPEG = FileType("image/jpeg", (".jpg", ".jpeg"))
TIFF = FileType("image/tiff", (".tif", ".tiff"))

_DWG_VERSIONS = re.compile(rb"^AC10(0[2-9]|1[0-9]|2[0-9]|3[0-2])")
_DXF_TEXT = re.compile(rb"^(\xef\xbb\xbf)?\s*(0\s*\r?\n\s*SECTION|999\s*\r?\n)")


def sniff(head: bytes) -> FileType | None:
    """The type the first bytes of a file show, or None when it is none of the allowed ones."""
    if head.startswith(b"%PDF-"):
        return PDF
    if _DWG_VERSIONS.match(head):
        return DWG
    if head.startswith(b"AutoCAD Binary DXF") or _DXF_TEXT.match(head):
        return DXF
    if head.lstrip(b"\xef\xbb\xbf").startswith(b"ISO-10303-21;"):
        return IFC
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return ZIP
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head.startswith((b"II*\x00", b"MM\x00*")):
        return TIFF
    return None


def check_content(head: bytes, file_name: str) -> FileType:
    """The file's type, if allowed and in agreement with its name's extension; else 415."""
    found = sniff(head)
    if found is None:
        raise UnsupportedFileType()
    extension = _extension(file_name)
    if extension and extension not in found.extensions:
        raise UnsupportedFileType(f"文件内容与扩展名 {extension} 不符")
    return found


def _extension(name: str) -> str:
    dot = name.rfind(".")
    return name[dot:].lower() if dot > 0 else ""


_UNSAFE = re.compile(r'[\\/:*?"<>|]')


def sanitise_name(raw: str) -> str:
    """A file name safe to store, show and put in a zip or Content-Disposition: the last path
    component only, no control characters, no reserved characters, at most 200 characters.
    Names with NUL or other control characters are refused rather than repaired."""
    if any(unicodedata.category(ch) == "Cc" for ch in raw):
        raise InvalidInput(
            "文件名含有控制字符",
            fields=[{"field": "filename", "message": "含有控制字符", "type": "control_character"}],
        )
    name = unicodedata.normalize("NFC", raw).replace("\\", "/").rsplit("/", 1)[-1]
    name = _UNSAFE.sub("_", name).strip(" .")
    if not name:
        raise InvalidInput(
            "文件名为空或不合法",
            fields=[{"field": "filename", "message": "文件名不合法", "type": "invalid_name"}],
        )
    if len(name) > MAX_NAME_CHARS:
        stem, dot, ext = name.rpartition(".")
        keep = MAX_NAME_CHARS - len(ext) - 1 if dot and len(ext) <= 10 else MAX_NAME_CHARS
        name = (stem[:keep] + "." + ext) if dot and len(ext) <= 10 else name[:MAX_NAME_CHARS]
    return name


def _field(message: str, type_: str) -> dict[str, str]:
    return {"field": "filename", "message": message, "type": type_}
