"""A lean websocket subscriber process for the websocket benchmarks, and the coordinator's side of it.

Run as `python -m loadtest.wsclient` by a benchmark (never by hand): it reads one JSON line of
configuration on stdin (targets: port, path, `since`, fallback ports; handshake headers such as the
session cookie, which therefore never appears on a command line), opens every websocket with a raw
asyncio protocol (uvloop, no compression, no per-socket task or buffer beyond the transport), answers
protocol pings as every websocket stack does (and the `{"type":"ping"}` heartbeats with
`{"type":"pong"}` only when TONGBAN_BENCH_PONG=1: the pages do not), and records for every frame that
carries a `seq` its sequence number and its arrival time. It checks order per socket as frames
arrive: a sequence number not one more than the last is a gap (missing events), a duplicate or a
reordering; a snapshot after the first frame that skips sequence numbers counts as coalesced (lost)
events. A socket the server closes (or whose node dies) is reopened with `?since=<last seq>`, on the
same port and then on its fallback ports, until the run's deadline, as the pages' script would.

Commands (one JSON line each on stdin, one JSON line answer on stdout):
  {"cmd": "connect"}                              open every target; answer counts and wall time
  {"cmd": "wait", "until": {path: seq}, "timeout_s": t}
                                                  until each socket of a path has seen that seq
  {"cmd": "report", "times": {path: {seq: [t_send, t_at]}}}
                                                  latency histograms (0.1 ms buckets) and checks
  {"cmd": "close"}                                close every socket politely, answer, exit
Must not: talk to anything but 127.0.0.1, outlive its coordinator (stdin closed: it exits), or
run longer than the `deadline_s` of its configuration.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import math
import os
import re
import struct
import time
from array import array
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from loadtest.children import ChildProcess, open_commands, run_child, say
from loadtest.wsframes import split_frames, split_handshake, switched

HOST = "127.0.0.1"
PING = b'{"type":"ping"}'
PONG = b'{"type":"pong"}'
ANSWER_HEARTBEATS = os.environ.get("TONGBAN_BENCH_PONG") == "1"
SNAPSHOT_PREFIX = b'{"type":"snapshot"'
SEQ_RE = re.compile(rb'"seq":(\d+)')
BUCKET_MS = 0.1


def _masked(opcode: int, payload: bytes, key: bytes) -> bytes:
    """A client frame (clients must mask). The key is random per process."""
    n = len(payload)
    if n < 126:
        head = struct.pack("!BB", 0x80 | opcode, 0x80 | n)
    elif n < 65536:
        head = struct.pack("!BBH", 0x80 | opcode, 0x80 | 126, n)
    else:
        head = struct.pack("!BBQ", 0x80 | opcode, 0x80 | 127, n)
    if not payload:
        return head + key
    k = (key * (n // 4 + 1))[:n]
    body = (int.from_bytes(payload, "big") ^ int.from_bytes(k, "big")).to_bytes(n, "big")
    return head + key + body


MASK = os.urandom(4)
PONG_FRAME = _masked(0x1, PONG, MASK)


@dataclass
class Target:
    index: int
    port: int
    path: str
    since: int | None
    fallback: list[int]
    # what this socket saw, across reconnections
    last_seq: int = -1
    first_seq: int = -1
    seqs: array[int] = field(default_factory=lambda: array("q"))
    times: array[float] = field(default_factory=lambda: array("d"))
    gaps: int = 0  # sequence numbers skipped between two events
    backwards: int = 0  # duplicates or reordered frames
    resync_skipped: int = 0  # sequence numbers skipped by a snapshot after the first frame
    resyncs: int = 0
    closes: list[str] = field(default_factory=list)
    reconnects: int = 0
    pongs: int = 0
    proto: Protocol | None = None
    closing: bool = False  # we are closing it: do not reconnect

    def on_frame(self, payload: bytes, now: float) -> None:
        m = SEQ_RE.search(payload, 0, 120)
        if m is None:
            return  # an error frame or other text: not part of the stream
        seq = int(m.group(1))
        snapshot = payload.startswith(SNAPSHOT_PREFIX)
        last = self.last_seq
        if last < 0:
            self.first_seq = seq
            self.last_seq = seq
        elif snapshot:
            if seq > last:
                self.resyncs += 1
                self.resync_skipped += seq - last
                self.last_seq = seq
        elif seq == last + 1:
            self.last_seq = seq
        elif seq > last + 1:
            self.gaps += seq - last - 1
            self.last_seq = seq
        else:
            self.backwards += 1
        if not snapshot:
            self.seqs.append(seq)
            self.times.append(now)


class Protocol(asyncio.Protocol):
    """One websocket: the handshake, then frames from the server (unmasked), nothing buffered but
    the unparsed tail of the last read."""

    __slots__ = ("_request", "buf", "client", "handshake", "lost", "open", "target", "transport")

    def __init__(self, client: Client, target: Target, request: bytes) -> None:
        self.client = client
        self.target = target
        self.buf = b""
        self.open = False
        self.handshake: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.lost: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.transport: asyncio.Transport | None = None
        self._request = request

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        transport.write(self._request)  # type: ignore[attr-defined]

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.handshake.done():
            self.handshake.set_exception(ConnectionError(f"closed during handshake: {exc!r}"))
        if not self.lost.done():
            self.lost.set_result(None)
        self.client.on_lost(self)

    def data_received(self, data: bytes) -> None:
        now = time.time()
        buf = self.buf + data if self.buf else data
        if not self.open:
            status, buf = split_handshake(buf)
            if status is None:
                self.buf = buf
                return
            if not switched(status):
                self.handshake.set_exception(ConnectionError(status.decode(errors="replace")))
                self.transport.close()  # type: ignore[union-attr]
                return
            self.open = True
            self.handshake.set_result(None)
        target = self.target
        frames, self.buf = split_frames(buf)
        for opcode, payload in frames:
            if opcode == 0x1:
                if payload == PING:
                    # The pages' live.js lets heartbeats be (it only notes their arrival): so does this
                    # client, unless the benchmark asks for pongs.
                    if ANSWER_HEARTBEATS:
                        self.transport.write(PONG_FRAME)  # type: ignore[union-attr]
                        target.pongs += 1
                else:
                    target.on_frame(payload, now)
            elif opcode == 0x8:
                code = int.from_bytes(payload[:2], "big") if len(payload) >= 2 else 1005
                target.closes.append(str(code))
                with contextlib.suppress(Exception):
                    self.transport.write(_masked(0x8, payload[:2], MASK))  # type: ignore[union-attr]
                self.transport.close()  # type: ignore[union-attr]
                self.buf = b""
                return
            elif opcode == 0x9:
                self.transport.write(_masked(0xA, payload, MASK))  # type: ignore[union-attr]

    def close(self) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(_masked(0x8, struct.pack("!H", 1000), MASK))
            self.transport.close()


class Client:
    def __init__(self, config: dict[str, Any]) -> None:
        self.headers: dict[str, str] = config.get("headers", {})
        self.parallel = int(config.get("parallel", 200))
        self.open_timeout_s = float(config.get("open_timeout_s", 60))
        self.reconnect = bool(config.get("reconnect", True))
        self.deadline = time.monotonic() + float(config.get("deadline_s", 600))
        self.targets = [
            Target(i, int(t["port"]), t["path"], t.get("since"), [int(p) for p in t.get("fallback", [])])
            for i, t in enumerate(config["targets"])
        ]
        self.errors: list[str] = []
        self.error_count = 0
        self.reconnect_tasks: set[asyncio.Task[None]] = set()
        self.closing = False

    def _request(self, port: int, path: str) -> bytes:
        key = base64.b64encode(os.urandom(16)).decode()
        lines = [
            f"GET {path} HTTP/1.1",
            f"Host: {HOST}:{port}",
            "Upgrade: websocket",
            "Connection: Upgrade",
            f"Sec-WebSocket-Key: {key}",
            "Sec-WebSocket-Version: 13",
            *(f"{k}: {v}" for k, v in self.headers.items()),
        ]
        return ("\r\n".join(lines) + "\r\n\r\n").encode()

    async def _open(self, target: Target, port: int) -> None:
        since = target.last_seq if target.last_seq >= 0 else target.since
        path = target.path + (f"?since={since}" if since is not None else "")
        loop = asyncio.get_running_loop()
        proto: Protocol | None = None

        def factory() -> Protocol:
            nonlocal proto
            proto = Protocol(self, target, self._request(port, path))
            return proto

        async with asyncio.timeout(self.open_timeout_s):
            await loop.create_connection(factory, HOST, port)
            assert proto is not None
            target.proto = proto
            await proto.handshake
        target.port = port

    def _error(self, exc: BaseException) -> None:
        self.error_count += 1
        if len(self.errors) < 5:
            self.errors.append(f"{type(exc).__name__}: {exc}"[:200])

    async def connect_all(self) -> dict[str, Any]:
        gate = asyncio.Semaphore(self.parallel)
        ok = 0

        async def one(target: Target) -> None:
            nonlocal ok
            async with gate:
                try:
                    await self._open(target, target.port)
                    ok += 1
                except (OSError, TimeoutError, ConnectionError) as exc:
                    self._error(exc)

        started = time.perf_counter()
        await asyncio.gather(*(one(t) for t in self.targets))
        return {"ok": ok, "errors": self.error_count, "first_errors": self.errors,
                "wall_s": round(time.perf_counter() - started, 3), "cpu_s": cpu_self()}  # fmt: skip

    def on_lost(self, proto: Protocol) -> None:
        target = proto.target
        if (
            target.proto is not proto
            or not proto.open
            or self.closing
            or target.closing
            or not self.reconnect
        ):
            return
        target.proto = None
        task = asyncio.get_running_loop().create_task(self._reopen(target))
        self.reconnect_tasks.add(task)
        task.add_done_callback(self.reconnect_tasks.discard)

    async def _reopen(self, target: Target) -> None:
        ports = [target.port, *[p for p in target.fallback if p != target.port]]
        attempt = 0
        while not self.closing and time.monotonic() < self.deadline:
            port = ports[attempt % len(ports)]
            await asyncio.sleep(0.1 if attempt < len(ports) else 0.5)
            try:
                await self._open(target, port)
                target.reconnects += 1
                return
            except (OSError, TimeoutError, ConnectionError) as exc:
                if attempt == 0:
                    self._error(exc)
                attempt += 1

    async def wait(self, until: dict[str, int], timeout_s: float) -> dict[str, Any]:
        started = time.perf_counter()
        deadline = time.monotonic() + timeout_s
        watched = [t for t in self.targets if t.path in until]
        while time.monotonic() < deadline:
            if all(t.last_seq >= until[t.path] for t in watched):
                break
            await asyncio.sleep(0.02)
        behind = [t for t in watched if t.last_seq < until[t.path]]
        return {"waited_s": round(time.perf_counter() - started, 3), "behind": len(behind),
                "examples": [[t.path, t.last_seq, until[t.path]] for t in behind[:3]]}  # fmt: skip

    def report(self, times: dict[str, dict[str, list[float]]]) -> dict[str, Any]:
        hist_send: Counter[int] = Counter()
        hist_at: Counter[int] = Counter()
        unmatched = 0
        complete = 0
        closes: Counter[str] = Counter()
        examples: list[str] = []
        for t in self.targets:
            per = times.get(t.path, {})
            for seq, now in zip(t.seqs, t.times, strict=True):
                sent = per.get(str(seq))
                if sent is None:
                    unmatched += 1
                    continue
                hist_send[max(0, int((now - sent[0]) * 1000 / BUCKET_MS))] += 1
                if sent[1] is not None:
                    hist_at[max(0, int((now - sent[1]) * 1000 / BUCKET_MS))] += 1
            closes.update(t.closes)
            # every seq from the first to the last, in order, each once
            seen = list(t.seqs)
            if seen:
                in_order = seen == list(range(seen[0], seen[0] + len(seen)))
                clean = in_order and not (t.gaps or t.backwards or t.resync_skipped)
            else:
                clean = t.last_seq >= 0
            complete += clean
            if not clean and len(examples) < 5:
                examples.append(
                    f"{t.path} first={t.first_seq} last={t.last_seq} gaps={t.gaps} "
                    f"backwards={t.backwards} resync_skipped={t.resync_skipped} closes={t.closes}"
                )
        return {
            "sockets": len(self.targets),
            "frames": sum(len(t.seqs) for t in self.targets),
            "unmatched": unmatched,
            "complete_in_order": complete,
            "gaps": sum(t.gaps for t in self.targets),
            "backwards": sum(t.backwards for t in self.targets),
            "resyncs": sum(t.resyncs for t in self.targets),
            "resync_skipped": sum(t.resync_skipped for t in self.targets),
            "reconnects": sum(t.reconnects for t in self.targets),
            "pongs": sum(t.pongs for t in self.targets),
            "closes": dict(closes),
            "first_seq": min((t.first_seq for t in self.targets), default=-1),
            "last_seq_min": min((t.last_seq for t in self.targets), default=-1),
            "last_seq_max": max((t.last_seq for t in self.targets), default=-1),
            "seqs_by_socket": [list(t.seqs) for t in self.targets] if len(self.targets) <= 4 else None,
            "examples": examples,
            "hist_send": dict(hist_send),
            "hist_at": dict(hist_at),
            "errors": self.error_count,
            "first_errors": self.errors,
            "cpu_s": cpu_self(),
        }

    async def close_all(self) -> dict[str, Any]:
        self.closing = True
        started = time.perf_counter()
        for task in list(self.reconnect_tasks):
            task.cancel()
        protos = [t.proto for t in self.targets if t.proto is not None]
        for t in self.targets:
            t.closing = True
        for p in protos:
            p.close()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(15):
                await asyncio.gather(*(p.lost for p in protos))
        return {"closed": len(protos), "wall_s": round(time.perf_counter() - started, 3), "cpu_s": cpu_self()}


def cpu_self() -> float:
    return round(sum(os.times()[:2]), 2)


async def serve_commands() -> None:
    reader = await open_commands()
    line = await reader.readline()
    if not line:
        return
    client = Client(json.loads(line))
    say({"ready": True, "pid": os.getpid()})
    remaining = client.deadline - time.monotonic()
    async with asyncio.timeout(remaining):
        while True:
            line = await reader.readline()
            if not line:  # the coordinator went away
                await client.close_all()
                return
            cmd = json.loads(line)
            match cmd["cmd"]:
                case "connect":
                    say(await client.connect_all())
                case "wait":
                    say(await client.wait(cmd["until"], float(cmd["timeout_s"])))
                case "report":
                    say(client.report(cmd.get("times", {})))
                case "close":
                    say(await client.close_all())
                    return


def main() -> None:
    run_child(serve_commands)


# -- the coordinator's side ---------------------------------------------------------------------------

TCK = os.sysconf("SC_CLK_TCK")


def proc_cpu_s(pid: int) -> float:
    """utime + stime of a process (Linux /proc), in seconds."""
    with open(f"/proc/{pid}/stat", encoding="ascii") as f:
        parts = f.read().rsplit(")", 1)[1].split()
    return (int(parts[11]) + int(parts[12])) / TCK


def proc_kib(pid: int, key: str = "VmRSS") -> int:
    with open(f"/proc/{pid}/status", encoding="ascii") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return -1


class SubscriberProcess(ChildProcess):
    """One `python -m loadtest.wsclient` child, driven through its stdin/stdout."""

    module = "loadtest.wsclient"


def merge_hist(reports: Sequence[dict[str, Any]], key: str) -> Counter[int]:
    total: Counter[int] = Counter()
    for r in reports:
        for bucket, count in r[key].items():
            total[int(bucket)] += count
    return total


def hist_percentile_ms(hist: Counter[int], q: float) -> float:
    """Nearest-rank percentile of a 0.1 ms histogram (upper edge of the bucket)."""
    n = sum(hist.values())
    if not n:
        return math.nan
    rank = max(1, math.ceil(q / 100 * n))
    seen = 0
    for bucket in sorted(hist):
        seen += hist[bucket]
        if seen >= rank:
            return (bucket + 1) * BUCKET_MS
    return math.nan


def hist_summary(hist: Counter[int]) -> dict[str, float]:
    return {
        "n": sum(hist.values()),
        **{f"p{q}_ms": round(hist_percentile_ms(hist, q), 1) for q in (50, 90, 99)},
        "max_ms": round(hist_percentile_ms(hist, 100), 1),
    }


if __name__ == "__main__":
    main()
