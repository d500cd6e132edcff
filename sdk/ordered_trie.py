"""The root of Ethereum's "ordered" tries: the transactions and receipts tries of a block,
which map ``rlp(index)`` to the index-th item.

py-evm builds them with ``trie.HexaryTrie``, inserting one key at a time, hashing and storing
every intermediate node: for a block of 700 transfers that was a third of building the block,
and a third of EXECUTE re-executing it. Here the keys are known up front, so the trie is built
once, bottom-up, from the sorted keys, hashing only the nodes of the final trie (what geth's
``StackTrie`` does). ``tests/test_ordered_trie.py`` checks it against ``HexaryTrie``.

Recursion follows the key length (at most 18 nibbles for an index below 2^64), never the input.
"""

from __future__ import annotations

from collections.abc import Sequence

import rlp
from eth_hash.auto import keccak

BLANK_ROOT = keccak(rlp.encode(b""))


def ordered_trie_root(items: Sequence[bytes]) -> bytes:
    """The root of the trie holding ``items[i]`` at key ``rlp(i)`` (an empty item is no
    entry, as in a trie, where writing b"" deletes; block items are never empty)."""
    pairs = sorted((_nibbles(rlp.encode(index)), item) for index, item in enumerate(items) if item)
    if not pairs:
        return BLANK_ROOT
    node = _node(pairs, 0)
    return keccak(rlp.encode(node))


def _nibbles(key: bytes) -> tuple[int, ...]:
    return tuple(n for byte in key for n in (byte >> 4, byte & 0x0F))


def _hex_prefix(nibbles: Sequence[int], leaf: bool) -> bytes:
    flag = 2 if leaf else 0
    if len(nibbles) % 2:
        packed = [(flag + 1) << 4 | nibbles[0], *_pairs(nibbles[1:])]
    else:
        packed = [flag << 4, *_pairs(nibbles)]
    return bytes(packed)


def _pairs(nibbles: Sequence[int]) -> list[int]:
    return [nibbles[i] << 4 | nibbles[i + 1] for i in range(0, len(nibbles), 2)]


def _reference(node: list[object]) -> object:
    """How a parent holds a child: the node itself if its encoding is under 32 bytes."""
    encoded = rlp.encode(node)
    return node if len(encoded) < 32 else keccak(encoded)


def _node(pairs: list[tuple[tuple[int, ...], bytes]], depth: int) -> list[object]:
    """The node for ``pairs`` (sorted, distinct keys sharing their first ``depth`` nibbles)."""
    if len(pairs) == 1:
        key, value = pairs[0]
        return [_hex_prefix(key[depth:], leaf=True), value]
    first, last = pairs[0][0], pairs[-1][0]  # sorted: their common prefix is everyone's
    shared = depth
    while shared < len(first) and shared < len(last) and first[shared] == last[shared]:
        shared += 1
    if shared > depth:
        child = _node(pairs, shared)
        return [_hex_prefix(first[depth:shared], leaf=False), _reference(child)]
    branch: list[object] = [b""] * 17
    start = 0
    if len(first) == depth:  # a key ends here: its value sits in the branch
        branch[16] = pairs[0][1]
        start = 1
    while start < len(pairs):
        nibble = pairs[start][0][depth]
        end = start
        while end < len(pairs) and pairs[end][0][depth] == nibble:
            end += 1
        branch[nibble] = _reference(_node(pairs[start:end], depth + 1))
        start = end
    return branch
