"""Test support: JSON-RPC over plain HTTP (urllib), to see exactly what a server answers."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any


def post(url: str, body: bytes | str, content_type: str = "application/json") -> tuple[int, Any]:
    """POST ``body``; return the HTTP status and the decoded JSON answer (None if empty)."""
    data = body.encode() if isinstance(body, str) else body
    request = urllib.request.Request(url, data, {"Content-Type": content_type})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            raw = response.read()
            return response.status, json.loads(raw) if raw else None
    except urllib.error.HTTPError as error:
        raw = error.read()
        return error.code, json.loads(raw) if raw else None


def call(url: str, method: str, *params: Any) -> Any:
    """One JSON-RPC request; the whole answer object (``result`` or ``error``)."""
    return post(
        url, json.dumps({"jsonrpc": "2.0", "id": 7, "method": method, "params": list(params)})
    )[1]
