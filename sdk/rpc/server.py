"""A JSON-RPC 2.0 server over HTTP (aiohttp), for the L1 devnet and the L2 node.

* Single and batch requests; notifications (no ``id``) get no response.
* Errors use the JSON-RPC and EIP-1474 codes: -32700 parse error, -32600 invalid request,
  -32601 method not found, -32602 invalid params (also for a parameter a handler could not
  use), -32603 internal error, -32000 server error (e.g. a rejected transaction), -32001
  resource not found (a block that does not exist), 3 execution reverted (with the revert data).
* Bodies over ``max_body`` bytes get HTTP 413 with a JSON-RPC error, batches over
  ``max_batch`` requests one -32600 error; nothing a client sends produces a 500.
* Handlers are plain functions run on a pool of ``workers`` threads, so one slow call (an
  ``eth_call`` near its gas cap or time limit) does not stall the others; the chains they read
  lock what they share themselves. The event loop only parses and answers.
* CORS is open, so browser wallets and dapps on localhost can connect.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import logging
import socket
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import orjson
from aiohttp import web

from rollupkit.errors import BlockNotFound, RpcError
from rollupkit.rpc.subscriptions import SubscriptionHub

log = logging.getLogger("rollupkit.rpc")


#: How often (seconds) a thread holding the GIL lets others run, in a serving process. Python's
#: default (5 ms) lets one CPU-bound call (an eth_call, a block being built) delay a quick
#: request by several multiples of it; 1 ms keeps a quick answer quick.
SERVING_SWITCH_INTERVAL = 0.001


def tune_process_for_serving() -> None:
    """Make this process answer quick requests promptly while slow ones run (call it once, in
    a process whose job is to serve JSON-RPC: ``rollupkit l1 start``, ``node start``, ``up``)."""
    import sys

    sys.setswitchinterval(min(sys.getswitchinterval(), SERVING_SWITCH_INTERVAL))


class RateLimit(logging.Filter):
    """Let at most ``burst`` records through per ``period`` seconds per logger, then one line
    saying how many were dropped: a flood of bad requests must not flood the log (one test
    grew a log to 466 MB in 4 minutes)."""

    def __init__(self, burst: int = 20, period: float = 60.0) -> None:
        super().__init__()
        self.burst, self.period = burst, period
        self._window: dict[str, tuple[float, int]] = {}
        self._lock = threading.Lock()

    def filter(self, record: logging.LogRecord) -> bool:
        now = time.monotonic()
        with self._lock:
            start, count = self._window.get(record.name, (now, 0))
            if now - start > self.period:
                if count > self.burst:
                    record.msg = f"({count - self.burst} similar messages dropped) {record.msg}"
                start, count = now, 0
            self._window[record.name] = (start, count + 1)
            return count < self.burst


_RATE_LIMIT = RateLimit()
for _name in ("rollupkit.rpc", "aiohttp.server", "aiohttp.web", "aiohttp.access"):
    logging.getLogger(_name).addFilter(_RATE_LIMIT)
_limited = logging.getLogger("rollupkit.rpc.connections")
_limited.addFilter(_RATE_LIMIT)

PARSE_ERROR = -32700
INVALID_REQUEST = -32600
METHOD_NOT_FOUND = -32601
INVALID_PARAMS = -32602
INTERNAL_ERROR = -32603
SERVER_ERROR = -32000
RESOURCE_NOT_FOUND = -32001  # EIP-1474
EXECUTION_REVERTED = 3

#: Methods whose result is a transaction just accepted (newPendingTransactions hears of it).
_SENDS = frozenset({"eth_sendRawTransaction", "eth_sendTransaction"})
DEFAULT_MAX_BODY = 32 * 1024 * 1024
DEFAULT_MAX_BATCH = 1000
DEFAULT_WORKERS = 4
#: Open connections served at once; more are closed as they arrive (half-open sockets held by
#: a slow client, "slowloris", would otherwise exhaust the process's file descriptors).
DEFAULT_MAX_CONNECTIONS = 512
#: Seconds a connection may take to send a whole request, or stay idle between requests.
DEFAULT_IDLE_TIMEOUT = 10.0

Handler = Callable[..., Any]


_CORS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Methods": "POST, GET, OPTIONS",
    "Access-Control-Allow-Headers": "Content-Type",
}


def _dumps(answer: Any) -> bytes:
    """JSON bytes of an answer: orjson, or the standard library for what orjson refuses (an
    integer over 64 bits)."""
    try:
        return orjson.dumps(answer)
    except TypeError:
        return json.dumps(answer).encode()


def _error(request_id: Any, error: RpcError) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": request_id, "error": error.to_json()}


def _new_event_loop() -> asyncio.AbstractEventLoop:
    """uvloop's loop where it is installed: its socket writes and cross-thread wake-ups hold
    the GIL far less than asyncio's, which matters while worker threads run EVM code."""
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop is a dependency; this is for odd platforms
        return asyncio.new_event_loop()
    return uvloop.new_event_loop()


