"""The unmodified JavaScript y-websocket provider (npm, run by Node from tests/collab/node) and a
pycrdt client edit the same document at the same time through our server and converge."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.collab.test_documents import _document
from tests.collab.yclient import YClient
from tests.support.clients import cookie_header

NODE_DIR = Path(__file__).parent / "node"


@pytest.fixture(scope="session")
def js_client() -> Path:
    """The Node client script, its npm dependencies installed from the lockfile on first use."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.fail("Node.js and npm are needed for the y-websocket interop test (Debian: nodejs, npm)")
    if not (NODE_DIR / "node_modules" / "y-websocket").is_dir():
        subprocess.run(
            ["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"],
            cwd=NODE_DIR,
            check=True,
            timeout=300,
        )
    return NODE_DIR / "client.mjs"


async def test_the_javascript_y_websocket_provider_and_a_pycrdt_client_converge(server, as_user, js_client):
    owner = await as_user("pujiang")
    colleague = await as_user("pujiang_agent")
    doc_id = await _document(owner)
    python = await YClient.connect(server.ws_url, doc_id, colleague)
    node = await asyncio.create_subprocess_exec(
        "node", str(js_client), f"{server.ws_url}/ws/docs", doc_id, "甲乙丙丁戊", "10", "20000",
        env={**os.environ, "TONGBAN_COOKIE": cookie_header(owner)["Cookie"]},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    for char in "一二三四五":  # typed while the JavaScript client types its own
        await python.edit(0, char)
        await asyncio.sleep(0.01)
    out, err = await asyncio.wait_for(node.communicate(), timeout=30)
    assert node.returncode == 0, err.decode()
    js_content = json.loads(out.decode().strip().splitlines()[-1])["content"]
    await python.wait_for(lambda: len(python.content) == 10)
    assert python.content == js_content
    assert sorted(js_content) == sorted("甲乙丙丁戊一二三四五")
    late = await YClient.connect(server.ws_url, doc_id, owner)  # what was stored is what both see
    assert late.content == js_content
    for client in (python, late):
        await client.close()
