"""Load-generator child processes driven by a benchmark's coordinator: one JSON object a line on
stdin (commands), one a line on stdout (answers). The first line is the child's configuration, its
first answer `{"ready": true}`. The coordinator's side is `ChildProcess`; the child's side reads its
commands with `open_commands`, answers with `say` and runs under `run_child`.
Must not: leave a child running (`stop` ends it by its own pid).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import resource
import signal
import sys
from collections.abc import Awaitable, Callable
from typing import Any, ClassVar, Self

STREAM_LIMIT = 256 * 1024 * 1024  # one answer line may carry many histogram buckets


class ChildProcess:
    """One `python -m <module>` child, driven through its stdin/stdout."""

    module: ClassVar[str]
    stop_timeout_s: ClassVar[float] = 20.0

    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc

    @classmethod
    async def start(cls, config: dict[str, Any]) -> Self:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", cls.module,
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, limit=STREAM_LIMIT,
        )  # fmt: skip
        self = cls(proc)
        try:
            await self._send(config)
            ready = await self._answer(60)
        except BaseException:
            await self.stop()
            raise
        assert ready.get("ready"), ready
        return self

    @property
    def pid(self) -> int:
        return self.proc.pid

    async def _send(self, obj: dict[str, Any]) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write((json.dumps(obj) + "\n").encode())
        await self.proc.stdin.drain()

    async def _answer(self, timeout_s: float) -> dict[str, Any]:
        assert self.proc.stdout is not None
        async with asyncio.timeout(timeout_s):
            line = await self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"{self.module} process {self.proc.pid} exited ({self.proc.returncode})")
        answer: dict[str, Any] = json.loads(line)
        return answer

    async def command(self, obj: dict[str, Any], timeout_s: float) -> dict[str, Any]:
        await self._send(obj)
        return await self._answer(timeout_s)

    async def stop(self) -> None:
        """Ends the child whatever state it is in (started by us; killed by its own pid)."""
        if self.proc.returncode is None:
            with contextlib.suppress(Exception):
                if self.proc.stdin is not None:
                    self.proc.stdin.close()
            try:
                async with asyncio.timeout(self.stop_timeout_s):
                    await self.proc.wait()
            except TimeoutError:
                self.proc.kill()
                await self.proc.wait()


# -- the child's side ---------------------------------------------------------------------------------


def raise_fd_limit() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


async def open_commands() -> asyncio.StreamReader:
    """The coordinator's commands, a JSON line each, on stdin."""
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=STREAM_LIMIT)
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    return reader


def say(obj: dict[str, Any]) -> None:
    """One answer to the coordinator."""
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def run_child(serve: Callable[[], Awaitable[None]]) -> None:
    """Run a child's command loop on uvloop (when installed) with every file descriptor it may open;
    SIGTERM ends it, and so does the end of its deadline (`TimeoutError`)."""
    raise_fd_limit()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        import uvloop

        runner = asyncio.Runner(loop_factory=uvloop.new_event_loop)
    except ImportError:
        runner = asyncio.Runner()
    with runner, contextlib.suppress(TimeoutError):
        runner.run(serve())  # type: ignore[arg-type]
