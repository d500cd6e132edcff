"""The ``binary`` state model: EIP-7864's tree, its proofs, and every VM running over it."""

from __future__ import annotations

import random
from dataclasses import replace

import pytest
from blake3 import blake3
from hypothesis import given, settings
from hypothesis import strategies as st
from test_conformance import evm_conformance_traces, guest_conformance_traces

from rollupkit.errors import MissingWitnessError
from rollupkit.interfaces import StateStore
from rollupkit.types import Witness
from rollupkit_binary.embedding import (
    MAIN_STORAGE_OFFSET,
    TreeValueError,
    chunkify_code,
    code_chunk_position,
    stem_of,
    storage_position,
)
from rollupkit_binary.model import BinaryStateModel
from rollupkit_binary.tree import ZERO, BinaryTree, decode_stem, leaves_root

# --- an independent reference: EIP-7864's merkelization, written out as the EIP does -------


def _eip_hash(data: bytes | None) -> bytes:
    if data is None or data == b"\x00" * 64:
        return b"\x00" * 32
    return blake3(data).digest()


def reference_root(contents: dict[bytes, bytes]) -> bytes:
    """The EIP's root of ``contents`` (32-byte key -> 32-byte value), built as its reference
    code builds it: group by stem, 256 leaves per stem, split stems bit by bit."""
    stems: dict[bytes, list[bytes | None]] = {}
    for key, value in contents.items():
        stems.setdefault(key[:31], [None] * 256)[key[31]] = value

    def merkelize(group: dict[bytes, list[bytes | None]], depth: int) -> bytes:
        if not group:
            return b"\x00" * 32
        if len(group) == 1:
            ((stem, values),) = group.items()
            level = [_eip_hash(v) for v in values]
            while len(level) > 1:
                level = [_eip_hash(level[i] + level[i + 1]) for i in range(0, len(level), 2)]
            return _eip_hash(stem + b"\x00" + level[0])
        bit = [(s[depth // 8] >> (7 - depth % 8)) & 1 for s in group]
        left = {s: v for s, v, b in zip(group, group.values(), bit, strict=True) if not b}
        right = {s: v for s, v, b in zip(group, group.values(), bit, strict=True) if b}
        return _eip_hash(merkelize(left, depth + 1) + merkelize(right, depth + 1))

    return merkelize(stems, 0)


# Keys from a few stems that share long prefixes, so splits and lifts happen deep down.
_stems = st.sampled_from(
    [bytes([a, b]) + bytes(29) for a in (0x00, 0x01, 0x80, 0x81) for b in (0x00, 0xFF)]
    + [bytes(30) + b"\x01", bytes(31)]
)
_keys = st.builds(lambda stem, sub: stem + bytes([sub]), _stems, st.sampled_from([0, 1, 2, 255]))
_values = st.one_of(st.none(), st.binary(min_size=32, max_size=32))


@settings(max_examples=150, deadline=None)
@given(st.lists(st.lists(st.tuples(_keys, _values), max_size=8), min_size=1, max_size=6))
def test_updates_match_the_eip_reference_and_forget_history(
    batches: list[list[tuple[bytes, bytes | None]]],
) -> None:
    """Batches of writes and deletions, applied in turn, give the EIP reference's root of
    the final contents, and the same root as writing those contents into an empty tree."""
    tree = BinaryTree({})
    root = ZERO
    contents: dict[bytes, bytes] = {}
    for batch in batches:
        changes: dict[bytes, dict[int, bytes | None]] = {}
        for key, value in batch:
            changes.setdefault(key[:31], {})[key[31]] = value
            if value is None:
                contents.pop(key, None)
            else:
                contents[key] = value
        root = tree.update(root, changes)
        assert root == reference_root(contents)
    fresh: dict[bytes, dict[int, bytes | None]] = {}
    for key, value in contents.items():
        fresh.setdefault(key[:31], {})[key[31]] = value
    assert BinaryTree({}).update(ZERO, fresh) == root


def test_tree_shape_matches_the_spec_examples() -> None:
    """The reference tests' shapes: one stem is the root itself; stems differing in the first
    bit hang off one internal node; two keys sharing 42 bits need 42 single-child levels."""
    nodes: dict[bytes, bytes] = {}
    tree = BinaryTree(nodes)
    one = tree.update(ZERO, {bytes(31): {3: b"\x01" * 32, 255: b"\x04" * 32}})
    assert decode_stem(nodes[one])[1] == {3: b"\x01" * 32, 255: b"\x04" * 32}
    key1, key2 = bytes(5) + b"\xc0" * 27, bytes(5) + b"\xe0" + bytes(26)
    root = tree.update(ZERO, {key1[:31]: {key1[31]: b"\x01" * 32}, key2[:31]: {0: b"\x02" * 32}})
    depth, node = 0, root
    while len(nodes[node]) == 64:
        left, right = nodes[node][:32], nodes[node][32:]
        node = right if (key1[depth // 8] >> (7 - depth % 8)) & 1 else left
        depth += 1
    assert depth == 43  # 42 shared bits, then the node that splits them


def test_key_derivation_follows_the_eip_layout() -> None:
    assert storage_position(0) == (0, 64)
    assert storage_position(63) == (0, 127)
    assert storage_position(64) == divmod(MAIN_STORAGE_OFFSET + 64, 256)
    assert storage_position(2**256 - 1)[0] < 2**256  # fits the 32-byte tree index
    assert code_chunk_position(0) == (0, 128)
    assert code_chunk_position(127) == (0, 255)
    assert code_chunk_position(128) == (1, 0)
    address = bytes(range(20))
    expected = blake3(bytes(12) + address + (5).to_bytes(32, "little")).digest()[:31]
    assert stem_of(address, 5) == expected


def test_code_chunks_count_push_data_across_chunk_boundaries() -> None:
    # 30 JUMPDESTs, then PUSH4 whose 4 data bytes start the next chunk, then a STOP.
    code = b"\x5b" * 30 + b"\x63" + b"\xaa\xbb\xcc\xdd" + b"\x00"
    first, second = chunkify_code(code)
    assert first == b"\x00" + code[:31]
    assert second[0] == 4 and second[1:6] == b"\xaa\xbb\xcc\xdd\x00"
    assert len(second) == 32
    # PUSH32 at byte 0: its last 2 data bytes open the second chunk.
    assert chunkify_code(b"\x7f" + b"\x01" * 32)[1][0] == 2
    # PUSH32 at byte 30: its data fills the whole second chunk, which says 31 (the most).
    assert chunkify_code(bytes(30) + b"\x7f" + b"\x01" * 32)[1][0] == 31


def test_balances_beyond_the_basic_data_field_are_refused() -> None:
    model = BinaryStateModel()
    view = model.open(StateStore(), model.empty_root())
    with pytest.raises(TreeValueError, match="balance"):
        view.set_account(b"\x01" * 20, nonce=0, balance=2**128)
    view.set_account(b"\x01" * 20, nonce=2**64 - 1, balance=2**128 - 1)
    account = view.get_account(b"\x01" * 20)
    assert account is not None and account.balance == 2**128 - 1


# --- proofs -------------------------------------------------------------------------------


def _populated() -> tuple[BinaryStateModel, StateStore, bytes, list[bytes]]:
    model = BinaryStateModel()
    store = StateStore()
    view = model.open(store, model.empty_root())
    addresses = [bytes([i]) * 20 for i in range(1, 200)]
    for i, address in enumerate(addresses):
        view.set_account(address, nonce=i, balance=10**18 + i)
        view.set_storage(address, 1, i + 1)  # in the account's stem
        view.set_storage(address, 1000 + i, 7)  # in a stem of its own
        if i % 10 == 0:
            view.set_code(address, bytes([0x60, i, 0x00]) * 50)
    return model, store, view.commit(), addresses


def test_inclusion_and_absence_proofs_verify() -> None:
    model, store, root, addresses = _populated()
    proof = model.get_proof(store, root, addresses[10], [1, 1010, 5, 2**255])
    assert proof.account is not None and proof.account.nonce == 10
    assert [s.value for s in proof.storage] == [11, 7, 0, 0]
    assert model.verify_proof(root, proof)
    absent = model.get_proof(store, root, b"\xee" * 20, [0])
    assert absent.account is None and absent.storage[0].value == 0
    assert model.verify_proof(root, absent)
    # Binary proofs are short: one record per level, about log2(stems) levels.
    assert len(proof.account_proof) < 24


def test_tampered_proofs_are_refused() -> None:
    model, store, root, addresses = _populated()
    proof = model.get_proof(store, root, addresses[10], [1010])
    assert proof.account is not None
    stem_record = proof.account_proof[-1]
    lies = [
        replace(proof, account=replace(proof.account, nonce=11)),
        replace(proof, account=None),  # claiming absence of a present account
        replace(proof, account_proof=proof.account_proof[:-1]),  # a record missing
        replace(proof, account_proof=(*proof.account_proof[:-1], stem_record[:-32])),
        replace(proof, account_proof=(*proof.account_proof[:-1], stem_record[:-1] + b"\x01")),
        replace(proof, storage=(replace(proof.storage[0], value=8),)),
        replace(proof, storage=(replace(proof.storage[0], proof=proof.account_proof),)),
        replace(proof, address=addresses[11]),
    ]
    for lie in lies:
        assert not model.verify_proof(root, lie)
    assert not model.verify_proof(b"\x01" * 32, proof)
    absent = model.get_proof(store, root, b"\xee" * 20)
    assert not model.verify_proof(root, replace(absent, account=proof.account))


def _leaf_subtree_records(values: dict[int, bytes]) -> list[bytes]:
    """The 64-byte pairs of a stem's leaf subtree, as a forger would hand them in."""
    records, level = [], {i: blake3(v).digest() for i, v in values.items()}
    for _ in range(8):
        parents: dict[int, bytes] = {}
        for i in level:
            if i >> 1 not in parents:
                pair = level.get(i & ~1, ZERO) + level.get(i | 1, ZERO)
                records.append(pair)
                parents[i >> 1] = blake3(pair).digest()
        level = parents
    return records


def _disguised(records: tuple[bytes, ...]) -> tuple[bytes, ...]:
    """``records`` with the stem record at the end replaced by the stem's 64-byte EIP preimage
    (which hashes the same) and its leaf subtree: a stem node passed off as an internal node."""
    stem, values = decode_stem(records[-1])
    return (*records[:-1], stem + b"\x00" + leaves_root(values), *_leaf_subtree_records(values))


def test_a_stem_node_cannot_be_passed_off_as_an_internal_node() -> None:
    """Read as ``left || right``, a stem node's EIP preimage leads into its sparse leaf
    subtree, whose empty children would "prove" present keys absent (a reviewer's attack: it
    fooled half the keys before the left-child rule of rollupkit_binary.tree)."""
    model, store, root, addresses = _populated()
    for i, address in enumerate(addresses):
        proof = model.get_proof(store, root, address, [1000 + i])
        for records, read in (
            (proof.account_proof, lambda view, a=address: view.get_account(a)),
            (proof.storage[0].proof, lambda view, a=address, i=i: view.get_storage(a, 1000 + i)),
        ):
            view = model.open_witness(root, Witness(state_nodes=_disguised(records)))
            with pytest.raises(MissingWitnessError):
                read(view)
        lie = replace(proof, account=None, account_proof=_disguised(proof.account_proof))
        assert not model.verify_proof(root, lie)


def test_execute_refuses_a_witness_with_a_disguised_stem_node() -> None:
    """The same forgery in a real trace: with a post-root computed from it, EXECUTE is False."""
    from rollupkit.execution import execute_detailed
    from rollupkit.trace import encode_trace

    built = evm_conformance_traces("binary")[1]
    nodes = built.trace.witness.state_nodes
    stems = [k for k, record in enumerate(nodes) if len(record) != 64]
    assert stems
    for k in stems:
        forged = (*nodes[:k], *nodes[k + 1 :], *_disguised((nodes[k],)))
        trace = replace(built.trace, witness=replace(built.trace.witness, state_nodes=forged))
        result = execute_detailed(
            built.pre_state_root, built.post_state_root, encode_trace(trace), built.gas_used,
            vm="evm", state="binary",
        )  # fmt: skip
        assert not result and result.outputs is None, (k, result)


def test_honest_internal_nodes_that_look_like_stem_preimages_replay_from_witnesses() -> None:
    """1 internal node in 256 has a zero byte 31: reads through it need its left child too,
    which the recording view records, so stateless reads and writes still replay."""
    rng = random.Random(5)
    model, store = BinaryStateModel(), StateStore()
    view = model.open(store, model.empty_root())
    addresses = [rng.randbytes(20) for _ in range(3_000)]
    for address in addresses:
        view.set_account(address, nonce=1, balance=1)
    root = view.commit()
    ambiguous = [r for r in store.nodes.values() if len(r) == 64 and r[31] == 0 and any(r[:32])]
    assert ambiguous  # the case this test is about occurs in this tree
    for address in addresses[:600]:
        recording = model.open(store, root, record=True)
        account = recording.get_account(address)
        recording.set_account(address, nonce=2, balance=5)
        expected = recording.commit()
        stateless = model.open_witness(root, recording.witness())
        assert stateless.get_account(address) == account
        stateless.set_account(address, nonce=2, balance=5)
        assert stateless.commit() == expected


# --- every VM over the binary tree --------------------------------------------------------


@pytest.mark.parametrize(
    "traces",
    [evm_conformance_traces, lambda state: guest_conformance_traces("wasm", state)],
    ids=["evm", "wasm"],
)
def test_a_vm_executes_identically_over_mpt_and_binary(traces) -> None:  # type: ignore[no-untyped-def]
    """The same transactions give the same receipts and gas over both state models: the
    state model changes the commitment, never the execution."""
    over_mpt, over_binary = traces("mpt"), traces("binary")
    for a, b in zip(over_mpt, over_binary, strict=True):
        assert a.post_state_root != b.post_state_root
        for block_a, block_b in zip(a.results, b.results, strict=True):
            assert block_a.receipts == block_b.receipts
            assert block_a.gas_used == block_b.gas_used
            assert block_a.withdrawals == block_b.withdrawals
