"""JSON-RPC over WebSocket, with eth_subscribe: ``newHeads``, ``logs`` and
``newPendingTransactions`` pushed as ``eth_subscription`` notifications (geth's shape), which
ethers and viem prefer to polling.

A WebSocket connection carries the same requests as HTTP (answered by the same workers). Its
subscriptions are served by one poller per server: every ``poll_interval`` it asks the server's
own methods for the head; for each new block it sends the header to ``newHeads`` subscribers
and the matching logs (``eth_getLogs`` with the subscription's filter) to ``logs``
subscribers. Pending transactions are the hashes ``eth_sendRawTransaction`` and
``eth_sendTransaction`` accepted on this server. A connection may hold at most
``MAX_SUBSCRIPTIONS``; one that stops reading is dropped rather than buffered for.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import orjson
from aiohttp import WSMsgType, web

if TYPE_CHECKING:
    from rollupkit.rpc.server import JsonRpcServer

log = logging.getLogger("rollupkit.rpc.ws")

#: Subscriptions one connection may hold.
MAX_SUBSCRIPTIONS = 100
#: Bytes a connection may leave unread before it is dropped.
MAX_UNREAD = 16 * 1024 * 1024
#: Blocks reported per poll at most (a subscriber far behind gets the newest).
MAX_BLOCKS_PER_POLL = 256
KINDS = ("newHeads", "logs", "newPendingTransactions")


@dataclass(eq=False)  # one per connection, kept in a set by identity
class Session:
    """One WebSocket connection and its subscriptions (id → (kind, log filter))."""

    ws: web.WebSocketResponse
    subscriptions: dict[str, tuple[str, dict[str, Any]]] = field(default_factory=dict)


class SubscriptionHub:
    """The WebSocket side of one :class:`JsonRpcServer`."""

    def __init__(self, server: JsonRpcServer, poll_interval: float = 0.1) -> None:
        self.server = server
        self.poll_interval = poll_interval
        self.sessions: set[Session] = set()
        self._last_head: int | None = None
        self._poller: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Future[None]] = set()

    # --- connections -------------------------------------------------------------------------

    async def serve(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(max_msg_size=self.server.max_body, heartbeat=30.0)
        await ws.prepare(request)
        session = Session(ws)
        self.sessions.add(session)
        try:
            async for message in ws:
                if message.type not in (WSMsgType.TEXT, WSMsgType.BINARY):
                    continue
                answer = await self._answer(session, message.data)
                if answer is not None:
                    await self._send(session, answer)
        finally:
            self.sessions.discard(session)
        return ws

    async def close(self) -> None:
        """Stop the poller and close every connection (the server is stopping)."""
        for task in [self._poller, *self._tasks]:
            if task is not None and not task.done():
                task.cancel()
        for session in list(self.sessions):
            with contextlib.suppress(Exception):
                await session.ws.close()
        self.sessions.clear()

    async def _answer(self, session: Session, data: str | bytes) -> Any:
        raw = data.encode() if isinstance(data, str) else data
        try:
            request = orjson.loads(raw)  # orjson: nesting-limited, as for HTTP
        except (ValueError, UnicodeDecodeError):
            request = None
        if isinstance(request, dict) and request.get("method") in (
            "eth_subscribe",
            "eth_unsubscribe",
        ):
            return await self._subscription_request(session, request)
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.server._worker, self.server.handle_payload, raw)

    async def _subscription_request(self, session: Session, request: dict[str, Any]) -> Any:
        from rollupkit.rpc.server import INVALID_PARAMS, SERVER_ERROR, RpcError, _error

        request_id, params = request.get("id"), request.get("params") or []
        if not isinstance(params, list) or not params or not isinstance(params[0], str):
            return _error(request_id, RpcError(INVALID_PARAMS, "invalid params: expected [kind]"))
        if request["method"] == "eth_unsubscribe":
            removed = session.subscriptions.pop(params[0].lower(), None) is not None
            return {"jsonrpc": "2.0", "id": request_id, "result": removed}
        kind = params[0]
        if kind not in KINDS:
            return _error(
                request_id,
                RpcError(INVALID_PARAMS, f"unknown subscription {kind!r}: one of {KINDS}"),
            )
        if len(session.subscriptions) >= MAX_SUBSCRIPTIONS:
            return _error(request_id, RpcError(SERVER_ERROR, "too many subscriptions"))
        criteria: dict[str, Any] = {}
        if kind == "logs":
            given = params[1] if len(params) > 1 else {}
            if not isinstance(given, dict):
                return _error(request_id, RpcError(INVALID_PARAMS, "invalid log filter"))
            criteria = {k: given[k] for k in ("address", "topics") if k in given}
            # Checked the way eth_getLogs checks it, on the newest block.
            checked = await self._call("eth_getLogs", [{**criteria, "fromBlock": "latest"}])
            if "error" in checked:
                return {**checked, "id": request_id}
        if kind != "newPendingTransactions" and self._last_head is None:
            self._last_head = await self._head()
        subscription_id = "0x" + secrets.token_hex(16)
        session.subscriptions[subscription_id] = (kind, criteria)
        self._start_poller()
        return {"jsonrpc": "2.0", "id": request_id, "result": subscription_id}

    async def _send(self, session: Session, message: Any) -> None:
        from rollupkit.rpc.server import _dumps

        transport = session.ws._writer.transport if session.ws._writer else None
        if transport is not None and transport.get_write_buffer_size() > MAX_UNREAD:
            log.warning("dropping a WebSocket client that does not read")
            self.sessions.discard(session)
            await session.ws.close()
            return
        with contextlib.suppress(ConnectionError, RuntimeError):
            await session.ws.send_str(_dumps(message).decode())  # text frames, as geth

    # --- notifications -----------------------------------------------------------------------

    def pending(self, tx_hash: str) -> None:
        """A transaction was accepted (called on the event loop)."""
        for session in list(self.sessions):
            for subscription_id, (kind, _) in list(session.subscriptions.items()):
                if kind == "newPendingTransactions":
                    task = asyncio.ensure_future(self._notify(session, subscription_id, tx_hash))
                    self._tasks.add(task)  # kept until done: the loop holds tasks weakly
                    task.add_done_callback(self._tasks.discard)

    async def _notify(self, session: Session, subscription_id: str, result: Any) -> None:
        message = {
            "jsonrpc": "2.0",
            "method": "eth_subscription",
            "params": {"subscription": subscription_id, "result": result},
        }
        await self._send(session, message)

    def _start_poller(self) -> None:
        if self._poller is None or self._poller.done():
            self._poller = asyncio.ensure_future(self._poll_forever())

    async def _poll_forever(self) -> None:
        while any(s.subscriptions for s in self.sessions):
            try:
                await self._poll()
            except Exception:
                log.exception("subscription poll failed")
            await asyncio.sleep(self.poll_interval)

    async def _poll(self) -> None:
        head = await self._head()
        last = head if self._last_head is None else self._last_head
        self._last_head = head
        if head <= last:
            return  # nothing new (or the chain got shorter: a rollback)
        first = max(last + 1, head - MAX_BLOCKS_PER_POLL + 1)
        wanted = [
            (session, sid, kind, criteria)
            for session in list(self.sessions)
            for sid, (kind, criteria) in list(session.subscriptions.items())
            if kind != "newPendingTransactions"
        ]
        if any(kind == "newHeads" for _, _, kind, _ in wanted):
            for number in range(first, head + 1):
                block = (await self._call("eth_getBlockByNumber", [hex(number), False])).get(
                    "result"
                )
                if not block:
                    continue
                header = {k: v for k, v in block.items() if k not in ("transactions", "uncles")}
                for session, sid, kind, _ in wanted:
                    if kind == "newHeads":
                        await self._notify(session, sid, header)
        for session, sid, kind, criteria in wanted:
            if kind != "logs":
                continue
            query = {**criteria, "fromBlock": hex(first), "toBlock": hex(head)}
            for entry in (await self._call("eth_getLogs", [query])).get("result") or []:
                await self._notify(session, sid, entry)

    async def _head(self) -> int:
        return int((await self._call("eth_blockNumber", []))["result"], 16)

    async def _call(self, method: str, params: list[Any]) -> dict[str, Any]:
        request = {"jsonrpc": "2.0", "id": 0, "method": method, "params": params}
        loop = asyncio.get_running_loop()
        answer = await loop.run_in_executor(self.server._worker, self.server.dispatch, request)
        return answer or {}
