"""A y-websocket client for tests: a pycrdt document synced with the server over a real websocket,
speaking the protocol with pycrdt's sync helpers (as a Yjs browser client would)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Any

import httpx
from pycrdt import (
    Doc,
    Text,
    YMessageType,
    YSyncMessageType,
    create_awareness_message,
    create_sync_message,
    create_update_message,
    handle_sync_message,
)
from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed

from tests.conftest import unique_code
from tests.support.clients import open_ws

TIMEOUT_S = 10.0


async def new_document(
    client: httpx.AsyncClient, title: str = "协同测试文档", form: str | None = None
) -> dict[str, Any]:
    """A new project of the client's organisation with one collaborative document (of `form`, else
    the default); the document as the API answered it."""
    project = await client.post("/api/v1/projects", json={"code": unique_code(), "name": "协同文档测试项目"})
    assert project.status_code == 201, project.text
    body: dict[str, Any] = {"title": title} if form is None else {"title": title, "form": form}
    created = await client.post(f"/api/v1/projects/{project.json()['id']}/documents", json=body)
    assert created.status_code == 201, created.text
    document: dict[str, Any] = created.json()
    assert document["ws_path"] == f"/ws/docs/{document['id']}"
    return document


class YClient:
    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.doc: Doc[Any] = Doc()
        self.text = self.doc.get("text", type=Text)
        self.synced = asyncio.Event()  # our step 1 was answered
        self.changed = asyncio.Condition()
        self.awareness: list[bytes] = []  # awareness payloads received
        self.close_code: int | None = None
        self.reader = asyncio.create_task(self._read())

    @classmethod
    async def connect(
        cls, ws_base: str, doc_id: str, client: httpx.AsyncClient, sync: bool = True
    ) -> YClient:
        yclient = cls(await open_ws(ws_base, f"/ws/docs/{doc_id}", client))
        if sync:
            await yclient.ws.send(create_sync_message(yclient.doc))
            async with asyncio.timeout(TIMEOUT_S):
                await yclient.synced.wait()
        return yclient

    async def _read(self) -> None:
        try:
            async for message in self.ws:
                assert isinstance(message, bytes), message
                if message[0] == YMessageType.SYNC:
                    reply = handle_sync_message(message[1:], self.doc)
                    if reply is not None:  # the server's step 1: answer with step 2
                        await self.ws.send(reply)
                    if message[1] == YSyncMessageType.SYNC_STEP2:
                        self.synced.set()
                elif message[0] == YMessageType.AWARENESS:
                    self.awareness.append(message[1:])
                async with self.changed:
                    self.changed.notify_all()
        except ConnectionClosed:
            pass
        finally:
            self.close_code = self.ws.close_code
            self.synced.set()  # nothing more will come: wake a waiting roundtrip
            async with self.changed:
                self.changed.notify_all()

    async def edit(self, index: int, value: str) -> None:
        """Insert locally and send the update, as an editor does on each keystroke."""
        before = self.doc.get_state()
        self.text.insert(index, value)
        await self.ws.send(create_update_message(self.doc.get_update(before)))

    async def change(self, edit: Callable[[Doc[Any]], Any]) -> None:
        """Change the document locally (fields, rows, rich text) and send the update."""
        before = self.doc.get_state()
        edit(self.doc)
        await self.ws.send(create_update_message(self.doc.get_update(before)))

    async def send(self, frame: bytes | str) -> None:
        await self.ws.send(frame)

    async def send_awareness(self, update: bytes) -> None:
        await self.ws.send(create_awareness_message(update))

    async def roundtrip(self) -> bool:
        """Send a step 1 and wait for its step 2: every frame sent before it has been handled. False
        when the server closed the connection instead."""
        self.synced.clear()
        with contextlib.suppress(ConnectionClosed):
            await self.ws.send(create_sync_message(self.doc))
        async with asyncio.timeout(TIMEOUT_S):
            await self.synced.wait()
        return self.close_code is None

    async def wait_for(self, predicate: Any, timeout: float = TIMEOUT_S) -> None:
        async with asyncio.timeout(timeout), self.changed:
            await self.changed.wait_for(predicate)

    async def closed(self, timeout: float = TIMEOUT_S) -> int | None:
        async with asyncio.timeout(timeout):
            await self.reader
        return self.close_code

    @property
    def content(self) -> str:
        return str(self.text)

    async def close(self) -> None:
        await self.ws.close()
        with contextlib.suppress(asyncio.CancelledError):
            await self.reader
