"""rollupkit.ordered_trie builds the same roots as py-evm's HexaryTrie, for every count of
items around the trie's shape changes and for items of every size (embedded and hashed
nodes)."""

from __future__ import annotations

import rlp
from eth.db.trie import make_trie_root_and_nodes
from hypothesis import given, settings
from hypothesis import strategies as st
from trie import HexaryTrie

from rollupkit.ordered_trie import BLANK_ROOT, ordered_trie_root


def hexary_root(items: list[bytes]) -> bytes:
    trie = HexaryTrie({}, BLANK_ROOT)
    for index, item in enumerate(items):
        trie[rlp.encode(index)] = item
    return bytes(trie.root_hash)


def test_the_roots_of_every_count_up_to_300_match() -> None:
    for count in range(300):  # past 127 and 128 (one- and two-byte keys), 256
        items = [bytes([i % 251]) * (1 + i % 40) for i in range(count)]
        assert ordered_trie_root(items) == hexary_root(items), count


@settings(max_examples=300, deadline=None)
@given(st.lists(st.binary(max_size=80), max_size=150))
def test_any_items_give_the_hexary_tries_root(items: list[bytes]) -> None:
    assert ordered_trie_root(items) == hexary_root(items)


def test_it_agrees_with_py_evm_on_a_block() -> None:
    class Encoded:
        def __init__(self, data: bytes) -> None:
            self.data = data

        def encode(self) -> bytes:
            return self.data

    items = [bytes.fromhex("02f8") + bytes([i % 256]) * 100 for i in range(700)]
    root, _ = make_trie_root_and_nodes(tuple(Encoded(i) for i in items))  # type: ignore[arg-type]
    assert ordered_trie_root(items) == root
