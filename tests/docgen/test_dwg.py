"""DWG conversion says plainly when the deployment has no converter (no fake DWG files)."""

from __future__ import annotations

import pytest

from docgen import dwg, samples
from docgen.sheets import notes
from docgen.stamp import Stamp
from server.errors import TongbanError

STAMP = Stamp("TB20261129K7Q2M9XA", 1, "ab" * 32, "http://127.0.0.1:8000", "2026-11-29")
MISSING = "/nonexistent/ODAFileConverter"


def test_a_configured_converter_path_that_does_not_exist_means_no_dwg() -> None:
    assert dwg.dwg_available(MISSING) is False


def test_asking_for_a_dwg_without_a_converter_is_a_chinese_501_error() -> None:
    dxf, _ = notes.build_dxf(notes.STRUCTURE, samples.filling(), STAMP)
    with pytest.raises(dwg.DwgUnavailable) as caught:
        dwg.to_dwg(dxf, exec_path=MISSING)
    error = caught.value
    assert isinstance(error, TongbanError)
    assert (error.status, error.code) == (501, "dwg_unavailable")
    assert error.detail == "生成 DWG 需要在服务器上配置 ODA File Converter，当前只能提供 DXF"
