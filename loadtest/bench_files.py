"""File service (issue 6): tus uploads, the streamed zip package and cut-and-resume, against its own
server and worker on 127.0.0.1.

    .venv/bin/python -m loadtest.bench_files [--size-mib 1024] [--chunk-mib 8] [--parallel 4]
        [--package-files 200] [--package-mib 1024] [--resume-mib 200] [--cycles 1000] [--seed 6]

Measures, in this order, and prints one table and one JSON line:
  0. `dd if=/dev/zero bs=8M count=… conv=fsync` into the stack's var directory (the filesystem the
     server stores to): plain disk write speed, the yardstick for the uploads;
  1. one `--size-mib` PDF uploaded with tuspy (the standard Python tus client) in `--chunk-mib` PATCHes,
     then the same file as `--parallel` partial uploads (tuspy, `Upload-Concat: partial`, one thread
     each) and the final concatenation POST. The stored version's SM3 must equal the source's.
  2. `--package-files` distinct PDFs (`--package-mib` in all) uploaded with creation-with-upload (one
     POST each, 4 at a time), then GET /api/v1/projects/{id}/package?building_id=… streamed by httpx
     to a temporary file: time to first byte, total time, MB/s. The zip must open, list every file,
     pass `testzip()` (every entry's CRC) and hold the uploaded bytes (3 entries compared). Then the
     same GET with curl (a client that costs next to no CPU), which must give the same bytes.
  3. `--cycles` cut-and-resume cycles on a `--resume-mib` file: a raw PATCH at the current offset
     announcing the rest, cut after a random number of bytes (half of the cuts close the socket, half
     reset it), then HEAD (polled until the offset moves, at most 50 ms) and an empty PATCH at that
     offset, which answers 204 only once the cut PATCH has been finalised (423 before: retried);
     tuspy uploads what is left. The stored version's SM3 must equal the source's.
The server's RSS (/proc/<pid>/status VmRSS) is sampled every 0.2 s during each transfer (start, max,
end), GET /healthz is timed every 0.1 s (how long the server's event loop was held), and the server's
CPU time (/proc/<pid>/stat) and this process's are taken around each one.
MB = 10^6 bytes (as dd prints); the sizes are MiB.

Exit status: 0 when every check passed, 1 when a digest, the zip or a request failed.
Must not: run unbounded (`--timeout-s`; tuspy runs in daemon threads so a timeout does not hang),
talk to anything but 127.0.0.1, or leave files behind: sources and the downloaded zip live in a
temporary directory removed at the end; the stack removes its var directory, database and Redis keys.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import hashlib
import io
import itertools
import json
import math
import os
import random
import re
import resource
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import httpx
from tusclient.client import TusClient

from loadtest.bench_skeleton import create_project, describe_machine, expect, print_rows, rss_mb
from loadtest.stack import LOGIN, Stack, running_stack
from server.security.sm3 import Sm3
from tests.support.clients import cookie_header

MIB = 1024 * 1024
MB = 1_000_000
CSRF_HEADER = "X-CSRF-Token"
TUS = {"Tus-Resumable": "1.0.0"}
CHUNK_TYPE = "application/offset+octet-stream"
PDF_HEAD = b"%PDF-1.7\n"
RSS_INTERVAL_S = 0.2
RSS_TARGET_MB = 150.0
HEALTH_INTERVAL_S = 0.1
HEALTH_TIMEOUT_S = 30.0
HEAD_POLL_S = 0.005
HEAD_WAIT_S = 0.05  # how long a HEAD after a cut waits for the offset to move before probing the lock
SETTLE_TIMEOUT_S = 30.0
PACKAGE_UPLOADS_AT_ONCE = 4
ZIP_CHECKED_ENTRIES = 3
CLK_TCK = os.sysconf("SC_CLK_TCK")

T = TypeVar("T")


class Failed(Exception):
    """A check that did not pass (the run goes on to the next phase and exits 1)."""


# -- measuring -----------------------------------------------------------------------------------------


def cpu_s(pid: int) -> float:
    """User + system CPU seconds of a process and all its threads so far (/proc/<pid>/stat)."""
    with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def own_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


@dataclass
class Watch:
    """Over one transfer: the server's RSS every 0.2 s and GET /healthz every 0.1 s (threads of their
    own, so a busy event loop here does not skip samples; /healthz answers from the server's event
    loop alone, so its latency shows how long that loop was held), server and bench CPU time."""

    pid: int
    url: str
    samples: list[float] = field(default_factory=list)
    health_ms: list[float] = field(default_factory=list)
    health_failed: int = 0
    started: float = 0.0
    elapsed: float = 0.0
    server_cpu: float = 0.0
    bench_cpu: float = 0.0
    _stop: threading.Event = field(default_factory=threading.Event)
    _threads: list[threading.Thread] = field(default_factory=list)

    def __enter__(self) -> Watch:
        self.samples.append(rss_mb(self.pid))
        self.server_cpu, self.bench_cpu = cpu_s(self.pid), own_cpu_s()
        self._threads = [threading.Thread(target=t, daemon=True) for t in (self._sample, self._probe)]
        for thread in self._threads:
            thread.start()
        self.started = time.perf_counter()
        return self

    def _sample(self) -> None:
        while not self._stop.wait(RSS_INTERVAL_S):
            self.samples.append(rss_mb(self.pid))

    def _probe(self) -> None:
        with httpx.Client(base_url=self.url, timeout=HEALTH_TIMEOUT_S) as client:
            while not self._stop.wait(HEALTH_INTERVAL_S):
                sent = time.perf_counter()
                try:
                    ok = client.get("/healthz").status_code == 200
                except httpx.HTTPError:
                    ok = False
                if ok:
                    self.health_ms.append((time.perf_counter() - sent) * 1000)
                else:
                    self.health_failed += 1

    def __exit__(self, *exc: object) -> None:
        self.elapsed = time.perf_counter() - self.started
        self._stop.set()
        for thread in self._threads:
            thread.join()
        self.samples.append(rss_mb(self.pid))
        self.server_cpu = cpu_s(self.pid) - self.server_cpu
        self.bench_cpu = own_cpu_s() - self.bench_cpu

    @property
    def rss(self) -> str:
        return f"{self.samples[0]:.0f} → max {max(self.samples):.0f} → {self.samples[-1]:.0f} MB"

    @property
    def health(self) -> str:
        if not self.health_ms:
            return f"no /healthz answer ({self.health_failed} failed)"
        ms = sorted(self.health_ms)
        failed = f", {self.health_failed} failed" if self.health_failed else ""
        return f"{ms[len(ms) // 2]:.0f} / {ms[int(len(ms) * 0.99)]:.0f} / {ms[-1]:.0f} ms{failed}"

    @property
    def cores(self) -> str:
        seconds = max(self.elapsed, 1e-9)
        return f"server {self.server_cpu / seconds:.2f} cores, bench {self.bench_cpu / seconds:.2f}"

    def summary(self) -> dict[str, Any]:
        ms = sorted(self.health_ms) or [math.nan]
        return {
            "s": round(self.elapsed, 3),
            "rss_start_mb": round(self.samples[0], 1),
            "rss_max_mb": round(max(self.samples), 1),
            "rss_end_mb": round(self.samples[-1], 1),
            "rss_samples": len(self.samples),
            "server_cpu_s": round(self.server_cpu, 2),
            "bench_cpu_s": round(self.bench_cpu, 2),
            "healthz_p50_ms": round(ms[len(ms) // 2], 1),
            "healthz_p99_ms": round(ms[int(len(ms) * 0.99)], 1),
            "healthz_max_ms": round(ms[-1], 1),
            "healthz_n": len(self.health_ms),
            "healthz_failed": self.health_failed,
        }


def mb_s(size: int, seconds: float) -> float:
    return size / MB / max(seconds, 1e-9)


async def in_thread(fn: Callable[[], T]) -> T:
    """`fn()` in a daemon thread: tuspy (requests, no timeout) cannot hold the process open after a
    timeout the way an executor thread would (asyncio.run waits for those)."""
    loop = asyncio.get_running_loop()
    future: asyncio.Future[T] = loop.create_future()

    def settle(result: T | None, error: BaseException | None) -> None:
        if future.done():
            return
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(result)  # type: ignore[arg-type]

    def run() -> None:
        try:
            result = fn()
        except BaseException as exc:  # handed to the awaiting task
            loop.call_soon_threadsafe(settle, None, exc)
        else:
            loop.call_soon_threadsafe(settle, result, None)

    threading.Thread(target=run, daemon=True).start()
    return await future


# -- sources -------------------------------------------------------------------------------------------


def pdf_block(base: bytes, tag: int, index: int) -> bytes:
    """One MiB of a source: shared noise made distinct by a (file, block) tag; the first starts as a PDF."""
    block = tag.to_bytes(8, "big") + index.to_bytes(8, "big") + base[16:]
    return PDF_HEAD + block[len(PDF_HEAD) :] if index == 0 else block


def write_source(path: Path, size: int, base: bytes, tag: int) -> str:
    """A `size`-byte PDF at `path`; returns its SM3 (incremental, as the server computes it)."""
    hasher = Sm3()
    with path.open("wb") as out:
        written, index = 0, 0
        while written < size:
            block = pdf_block(base, tag, index)[: size - written]
            out.write(block)
            hasher.update(block)
            written += len(block)
            index += 1
    return hasher.hexdigest()


def package_file(base: bytes, number: int, size: int) -> bytes:
    blocks = [pdf_block(base, 1000 + number, i) for i in range(-(-size // MIB))]
    return b"".join(blocks)[:size]


class FileSlice(io.RawIOBase):
    """Bytes [start, start + length) of a file as a seekable stream of their own (tuspy reads a partial
    upload's piece from it; its size comes from seek(0, SEEK_END) and tell())."""

    def __init__(self, path: Path, start: int, length: int) -> None:
        super().__init__()
        self._fd = os.open(path, os.O_RDONLY)
        self.start, self.length, self.pos = start, length, 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        base = {os.SEEK_SET: 0, os.SEEK_CUR: self.pos, os.SEEK_END: self.length}[whence]
        self.pos = min(max(base + offset, 0), self.length)
        return self.pos

    def tell(self) -> int:
        return self.pos

    def read(self, size: int = -1) -> bytes:
        left = self.length - self.pos
        size = left if size is None or size < 0 else min(size, left)
        data = os.pread(self._fd, size, self.start + self.pos)
        self.pos += len(data)
        return data

    def close(self) -> None:
        if not self.closed:
            os.close(self._fd)
        super().close()


def dd_write(directory: Path, count: int) -> dict[str, Any]:
    """`dd if=/dev/zero bs=8M count=… conv=fsync` into `directory`; bytes, seconds and MB/s as dd saw them."""
    target = directory / "dd.bin"
    try:
        done = subprocess.run(
            ["dd", "if=/dev/zero", f"of={target}", "bs=8M", f"count={count}", "conv=fsync"],
            capture_output=True, text=True, timeout=600, check=True,
        )  # fmt: skip
    finally:
        target.unlink(missing_ok=True)
    found = re.search(r"^(\d+) bytes .* copied, ([\d.]+) s, (.+)$", done.stderr, re.MULTILINE)
    if found is None:
        raise Failed(f"dd said: {done.stderr.strip()}")
    size, seconds = int(found[1]), float(found[2])
    return {"bytes": size, "s": seconds, "mb_s": round(mb_s(size, seconds), 1), "dd_says": found[3]}


# -- the API -------------------------------------------------------------------------------------------


async def login(base_url: str, password: str) -> httpx.AsyncClient:
    client = httpx.AsyncClient(base_url=base_url, timeout=600)
    answer = expect(await client.post("/api/v1/login", json={"login": LOGIN, "password": password}), 200)
    client.headers[CSRF_HEADER] = answer.json()["csrf_token"]
    return client


def tus_headers(client: httpx.AsyncClient) -> dict[str, str]:
    return {**cookie_header(client), CSRF_HEADER: client.headers[CSRF_HEADER]}


def tus_metadata(**values: str) -> str:
    return ",".join(f"{k} {base64.b64encode(v.encode()).decode()}" for k, v in values.items())


async def catalogue(client: httpx.AsyncClient, package_files: int) -> dict[str, Any]:
    """A project of the demo applicant: 1号楼 with the three upload targets, 2号楼 with the package's entries."""
    project_id = await create_project(client)
    result: dict[str, Any] = {"project_id": project_id}
    for key, name, numbers in (
        ("uploads", "1号楼", ["建施-单文件", "建施-并行", "建施-断点"]),
        ("package", "2号楼", [f"结施-{i + 1:03d}" for i in range(package_files)]),
    ):
        building = expect(await client.post(
            f"/api/v1/projects/{project_id}/buildings", json={"name": name, "code": key}), 201).json()  # fmt: skip
        entries = [
            {"building_id": building["id"], "discipline": "建筑", "number": n, "title": f"第{i + 1}张图"}
            for i, n in enumerate(numbers)
        ]
        drawings = expect(
            await client.post(f"/api/v1/projects/{project_id}/drawings", json={"entries": entries}), 200
        ).json()["items"]
        by_number = {d["number"]: d["id"] for d in drawings}
        result[key] = {"building_id": building["id"], "drawings": [by_number[n] for n in numbers]}
    return result


async def latest_version(client: httpx.AsyncClient, drawing_id: str) -> dict[str, Any]:
    detail = expect(await client.get(f"/api/v1/drawings/{drawing_id}"), 200).json()
    version: dict[str, Any] = detail["versions"][0]
    return version


async def check_version(
    client: httpx.AsyncClient, drawing_id: str, sm3: str, size: int, version: int
) -> dict[str, Any]:
    stored = await latest_version(client, drawing_id)
    ok = stored["sm3"] == sm3 and stored["size"] == size and stored["version"] == version
    return {"sm3_ok": ok, "stored_sm3": stored["sm3"], "source_sm3": sm3, "version": stored["version"]}


# -- 1. uploads ----------------------------------------------------------------------------------------


def tus_upload(url: str, headers: dict[str, str], stream: Any, chunk: int, metadata: dict[str, str]) -> str:
    """One tuspy upload of `stream` (create, then PATCH `chunk` bytes at a time); returns its URL."""
    uploader = TusClient(url, headers=headers).uploader(
        file_stream=stream, chunk_size=chunk, metadata=metadata
    )
    uploader.upload()
    return str(uploader.url)


def partial_upload(url: str, headers: dict[str, str], piece: FileSlice, chunk: int) -> Callable[[], str]:
    return lambda: tus_upload(url, headers, piece, chunk, {})


async def bench_single(
    client: httpx.AsyncClient, stack: Stack, source: Path, sm3: str, chunk: int, drawing_id: str
) -> dict[str, Any]:
    size = await asyncio.to_thread(lambda: source.stat().st_size)
    files_url, headers = f"{stack.server.url}/files/", tus_headers(client)
    metadata = {"filename": "单文件上传.pdf", "drawing": drawing_id}
    with source.open("rb") as stream, Watch(stack.server.proc.pid, stack.server.url) as watch:
        await in_thread(lambda: tus_upload(files_url, headers, stream, chunk, metadata))
    check = await check_version(client, drawing_id, sm3, size, 1)
    return {**watch.summary(), "mb_s": round(mb_s(size, watch.elapsed), 1), **check, "watch": watch}


async def bench_parallel(
    client: httpx.AsyncClient, stack: Stack, source: Path, sm3: str, chunk: int, parts: int, drawing_id: str
) -> dict[str, Any]:
    """The pieces at once (one tuspy client and thread each), then the final POST, each watched."""
    size = await asyncio.to_thread(lambda: source.stat().st_size)
    files_url = f"{stack.server.url}/files/"
    headers = {**tus_headers(client), "Upload-Concat": "partial"}
    edges = [size * i // parts for i in range(parts + 1)]
    slices = [FileSlice(source, a, b - a) for a, b in itertools.pairwise(edges)]
    try:
        with Watch(stack.server.proc.pid, stack.server.url) as pieces:
            urls = await asyncio.gather(
                *(in_thread(partial_upload(files_url, headers, p, chunk)) for p in slices)
            )
    finally:
        for piece in slices:
            piece.close()
    paths = " ".join(httpx.URL(u).path for u in urls)
    with Watch(stack.server.proc.pid, stack.server.url) as final:
        answer = await client.post("/files/", headers={
            **TUS, "Upload-Concat": f"final;{paths}",
            "Upload-Metadata": tus_metadata(filename="并行上传.pdf", drawing=drawing_id)})  # fmt: skip
    expect(answer, 201)
    check = await check_version(client, drawing_id, sm3, size, 1)
    total = pieces.elapsed + final.elapsed
    return {
        "s": round(total, 3), "mb_s": round(mb_s(size, total), 1), "parts": pieces.summary(),
        "parts_mb_s": round(mb_s(size, pieces.elapsed), 1), "final": final.summary(), **check,
        "watch": pieces, "final_watch": final,
    }  # fmt: skip


# -- 2. package ----------------------------------------------------------------------------------------


async def upload_package_files(
    client: httpx.AsyncClient, stack: Stack, base: bytes, drawing_ids: list[str], size: int
) -> dict[str, Any]:
    """Each file in one creation-with-upload POST, PACKAGE_UPLOADS_AT_ONCE at a time."""
    queue = list(enumerate(drawing_ids))

    async def uploader() -> None:
        while queue:
            number, drawing_id = queue.pop(0)
            data = package_file(base, number, size)
            name = f"结施-{number + 1:03d}.pdf"
            answer = await client.post("/files/", content=data, headers={
                **TUS, "Upload-Length": str(size), "Content-Type": CHUNK_TYPE,
                "Upload-Metadata": tus_metadata(filename=name, drawing=drawing_id)})  # fmt: skip
            expect(answer, 201)
            if answer.headers.get("upload-offset") != str(size):
                raise Failed(
                    f"creation-with-upload stored {answer.headers.get('upload-offset')} of {size} bytes"
                )

    with Watch(stack.server.proc.pid, stack.server.url) as watch:
        await asyncio.gather(*(uploader() for _ in range(PACKAGE_UPLOADS_AT_ONCE)))
    total = size * len(drawing_ids)
    return {
        "files": len(drawing_ids),
        "bytes": total,
        **watch.summary(),
        "mb_s": round(mb_s(total, watch.elapsed), 1),
        "watch": watch,
    }


def check_zip(path: Path, base: bytes, files: int, size: int, rng: random.Random) -> dict[str, Any]:
    """Opens, lists `files` entries, every CRC right (testzip), and a few entries hold the uploaded bytes."""
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
        bad = archive.testzip()
        compared = 0
        for name in rng.sample(names, min(ZIP_CHECKED_ENTRIES, len(names))):
            number = int(re.search(r"结施-(\d{3}) ", name)[1]) - 1  # type: ignore[index]
            if archive.read(name) != package_file(base, number, size):
                raise Failed(f"zip entry {name} differs from the uploaded file")
            compared += 1
    ok = len(names) == files and bad is None
    return {
        "entries": len(names),
        "testzip": bad or "ok",
        "compared": compared,
        "zip_ok": ok,
        "example": names[0],
    }


async def bench_package(
    client: httpx.AsyncClient, stack: Stack, work: Path, base: bytes, target: dict[str, Any], size: int,
    rng: random.Random,
) -> dict[str, Any]:  # fmt: skip
    uploaded = await upload_package_files(client, stack, base, target["drawings"], size)
    zip_path = work / "package.zip"
    url = f"/api/v1/projects/{target['project_id']}/package"
    received, first_byte = 0, 0.0
    with zip_path.open("wb") as out, Watch(stack.server.proc.pid, stack.server.url) as watch:
        async with client.stream("GET", url, params={"building_id": target["building_id"]}) as answer:
            expect(answer, 200)
            async for chunk in answer.aiter_raw():
                if not received:
                    first_byte = time.perf_counter() - watch.started
                out.write(chunk)
                received += len(chunk)
    checked = await asyncio.to_thread(check_zip, zip_path, base, len(target["drawings"]), size, rng)
    lean = await curl_package(client, stack, f"{url}?building_id={target['building_id']}", work, zip_path)
    zip_path.unlink()
    return {
        "upload": uploaded, **watch.summary(), "zip_bytes": received, "ttfb_ms": round(first_byte * 1000, 1),
        "mb_s": round(mb_s(received, watch.elapsed), 1), **checked, "curl": lean, "watch": watch,
    }  # fmt: skip


async def curl_package(
    client: httpx.AsyncClient, stack: Stack, path: str, work: Path, reference: Path
) -> dict[str, Any]:
    """The same package again with curl (a client that costs next to no CPU), which must give the
    same bytes as the first download."""
    out = work / "package-curl.zip"
    cookie = cookie_header(client)["Cookie"]
    with Watch(stack.server.proc.pid, stack.server.url) as watch:
        done = await asyncio.create_subprocess_exec(
            "curl", "-sS", "--fail", "-o", str(out), "-H", f"Cookie: {cookie}",
            "-w", "%{time_starttransfer} %{time_total} %{size_download}", f"{stack.server.url}{path}",
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        stdout, stderr = await done.communicate()
    if done.returncode != 0:
        raise Failed(f"curl exited with {done.returncode}: {stderr.decode().strip()}")
    first_byte, total, size = stdout.decode().split()
    same = await asyncio.to_thread(lambda: file_sha256(out) == file_sha256(reference))
    out.unlink()
    return {
        **watch.summary(), "ttfb_ms": round(float(first_byte) * 1000, 1), "curl_s": float(total),
        "zip_bytes": int(float(size)), "mb_s": round(mb_s(int(float(size)), watch.elapsed), 1),
        "same_bytes": same, "watch": watch,
    }  # fmt: skip


def file_sha256(path: Path) -> str:
    with path.open("rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


# -- 3. cut and resume ---------------------------------------------------------------------------------


@dataclass
class Cuts:
    cycles: int = 0
    sent: dict[str, int] = field(default_factory=lambda: {"fin": 0, "rst": 0})
    kept: dict[str, int] = field(default_factory=lambda: {"fin": 0, "rst": 0})
    lossy: dict[str, list[tuple[int, int, int, int]]] = field(default_factory=lambda: {"fin": [], "rst": []})
    count: dict[str, int] = field(default_factory=lambda: {"fin": 0, "rst": 0})
    refused: dict[int, int] = field(default_factory=dict)  # status of the probing PATCH → times
    head_polls: int = 0
    settle_s: list[float] = field(default_factory=list)


async def cut_patch(
    client: httpx.AsyncClient, port: int, location: str, offset: int, length: int, body: bytes, reset: bool
) -> None:
    """A PATCH announcing `length` bytes of which only `body` is sent, then the connection is closed
    (FIN) or reset (RST: SO_LINGER 0, bytes not yet read by the server are dropped by the kernel)."""
    _reader, writer = await asyncio.open_connection("127.0.0.1", port)
    cookie = "; ".join(f"{k}={v}" for k, v in client.cookies.items())
    head = (
        f"PATCH {location} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nTus-Resumable: 1.0.0\r\n"
        f"Content-Type: {CHUNK_TYPE}\r\nUpload-Offset: {offset}\r\nContent-Length: {length}\r\n"
        f"{CSRF_HEADER}: {client.headers[CSRF_HEADER]}\r\nCookie: {cookie}\r\n\r\n"
    )
    writer.write(head.encode() + body)
    await writer.drain()
    if reset:
        writer.get_extra_info("socket").setsockopt(
            socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
        )
    writer.close()
    with contextlib.suppress(ConnectionError):
        await writer.wait_closed()


async def head_offset(client: httpx.AsyncClient, location: str) -> int:
    return int(expect(await client.head(location, headers=TUS), 200).headers["upload-offset"])


async def settled_offset(client: httpx.AsyncClient, location: str, before: int, cuts: Cuts) -> int:
    """The offset once the cut PATCH has been finalised: HEAD until it moves (briefly), then an empty
    PATCH there, which only succeeds when no other PATCH holds the upload (423) and the offset is
    current (409); both are retried after a short sleep."""
    started = time.perf_counter()
    while time.perf_counter() - started < SETTLE_TIMEOUT_S:
        offset = await head_offset(client, location)
        cuts.head_polls += 1
        if offset == before and time.perf_counter() - started < HEAD_WAIT_S:
            await asyncio.sleep(HEAD_POLL_S)
            continue
        probe = await client.patch(location, content=b"", headers={
            **TUS, "Content-Type": CHUNK_TYPE, "Upload-Offset": str(offset)})  # fmt: skip
        if probe.status_code == 204:
            cuts.settle_s.append(time.perf_counter() - started)
            return int(probe.headers["upload-offset"])
        if probe.status_code not in (409, 423):
            expect(probe, 204)
        cuts.refused[probe.status_code] = cuts.refused.get(probe.status_code, 0) + 1
        await asyncio.sleep(0.01)
    raise Failed(f"the upload did not settle within {SETTLE_TIMEOUT_S:.0f} s after a cut")


async def bench_resume(
    client: httpx.AsyncClient, stack: Stack, source: Path, sm3: str, cycles: int, chunk: int, drawing_id: str,
    rng: random.Random,
) -> dict[str, Any]:  # fmt: skip
    size = await asyncio.to_thread(lambda: source.stat().st_size)
    created = expect(await client.post("/files/", headers={
        **TUS, "Upload-Length": str(size),
        "Upload-Metadata": tus_metadata(filename="断点续传.pdf", drawing=drawing_id)}), 201)  # fmt: skip
    location = created.headers["location"]
    cuts = Cuts()
    offset = 0
    with source.open("rb") as stream, Watch(stack.server.proc.pid, stack.server.url) as watch:
        fd = stream.fileno()
        for cycle in range(cycles):
            left = size - offset
            if left <= 1:
                break
            # Random cuts whose mean covers what is left over the cycles left (lost bytes are made up).
            mean = left / (cycles - cycle)
            length = min(rng.randint(1, max(1, int(2 * mean))), left - 1)
            mode = "rst" if rng.random() < 0.5 else "fin"
            body = os.pread(fd, length, offset)
            await cut_patch(client, stack.server.port, location, offset, left, body, mode == "rst")
            new = await settled_offset(client, location, offset, cuts)
            cuts.cycles += 1
            cuts.count[mode] += 1
            cuts.sent[mode] += length
            cuts.kept[mode] += new - offset
            if new - offset < length:  # (cycle, offset, sent, lost)
                cuts.lossy[mode].append((cycle, offset, length, length - (new - offset)))
            offset = new
        after_cuts = offset
        finish_started = time.perf_counter()
        files_url, headers = f"{stack.server.url}/files/", tus_headers(client)

        def finish() -> None:
            uploader = TusClient(files_url, headers=headers).uploader(
                file_stream=stream, url=f"{stack.server.url}{location}", chunk_size=chunk
            )
            if uploader.offset != after_cuts:
                raise Failed(f"tuspy resumed at {uploader.offset}, the server said {after_cuts}")
            uploader.upload()

        await in_thread(finish)
        finish_s = time.perf_counter() - finish_started
    check = await check_version(client, drawing_id, sm3, size, 1)
    sent, kept = sum(cuts.sent.values()), sum(cuts.kept.values())
    settle = sorted(cuts.settle_s)
    return {
        **watch.summary(), "cycles": cuts.cycles, "cut_bytes_sent": sent, "cut_bytes_kept": kept,
        "lost_resent": sent - kept, "by_mode": {m: {"cuts": cuts.count[m], "sent": cuts.sent[m],
        "lossy": len(cuts.lossy[m]), "lossy_first": cuts.lossy[m][:5],
        "kept": cuts.kept[m]} for m in ("fin", "rst")}, "refused": cuts.refused, "head_requests": cuts.head_polls,
        "settle_p50_ms": round(settle[len(settle) // 2] * 1000, 1) if settle else 0.0,
        "settle_max_ms": round(settle[-1] * 1000, 1) if settle else 0.0,
        "finished_normally": size - after_cuts, "finish_s": round(finish_s, 3), **check, "watch": watch,
    }  # fmt: skip


# -- the run -------------------------------------------------------------------------------------------


async def run(stack: Stack, args: argparse.Namespace, work: Path, results: dict[str, Any]) -> None:
    rng = random.Random(args.seed)
    base = rng.randbytes(MIB)
    size, resume_size = args.size_mib * MIB, args.resume_mib * MIB
    package_size = args.package_mib * MIB // args.package_files
    chunk = args.chunk_mib * MIB

    print(f"dd: {args.size_mib // 8} × 8 MiB, conv=fsync, into {stack.var_dir}", flush=True)
    results["dd"] = await asyncio.to_thread(dd_write, stack.var_dir, args.size_mib // 8)
    print(f"sources: {args.size_mib} MiB and {args.resume_mib} MiB PDFs in {work}", flush=True)
    big = work / "big.pdf"
    big_sm3 = await asyncio.to_thread(write_source, big, size, base, 1)
    resume = work / "resume.pdf"
    resume_sm3 = await asyncio.to_thread(write_source, resume, resume_size, base, 2)

    client = await login(stack.server.url, stack.password)
    try:
        target = await catalogue(client, args.package_files)
        single, parallel, cut = target["uploads"]["drawings"]
        print(f"1. tuspy, one upload of {args.size_mib} MiB in {args.chunk_mib} MiB PATCHes", flush=True)
        results["single"] = await bench_single(client, stack, big, big_sm3, chunk, single)
        print(f"1. tuspy, {args.parallel} partial uploads + the final concatenation", flush=True)
        results["parallel"] = await bench_parallel(
            client, stack, big, big_sm3, chunk, args.parallel, parallel
        )
        big.unlink()
        print(f"2. package: {args.package_files} files of {package_size} bytes, upload then GET", flush=True)
        package_target = {"project_id": target["project_id"], **target["package"]}
        results["package"] = await bench_package(client, stack, work, base, package_target, package_size, rng)
        print(f"3. {args.cycles} cut-and-resume cycles on {args.resume_mib} MiB", flush=True)
        results["resume"] = await bench_resume(
            client, stack, resume, resume_sm3, args.cycles, chunk, cut, rng
        )
    finally:
        await client.aclose()


def ok(flag: bool) -> str:
    return "ok" if flag else "WRONG"


def row(what: str, result: str, target: str, watch: Watch | None, detail: str) -> list[str]:
    if watch is None:
        return [what, result, target, "", "", detail]
    return [what, result, target, watch.rss, watch.health, f"{detail}; {watch.cores}"]


def table(results: dict[str, Any], args: argparse.Namespace) -> list[list[str]]:
    rss = f"RSS ≤ {RSS_TARGET_MB:.0f} MB"
    rows = [["what", "result", "target", "server RSS start → max → end", "/healthz p50/p99/max", "detail"]]
    if dd := results.get("dd"):
        rows.append(
            row(
                "dd bs=8M conv=fsync",
                f"{dd['mb_s']:.0f} MB/s",
                "",
                None,
                f"{dd['bytes']} B in {dd['s']:.2f} s (dd: {dd['dd_says']})",
            )
        )
    if single := results.get("single"):
        rows.append(
            row(
                f"tuspy, 1 upload, {args.chunk_mib} MiB PATCHes",
                f"{single['mb_s']:.0f} MB/s",
                rss,
                single["watch"],
                f"{args.size_mib} MiB in {single['s']:.2f} s; SM3 {ok(single['sm3_ok'])}",
            )
        )
    if parallel := results.get("parallel"):
        pieces, final = parallel["parts"], parallel["final"]
        rows.append(
            row(
                f"tuspy, {args.parallel} partial uploads at once",
                f"{parallel['parts_mb_s']:.0f} MB/s",
                rss,
                parallel["watch"],
                f"{pieces['s']:.2f} s",
            )
        )
        rows.append(
            row(
                "  then the final concatenation POST",
                f"{final['s']:.2f} s",
                rss,
                parallel["final_watch"],
                f"reads, digests and writes {args.size_mib} MiB",
            )
        )
        rows.append(
            row(
                "  partial uploads + final POST",
                f"{parallel['mb_s']:.0f} MB/s",
                "",
                None,
                f"{parallel['s']:.2f} s; SM3 {ok(parallel['sm3_ok'])}",
            )
        )
    if package := results.get("package"):
        up, lean = package["upload"], package["curl"]
        rows.append(
            row(
                f"{up['files']} uploads (creation-with-upload, {PACKAGE_UPLOADS_AT_ONCE} at once)",
                f"{up['mb_s']:.0f} MB/s",
                rss,
                up["watch"],
                f"{up['bytes']} B in {up['s']:.2f} s",
            )
        )
        rows.append(
            row(
                "GET package, httpx stream → file",
                f"{package['mb_s']:.0f} MB/s, TTFB {package['ttfb_ms']:.0f} ms",
                rss,
                package["watch"],
                f"{package['zip_bytes']} B in {package['s']:.2f} s; "
                f"{package['entries']} entries, testzip {package['testzip']}, {package['compared']} compared",
            )
        )
        rows.append(
            row(
                "GET package, curl → file",
                f"{lean['mb_s']:.0f} MB/s, TTFB {lean['ttfb_ms']:.0f} ms",
                rss,
                lean["watch"],
                f"{lean['zip_bytes']} B in {lean['s']:.2f} s; "
                f"same bytes as httpx's: {'yes' if lean['same_bytes'] else 'NO'}",
            )
        )
    if resume := results.get("resume"):
        fin, rst = resume["by_mode"]["fin"], resume["by_mode"]["rst"]
        rows.append(
            row(
                f"cut-and-resume, {args.resume_mib} MiB",
                f"{resume['cycles']} cycles in {resume['s']:.1f} s",
                "SM3 identical",
                resume["watch"],
                f"cut PATCHes sent {resume['cut_bytes_sent']} B, kept {resume['cut_bytes_kept']}, lost (re-sent) "
                f"{resume['lost_resent']}: FIN {fin['cuts']} cuts lost {fin['sent'] - fin['kept']} B, RST "
                f"{rst['cuts']} lost {rst['sent'] - rst['kept']} B; settle p50 {resume['settle_p50_ms']:.0f} ms, "
                f"max {resume['settle_max_ms']:.0f} ms; probes refused {resume['refused'] or 'never'}; "
                f"then {resume['finished_normally']} B by tuspy in {resume['finish_s']:.2f} s; "
                f"SM3 {ok(resume['sm3_ok'])}",
            )
        )
    return rows


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m loadtest.bench_files", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--size-mib", type=int, default=1024, help="the big upload (a multiple of 8)")
    parser.add_argument("--chunk-mib", type=int, default=8, help="tuspy chunk size")
    parser.add_argument("--parallel", type=int, default=4, help="partial uploads at once")
    parser.add_argument("--package-files", type=int, default=200)
    parser.add_argument("--package-mib", type=int, default=1024, help="all the package's files together")
    parser.add_argument("--resume-mib", type=int, default=200)
    parser.add_argument("--cycles", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=6)
    parser.add_argument("--timeout-s", type=float, default=1800.0, help="the whole run")
    args = parser.parse_args(argv)
    if min(args.size_mib // 8, args.chunk_mib, args.parallel, args.package_files, args.resume_mib) < 1:
        parser.error("sizes and counts must be positive (--size-mib at least 8)")
    if args.cycles < 0:
        parser.error("--cycles must not be negative")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    shown = " ".join(sys.argv[1:] if argv is None else argv)
    print(
        f"bench_files  {describe_machine()}\ncommand: python -m loadtest.bench_files {shown}".rstrip(),
        flush=True,
    )
    started = time.perf_counter()
    results: dict[str, Any] = {}
    failures: list[str] = []
    problems, examples = 0, list[str]()
    work = Path(tempfile.mkdtemp(prefix="tongban-bench-files-"))
    try:
        with running_stack("files") as stack:
            try:
                asyncio.run(asyncio.wait_for(run(stack, args, work, results), args.timeout_s))
            except (Failed, httpx.HTTPError, TimeoutError) as exc:
                failures.append(f"{type(exc).__name__}: {exc}")
            problems, examples = stack.log_problems()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print_rows(table(results, args))
    for key in ("single", "parallel", "resume"):
        if key in results and not results[key]["sm3_ok"]:
            failures.append(
                f"{key}: stored SM3 {results[key]['stored_sm3']} ≠ source {results[key]['source_sm3']}"
            )
    if "package" in results and not results["package"]["curl"]["same_bytes"]:
        failures.append("package: curl's download differs from httpx's")
    if "package" in results and not results["package"]["zip_ok"]:
        failures.append(
            f"package: {results['package']['entries']} entries, testzip {results['package']['testzip']}"
        )
    print(json.dumps(results, ensure_ascii=False, default=lambda o: None if isinstance(o, Watch) else str(o)))
    print(f"server and worker logs: {problems} warning/error lines")
    for example in examples:
        print(f"  {example}")
    for failure in failures:
        print(f"FAILED {failure}")
    print(f"took {time.perf_counter() - started:.0f} s")
    return 1 if failures else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:  # the stack has been torn down on the way out
        print("interrupted", file=sys.stderr)
        sys.exit(130)
