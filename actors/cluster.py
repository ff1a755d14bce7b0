"""How nodes talk: asks forwarded to the node that owns an actor, and events published to every node.

One Redis pub/sub connection per node carries them all: the node's own channel (`rpc:<node>`) for
forwarded asks and their replies, one channel per actor some local websocket watches
(`ev:<kind>:<id>`), and raw channels (`raw:<name>`) for ephemeral bytes other modules exchange
between nodes (collaborative awareness), handed as they are to the handler subscribed here.
Pub/sub loses messages when a connection drops: a lost ask times out and is retried by the caller; a
lost event leaves a gap in sequence numbers that subscribers fill from the journal; a lost raw
message is gone. Events and raw messages are published through one queue, in order, pipelined.
Must not: know actor kinds or run actor code (it calls back into the runtime).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from redis.asyncio import Redis
from redis.asyncio.client import PubSub
from redis.exceptions import RedisError

from actors.events import Address
from actors.messages import Message, decode_reply, encode_reply
from server.errors import AskTimeout, TongbanError, Unavailable

logger = logging.getLogger(__name__)

RETRY_DELAY_S = 0.5
ALIVE_CHECK_S = 1.0  # while waiting for a forwarded ask, check this often that the owner still lives
PUBLISH_BATCH = 500
OUTBOX_SIZE = 50_000  # events waiting for Redis; beyond it they are dropped (subscribers read the journal)
RAW_OUTBOX_SHARE = OUTBOX_SIZE // 2  # raw messages are dropped sooner: the rest is kept for events

AskHandler = Callable[[Address, dict[str, Any], float, int], Awaitable[Any]]
EventHandler = Callable[[Address, int, str], None]
RawHandler = Callable[[bytes], None]


class NodeUnreachable(Unavailable):
    """The node named as an actor's owner is not listening (it died): retry once its lease expires."""

    code, message = "node_unreachable", "服务正在切换，请稍后重试"


