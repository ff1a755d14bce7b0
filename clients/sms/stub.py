"""A local stand-in for the SMS gateway, speaking the contract in `clients.sms.client`; for tests and
the demo only.

`StubGateway` is a Starlette app served by uvicorn in a background thread on a free 127.0.0.1 port
(`with StubGateway(app_key, secret) as gateway: ... gateway.url`). It checks signature, timestamp
window and nonce, answers bad numbers and templates with the gateway's codes, delivers a request_id
once, and keeps what it received for the test to inspect. Tests make it misbehave with `fail_next`
(answer an error, before or after taking the message) and `hang_next` (answer nothing until stopped).
Must not: send anything anywhere, be used as a production gateway, or be imported outside tests and
the demo wiring.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType

import uvicorn
from pydantic import ValidationError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from clients.sms.models import PHONE_PATTERN, GatewayCode, GatewayRequest, GatewayResponse
from clients.sms.signing import (
    H_APP_KEY,
    H_NONCE,
    H_SIGNATURE,
    H_SIGNATURE_METHOD,
    H_TIMESTAMP,
    SIGNATURE_METHOD,
    TIMESTAMP_WINDOW_S,
    signature_matches,
)

PATH = "/v1/sms/send"
START_TIMEOUT_S = 10.0
STOP_TIMEOUT_S = 10.0
# A hanging request is released when the stub stops; this caps it should nobody stop the stub.
HANG_LIMIT_S = 60.0

_STATUS: dict[str, int] = {
    GatewayCode.OK: 200,
    GatewayCode.MALFORMED_REQUEST: 400,
    GatewayCode.INVALID_PHONE: 400,
    GatewayCode.PHONE_BLOCKED: 400,
    GatewayCode.INVALID_TEMPLATE: 400,
    GatewayCode.INVALID_PARAMS: 400,
    GatewayCode.UNKNOWN_APP: 401,
    GatewayCode.BAD_SIGNATURE: 401,
    GatewayCode.STALE_TIMESTAMP: 401,
    GatewayCode.REPLAYED_NONCE: 409,
    GatewayCode.RATE_LIMITED: 429,
    GatewayCode.UNAVAILABLE: 503,
}


@dataclass(frozen=True)
class StubCall:
    """One request as it arrived, before any check (request_id is None when the body had none)."""

    request_id: str | None
    nonce: str


@dataclass(frozen=True)
class _Fault:
    hang: bool = False
    status: int = 503
    code: str = GatewayCode.UNAVAILABLE
    after_processing: bool = False


class StubGateway:
    def __init__(
        self,
        app_key: str,
        secret: str,
        *,
        templates: frozenset[str] | None = None,
        clock_s: Callable[[], float] = time.time,
    ) -> None:
        """`templates`: the template codes it accepts (None: any). `clock_s`: its clock, Unix seconds."""
        self.app_key, self._secret, self._templates, self._clock_s = app_key, secret, templates, clock_s
        self._lock = threading.Lock()  # the server thread handles requests while the test thread reads
        self._calls: list[StubCall] = []
        self._messages: list[GatewayRequest] = []
        self._biz_ids: dict[str, str] = {}
        self._nonces: dict[str, float] = {}
        self._faults: deque[_Fault] = deque()
        self._blocked: set[str] = set()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._port = 0
        self._socket: socket.socket | None = None
        self.app = Starlette(routes=[Route(PATH, self._send, methods=["POST"])])

    # ---- what the test sees and sets ----

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._port}{PATH}"

    @property
    def calls(self) -> list[StubCall]:
        with self._lock:
            return list(self._calls)

    @property
    def messages(self) -> list[GatewayRequest]:
        """The messages it took for delivery, each request_id once."""
        with self._lock:
            return list(self._messages)

    def fail_next(
        self,
        times: int = 1,
        *,
        status: int = 503,
        code: str = GatewayCode.UNAVAILABLE,
        after_processing: bool = False,
    ) -> None:
        """Answer the next `times` requests with `status` and `code`; with `after_processing`, take
        the message first (as a gateway whose answer is lost on the way back)."""
        with self._lock:
            self._faults.extend([_Fault(status=status, code=code, after_processing=after_processing)] * times)

    def hang_next(self, times: int = 1) -> None:
        """Answer the next `times` requests only when the stub stops."""
        with self._lock:
            self._faults.extend([_Fault(hang=True)] * times)

    def block(self, phone: str) -> None:
        """Refuse this (well-formed) number with PHONE_BLOCKED, as for a number on a carrier's blocklist."""
        with self._lock:
            self._blocked.add(phone)

    # ---- running it ----

    def start(self) -> StubGateway:
        # Bound here, before the thread starts: the port is known and nobody can take it meanwhile.
        self._socket = sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        self._port = int(sock.getsockname()[1])
        # log_config=None, log_level=None: leave the process's logging as it is (tests capture it).
        config = uvicorn.Config(
            self.app,
            log_config=None,
            log_level=None,
            access_log=False,
            lifespan="off",
            ws="none",
            timeout_graceful_shutdown=2,
        )
        self._server = _Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [sock]}, name=f"sms-stub-{self._port}", daemon=True
        )
        self._thread.start()
        if not self._server.ready.wait(START_TIMEOUT_S):
            self.stop()
            raise RuntimeError(f"the SMS stub gateway did not start within {START_TIMEOUT_S}s")
        return self

    def stop(self) -> None:
        server, thread = self._server, self._thread
        if server is None or thread is None:
            return
        server.release_hanging()
        server.should_exit = True
        thread.join(STOP_TIMEOUT_S)
        if self._socket is not None:
            self._socket.close()
        self._server, self._thread, self._socket = None, None, None

    def __enter__(self) -> StubGateway:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # ---- the gateway ----

    async def _send(self, request: Request) -> JSONResponse:
        body = await request.body()
        nonce = request.headers.get(H_NONCE, "")
        with self._lock:
            self._calls.append(StubCall(_request_id_of(body), nonce))
            fault = self._faults.popleft() if self._faults else None
        if fault is not None and fault.hang:
            assert self._server is not None
            await self._server.hang()
            return _answer(GatewayCode.UNAVAILABLE)
        if fault is not None and not fault.after_processing:
            return _answer(fault.code, status=fault.status)
        refusal = self._authenticate(request, body, nonce)
        if refusal is not None:
            return _answer(refusal)
        try:
            sms = GatewayRequest.model_validate_json(body)
        except ValidationError:
            return _answer(GatewayCode.MALFORMED_REQUEST)
        code, biz_id = self._deliver(sms)
        if fault is not None:
            return _answer(fault.code, status=fault.status)
        return _answer(code, biz_id=biz_id)

    def _authenticate(self, request: Request, body: bytes, nonce: str) -> GatewayCode | None:
        headers = request.headers
        if headers.get(H_APP_KEY) != self.app_key:
            return GatewayCode.UNKNOWN_APP
        timestamp = headers.get(H_TIMESTAMP, "")
        if headers.get(H_SIGNATURE_METHOD) != SIGNATURE_METHOD or not signature_matches(
            self._secret, self.app_key, timestamp, nonce, body, headers.get(H_SIGNATURE, "")
        ):
            return GatewayCode.BAD_SIGNATURE
        now_s = self._clock_s()
        if not timestamp.isdigit() or abs(now_s - int(timestamp)) > TIMESTAMP_WINDOW_S:
            return GatewayCode.STALE_TIMESTAMP
        with self._lock:
            # A nonce older than the window cannot come back: its timestamp would be refused first.
            for seen, at_s in list(self._nonces.items()):
                if now_s - at_s > 2 * TIMESTAMP_WINDOW_S:
                    del self._nonces[seen]
            if not nonce or nonce in self._nonces:
                return GatewayCode.REPLAYED_NONCE
            self._nonces[nonce] = now_s
        return None

    def _deliver(self, sms: GatewayRequest) -> tuple[GatewayCode, str | None]:
        if not PHONE_PATTERN.fullmatch(sms.phone):
            return GatewayCode.INVALID_PHONE, None
        if self._templates is not None and sms.template not in self._templates:
            return GatewayCode.INVALID_TEMPLATE, None
        with self._lock:
            if sms.phone in self._blocked:
                return GatewayCode.PHONE_BLOCKED, None
            if sms.request_id not in self._biz_ids:
                self._biz_ids[sms.request_id] = uuid.uuid4().hex
                self._messages.append(sms)
            return GatewayCode.OK, self._biz_ids[sms.request_id]


class _Server(uvicorn.Server):
    """uvicorn's server, telling the starting thread when it listens and releasing hung requests."""

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self.ready = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._release: asyncio.Event | None = None

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        self._loop, self._release = asyncio.get_running_loop(), asyncio.Event()
        await super().startup(sockets)
        self.ready.set()

    async def hang(self) -> None:
        assert self._release is not None
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(HANG_LIMIT_S):
                await self._release.wait()

    def release_hanging(self) -> None:
        if self._loop is not None and self._release is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._release.set)


def _request_id_of(body: bytes) -> str | None:
    try:
        parsed = json.loads(body)
    except ValueError:
        return None
    request_id = parsed.get("request_id") if isinstance(parsed, dict) else None
    return request_id if isinstance(request_id, str) else None


def _answer(code: str, *, status: int | None = None, biz_id: str | None = None) -> JSONResponse:
    status = status or _STATUS.get(code, 400)
    body = GatewayResponse(code=code, message="成功" if code == GatewayCode.OK else code, biz_id=biz_id)
    return JSONResponse(body.model_dump(), status_code=status)
