"""Uploading through the tus endpoint as a standard client does: tuspy (requests) in a thread, with the
caller's session cookie and CSRF token, and a project with a building and catalogue entries to upload to."""

from __future__ import annotations

import asyncio
import io
import uuid
from typing import Any

import httpx
from tusclient.client import TusClient

from tests.conftest import unique_code
from tests.support.clients import cookie_header

PDF_HEAD = b"%PDF-1.7\n"


def pdf_bytes(size: int, seed: int = 0) -> bytes:
    """`size` bytes that pass the PDF check: the signature, then reproducible noise."""
    body = bytearray(PDF_HEAD)
    block = uuid.UUID(int=seed).bytes * 64
    while len(body) < size:
        body += block
    return bytes(body[:size])


def tus_client(client: httpx.AsyncClient) -> TusClient:
    headers = {**cookie_header(client), "x-csrf-token": client.headers["x-csrf-token"]}
    return TusClient(f"{client.base_url}/files/", headers=headers)


def uploader(
    client: httpx.AsyncClient,
    data: bytes,
    metadata: dict[str, str],
    chunk_size: int = 8 * 1024 * 1024,
    **options: Any,
) -> Any:
    return tus_client(client).uploader(
        file_stream=io.BytesIO(data), chunk_size=chunk_size, metadata=metadata, **options
    )


async def upload_version(
    client: httpx.AsyncClient, drawing_id: Any, data: bytes, file_name: str, chunk_size: int = 8 * 1024 * 1024
) -> str:
    """Upload `data` as the next version of the catalogue entry; returns the upload's URL."""
    up = uploader(client, data, {"filename": file_name, "drawing": str(drawing_id)}, chunk_size)
    await asyncio.to_thread(up.upload)
    return str(up.url)


async def project_with_drawings(client: httpx.AsyncClient, count: int = 1) -> dict[str, Any]:
    """A new project of the client's enterprise with one building and `count` catalogue entries."""
    project = (
        await client.post("/api/v1/projects", json={"code": unique_code(), "name": "图纸测试项目"})
    ).json()
    building = await client.post(
        f"/api/v1/projects/{project['id']}/buildings", json={"name": "1号楼", "code": "B1"}
    )
    assert building.status_code == 201, building.text
    entries = [
        {"building_id": building.json()["id"], "kind": "construction", "discipline": "建筑",
         "number": f"建施-{i + 1:02d}", "title": f"第{i + 1}张平面图"}
        for i in range(count)
    ]  # fmt: skip
    drawings = await client.post(f"/api/v1/projects/{project['id']}/drawings", json={"entries": entries})
    assert drawings.status_code == 200, drawings.text
    return {"project": project, "building": building.json(), "drawings": drawings.json()["items"]}


async def start_raw_patch(
    client: httpx.AsyncClient, port: int, location: str, offset: int, length: int, first: bytes
) -> asyncio.StreamWriter:
    """A PATCH announcing `length` bytes of which only `first` are sent: the caller cuts it (closes
    the writer) or kills the server while it is in flight."""
    _reader, writer = await asyncio.open_connection("127.0.0.1", port)
    cookie = "; ".join(f"{k}={v}" for k, v in client.cookies.items())
    head = (
        f"PATCH {location} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nTus-Resumable: 1.0.0\r\n"
        f"Content-Type: application/offset+octet-stream\r\nUpload-Offset: {offset}\r\n"
        f"Content-Length: {length}\r\nx-csrf-token: {client.headers['x-csrf-token']}\r\nCookie: {cookie}\r\n\r\n"
    )
    writer.write(head.encode() + first)
    await writer.drain()
    return writer
