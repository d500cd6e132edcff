"""Installed filters (eth_newFilter, eth_newBlockFilter), polled with eth_getFilterChanges.

A filter remembers the next block it has not reported; each poll reports what is new since
then and moves it on. As geth does, a filter not polled for five minutes is dropped, and the
number installed at once is capped, so a client cannot grow the server's memory for free.
"""

from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from rollupkit.errors import RpcError
from rollupkit.rpc.server import INVALID_PARAMS, SERVER_ERROR

#: Seconds a filter lives without being polled.
FILTER_TIMEOUT = 300.0
#: Filters installed at once, per server.
MAX_FILTERS = 1000


@dataclass
class LogQuery:
    """What eth_getLogs and a log filter select: a block range (numbers, or tags resolved
    when used), addresses and topic alternatives per position."""

    from_block: int | str
    to_block: int | str
    addresses: list[bytes] = field(default_factory=list)
    topics: list[list[bytes] | None] = field(default_factory=list)
    block_hash: bytes | None = None


@dataclass
class Filter:
    kind: str  # "logs" or "blocks"
    next_block: int  # the first block not reported yet
    query: LogQuery | None = None
    polled: float = field(default_factory=time.monotonic)


class Filters:
    """The filters one server holds."""

    def __init__(self, *, timeout: float = FILTER_TIMEOUT, limit: int = MAX_FILTERS) -> None:
        self.timeout, self.limit = timeout, limit
        self._filters: dict[str, Filter] = {}
        self._lock = threading.Lock()

    def install(self, kind: str, next_block: int, query: LogQuery | None = None) -> str:
        with self._lock:
            self._expire()
            if len(self._filters) >= self.limit:
                raise RpcError(
                    SERVER_ERROR, f"too many filters installed ({self.limit}); uninstall some"
                )
            filter_id = "0x" + secrets.token_hex(16)
            self._filters[filter_id] = Filter(kind, next_block, query)
            return filter_id

    def get(self, filter_id: Any) -> Filter:
        if not isinstance(filter_id, str):
            raise RpcError(INVALID_PARAMS, "invalid filter id: expected a hex string")
        with self._lock:
            self._expire()
            found = self._filters.get(filter_id.lower())
            if found is None:
                raise RpcError(SERVER_ERROR, "filter not found")
            found.polled = time.monotonic()
            return found

    def uninstall(self, filter_id: Any) -> bool:
        if not isinstance(filter_id, str):
            raise RpcError(INVALID_PARAMS, "invalid filter id: expected a hex string")
        with self._lock:
            return self._filters.pop(filter_id.lower(), None) is not None

    def _expire(self) -> None:
        cutoff = time.monotonic() - self.timeout
        for filter_id in [i for i, f in self._filters.items() if f.polled < cutoff]:
            del self._filters[filter_id]
