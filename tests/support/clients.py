"""Clients of the running server, as a browser or the SDK would be: HTTP with a session cookie and
websockets that read JSON frames with a time limit."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
from websockets.asyncio.client import ClientConnection, connect

FRAME_TIMEOUT_S = 10.0


DEMO_PASSWORD = "Tb-test-2026!"  # tests/conftest.py seeds the demo accounts with it


async def login(base_url: str, login_name: str, password: str = DEMO_PASSWORD) -> httpx.AsyncClient:
    client = httpx.AsyncClient(base_url=base_url, timeout=10)
    response = await client.post("/api/v1/login", json={"login": login_name, "password": password})
    assert response.status_code == 200, response.text
    client.headers["x-csrf-token"] = response.json()["csrf_token"]  # as the pages' common.js does
    return client


def cookie_header(client: httpx.AsyncClient) -> dict[str, str]:
    return {"Cookie": "; ".join(f"{k}={v}" for k, v in client.cookies.items())}


async def open_ws(
    ws_base: str, path: str, client: httpx.AsyncClient | None, origin: str | None = None, max_queue: int = 16
) -> ClientConnection:
    headers = cookie_header(client) if client is not None else {}
    if origin is not None:
        headers["Origin"] = origin
    return await connect(ws_base + path, additional_headers=headers, open_timeout=10, max_queue=max_queue)


async def next_frame(ws: ClientConnection, timeout: float = FRAME_TIMEOUT_S) -> dict[str, Any]:
    """The next frame that is not a heartbeat."""
    async with asyncio.timeout(timeout):
        while True:
            frame: dict[str, Any] = json.loads(await ws.recv())
            if frame.get("type") != "ping":
                return frame


async def frame_of_type(ws: ClientConnection, type_: str, timeout: float = FRAME_TIMEOUT_S) -> dict[str, Any]:
    async with asyncio.timeout(timeout):
        while True:
            frame = await next_frame(ws, timeout)
            if frame["type"] == type_:
                return frame