class JsonRpcServer:
    """Serve ``methods`` (name → function taking the positional params) on loopback."""

    def __init__(
        self,
        methods: Mapping[str, Handler],
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        max_body: int = DEFAULT_MAX_BODY,
        max_batch: int = DEFAULT_MAX_BATCH,
        name: str = "rollupkit",
        workers: int = DEFAULT_WORKERS,
        max_connections: int = DEFAULT_MAX_CONNECTIONS,
        idle_timeout: float = DEFAULT_IDLE_TIMEOUT,
    ) -> None:
        self.methods = dict(methods)
        # Looked up once: inspect.signature costs as much as a quick method's whole answer.
        self._signatures = {name: inspect.signature(h) for name, h in self.methods.items()}
        self.host = host
        self.port = port
        self.max_body = max_body
        self.max_batch = max_batch
        self.name = name
        self.max_connections = max_connections
        self.idle_timeout = idle_timeout
        self.refused_connections = 0
        self._worker = ThreadPoolExecutor(max_workers=workers, thread_name_prefix=f"{name}-rpc")
        self._loop: asyncio.AbstractEventLoop | None = None
        self._runner: web.AppRunner | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._startup_error: BaseException | None = None
        self._hub = SubscriptionHub(self)

    @property
    def url(self) -> str:
        """``http://host:port`` of the running server."""
        return f"http://{self.host}:{self.port}"

    @property
    def ws_url(self) -> str:
        """``ws://host:port``: the same methods over WebSocket, plus eth_subscribe."""
        return f"ws://{self.host}:{self.port}"

    # --- request handling --------------------------------------------------------------------

    def dispatch(self, request: Any) -> dict[str, Any] | None:
        """Answer one decoded JSON-RPC request object (``None`` for a notification)."""
        if not isinstance(request, dict) or request.get("jsonrpc") != "2.0":
            return _error(
                None, RpcError(INVALID_REQUEST, "invalid request: not a JSON-RPC 2.0 object")
            )
        request_id = request.get("id")
        is_notification = "id" not in request
        method = request.get("method")
        params = request.get("params", [])
        if not isinstance(method, str):
            return _error(
                request_id, RpcError(INVALID_REQUEST, "invalid request: method must be a string")
            )
        if isinstance(params, dict):
            params = [params]
        if not isinstance(params, list):
            return _error(request_id, RpcError(INVALID_PARAMS, "params must be an array"))
        handler = self.methods.get(method)
        try:
            if handler is None:
                raise RpcError(
                    METHOD_NOT_FOUND, f"the method {method} does not exist/is not available"
                )
            try:
                self._signatures[method].bind(*params)
            except TypeError as exc:
                raise RpcError(INVALID_PARAMS, f"invalid params for {method}: {exc}") from exc
            result = handler(*params)
        except RpcError as exc:
            return None if is_notification else _error(request_id, exc)
        except BlockNotFound as exc:
            error = RpcError(RESOURCE_NOT_FOUND, str(exc))
            return None if is_notification else _error(request_id, error)
        except (TypeError, ValueError, KeyError, IndexError, AttributeError, OverflowError) as exc:
            # A handler choked on a parameter no check caught (a wrong type or size deep in a
            # structure): that is the caller's invalid params, not our internal error.
            error = RpcError(INVALID_PARAMS, f"invalid params for {method}: {exc}")
            return None if is_notification else _error(request_id, error)
        except Exception as exc:
            log.exception("%s failed", method)
            error = RpcError(INTERNAL_ERROR, f"internal error: {type(exc).__name__}: {exc}")
            return None if is_notification else _error(request_id, error)
        if method in _SENDS and self._loop is not None and self._hub.sessions:
            self._loop.call_soon_threadsafe(self._hub.pending, result)
        if is_notification:
            return None
        return {"jsonrpc": "2.0", "id": request_id, "result": result}

    def handle_payload(self, body: bytes) -> Any:
        """Answer a raw request body (single or batch); ``None`` means "no content"."""
        try:
            # orjson refuses input nested over 1,024 deep. The standard library's parser
            # recurses per level, and with the recursion limit py_ecc sets (100,000) a body
            # nested 100k deep overflows the thread's C stack: the process dies.
            payload = orjson.loads(body)
        except (ValueError, UnicodeDecodeError) as exc:
            return _error(None, RpcError(PARSE_ERROR, f"parse error: {exc}"))
        if isinstance(payload, list):
            if not payload:
                return _error(None, RpcError(INVALID_REQUEST, "invalid request: empty batch"))
            if len(payload) > self.max_batch:
                return _error(
                    None,
                    RpcError(INVALID_REQUEST, f"batch of {len(payload)} is over {self.max_batch}"),
                )
            answers = [a for a in (self.dispatch(item) for item in payload) if a is not None]
            return answers or None
        return self.dispatch(payload)

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        if request.method == "OPTIONS":
            return web.Response(status=204, headers=_CORS)
        if request.method == "GET" and request.headers.get("Upgrade", "").lower() == "websocket":
            return await self._hub.serve(request)
        if request.method == "GET":
            return web.json_response(
                {"name": self.name, "jsonrpc": "POST JSON-RPC 2.0 here"}, headers=_CORS
            )
        if request.content_length is not None and request.content_length > self.max_body:
            return self._too_large()
        try:
            body = await request.read()  # the whole body, up to client_max_size
        except web.HTTPRequestEntityTooLarge:
            return self._too_large()
        except Exception:  # noqa: BLE001 - a broken client connection
            return web.Response(status=400, headers=_CORS)
        if len(body) > self.max_body:
            return self._too_large()
        loop = asyncio.get_running_loop()
        answer = await loop.run_in_executor(self._worker, self.handle_payload, body)
        if answer is None:
            return web.Response(status=204, headers=_CORS)
        return web.Response(body=_dumps(answer), content_type="application/json", headers=_CORS)

    def _too_large(self) -> web.Response:
        error = _error(None, RpcError(INVALID_REQUEST, f"request body over {self.max_body} bytes"))
        return web.Response(
            status=413, text=json.dumps(error), content_type="application/json", headers=_CORS
        )

    # --- lifecycle ---------------------------------------------------------------------------

    def _app(self) -> web.Application:
        # Over client_max_size aiohttp raises; the handler turns that into a JSON-RPC error.
        app = web.Application(client_max_size=self.max_body)
        app.router.add_route("*", "/", self._handle)
        return app

    async def _start(self) -> None:
        # keepalive_timeout also closes a connection that has not sent a whole request by then.
        self._runner = web.AppRunner(
            self._app(), access_log=None, keepalive_timeout=self.idle_timeout
        )
        await self._runner.setup()
        self._cap_connections(self._runner.server)
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, self.port))
        self.port = sock.getsockname()[1]
        site = web.SockSite(self._runner, sock)
        await site.start()

    def open_connections(self) -> int:
        """Connections open now."""
        return len(self._runner.server.connections) if self._runner and self._runner.server else 0

    def _cap_connections(self, server: Any) -> None:
        """Close connections past :attr:`max_connections` as they arrive."""
        accept = server.connection_made

        def connection_made(handler: Any, transport: Any) -> None:
            if len(server.connections) >= self.max_connections:
                self.refused_connections += 1
                _limited.warning(
                    "%s: %d connections open, closing new ones", self.name, self.max_connections
                )
                transport.abort()
                return
            accept(handler, transport)

        server.connection_made = connection_made

    def start(self) -> JsonRpcServer:
        """Serve on a background thread; returns once it accepts connections."""

        def run() -> None:
            loop = _new_event_loop()
            self._loop = loop
            try:
                loop.run_until_complete(self._start())
            except BaseException as exc:  # noqa: BLE001 - reported to start()'s caller
                self._startup_error = exc
                self._ready.set()
                return
            self._ready.set()
            loop.run_forever()
            loop.run_until_complete(self._hub.close())
            loop.run_until_complete(self._runner.cleanup() if self._runner else asyncio.sleep(0))
            loop.close()

        self._thread = threading.Thread(target=run, name=f"{self.name}-http", daemon=True)
        self._thread.start()
        self._ready.wait()
        if self._startup_error is not None:
            raise OSError(str(self._startup_error))
        return self

    def stop(self) -> None:
        """Stop serving and wait for the thread to end."""
        if self._loop is not None and self._thread is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=10)
        self._worker.shutdown(wait=False)

    def __enter__(self) -> JsonRpcServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
