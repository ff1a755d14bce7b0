"""Fixtures of the crypto tests: the `openssl` command line (OpenSSL ≥ 3.0) as the outside referee.

Without it the interop tests fail with a message saying what to install: they are never skipped.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

OPENSSL_TIMEOUT_S = 30
DISTID = "distid:1234567812345678"


class OpenSsl:
    """Runs `openssl` subcommands in a scratch directory."""

    def __init__(self, executable: str, workdir: Path) -> None:
        self.executable = executable
        self.workdir = workdir

    def path(self, name: str) -> Path:
        return self.workdir / name

    def run(self, *args: str, stdin: bytes = b"") -> bytes:
        """stdout of a command that must succeed."""
        done = self._call(args, stdin)
        if done.returncode != 0:
            raise AssertionError(f"openssl {' '.join(args)} failed: {done.stderr.decode(errors='replace')}")
        return done.stdout

    def succeeds(self, *args: str, stdin: bytes = b"") -> bool:
        return self._call(args, stdin).returncode == 0

    def _call(self, args: tuple[str, ...], stdin: bytes) -> subprocess.CompletedProcess[bytes]:
        return subprocess.run(
            [self.executable, *args],
            input=stdin,
            capture_output=True,
            cwd=self.workdir,
            timeout=OPENSSL_TIMEOUT_S,
            check=False,
        )


@pytest.fixture(scope="session")
def openssl_executable() -> str:
    executable = shutil.which("openssl")
    if executable is None:
        pytest.fail(
            "the interop tests need the `openssl` command line (OpenSSL 3.0 or newer, with SM2/SM3/SM4): "
            "install it (Debian: apt-get install openssl) and run them again"
        )
    version = subprocess.run([executable, "version"], capture_output=True, text=True, check=False).stdout
    found = re.match(r"OpenSSL (\d+)\.", version)
    if found is None or int(found.group(1)) < 3:
        pytest.fail(f"the interop tests need OpenSSL 3.0 or newer; `openssl version` says: {version!r}")
    return executable


@pytest.fixture
def openssl(openssl_executable: str, tmp_path: Path) -> OpenSsl:
    return OpenSsl(openssl_executable, tmp_path)
