"""Where uploaded bytes live: part files of uploads in progress and the store of finished files,
content-addressed by SM3 (one copy of identical files).

`Storage` is the interface the upload and download code uses; `LocalStorage` keeps everything under
one directory of the local disk (`parts/<upload id>`, `blobs/ab/cd/<sm3>`). A later S3-compatible
backend implements the same methods (parts as multipart uploads, blobs as objects named by digest).
Everything streams: memory per transfer is bounded by one buffer, never by the file.
Must not: know about users, projects or HTTP; decide whether a write is allowed (the callers do).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol
from uuid import UUID, uuid4

from server.security.sm3 import Sm3, sm3_hex

READ_CHUNK = 1024 * 1024
WRITE_BUFFER = 1024 * 1024


@dataclass(frozen=True)
class StoredBlob:
    sm3: str
    size: int


class Digest(Protocol):
    def update(self, data: bytes, /) -> None: ...


class PartWriter(Protocol):
    """Appends to one part file from a given offset, feeding the given digests with the bytes as it
    writes them (off the event loop). `commit` makes what was written durable and returns the new
    offset; `rollback` forgets everything written since the writer was opened (the digests are then
    of no use)."""

    offset: int

    async def write(self, data: bytes) -> None: ...

    async def drain(self) -> None:
        """Write out everything buffered: the digests have then seen every byte written."""
        ...

    async def commit(self) -> int: ...

    async def rollback(self) -> None: ...


class Storage(Protocol):
    async def create_part(self, upload_id: UUID) -> None: ...

    async def open_part(self, upload_id: UUID, offset: int, digests: Sequence[Digest] = ()) -> PartWriter:
        """A writer appending at `offset`; bytes past it (a chunk a killed process did not commit) are
        dropped first."""
        ...

    async def read_part(self, upload_id: UUID, start: int, length: int) -> bytes: ...

    async def delete_part(self, upload_id: UUID) -> None: ...

    async def store(self, parts: list[UUID], digest: Sm3 | None = None) -> StoredBlob:
        """The concatenation of `parts` (whole files) as a blob; `digest` is an SM3 already fed with
        exactly those bytes (saves reading them again). Idempotent: the parts stay until deleted."""
        ...

    async def put(self, data: bytes) -> StoredBlob:
        """Bytes made in memory (generated documents) as a blob, named by their SM3."""
        ...

    def has_blob(self, sm3: str) -> bool: ...

    def read_blob(self, sm3: str, start: int = 0, end: int | None = None) -> AsyncIterator[bytes]:
        """The bytes [start, end) of a blob (end None: to its end), in chunks."""
        ...


class LocalPartWriter:
    """Buffers about 1 MB of chunks, then writes them (writev, no copy) and feeds the digests in a
    worker thread while the next megabyte arrives: one flush in flight at a time, in order."""

    def __init__(self, path: Path, offset: int, digests: Sequence[Digest]) -> None:
        self.start = offset
        self.offset = offset
        self.digests = digests
        self._chunks: list[bytes] = []
        self._buffered = 0
        self._flushing: asyncio.Future[None] | None = None
        self._fd = os.open(path, os.O_WRONLY)
        os.ftruncate(self._fd, offset)
        os.lseek(self._fd, offset, os.SEEK_SET)

    async def write(self, data: bytes) -> None:
        self._chunks.append(data)
        self._buffered += len(data)
        self.offset += len(data)
        if self._buffered >= WRITE_BUFFER:
            await self._flush()

    async def _flush(self) -> None:
        if self._flushing is not None:
            await self._flushing
            self._flushing = None
        if self._chunks:
            chunks, self._chunks, self._buffered = self._chunks, [], 0
            self._flushing = asyncio.ensure_future(asyncio.to_thread(self._write_out, chunks))

    def _write_out(self, chunks: list[bytes]) -> None:
        for digest in self.digests:
            for chunk in chunks:
                digest.update(chunk)
        views = [memoryview(c) for c in chunks]
        while views:
            written = os.writev(self._fd, views)
            while views and written >= len(views[0]):
                written -= len(views[0])
                views.pop(0)
            if views and written:
                views[0] = views[0][written:]

    async def drain(self) -> None:
        await self._flush()
        await self._flush()  # the one the call above started

    async def commit(self) -> int:
        await self.drain()
        await asyncio.to_thread(self._sync_and_close)
        return self.offset

    async def rollback(self) -> None:
        self._chunks.clear()
        if self._flushing is not None:
            with contextlib.suppress(Exception):
                await self._flushing
        await asyncio.to_thread(self._truncate_and_close, self.start)
        self.offset = self.start

    def _sync_and_close(self) -> None:
        try:
            os.fsync(self._fd)
        finally:
            os.close(self._fd)

    def _truncate_and_close(self, size: int) -> None:
        try:
            os.ftruncate(self._fd, size)
        finally:
            os.close(self._fd)


class LocalStorage:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.parts = root / "parts"
        self.blobs = root / "blobs"
        self.tmp = root / "tmp"
        for folder in (self.parts, self.blobs, self.tmp):
            folder.mkdir(parents=True, exist_ok=True)

    def part_path(self, upload_id: UUID) -> Path:
        return self.parts / str(upload_id)

    def blob_path(self, sm3: str) -> Path:
        if len(sm3) != 64 or any(c not in "0123456789abcdef" for c in sm3):
            raise ValueError(f"not an SM3 digest: {sm3!r}")
        return self.blobs / sm3[:2] / sm3[2:4] / sm3

    async def create_part(self, upload_id: UUID) -> None:
        self.part_path(upload_id).touch(exist_ok=True)

    async def open_part(
        self, upload_id: UUID, offset: int, digests: Sequence[Digest] = ()
    ) -> LocalPartWriter:
        path = self.part_path(upload_id)
        if not path.exists():
            path.touch()
        return await asyncio.to_thread(LocalPartWriter, path, offset, digests)

    async def read_part(self, upload_id: UUID, start: int, length: int) -> bytes:
        def read() -> bytes:
            with self.part_path(upload_id).open("rb") as f:
                f.seek(start)
                return f.read(length)

        return await asyncio.to_thread(read)

    async def delete_part(self, upload_id: UUID) -> None:
        with contextlib.suppress(FileNotFoundError):
            await asyncio.to_thread(self.part_path(upload_id).unlink)

    async def store(self, parts: list[UUID], digest: Sm3 | None = None) -> StoredBlob:
        return await asyncio.to_thread(self._store, [self.part_path(p) for p in parts], digest)

    def _store(self, paths: list[Path], digest: Sm3 | None) -> StoredBlob:
        if len(paths) == 1:
            source = paths[0]
            size = source.stat().st_size
            sm3 = digest.hexdigest() if digest is not None else _file_sm3(source)
            self._place(sm3, lambda target: os.link(source, target))
            return StoredBlob(sm3, size)
        # Several parts: copied into a temporary file by the kernel while another thread digests them
        # (hashlib's SM3 releases the GIL), then placed like one part.
        staging = self.tmp / str(uuid4())
        try:
            with ThreadPoolExecutor(max_workers=1, thread_name_prefix="digest") as side:
                digesting = side.submit(_files_sm3, paths)
                size = _concatenate(paths, staging)
                sm3 = digesting.result()
            self._place(sm3, lambda target: os.replace(staging, target))
        finally:
            with contextlib.suppress(FileNotFoundError):
                staging.unlink()
        return StoredBlob(sm3, size)

    async def put(self, data: bytes) -> StoredBlob:
        return await asyncio.to_thread(self._put, data)

    def _put(self, data: bytes) -> StoredBlob:
        sm3 = sm3_hex(data)
        if self.has_blob(sm3):
            return StoredBlob(sm3, len(data))
        staging = self.tmp / str(uuid4())
        try:
            with staging.open("wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            self._place(sm3, lambda target: os.replace(staging, target))
        finally:
            with contextlib.suppress(FileNotFoundError):
                staging.unlink()
        return StoredBlob(sm3, len(data))

    def _place(self, sm3: str, put: object) -> None:
        target = self.blob_path(sm3)
        if target.exists():
            return  # the same bytes are stored already
        target.parent.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(FileExistsError):  # a concurrent store of the same bytes won
            put(target)  # type: ignore[operator]
        _fsync_dir(target.parent)

    def has_blob(self, sm3: str) -> bool:
        return self.blob_path(sm3).exists()

    async def read_blob(self, sm3: str, start: int = 0, end: int | None = None) -> AsyncIterator[bytes]:
        f = await asyncio.to_thread(self.blob_path(sm3).open, "rb")
        try:
            await asyncio.to_thread(f.seek, start)
            left = None if end is None else end - start
            while left is None or left > 0:
                size = READ_CHUNK if left is None else min(READ_CHUNK, left)
                chunk = await asyncio.to_thread(f.read, size)
                if not chunk:
                    return
                if left is not None:
                    left -= len(chunk)
                yield chunk
        finally:
            await asyncio.to_thread(f.close)


def _file_sm3(path: Path) -> str:
    return _files_sm3([path])


def _files_sm3(paths: list[Path]) -> str:
    hasher = Sm3()
    for path in paths:
        with path.open("rb") as f:
            while chunk := f.read(READ_CHUNK):
                hasher.update(chunk)
    return hasher.hexdigest()


def _concatenate(paths: list[Path], target: Path) -> int:
    """Copy `paths` one after the other into `target` (in the kernel where it can), fsynced; the size."""
    size = 0
    with target.open("wb") as out:
        for path in paths:
            with path.open("rb") as f:
                left = os.fstat(f.fileno()).st_size
                try:
                    while left > 0:
                        copied = os.copy_file_range(f.fileno(), out.fileno(), left)
                        if copied == 0:
                            break
                        left -= copied
                        size += copied
                except OSError:  # no copy_file_range here (other kernel, filesystem): through user space
                    while chunk := f.read(READ_CHUNK):
                        out.write(chunk)
                        size += len(chunk)
        out.flush()
        os.fsync(out.fileno())
    return size


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
