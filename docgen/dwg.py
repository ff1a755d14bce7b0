"""DXF → DWG through the ODA File Converter (`ezdxf.addons.odafc`), where a deployment has it.

The converter is proprietary and in no package registry (docgen.md §1): nothing here can produce a
DWG without it, so without it we say so (`DwgUnavailable`, 501) instead of renaming a DXF. The
caller passes the converter's path from the settings (`TONGBAN_ODAFC_PATH`); without one, odafc's
own lookup applies (`ODAFileConverter` on PATH, or ezdxf's `odafc-addon` options).
Must not: read the environment itself, or return anything but the converter's output.
"""

from __future__ import annotations

import importlib
import tempfile
import threading
from pathlib import Path
from typing import Any

from ezdxf._options import options

from server.errors import TongbanError

odafc: Any = importlib.import_module("ezdxf.addons.odafc")  # untyped add-on, used through this module only
_options_lock = threading.Lock()  # ezdxf keeps the converter path in process-global options


class DwgUnavailable(TongbanError):
    status, code, message = (
        501,
        "dwg_unavailable",
        "生成 DWG 需要在服务器上配置 ODA File Converter，当前只能提供 DXF",
    )


def dwg_available(exec_path: str | None = None) -> bool:
    """Whether a converter is there: at `exec_path` when given (no fallback), else odafc's lookup."""
    if exec_path is not None:
        return Path(exec_path).is_file()
    return bool(odafc.is_installed())


def to_dwg(dxf: bytes, exec_path: str | None = None, version: str = "R2018") -> bytes:
    """The DWG the converter makes of `dxf`; DwgUnavailable when there is no converter."""
    if not dwg_available(exec_path):
        raise DwgUnavailable()
    with _options_lock, tempfile.TemporaryDirectory(prefix="tongban_dwg_") as folder:
        if exec_path is not None:
            options.set("odafc-addon", "unix_exec_path", exec_path)
            options.set("odafc-addon", "win_exec_path", exec_path)
        source, target = Path(folder) / "sheet.dxf", Path(folder) / "sheet.dwg"
        source.write_bytes(dxf)
        try:
            odafc.convert(source, target, version=version, audit=True, replace=True)
        except odafc.ODAFCNotInstalledError as error:
            raise DwgUnavailable() from error
        return target.read_bytes()