class RemoteError(TongbanError):
    """An error raised by the actor on another node, with that error's status, code and message."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status  # type: ignore[misc]
        self.code = code  # type: ignore[misc]


class Cluster:
    def __init__(self, redis: Redis, prefix: str, node_id: str) -> None:
        self.redis = redis
        self.prefix = prefix
        self.node_id = node_id
        self.pubsub: PubSub = redis.pubsub(ignore_subscribe_messages=False)
        self._replies: dict[str, asyncio.Future[Any]] = {}
        self._confirmations: dict[str, asyncio.Future[None]] = {}
        self._outbox: asyncio.Queue[tuple[str, str | bytes]] = asyncio.Queue(OUTBOX_SIZE)
        self._raw: dict[str, RawHandler] = {}  # raw channel → its handler on this node
        self._tasks: set[asyncio.Task[Any]] = set()
        self.on_ask: AskHandler | None = None
        self.on_event: EventHandler | None = None
        self.on_gap: Callable[[], None] | None = None  # events may have been lost: check the journal
        self.node_alive: Callable[[str], Awaitable[bool]] | None = None

    def rpc_channel(self, node: str) -> str:
        return f"{self.prefix}rpc:{node}"

    def event_channel(self, address: Address) -> str:
        return f"{self.prefix}ev:{address.kind}:{address.id}"

    def raw_channel(self, name: str) -> str:
        return f"{self.prefix}raw:{name}"

    async def start(self) -> None:
        await self.pubsub.subscribe(self.rpc_channel(self.node_id))
        self._spawn(self._listen(), "cluster-listen")
        self._spawn(self._publish_loop(), "cluster-publish")

    async def stop(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError, RedisError, OSError):
                await task
        with contextlib.suppress(RedisError, OSError):
            await self.pubsub.aclose()  # type: ignore[no-untyped-call]
        for future in self._replies.values():
            if not future.done():
                future.set_exception(Unavailable())

    def _spawn(self, coro: Awaitable[Any], name: str) -> asyncio.Task[Any]:
        task = asyncio.ensure_future(coro)
        task.set_name(name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    # -- forwarded asks -------------------------------------------------------------------------------

    async def forward(self, node: str, address: Address, message: Message, timeout: float, hops: int) -> Any:
        request_id = uuid.uuid4().hex
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._replies[request_id] = future
        payload = {
            "k": "ask", "id": request_id, "from": self.node_id, "to": str(address),
            "msg": message.model_dump(mode="json"), "timeout": timeout, "hops": hops,
        }  # fmt: skip
        try:
            try:
                receivers = await self.redis.publish(self.rpc_channel(node), json.dumps(payload))
            except (RedisError, OSError) as exc:
                raise Unavailable() from exc
            if receivers == 0:
                raise NodeUnreachable()
            try:
                async with asyncio.timeout(timeout):
                    while not future.done():
                        await asyncio.wait({future}, timeout=ALIVE_CHECK_S)
                        if (
                            not future.done()
                            and self.node_alive is not None
                            and not await self.node_alive(node)
                        ):
                            raise NodeUnreachable()  # it died with our ask: ask the new owner
                    data = future.result()
            except TimeoutError as exc:
                raise AskTimeout() from exc
        finally:
            self._replies.pop(request_id, None)
        return decode_reply(message, data)

    async def _answer(self, request: dict[str, Any]) -> None:
        reply: dict[str, Any] = {"k": "reply", "id": request["id"]}
        try:
            assert self.on_ask is not None
            result = await self.on_ask(
                Address.parse(request["to"]), request["msg"], float(request["timeout"]), int(request["hops"])
            )
            reply["ok"] = encode_reply(result)
        except TongbanError as exc:
            reply["err"] = {"status": exc.status, "code": exc.code, "message": exc.detail}
        except Exception:
            logger.exception("cluster.forwarded_ask_failed")
            reply["err"] = {"status": 500, "code": "internal_error", "message": TongbanError.message}
        with contextlib.suppress(RedisError, OSError):
            await self.redis.publish(self.rpc_channel(request["from"]), json.dumps(reply, ensure_ascii=False))

    def _resolve(self, reply: dict[str, Any]) -> None:
        future = self._replies.get(reply.get("id", ""))
        if future is None or future.done():
            return  # the asker gave up already
        err = reply.get("err")
        if err is not None:
            if err["code"] in (NodeUnreachable.code, "actor_moved"):
                future.set_exception(NodeUnreachable())
            else:
                future.set_exception(RemoteError(int(err["status"]), str(err["code"]), str(err["message"])))
        else:
            future.set_result(reply.get("ok"))

    # -- events ---------------------------------------------------------------------------------------

    def publish_event(self, address: Address, seq: int, wire: str) -> None:
        try:
            self._outbox.put_nowait((self.event_channel(address), f"{self.node_id}|{seq}|{wire}"))
        except asyncio.QueueFull:  # Redis cannot keep up: other nodes fill the gap from the journal
            logger.warning("cluster.outbox_full", extra={"actor": str(address), "seq": seq})

    async def _publish_loop(self) -> None:
        while True:
            batch = [await self._outbox.get()]
            while len(batch) < PUBLISH_BATCH and not self._outbox.empty():
                batch.append(self._outbox.get_nowait())
            pipe = self.redis.pipeline(transaction=False)
            for channel, data in batch:
                pipe.publish(channel, data)
            try:
                await pipe.execute()
            except (RedisError, OSError) as exc:
                # Other nodes' subscribers find the gap at the next event and read the journal.
                logger.warning(
                    "cluster.publish_failed", extra={"error": type(exc).__name__, "lost": len(batch)}
                )

    async def watch(self, address: Address) -> None:
        """Receive `address`'s events from other nodes; returns once Redis confirmed the subscription."""
        await self._subscribe(self.event_channel(address))

    async def unwatch(self, address: Address) -> None:
        await self._unsubscribe(self.event_channel(address))

    async def _subscribe(self, channel: str) -> None:
        future = self._confirmations.get(channel)
        if future is None:
            future = self._confirmations[channel] = asyncio.get_running_loop().create_future()
            try:
                await self.pubsub.subscribe(channel)
            except (RedisError, OSError) as exc:
                self._confirmations.pop(channel, None)
                raise Unavailable() from exc
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(2.0):
                await asyncio.shield(future)

    async def _unsubscribe(self, channel: str) -> None:
        self._confirmations.pop(channel, None)
        with contextlib.suppress(RedisError, OSError):
            await self.pubsub.unsubscribe(channel)

    # -- raw messages ---------------------------------------------------------------------------------

    async def subscribe_raw(self, name: str, handler: RawHandler) -> None:
        """Hand every message published on raw channel `name` (by any node, this one included) to
        `handler`, as bytes; returns once Redis confirmed the subscription. `Unavailable`: Redis is down."""
        channel = self.raw_channel(name)
        self._raw[channel] = handler
        try:
            await self._subscribe(channel)
        except Unavailable:
            self._raw.pop(channel, None)
            raise

    async def unsubscribe_raw(self, name: str) -> None:
        channel = self.raw_channel(name)
        self._raw.pop(channel, None)
        await self._unsubscribe(channel)

    def publish_raw(self, name: str, data: bytes) -> bool:
        """Queue `data` for raw channel `name`; False when dropped (Redis cannot keep up)."""
        if self._outbox.qsize() >= RAW_OUTBOX_SHARE:
            return False
        self._outbox.put_nowait((self.raw_channel(name), data))
        return True

    # -- the listener ---------------------------------------------------------------------------------

    async def _listen(self) -> None:
        rpc = self.rpc_channel(self.node_id)
        events_prefix = f"{self.prefix}ev:"
        raw_prefix = f"{self.prefix}raw:"
        lost = False
        while True:
            try:
                message = await self.pubsub.get_message(timeout=1.0)
            except asyncio.CancelledError:
                raise
            except (RedisError, OSError) as exc:
                logger.warning("cluster.listen_failed", extra={"error": type(exc).__name__})
                lost = True
                await asyncio.sleep(RETRY_DELAY_S)
                continue
            if lost and self.on_gap is not None:
                self.on_gap()  # reconnected (redis-py resubscribed): what was published meanwhile is gone
            lost = False
            if message is None:
                continue
            channel = message["channel"].decode()
            if message["type"] == "subscribe":
                future = self._confirmations.get(channel)
                if future is not None and not future.done():
                    future.set_result(None)
                continue
            if message["type"] != "message":
                continue
            if channel.startswith(raw_prefix):
                handler = self._raw.get(channel)
                if handler is not None:
                    self._on_raw(handler, channel, message["data"])
                continue
            data = message["data"].decode()
            if channel == rpc:
                self._on_rpc(data)
            elif channel.startswith(events_prefix):
                self._on_event(channel[len(events_prefix) :], data)

    def _on_rpc(self, data: str) -> None:
        try:
            frame = json.loads(data)
        except ValueError:
            logger.error("cluster.malformed_rpc")
            return
        if frame.get("k") == "ask":
            self._spawn(self._answer(frame), "cluster-answer")
        elif frame.get("k") == "reply":
            self._resolve(frame)

    def _on_raw(self, handler: RawHandler, channel: str, data: bytes) -> None:
        try:
            handler(data)
        except Exception:  # a bug in one handler must not stop this node's asks and events
            logger.exception("cluster.raw_handler_failed", extra={"channel": channel})

    def _on_event(self, actor: str, data: str) -> None:
        node, _, rest = data.partition("|")
        if node == self.node_id or self.on_event is None:
            return  # delivered in-process already
        seq_text, _, wire = rest.partition("|")
        try:
            address, seq = Address.parse(actor), int(seq_text)
        except ValueError:
            logger.error("cluster.malformed_event", extra={"channel": actor})
            return
        self.on_event(address, seq, wire)
