"""Where EIP-7864 puts an account's data in the tree: key derivation, the basic-data leaf and
code chunking.

Followed: EIP-7864 as drafted in 2025 (the text that names BLAKE3 as the reference hash and
``MAIN_STORAGE_OFFSET = 256**31``). A key is ``tree_hash(address32 || tree_index as 32
little-endian bytes)[:31] || sub_index``: its first 31 bytes (the *stem*) pick a group of 256
values, the last byte the value within it. Stem 0 of an account holds its basic data
(sub-index 0), its code hash (1), storage slots 0..63 (64..127) and the first 128 code chunks
(128..255), so most account reads open one stem.
"""

from __future__ import annotations

from blake3 import blake3

BASIC_DATA_LEAF_KEY = 0
CODE_HASH_LEAF_KEY = 1
HEADER_STORAGE_OFFSET = 64
CODE_OFFSET = 128
STEM_NODE_WIDTH = 256
MAIN_STORAGE_OFFSET = 256**31

#: The basic-data leaf: version (1 byte), reserved (4), code size (3), nonce (8), balance (16),
#: all big-endian.
CODE_SIZE_BYTES, NONCE_BYTES, BALANCE_BYTES = 3, 8, 16
_PUSH1, _PUSH32 = 0x60, 0x7F


class TreeValueError(ValueError):
    """A value does not fit its field of the binary tree's layout."""


def tree_hash(data: bytes) -> bytes:
    """EIP-7864's hash (BLAKE3 in the draft followed)."""
    return blake3(data).digest()


def stem_of(address: bytes, tree_index: int) -> bytes:
    """The 31-byte stem of ``address``'s group ``tree_index``."""
    return tree_hash(b"\x00" * 12 + address + tree_index.to_bytes(32, "little"))[:31]


def account_stem(address: bytes) -> bytes:
    """The stem holding ``address``'s basic data, code hash, first slots and code chunks."""
    return stem_of(address, 0)


def storage_position(slot: int) -> tuple[int, int]:
    """(tree index, sub-index) of storage ``slot``: slots 0..63 live in the account's own
    stem, the rest spread over the tree."""
    if slot < CODE_OFFSET - HEADER_STORAGE_OFFSET:
        position = HEADER_STORAGE_OFFSET + slot
    else:
        position = MAIN_STORAGE_OFFSET + slot
    return divmod(position, STEM_NODE_WIDTH)


def code_chunk_position(chunk: int) -> tuple[int, int]:
    """(tree index, sub-index) of code chunk number ``chunk``."""
    return divmod(CODE_OFFSET + chunk, STEM_NODE_WIDTH)


def pack_basic_data(*, nonce: int, balance: int, code_size: int) -> bytes:
    """The basic-data leaf (version 0); raise :class:`TreeValueError` if a field overflows."""
    for name, value, width in (
        ("code size", code_size, CODE_SIZE_BYTES),
        ("nonce", nonce, NONCE_BYTES),
        ("balance", balance, BALANCE_BYTES),
    ):
        if not 0 <= value < 1 << (8 * width):
            raise TreeValueError(f"{name} {value} does not fit the binary tree's {width} bytes")
    return (
        b"\x00" * 5
        + code_size.to_bytes(CODE_SIZE_BYTES, "big")
        + nonce.to_bytes(NONCE_BYTES, "big")
        + balance.to_bytes(BALANCE_BYTES, "big")
    )


def unpack_basic_data(leaf: bytes) -> tuple[int, int, int]:
    """(nonce, balance, code size) of a basic-data leaf."""
    return (
        int.from_bytes(leaf[8:16], "big"),
        int.from_bytes(leaf[16:32], "big"),
        int.from_bytes(leaf[5:8], "big"),
    )


def chunkify_code(code: bytes) -> list[bytes]:
    """``code`` as 32-byte chunks: 31 bytes of code, each led by how many of them (from the
    chunk's start) are PUSH data, so a stateless client can find jump destinations from any
    chunk alone."""
    padded = code + b"\x00" * (-len(code) % 31)
    push_data_left = bytearray(len(padded))  # at each byte: PUSH data bytes from here on
    position = 0
    while position < len(padded):
        opcode = padded[position]
        position += 1
        if _PUSH1 <= opcode <= _PUSH32:
            width = opcode - _PUSH1 + 1
            for offset in range(min(width, len(padded) - position)):
                push_data_left[position + offset] = width - offset
            position += width
    return [
        bytes([min(push_data_left[start], 31)]) + padded[start : start + 31]
        for start in range(0, len(padded), 31)
    ]
