"""A package download (打包下载): the latest version of every selected catalogue entry, as one zip
streamed while it is built: ZIP64 (no 4 GB limit), no temporary file, memory bounded by a few
buffers however large the package. Selected are entries and whole buildings (their union),
optionally only of some kinds. Audited ("drawing.package") before the first byte is sent.

Entries are deflate level 0 (stored blocks: no compression work). A "stored" entry would need each
file's CRC-32 before its bytes, that is a second read of every file; level 0 costs 5 bytes per 64 KB.
The zip writer (stream-zip) is synchronous: it runs on a pool of its own, one chunk at a time, and
pulls file bytes from the event loop. Not on the default pool: the storage's reads run there, and a
zip thread blocked on a read that needs a free default thread would deadlock under load.
Must not: check access (the route calls `server.files.access` first), buffer a file, or write to disk.
"""

from __future__ import annotations

import asyncio
import stat
import zlib
from collections.abc import AsyncIterable, AsyncIterator, Generator, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import anyio
from starlette.datastructures import QueryParams
from starlette.responses import Response, StreamingResponse
from stream_zip import ZIP_64, stream_zip

from server import clock
from server.audit import service as audit
from server.audit.models import AuditRecord
from server.errors import InvalidInput, NotFound, PayloadTooLarge
from server.files import catalogue_sql as sql
from server.files.downloads import content_disposition
from server.files.models import KIND_LABELS
from server.files.sniff import sanitise_name
from server.files.storage import Storage
from server.identity.models import CurrentUser

ZIP_CHUNK = 1024 * 1024
MAX_IDS = 10_000  # ids in one request's query; a real selection is bounded by the URL length anyway
ZIP_THREADS = ThreadPoolExecutor(max_workers=8, thread_name_prefix="zip")
MODE = stat.S_IFREG | 0o644


def _level0() -> Any:
    return zlib.compressobj(level=0, wbits=-zlib.MAX_WBITS)


@dataclass(frozen=True)
class Selection:
    building_ids: list[UUID]
    drawing_ids: list[UUID]
    kinds: list[str] | None


def parse_selection(params: QueryParams) -> Selection:
    """`building_id`, `drawing_id` and `kind`, each repeatable; at least one id."""
    unknown = sorted(set(params) - {"building_id", "drawing_id", "kind"})
    if unknown:
        fields = [{"field": k, "message": "不支持", "type": "extra_forbidden"} for k in unknown]
        raise InvalidInput("不支持的查询参数", fields=fields)
    ids: dict[str, list[UUID]] = {}
    for name in ("building_id", "drawing_id"):
        values = [v for v in params.getlist(name) if v.strip()]
        if len(values) > MAX_IDS:
            raise InvalidInput("一次选择的单体或图纸过多")
        try:
            ids[name] = list(dict.fromkeys(UUID(v.strip()) for v in values))
        except ValueError as exc:
            fields = [{"field": name, "message": "不是合法的 UUID", "type": "uuid_parsing"}]
            raise InvalidInput("编号格式不正确", fields=fields) from exc
    kinds = [k for k in params.getlist("kind") if k.strip()]
    if any(k not in KIND_LABELS for k in kinds):
        raise InvalidInput("图纸类型只能是 construction（施工图）或 as_built（竣工图）",
                           fields=[{"field": "kind", "message": "取值不正确", "type": "literal_error"}])  # fmt: skip
    if not ids["building_id"] and not ids["drawing_id"]:
        raise InvalidInput("请先选择要打包的单体或图纸")
    return Selection(ids["building_id"], ids["drawing_id"], sorted(set(kinds)) or None)


async def select_files(conn: Any, project_id: UUID, selection: Selection, limit: int) -> list[Any]:
    """The latest version of each selected entry that has one, in catalogue order. 404 for ids not of
    this project, 413 beyond `limit` files, 422 when nothing selected has a file."""
    checks = (
        (sql.BUILDINGS_OF_PROJECT, selection.building_ids),
        (sql.DRAWINGS_OF_PROJECT, selection.drawing_ids),
    )
    for query, given in checks:
        if given and len(await conn.fetch(query, project_id, given)) != len(given):
            raise NotFound("所选单体或图纸不存在或不属于本项目")
    rows: list[Any] = await conn.fetch(
        sql.PACKAGE_FILES,
        project_id,
        selection.building_ids,
        selection.drawing_ids,
        selection.kinds,
        limit + 1,
    )
    check_limit(len(rows), limit)
    if not rows:
        raise InvalidInput("所选图纸都还没有上传文件")
    return rows


def check_limit(files: int, limit: int) -> None:
    if files > limit:
        raise PayloadTooLarge(f"所选图纸超过 {limit} 个文件，请分批打包下载", limit=limit)


