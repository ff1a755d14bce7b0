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
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol
from uuid import UUID, uuid4

from server.security.sm3 import Sm3

READ_CHUNK = 1024 * 1024
WRITE_BUFFER = 1024 * 1024


@dataclass(frozen=True)
class StoredBlob:
    sm3: str
    size: int


class PartWriter(Protocol):
    """Appends to one part file from a given offset. `commit` makes what was written durable and
    returns the new offset; `rollback` forgets everything written since the writer was opened."""

    offset: int

    async def write(self, data: bytes) -> None: ...

    async def commit(self) -> int: ...

    async def rollback(self) -> None: ...


class Storage(Protocol):
    async def create_part(self, upload_id: UUID) -> None: ...

    async def open_part(self, upload_id: UUID, offset: int) -> PartWriter:
        """A writer appending at `offset`; bytes past it (a chunk a killed process did not commit) are
        dropped first."""
        ...

    async def read_part(self, upload_id: UUID, start: int, length: int) -> bytes: ...

    async def delete_part(self, upload_id: UUID) -> None: ...

    async def store(self, parts: list[UUID], digest: Sm3 | None = None) -> StoredBlob:
        """The concatenation of `parts` (whole files) as a blob; `digest` is an SM3 already fed with
        exactly those bytes (saves reading them again). Idempotent: the parts stay until deleted."""
        ...

    def has_blob(self, sm3: str) -> bool: ...

    def read_blob(self, sm3: str, start: int = 0, end: int | None = None) -> AsyncIterator[bytes]:
        """The bytes [start, end) of a blob (end None: to its end), in chunks."""
        ...


class LocalPartWriter:
    def __init__(self, path: Path, offset: int) -> None:
        self.path = path
        self.start = offset
        self.offset = offset
        self._buffer = bytearray()
        self._file = path.open("r+b")
        self._file.truncate(offset)
        self._file.seek(offset)

    async def write(self, data: bytes) -> None:
        self._buffer += data
        self.offset += len(data)
        if len(self._buffer) >= WRITE_BUFFER:
            await self._flush()

    async def _flush(self) -> None:
        if self._buffer:
            chunk = bytes(self._buffer)
            self._buffer.clear()
            await asyncio.to_thread(self._file.write, chunk)

    async def commit(self) -> int:
        await self._flush()
        await asyncio.to_thread(self._sync_and_close)
        return self.offset

    async def rollback(self) -> None:
        self._buffer.clear()
        await asyncio.to_thread(self._truncate_and_close, self.start)
        self.offset = self.start

    def _sync_and_close(self) -> None:
        self._file.flush()
        os.fsync(self._file.fileno())
        self._file.close()

    def _truncate_and_close(self, size: int) -> None:
        self._file.truncate(size)
        self._file.close()


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

    async def open_part(self, upload_id: UUID, offset: int) -> LocalPartWriter:
        path = self.part_path(upload_id)
        if not path.exists():
            path.touch()
        return await asyncio.to_thread(LocalPartWriter, path, offset)

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
        # Several parts: one pass copies them into a temporary file and digests them.
        staging = self.tmp / str(uuid4())
        hasher = Sm3()
        size = 0
        try:
            with staging.open("wb") as out:
                for path in paths:
                    with path.open("rb") as f:
                        while chunk := f.read(READ_CHUNK):
                            hasher.update(chunk)
                            out.write(chunk)
                            size += len(chunk)
                out.flush()
                os.fsync(out.fileno())
            sm3 = hasher.hexdigest()
            self._place(sm3, lambda target: os.replace(staging, target))
        finally:
            with contextlib.suppress(FileNotFoundError):
                staging.unlink()
        return StoredBlob(sm3, size)

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
    hasher = Sm3()
    with path.open("rb") as f:
        while chunk := f.read(READ_CHUNK):
            hasher.update(chunk)
    return hasher.hexdigest()


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
