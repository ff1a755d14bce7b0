"""Intake: content sniffing, size cap, extension vs content, guarded .ifczip extraction, SM3."""

from __future__ import annotations

import zipfile
from pathlib import Path

from bim.intake import EXTRACTED_NAME, intake
from bim.outcomes import Severity
from server.security.sm3 import sm3_hex

IFC = b"""ISO-10303-21;
HEADER;
FILE_DESCRIPTION(('ViewDefinition [ReferenceView_V1.2]'),'2;1');
FILE_NAME('a.ifc','2024-01-31T09:30:00',('Author'),('Org'),'Pre 1.0','Company - App - 1.0','none');
FILE_SCHEMA(('IFC4'));
ENDSEC;
DATA;
#1=IFCPERSON($,$,'X',$,$,$,$,$);
ENDSEC;
END-ISO-10303-21;
"""
MB = 1024 * 1024


def _errors(result) -> list[str]:
    return [o.message for o in result.outcomes if o.severity == Severity.ERROR]


def test_a_plain_ifc_passes_and_its_sm3_is_the_digest_of_its_bytes(tmp_path: Path):
    path = tmp_path / "upload"
    path.write_bytes(b"\xef\xbb\xbf \n" + IFC)
    result = intake(path, "Model.IFC", 10 * MB, tmp_path / "work")
    assert result.verdict == "pass"
    assert result.ifc_path == path
    assert result.sm3 == sm3_hex(path.read_bytes())
    assert result.container == "ifc"
    assert any(o.severity == Severity.WARNING and "BOM" in o.message for o in result.outcomes)


def test_a_file_that_is_not_ifc_is_refused_as_such(tmp_path: Path):
    for content, name in ((b"%PDF-1.7 ...", "a.ifc"), (b"hello world", "a.ifc"), (b"", "a.ifc")):
        path = tmp_path / "upload"
        path.write_bytes(content)
        result = intake(path, name, 10 * MB, tmp_path / "work")
        assert result.blocked
        assert "不是 IFC 文件" in _errors(result)[0]


def test_an_extension_that_disagrees_with_the_content_is_refused(tmp_path: Path):
    path = tmp_path / "upload"
    path.write_bytes(IFC)
    for name in ("model.ifczip", "model.txt", "model"):
        result = intake(path, name, 10 * MB, tmp_path / "work")
        assert result.blocked, name
        assert "扩展名" in _errors(result)[0]


def test_a_file_over_the_size_cap_is_refused_without_reading_it(tmp_path: Path):
    path = tmp_path / "upload"
    path.write_bytes(IFC)
    result = intake(path, "a.ifc", len(IFC) - 1, tmp_path / "work")
    assert result.blocked
    assert "文件过大" in _errors(result)[0]


def test_an_ifczip_with_one_ifc_is_extracted_and_hashed(tmp_path: Path):
    path = tmp_path / "upload"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("folder/Model.IFC", IFC)
        z.writestr("readme.txt", "x")
    result = intake(path, "model.ifczip", 10 * MB, tmp_path / "work")
    assert result.verdict == "pass", result.outcomes
    assert result.ifc_path == tmp_path / "work" / EXTRACTED_NAME
    assert result.ifc_path.read_bytes() == IFC
    assert result.sm3 == sm3_hex(IFC)


def test_an_ifczip_with_two_ifc_members_or_none_is_refused(tmp_path: Path):
    path = tmp_path / "upload"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("a.ifc", IFC)
        z.writestr("b.ifc", IFC)
    assert "2 个 .ifc" in _errors(intake(path, "m.ifczip", 10 * MB, tmp_path / "w"))[0]
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("a.txt", "x")
    assert "没有 .ifc" in _errors(intake(path, "m.ifczip", 10 * MB, tmp_path / "w"))[0]


def test_a_path_traversal_member_is_refused_and_nothing_is_written_outside(tmp_path: Path):
    path = tmp_path / "upload"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("../../evil.ifc", IFC)
    result = intake(path, "m.ifczip", 10 * MB, tmp_path / "work")
    assert result.blocked
    assert "路径穿越" in _errors(result)[0]
    assert not (tmp_path / "evil.ifc").exists()
    assert not (tmp_path / "work").exists()


def test_a_zip_bomb_is_refused_before_extraction(tmp_path: Path):
    path = tmp_path / "upload"
    zeros = bytes(MB)
    with (
        zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as z,
        z.open("bomb.ifc", "w") as member,
    ):
        member.write(IFC)
        for _ in range(200):  # 200 MB of zeros, streamed
            member.write(zeros)
    assert path.stat().st_size < 2 * MB
    result = intake(path, "m.ifczip", 256 * MB, tmp_path / "work")
    assert result.blocked
    assert "压缩炸弹" in _errors(result)[0]
    assert not (tmp_path / "work" / EXTRACTED_NAME).exists()


def test_an_ifczip_whose_member_is_not_step_or_too_large_is_refused(tmp_path: Path):
    path = tmp_path / "upload"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("a.ifc", b"not a model at all")
    assert "不是 IFC (STEP) 文本" in _errors(intake(path, "m.ifczip", 10 * MB, tmp_path / "w"))[0]
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("a.ifc", IFC)
    assert "过大" in _errors(intake(path, "m.ifczip", 100, tmp_path / "w"))[0]


def test_a_damaged_zip_is_refused(tmp_path: Path):
    path = tmp_path / "upload"
    path.write_bytes(b"PK\x03\x04" + bytes(100))
    result = intake(path, "m.ifczip", 10 * MB, tmp_path / "w")
    assert result.blocked
    assert "损坏" in _errors(result)[0]


def test_a_step_fragment_passes_intake_with_a_warning_for_the_header_stage_to_locate(tmp_path: Path):
    path = tmp_path / "upload"
    path.write_bytes(b"#1=IFCLABEL('unfinished")
    result = intake(path, "a.ifc", 10 * MB, tmp_path / "w")
    assert result.verdict == "pass"
    assert any(o.severity == Severity.WARNING for o in result.outcomes)