def _safe(name: str, fallback: str) -> str:
    """One path component: a "/" in a title is a character, not a folder."""
    try:
        return sanitise_name(name.replace("/", "_").replace("\\", "_"))
    except InvalidInput:
        return fallback


def member_names(rows: Iterable[Any]) -> list[str]:
    """ "<单体>/<施工图|竣工图>/<图号> <图名>（第N版）.<ext>" per file, each part sanitised, unique in the zip."""
    names: list[str] = []
    used: set[str] = set()
    for row in rows:
        dot = row["file_name"].rfind(".")
        ext = row["file_name"][dot:].lower() if dot > 0 and len(row["file_name"]) - dot <= 10 else ""
        edition = f"（第{row['version']}版）{ext}"
        base = _safe(f"{row['number']} {row['title']}{edition}", f"图纸{edition}")
        folder = f"{_safe(row['building_name'], '未命名单体')}/{KIND_LABELS[row['kind']]}"
        name, n = f"{folder}/{base}", 1
        while name.casefold() in used:  # two names that sanitise alike
            n += 1
            stem, ext_dot, tail = base.rpartition(".") if ext else (base, "", "")
            name = f"{folder}/{stem}（{n}）{ext_dot}{tail}"
        used.add(name.casefold())
        names.append(name)
    return names


async def zip_stream(storage: Storage, rows: list[Any], names: list[str]) -> AsyncIterator[bytes]:
    """The zip of `rows` under `names`, chunk by chunk, as the client takes them."""
    loop = asyncio.get_running_loop()
    opened: list[AsyncIterator[bytes]] = []

    def pull(blob: AsyncIterator[bytes]) -> Iterator[bytes]:  # runs on a zip thread
        while True:
            try:
                yield asyncio.run_coroutine_threadsafe(_next(blob), loop).result()
            except StopAsyncIteration:
                return

    def members() -> Iterator[tuple[str, Any, int, Any, Iterable[bytes]]]:
        for row, name in zip(rows, names, strict=True):
            blob = aiter(storage.read_blob(row["sm3"]))
            opened.append(blob)
            yield name, row["created_at"].astimezone(clock.SHANGHAI), MODE, ZIP_64, pull(blob)

    chunks: Generator[bytes] = stream_zip(members(), chunk_size=ZIP_CHUNK, get_compressobj=_level0)  # type: ignore[assignment]
    done = object()
    pending: Future[Any] | None = None
    try:
        while True:
            pending = ZIP_THREADS.submit(_next_or, chunks, done)
            chunk = await asyncio.wrap_future(pending)
            pending = None
            if chunk is done:
                return
            yield chunk
    finally:
        with anyio.CancelScope(shield=True):  # a client gone mid-zip: the thread and files still close
            if pending is not None:
                await asyncio.wait([asyncio.wrap_future(pending)])
            await asyncio.wrap_future(ZIP_THREADS.submit(chunks.close))
            for blob in opened:
                await _close(blob)


def _next_or(chunks: Iterator[bytes], done: object) -> object:
    return next(chunks, done)


async def _next(blob: AsyncIterator[bytes]) -> bytes:
    return await anext(blob)


async def _close(blob: AsyncIterator[bytes]) -> None:
    close = getattr(blob, "aclose", None)
    if close is not None:
        await close()


async def serve(
    conn: Any,
    storage: Storage,
    audit_key: bytes,
    project_id: UUID,
    params: QueryParams,
    limit: int,
    *,
    method: str,
    by: CurrentUser,
    ip: str | None,
) -> Response:
    """The streamed package of the selection in `params`, after the caller checked access."""
    selection = parse_selection(params)
    rows = await select_files(conn, project_id, selection, limit)
    names = member_names(rows)
    project_name: str = await conn.fetchval(sql.PROJECT_NAME, project_id)
    headers = {
        "Content-Disposition": content_disposition(
            _safe(f"{project_name}-图纸.zip", "图纸.zip"), "drawings.zip"
        ),
        "Cache-Control": "no-store",
    }
    if method == "HEAD":
        return Response(media_type="application/zip", headers=headers)
    async with conn.transaction():
        await audit.append(conn, audit_key, AuditRecord(
            action="drawing.package", actor_id=by.id, actor_login=by.login, org_id=by.org_id, ip=ip,
            target=f"project:{project_id}",
            detail={"files": len(rows), "bytes": sum(r["size"] for r in rows),
                    "versions": [f"{r['id']}:{r['version']}" for r in rows]},
        ))  # fmt: skip
    body: AsyncIterable[bytes] = zip_stream(storage, rows, names)
    return StreamingResponse(body, media_type="application/zip", headers=headers)
