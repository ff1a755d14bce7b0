"""pycrdt-websocket's `WebsocketServer` (one room per URL path, no store) as an ASGI app under uvicorn,
configured as our server is (`server/cli.py`: wsproto, no per-message deflate, uvloop), so that the
comparison in `loadtest.bench_collab` is between the document servers, not the websocket stacks.

    .venv/bin/python loadtest/collab_ref/pycrdt_server.py --port P    (127.0.0.1 only)

Started and stopped (SIGTERM) by the benchmark; needs the `bench` extra (`pip install -e '.[bench]'`).
"""

from __future__ import annotations

import argparse
import logging

import uvicorn
import uvloop
from pycrdt.websocket import ASGIServer, WebsocketServer
from pycrdt.websocket.websocket_server import exception_logger


async def serve(port: int) -> None:
    log = logging.getLogger("pycrdt_websocket")
    websocket_server = WebsocketServer(exception_handler=exception_logger, log=log)
    config = uvicorn.Config(
        ASGIServer(websocket_server),
        host="127.0.0.1",
        port=port,
        ws="wsproto",
        ws_per_message_deflate=False,
        lifespan="off",
        log_level="warning",
        timeout_graceful_shutdown=2,
    )
    async with websocket_server:
        await uvicorn.Server(config).serve()
        await websocket_server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    uvloop.run(serve(args.port))


if __name__ == "__main__":
    main()
