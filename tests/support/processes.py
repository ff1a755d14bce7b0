"""Start the real server and worker as subprocesses on free ports, and stop them.

Waiting for a child process to come up is the one place the suite polls; each poll is bounded.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

START_TIMEOUT_S = 30.0
POLL_S = 0.05


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Child:
    proc: subprocess.Popen[bytes]
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def stop(self, timeout: float = 15.0) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return int(self.proc.returncode)


@dataclass
class ServerChild(Child):
    port: int

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"


def spawn(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    log.parent.mkdir(parents=True, exist_ok=True)
    out = log.open("ab")
    try:
        return subprocess.Popen(
            [sys.executable, "-m", "server.cli", *args], env={**os.environ, **env}, stdout=out, stderr=out
        )
    finally:
        out.close()


def start_server(env: dict[str, str], log: Path, port: int | None = None) -> ServerChild:
    port = port or free_port()
    child = ServerChild(spawn(["serve", "--host", "127.0.0.1", "--port", str(port)], env, log), log, port)
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if child.proc.poll() is not None:
            raise RuntimeError(f"server exited with {child.proc.returncode}:\n{child.output()}")
        try:
            if httpx.get(f"{child.url}/healthz", timeout=1).status_code == 200:
                return child
        except httpx.HTTPError:
            pass
        time.sleep(POLL_S)
    child.stop()
    raise RuntimeError(f"server did not answer within {START_TIMEOUT_S}s:\n{child.output()}")


def start_worker(env: dict[str, str], log: Path) -> Child:
    child = Child(spawn(["worker"], env, log), log)
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if child.proc.poll() is not None:
            raise RuntimeError(f"worker exited with {child.proc.returncode}:\n{child.output()}")
        if "worker.started" in child.output():
            return child
        time.sleep(POLL_S)
    child.stop()
    raise RuntimeError(f"worker did not start within {START_TIMEOUT_S}s:\n{child.output()}")
