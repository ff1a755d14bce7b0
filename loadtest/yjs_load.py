"""The Yjs load generator's client process for `loadtest.bench_collab`, and the coordinator's side of it.

Run as `python -m loadtest.yjs_load` by the benchmark (never by hand): it reads one JSON line of
configuration on stdin (its share of the clients: port, document path, editing rate, awareness,
receive buffer, group; the handshake headers, such as our session cookie, which therefore never
appear on a command line), then one JSON command per line, and answers each with one JSON line.

Every client is a y-websocket client as a browser's would be, on a raw asyncio protocol (uvloop, no
compression, no task per socket): it holds a pycrdt `Doc` with one `Text` ("text"), sends sync step 1
on open, answers the server's step 1 with step 2, applies every step 2 and update it receives, and
answers protocol pings. An editing client inserts, at a fixed rate (open loop, random phase), an
ASCII marker `[gid:seq:t_us]` at index 0 of the text (pycrdt 0.14 mis-encodes inserts at nonzero
indices after multi-byte characters, so: ASCII, index 0) and sends the update, then, with awareness,
a cursor awareness update. A receiver finds the markers in the update frame's bytes (the string is
in the update as it is) and takes receipt time − t_us as the latency, timestamped when the bytes
arrived, before they are decoded; updates the sender gets back (the reference servers echo them) are
counted, not measured. A client whose connection ends reconnects after 0.2 s and resyncs (sends what
the server lacks in its step 2), as y-websocket does.

Commands (one JSON line each):
  {"cmd": "connect", "timeout_s": t, "gids": [...]?}
                                             open those clients (default: all not opened yet), at
                                             most `parallel` handshakes at once: handshake times
                                             (TCP connect → step 2 applied)
  {"cmd": "edit", "start": e, "measure_from": e, "stop": e, "stall": {...}?}
                                             editors edit from `start` to `stop` (epoch seconds);
                                             latency counted for edits made from `measure_from`;
                                             "stall": {"gids": [...], "at": e, "until": e} stops
                                             reading on those sockets meanwhile (pause_reading; with
                                             their small SO_RCVBUF the server sees back-pressure)
  {"cmd": "fill", "gids": [...], "chunks": n, "size": c}
                                             those clients insert n chunks of c characters, then a
                                             round trip (step 1 → step 2): the server has them all
  {"cmd": "settle", "expected": {path: chars}, "timeout_s": t}
                                             until every client is connected and its text has
                                             that length: digests
  {"cmd": "join", "specs": [...], "timeout_s": t}
                                             late joiners (one per document): their texts' digests
  {"cmd": "report"}                          latency histograms, per-edit maxima, counts, CPU
  {"cmd": "close"}                           close every socket politely, answer, exit
Must not: talk to anything but 127.0.0.1, outlive its coordinator (stdin closed: it exits), or run
longer than the `deadline_s` of its configuration.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import os
import random
import re
import socket
import struct
import time
from collections import Counter
from typing import Any

from pycrdt import Doc, Text

from loadtest.children import ChildProcess, open_commands, run_child, say
from loadtest.wsframes import split_frames, split_handshake, switched

HOST = "127.0.0.1"
BUCKET_MS = 0.1
MARKER_RE = re.compile(rb"\[(\d+):(\d+):(\d+)\]")
RECONNECT_DELAY_S = 0.2
SYNC, AWARENESS = 0, 1
STEP1, STEP2, UPDATE = 0, 1, 2


def var_uint(value: int) -> bytes:
    out = bytearray()
    while value > 0x7F:
        out.append(0x80 | (value & 0x7F))
        value >>= 7
    out.append(value)
    return bytes(out)


def read_var_uint(data: bytes, pos: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if byte < 0x80:
            return value, pos


def sync_frame(subtype: int, payload: bytes) -> bytes:
    return bytes((SYNC, subtype)) + var_uint(len(payload)) + payload


def awareness_frame(client_id: int, clock: int, state: bytes) -> bytes:
    body = var_uint(1) + var_uint(client_id) + var_uint(clock) + var_uint(len(state)) + state
    return bytes((AWARENESS,)) + var_uint(len(body)) + body


MASK = os.urandom(4)


def masked(opcode: int, payload: bytes) -> bytes:
    """A client frame (clients must mask; the key is random per process)."""
    n = len(payload)
    if n < 126:
        head = struct.pack("!BB", 0x80 | opcode, 0x80 | n)
    elif n < 65536:
        head = struct.pack("!BBH", 0x80 | opcode, 0x80 | 126, n)
    else:
        head = struct.pack("!BBQ", 0x80 | opcode, 0x80 | 127, n)
    if not n:
        return head + MASK
    k = (MASK * (n // 4 + 1))[:n]
    return head + MASK + (int.from_bytes(payload, "big") ^ int.from_bytes(k, "big")).to_bytes(n, "big")


def digest(text: str) -> str:
    return hashlib.sha1(text.encode(), usedforsecurity=False).hexdigest()[:16]


class WsConn(asyncio.Protocol):
    """One websocket of one client: the handshake, then frames from the server (unmasked)."""

    def __init__(self, client: YClient, request: bytes) -> None:
        self.client = client
        self.request = request
        self.buf = b""
        self.open = False
        self.transport: asyncio.Transport | None = None
        loop = asyncio.get_running_loop()
        self.synced: asyncio.Future[float] = loop.create_future()  # perf_counter of step 2
        self.lost: asyncio.Future[None] = loop.create_future()
        self.close_code: int | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self.client.conn = self  # before any frame: the server's step 1 may come with the 101
        transport.write(self.request)  # type: ignore[attr-defined]

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.synced.done():
            self.synced.set_exception(ConnectionError(f"closed before sync ({self.close_code}): {exc!r}"))
        if not self.lost.done():
            self.lost.set_result(None)
        self.client.on_lost(self)

    def send(self, payload: bytes, opcode: int = 0x2) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(masked(opcode, payload))

    def data_received(self, data: bytes) -> None:
        now = time.time()
        buf = self.buf + data if self.buf else data
        if not self.open:
            status, buf = split_handshake(buf)
            if status is None:
                self.buf = buf
                return
            if not switched(status):
                self.synced.set_exception(ConnectionError(status.decode(errors="replace")))
                self.transport.close()  # type: ignore[union-attr]
                return
            self.open = True
            self.client.on_open(self)
        frames, self.buf = split_frames(buf)
        for opcode, payload in frames:
            if opcode == 0x2:
                self.client.on_message(self, payload, now)
            elif opcode == 0x9:  # protocol ping: pong, as every websocket stack does
                self.send(payload, 0xA)
            elif opcode == 0x8:
                if len(payload) >= 2:
                    self.close_code = int.from_bytes(payload[:2], "big")
                self.send(payload[:2], 0x8)
                self.transport.close()  # type: ignore[union-attr]
                self.buf = b""
                return


class YClient:
    def __init__(self, worker: Worker, spec: dict[str, Any]) -> None:
        self.worker = worker
        self.gid: int = spec["gid"]
        self.port: int = spec["port"]
        self.path: str = spec["path"]
        self.rate: float = spec.get("rate", 0.0)
        self.awareness: bool = spec.get("awareness", False)
        self.rcvbuf: int = spec.get("rcvbuf", 0)
        self.group: str = spec.get("group", "main")
        self.pad: str = "." * spec.get("pad", 0)  # typed after the marker: bigger edits (pastes)
        self.doc: Doc[Any] = Doc()
        self.text = self.doc.get("text", type=Text)
        self.conn: WsConn | None = None
        self.seq = 0
        self.aw_clock = 0
        self.closing = False
        self.lost_at: float | None = None  # perf_counter when the connection ended unexpectedly
        self.recover_ms: list[float] = []
        self.closes: list[str] = []
        self.reconnects = 0
        self.reconnect_task: asyncio.Task[None] | None = None
        self.chars_sent = 0
        self.edits_sent = 0
        self.stalled = False
        self.roundtrip: asyncio.Future[None] | None = None
        self.opened = False

    # -- connection ------------------------------------------------------------------------------
    async def open(self, timeout_s: float) -> float:
        """Connect and sync; the handshake time in ms (TCP connect → step 2 applied)."""
        loop = asyncio.get_running_loop()
        started = time.perf_counter()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setblocking(False)
        if self.rcvbuf:  # before connecting: the window scale is agreed in the handshake
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, self.rcvbuf)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            async with asyncio.timeout(timeout_s):
                await loop.sock_connect(sock, (HOST, self.port))
                _, conn = await loop.create_connection(
                    lambda: WsConn(self, self.worker.request(self.path, self.port)), sock=sock
                )
                synced_at = await conn.synced
        except BaseException:
            if self.conn is not None and self.conn.transport is not None:
                self.conn.transport.abort()
            else:
                sock.close()
            raise
        return (synced_at - started) * 1000

    def on_open(self, conn: WsConn) -> None:
        conn.send(sync_frame(STEP1, self.doc.get_state()))

    def on_lost(self, conn: WsConn) -> None:
        if conn is not self.conn:
            return
        self.conn = None
        self.closes.append(str(conn.close_code) if conn.close_code is not None else "eof")
        if self.closing or not conn.synced.done() or conn.synced.cancelled() or conn.synced.exception():
            return  # closing, or a failed handshake (its opener retries or counts it)
        self.lost_at = time.perf_counter()
        self.reconnect_task = asyncio.get_running_loop().create_task(self._reconnect())

    async def _reconnect(self) -> None:
        while not self.closing:
            await asyncio.sleep(RECONNECT_DELAY_S)
            if self.closing:
                return
            self.reconnects += 1
            try:
                await self.open(10.0)
            except (OSError, ConnectionError, TimeoutError) as exc:
                self.worker.error(f"reconnect {self.path}: {exc!r}")
                continue
            if self.lost_at is not None:
                self.recover_ms.append((time.perf_counter() - self.lost_at) * 1000)
                self.lost_at = None
            return

    # -- protocol --------------------------------------------------------------------------------
    def on_message(self, conn: WsConn, payload: bytes, now: float) -> None:
        kind = payload[0]
        w = self.worker
        if kind == SYNC:
            sub = payload[1]
            length, pos = read_var_uint(payload, 2)
            body = payload[pos : pos + length]
            if sub == STEP1:
                conn.send(sync_frame(STEP2, self.doc.get_update(body)))
                return
            if sub == UPDATE:
                w.on_update(self, body, now)
            self.doc.apply_update(body)
            if sub == STEP2:
                w.step2_rx += 1
                if not conn.synced.done():
                    conn.synced.set_result(time.perf_counter())
                rt = self.roundtrip
                if rt is not None and not rt.done():
                    rt.set_result(None)
        elif kind == AWARENESS:
            w.awareness_rx += 1

    def edit(self) -> None:
        t_us = int(time.time() * 1e6)
        marker = f"[{self.gid}:{self.seq}:{t_us}]{self.pad}"
        self.seq += 1
        before = self.doc.get_state()
        self.text.insert(0, marker)
        update = self.doc.get_update(before)
        self.chars_sent += len(marker)
        self.edits_sent += 1
        conn = self.conn
        if conn is None:
            return  # offline: the edit is local and goes with the step 2 of the reconnection
        conn.send(sync_frame(UPDATE, update))
        if self.awareness:
            self.aw_clock += 1
            state = b'{"user":{"name":"bench-%d"},"cursor":{"anchor":0,"head":%d}}' % (self.gid, len(marker))
            conn.send(awareness_frame(self.doc.client_id, self.aw_clock, state))

    def fill(self, size: int) -> bool:
        if self.conn is None:
            return False
        before = self.doc.get_state()
        chunk = "".join(random.choices("abcdefghijklmnopqrstuvwxyz ", k=size))
        self.text.insert(0, chunk)
        self.chars_sent += size
        self.conn.send(sync_frame(UPDATE, self.doc.get_update(before)))
        return True

    async def round_trip(self, timeout_s: float) -> None:
        """Step 1 → step 2: every frame this client sent before has been handled."""
        if self.conn is None:
            raise ConnectionError("not connected")
        self.roundtrip = asyncio.get_running_loop().create_future()
        self.conn.send(sync_frame(STEP1, self.doc.get_state()))
        async with asyncio.timeout(timeout_s):
            await self.roundtrip

    async def run_editor(self, start: float, stop: float) -> None:
        if self.rate <= 0:
            return
        period = 1.0 / self.rate
        t = start + random.random() * period  # random phase: the editors do not type in lockstep
        while t < stop:
            delay = t - time.time()
            if delay > 0:
                await asyncio.sleep(delay)
            self.edit()
            t += period

    async def close(self) -> None:
        self.closing = True
        if self.reconnect_task is not None:
            self.reconnect_task.cancel()
        conn = self.conn
        if conn is None or conn.transport is None:
            return
        if self.stalled:
            conn.transport.resume_reading()
        conn.send(struct.pack("!H", 1000), 0x8)
        try:
            async with asyncio.timeout(10):
                await conn.lost
        except TimeoutError:
            conn.transport.abort()


class Worker:
    def __init__(self, config: dict[str, Any]) -> None:
        self.headers: dict[str, str] = config.get("headers", {})
        self.parallel: int = config.get("parallel", 500)
        self.deadline = time.monotonic() + float(config["deadline_s"])
        self.clients = [YClient(self, spec) for spec in config["clients"]]
        self.by_gid = {c.gid: c for c in self.clients}
        self.errors: list[str] = []
        self.error_count = 0
        self.measure_from_us = 1 << 62
        self.hist: dict[str, Counter[int]] = {}
        self.per_edit: dict[str, list[float]] = {}  # "gid:seq" → [receipts, max ms] (group main)
        self.resumed_at_us = float(1 << 62)  # when the stalled clients read again
        self.caught_up_us = 0.0  # the last receipt, at a stalled client, of an edit made before that
        self.timeline: dict[int, float] = {}  # second of the measured window → worst latency (main)
        self.deliveries = 0  # measured deliveries (edits made from `measure_from`)
        self.deliveries_all = 0  # every update frame with a marker of another client
        self.echoes = 0
        self.awareness_rx = 0
        self.step2_rx = 0
        self.updates_rx = 0

    def request(self, path: str, port: int) -> bytes:
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

    def error(self, text: str) -> None:
        self.error_count += 1
        if len(self.errors) < 5:
            self.errors.append(text[:300])

    def on_update(self, client: YClient, body: bytes, now: float) -> None:
        self.updates_rx += 1
        now_us = now * 1e6
        for m in MARKER_RE.finditer(body):
            gid = int(m.group(1))
            if gid == client.gid:
                self.echoes += 1
                continue
            self.deliveries_all += 1
            t_us = int(m.group(3))
            if t_us < self.measure_from_us:
                continue
            self.deliveries += 1
            ms = (now_us - t_us) / 1000
            group = client.group
            if group == "stall" and t_us < self.resumed_at_us:  # an edit made before the stall ended
                self.caught_up_us = max(self.caught_up_us, now_us)
            hist = self.hist.get(group)
            if hist is None:
                hist = self.hist[group] = Counter()
            hist[int(ms / BUCKET_MS)] += 1
            if group == "main":
                sec = (t_us - self.measure_from_us) // 1_000_000
                if ms > self.timeline.get(sec, 0.0):
                    self.timeline[sec] = ms
                key = f"{gid}:{m.group(2).decode()}"
                entry = self.per_edit.get(key)
                if entry is None:
                    self.per_edit[key] = [1, ms]
                else:
                    entry[0] += 1
                    if ms > entry[1]:
                        entry[1] = ms

    # -- commands --------------------------------------------------------------------------------
    async def connect_all(self, timeout_s: float, gids: list[int] | None) -> dict[str, Any]:
        """Open `gids` (default: every client not opened yet)."""
        started = time.perf_counter()
        todo = [self.by_gid[g] for g in gids if g in self.by_gid] if gids is not None else self.clients
        todo = [c for c in todo if not c.opened]
        gate = asyncio.Semaphore(self.parallel)
        times: list[float] = []
        failed = 0

        async def one(client: YClient) -> None:
            nonlocal failed
            async with gate:
                client.opened = True
                try:
                    times.append(await client.open(timeout_s))
                except (OSError, ConnectionError, TimeoutError) as exc:
                    failed += 1
                    self.error(f"connect {client.path}: {exc!r}")

        await asyncio.gather(*(one(c) for c in todo))
        return {
            "ok": len(times),
            "failed": failed,
            "wall_s": round(time.perf_counter() - started, 3),
            "handshake_ms": [round(t, 2) for t in times],
            "cpu_s": cpu_self(),
        }

    async def edit(self, cmd: dict[str, Any]) -> dict[str, Any]:
        start, stop = float(cmd["start"]), float(cmd["stop"])
        self.measure_from_us = int(float(cmd["measure_from"]) * 1e6)
        loop = asyncio.get_running_loop()
        handles: list[asyncio.TimerHandle] = []
        stall = cmd.get("stall")
        if stall:
            stalled = [self.by_gid[g] for g in stall["gids"] if g in self.by_gid]
            now_wall, now_loop = time.time(), loop.time()

            def pause() -> None:
                for c in stalled:
                    if c.conn is not None and c.conn.transport is not None:
                        c.conn.transport.pause_reading()
                        c.stalled = True

            def resume() -> None:
                self.resumed_at_us = time.time() * 1e6
                for c in stalled:
                    if c.stalled and c.conn is not None and c.conn.transport is not None:
                        c.conn.transport.resume_reading()
                    c.stalled = False

            handles.append(loop.call_at(now_loop + float(stall["at"]) - now_wall, pause))
            handles.append(loop.call_at(now_loop + float(stall["until"]) - now_wall, resume))
        cpu0 = cpu_self()
        try:
            await asyncio.gather(*(c.run_editor(start, stop) for c in self.clients))
            if stall:
                await asyncio.sleep(max(0.0, float(stall["until"]) - time.time() + 0.05))
        finally:
            for h in handles:
                h.cancel()
        return {"sent": self.sent(), "cpu_s": round(cpu_self() - cpu0, 3), "cpu_total_s": cpu_self()}

    def sent(self) -> dict[str, list[int]]:
        out: dict[str, list[int]] = {}
        for c in self.clients:
            entry = out.setdefault(c.path, [0, 0])
            entry[0] += c.edits_sent
            entry[1] += c.chars_sent
        return out

    async def fill(self, gids: list[int], chunks: int, size: int) -> dict[str, Any]:
        started = time.perf_counter()

        async def one(client: YClient) -> None:
            try:
                for _ in range(chunks):
                    if not client.fill(size):
                        raise ConnectionError("not connected")
                    await asyncio.sleep(0.01)
                await client.round_trip(60)
            except (ConnectionError, TimeoutError) as exc:
                self.error(f"fill {client.path}: {exc!r}")

        await asyncio.gather(*(one(self.by_gid[g]) for g in gids if g in self.by_gid))
        return {
            "sent": self.sent(),
            "wall_s": round(time.perf_counter() - started, 3),
            "errors": self.error_count,
        }

    async def settle(self, expected: dict[str, int], timeout_s: float) -> dict[str, Any]:
        started = time.perf_counter()
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if all(c.conn is not None and len(c.text) >= expected.get(c.path, 0) for c in self.clients):
                break
            await asyncio.sleep(0.05)
        hashes: dict[str, list[str]] = {}
        short = 0
        for c in self.clients:
            if len(c.text) != expected.get(c.path, 0):
                short += 1
            hashes.setdefault(c.path, []).append(digest(str(c.text)))
        return {
            "hashes": hashes,
            "short": short,
            "disconnected": sum(1 for c in self.clients if c.conn is None),
            "wall_s": round(time.perf_counter() - started, 3),
        }

    async def join(self, specs: list[dict[str, Any]], timeout_s: float) -> dict[str, Any]:
        late = [YClient(self, spec) for spec in specs]
        out: dict[str, str] = {}
        times: list[float] = []

        async def one(client: YClient) -> None:
            try:
                times.append(await client.open(timeout_s))
                out[client.path] = digest(str(client.text))
            except (OSError, ConnectionError, TimeoutError) as exc:
                self.error(f"late joiner {client.path}: {exc!r}")
                out[client.path] = "failed"

        gate = asyncio.Semaphore(50)

        async def gated(client: YClient) -> None:
            async with gate:
                await one(client)

        await asyncio.gather(*(gated(c) for c in late))
        await asyncio.gather(*(c.close() for c in late))
        return {"hashes": out, "handshake_ms": times}

    def report(self) -> dict[str, Any]:
        closes: Counter[str] = Counter()
        for c in self.clients:
            closes.update(c.closes)
        return {
            "hist": {g: dict(h) for g, h in self.hist.items()},
            "per_edit": self.per_edit,
            "timeline": self.timeline,
            "catch_up_ms": round((self.caught_up_us - self.resumed_at_us) / 1000, 1)
            if self.caught_up_us and self.resumed_at_us < (1 << 62)
            else None,
            "deliveries": self.deliveries,
            "deliveries_all": self.deliveries_all,
            "updates_rx": self.updates_rx,
            "echoes": self.echoes,
            "awareness_rx": self.awareness_rx,
            "reconnects": sum(c.reconnects for c in self.clients),
            "recover_ms": {str(c.gid): c.recover_ms for c in self.clients if c.recover_ms},
            "closes_by_gid": {str(c.gid): c.closes for c in self.clients if c.closes},
            "closes": dict(closes),
            "connected": sum(1 for c in self.clients if c.conn is not None),
            "errors": self.error_count,
            "first_errors": self.errors,
            "cpu_s": cpu_self(),
        }

    async def close_all(self) -> dict[str, Any]:
        started = time.perf_counter()
        await asyncio.gather(*(c.close() for c in self.clients))
        return {"closed": len(self.clients), "wall_s": round(time.perf_counter() - started, 3)}


def cpu_self() -> float:
    return round(sum(os.times()[:2]), 3)


async def serve_commands() -> None:
    reader = await open_commands()
    line = await reader.readline()
    if not line:
        return
    worker = Worker(json.loads(line))
    say({"ready": True, "pid": os.getpid()})
    async with asyncio.timeout(worker.deadline - time.monotonic()):
        try:
            while True:
                line = await reader.readline()
                if not line:  # the coordinator went away
                    return
                cmd = json.loads(line)
                match cmd["cmd"]:
                    case "connect":
                        say(await worker.connect_all(float(cmd["timeout_s"]), cmd.get("gids")))
                    case "edit":
                        say(await worker.edit(cmd))
                    case "fill":
                        say(await worker.fill(cmd["gids"], int(cmd["chunks"]), int(cmd["size"])))
                    case "settle":
                        say(await worker.settle(cmd["expected"], float(cmd["timeout_s"])))
                    case "join":
                        say(await worker.join(cmd["specs"], float(cmd["timeout_s"])))
                    case "report":
                        say(worker.report())
                    case "close":
                        say(await worker.close_all())
                        return
        finally:
            for c in worker.clients:
                c.closing = True
                if c.conn is not None and c.conn.transport is not None:
                    c.conn.transport.abort()


def main() -> None:
    run_child(serve_commands)


# -- the coordinator's side ---------------------------------------------------------------------------


class LoadProcess(ChildProcess):
    """One `python -m loadtest.yjs_load` child, driven through its stdin/stdout."""

    module = "loadtest.yjs_load"
    stop_timeout_s = 15.0


if __name__ == "__main__":
    main()
