"""An upload survives kill -9 of the server: the durable offset is what was fsynced before the chunk in
flight, the bytes of that chunk are dropped, and a standard client resumes to an identical file."""

from __future__ import annotations

import asyncio
import io
import signal
from pathlib import Path

from server.security.sm3 import sm3_hex
from tests.support.clients import login
from tests.support.processes import start_server
from tests.support.uploads import pdf_bytes, project_with_drawings, start_raw_patch, tus_client, uploader

MB = 1024 * 1024
CHUNK = 4 * MB


async def test_kill_9_mid_patch_loses_only_the_chunk_in_flight_and_tuspy_resumes_to_the_same_file(
    env, tmp_path, var_dir: Path
):
    data = pdf_bytes(6 * CHUNK + 123, seed=99)
    child = start_server(env, tmp_path / "node-1.log")
    owner = await login(child.url, "pujiang")
    try:
        catalogue = await project_with_drawings(owner)
        drawing_id = catalogue["drawings"][0]["id"]
        up = uploader(owner, data, {"filename": "续传.pdf", "drawing": drawing_id}, CHUNK)
        for _ in range(2):
            await asyncio.to_thread(up.upload_chunk)
        assert up.offset == 2 * CHUNK
        location = up.url.split(child.url, 1)[-1]
        # The third chunk is in flight (3 of its 4 MB sent) when the server is killed.
        writer = await start_raw_patch(
            owner, child.port, location, 2 * CHUNK, CHUNK, data[2 * CHUNK : 2 * CHUNK + 3 * MB]
        )
        part = var_dir / "files" / "parts" / location.rsplit("/", 1)[-1]
        for _ in range(100):
            if part.stat().st_size > 2 * CHUNK:
                break
            await asyncio.sleep(0.05)
        assert part.stat().st_size > 2 * CHUNK  # bytes of the chunk in flight reached the disk
        child.proc.send_signal(signal.SIGKILL)
        child.proc.wait(10)
        writer.close()
    finally:
        await owner.aclose()
        child.stop()

    again = start_server(env, tmp_path / "node-2.log")
    owner = await login(again.url, "pujiang")
    try:
        head_response = await owner.head(location, headers={"Tus-Resumable": "1.0.0"})
        assert head_response.status_code == 200
        assert int(head_response.headers["upload-offset"]) == 2 * CHUNK
        resumed = tus_client(owner).uploader(
            file_stream=io.BytesIO(data), url=f"{again.url}{location}", chunk_size=CHUNK,
            retries=5, retry_delay=1,
        )  # fmt: skip
        assert resumed.offset == 2 * CHUNK
        await asyncio.to_thread(resumed.upload)
        found = (await owner.get(f"/api/v1/drawings/{drawing_id}")).json()["versions"]
        assert found[0]["sm3"] == sm3_hex(data)
        assert found[0]["size"] == len(data)
    finally:
        await owner.aclose()
        again.stop()
