"""A linear-time, strictly canonical RLP decoder for untrusted input.

Why not ``rlp.decode``: pyrlp rebuilds every list's encoding by concatenating its items one at
a time, which is quadratic in the number of items. A hostile 4 MiB trace of tiny witness
entries then takes minutes to decode before any check can reject it. EXECUTE must stay cheap
on garbage, so traces are decoded here; encoding still uses pyrlp.

Canonical means: a single byte below 0x80 is never wrapped in a string header, lengths use the
short form when they fit and have no leading zero bytes, and nothing follows the top item.
"""

from __future__ import annotations

from rollupkit.errors import TraceError

Item = bytes | list["Item"]

#: Lists nested deeper than this are refused (a trace nests four levels deep).
MAX_DEPTH = 16
#: Items decoded at most (each is a Python object of ~50 bytes or more, so a 32 MiB input of
#: one-byte items would otherwise take gigabytes). An honest trace's items average far more
#: than a few bytes each.
MAX_ITEMS = 1 << 20


def _length(data: memoryview, start: int, size: int, end: int) -> int:
    if start + size > end:
        raise TraceError("RLP length runs past the end of the input")
    raw = bytes(data[start : start + size])
    if raw[0] == 0:
        raise TraceError("RLP length has a leading zero byte (not canonical)")
    length = int.from_bytes(raw, "big")
    if length < 56:
        raise TraceError("RLP long form used for a short length (not canonical)")
    return length


def _item(
    data: memoryview, position: int, end: int, depth: int, budget: list[int]
) -> tuple[Item, int]:
    if position >= end:
        raise TraceError("RLP input ends where an item was expected")
    budget[0] -= 1
    if budget[0] < 0:
        raise TraceError(f"more than {MAX_ITEMS} RLP items")
    prefix = data[position]
    if prefix < 0x80:
        return bytes((prefix,)), position + 1
    if prefix < 0xB8:
        length = prefix - 0x80
        start = position + 1
        if start + length > end:
            raise TraceError("RLP string runs past the end of the input")
        value = bytes(data[start : start + length])
        if length == 1 and value[0] < 0x80:
            raise TraceError("RLP single byte below 0x80 wrapped in a string (not canonical)")
        return value, start + length
    if prefix < 0xC0:
        size = prefix - 0xB7
        length = _length(data, position + 1, size, end)
        start = position + 1 + size
        if start + length > end:
            raise TraceError("RLP string runs past the end of the input")
        return bytes(data[start : start + length]), start + length
    if prefix < 0xF8:
        length = prefix - 0xC0
        start = position + 1
    else:
        size = prefix - 0xF7
        length = _length(data, position + 1, size, end)
        start = position + 1 + size
    stop = start + length
    if stop > end:
        raise TraceError("RLP list runs past the end of the input")
    if depth >= MAX_DEPTH:
        raise TraceError(f"RLP lists nested more than {MAX_DEPTH} deep")
    items: list[Item] = []
    while start < stop:
        item, start = _item(data, start, stop, depth + 1, budget)
        items.append(item)
    return items, stop


def decode(data: bytes, max_items: int = MAX_ITEMS) -> Item:
    """Decode one RLP item that must span all of ``data``; raise :class:`TraceError` if the
    input is not exactly one canonical item, nests more than :data:`MAX_DEPTH` lists deep or
    holds more than ``max_items`` items."""
    view = memoryview(data)
    item, end = _item(view, 0, len(view), 0, [max_items])
    if end != len(view):
        raise TraceError(f"{len(view) - end} bytes follow the RLP item")
    return item
