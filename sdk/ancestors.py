"""Ancestor block hashes for BLOCKHASH, from a verified witness or from a full chain."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator, Sequence

from rollupkit.errors import MissingWitnessError, TraceError
from rollupkit.interfaces import VM, AncestorHashes
from rollupkit.types import HeaderInfo

#: BLOCKHASH reaches back this many blocks.
BLOCKHASH_WINDOW = 256


def verify_header_chain(vm: VM, headers: Sequence[bytes]) -> list[HeaderInfo]:
    """Decode ``headers`` (oldest first) and check each is the parent of the next."""
    if not headers:
        raise TraceError("the witness has no headers: the parent header is required")
    infos = [vm.decode_header(raw) for raw in headers]
    for older, newer in itertools.pairwise(infos):
        if newer.parent_hash != older.hash or newer.number != older.number + 1:
            raise TraceError(f"witness header {newer.number} does not follow header {older.number}")
    return infos


class KnownAncestors(AncestorHashes):
    """Hashes of a contiguous run of headers; asking beyond its start (but after genesis) is
    a missing witness, never a silent zero."""

    def __init__(self, infos: Sequence[HeaderInfo]) -> None:
        if not infos:
            raise ValueError("at least one header is needed")
        self._oldest = infos[0].number
        self._hashes = [info.hash for info in infos]

    def push(self, info: HeaderInfo) -> None:
        """Append the next block (executed in this trace)."""
        if info.number != self._oldest + len(self._hashes):
            raise ValueError("headers must be pushed in order")
        self._hashes.append(info.hash)

    def hashes_back_from(self, number: int) -> Iterator[bytes]:
        while number >= 0:
            offset = number - self._oldest
            if offset < 0:
                raise MissingWitnessError(f"the witness lacks the header of block {number}")
            yield self._hashes[offset]
            number -= 1


class RecordingAncestors(AncestorHashes):
    """Hashes from a full chain, remembering the oldest block asked for (for the builder)."""

    def __init__(self, hash_of: Callable[[int], bytes]) -> None:
        self._hash_of = hash_of
        self._pushed: dict[int, bytes] = {}
        self.oldest_read: int | None = None

    def push(self, info: HeaderInfo) -> None:
        """Make a block executed during this build answerable."""
        self._pushed[info.number] = info.hash

    def hashes_back_from(self, number: int) -> Iterator[bytes]:
        while number >= 0:
            if number in self._pushed:
                yield self._pushed[number]
            else:
                if self.oldest_read is None or number < self.oldest_read:
                    self.oldest_read = number
                yield self._hash_of(number)
            number -= 1
