"""rollupkit's conformance suite: test classes that a plugin's own tests subclass.

For a VM plugin::

    from rollupkit.testing.conformance import VMConformanceTests

    class TestMyVMConformance(VMConformanceTests):
        vm_name = "my-vm"
        state_name = "mpt"

        def build_conformance_traces(self):
            chain = DevChain(alloc, vm=self.vm_name, state=self.state_name)
            ...  # build a few blocks that exercise the VM (see the docstring below)
            return [chain.build(...), ...]

For a state model plugin, subclass :class:`StateModelConformanceTests` and set
``state_name``; for a derivation, :class:`DerivationConformanceTests` with ``derivation_name``;
for a proof backend, :class:`ProofBackendConformanceTests` with ``proof_name`` (and
``proof_options``, when its ``dev_options()`` do not suit). Every test asserts something that
fails when the plugin is wrong; none needs to be overridden (but for a proof backend whose
submissions wait out a challenge window on L1: see ``ProofBackendConformanceTests.finalized``).
"""

from __future__ import annotations

import json
import os
import random
from collections.abc import Iterator, Mapping
from dataclasses import replace
from typing import Any, ClassVar

import pytest
import rlp

from rollupkit.builder import BuiltTrace
from rollupkit.errors import MissingWitnessError, ProofError, TraceError
from rollupkit.execution import execute, execute_detailed
from rollupkit.interfaces import (
    ClaimedBatch,
    ProofBackend,
    SettlementContext,
    StateModel,
    StateStore,
    Submission,
)
from rollupkit.plugins import get_registry
from rollupkit.trace import decode_trace, encode_trace
from rollupkit.types import Account, AccountProof, RejectReason, StorageProof

#: How many leaves of each kind the structured mutation test mutates (all of them if fewer).
MUTATIONS_PER_KIND = int(os.environ.get("ROLLUPKIT_MUTATIONS_PER_KIND", "4"))
#: How many raw byte positions, spread over the whole trace, the raw mutation test flips.
RAW_MUTATIONS = int(os.environ.get("ROLLUPKIT_RAW_MUTATIONS", "64"))


def _leaves(node: Any, path: tuple[int, ...] = ()) -> Iterator[tuple[tuple[int, ...], bytes]]:
    if isinstance(node, list):
        for i, child in enumerate(node):
            yield from _leaves(child, (*path, i))
    else:
        yield path, node


def _replace_leaf(node: Any, path: tuple[int, ...], value: bytes) -> Any:
    if not path:
        return value
    copy = list(node)
    copy[path[0]] = _replace_leaf(node[path[0]], path[1:], value)
    return copy


def _leaf_kind(path: tuple[int, ...]) -> str:
    """A name for the field a leaf sits in, with list positions collapsed (``3.*.9.*``)."""
    top = path[0] if path else -1
    if top == 3 and len(path) >= 3:  # blocks.*.field(.item(.subfield))
        parts = ["3", "*", str(path[2])]
        if path[2] == 9 and len(path) >= 5:  # messages.*.field
            parts += ["*", str(path[4])]
        elif path[2] == 10 and len(path) >= 4:
            parts.append("*")
        return ".".join(parts)
    if top == 4 and len(path) >= 2:  # witness.(nodes|codes|headers).*
        return f"4.{path[1]}.*"
    return ".".join(map(str, path))


def structured_mutations(
    encoded: bytes, per_kind: int = MUTATIONS_PER_KIND
) -> list[tuple[str, bytes]]:
    """Traces that differ from ``encoded`` in exactly one byte of one field, for a sample of
    fields of every kind (version, chain id, queue, each block field, each message field,
    transactions, witness nodes, codes, headers). Returns (description, mutated trace)."""
    structure = rlp.decode(encoded)
    by_kind: dict[str, list[tuple[tuple[int, ...], bytes]]] = {}
    for path, leaf in _leaves(structure):
        by_kind.setdefault(_leaf_kind(path), []).append((path, leaf))
    rng = random.Random(1)
    mutations = []
    for kind, leaves in sorted(by_kind.items()):
        chosen = leaves if len(leaves) <= per_kind else rng.sample(leaves, per_kind)
        for path, leaf in chosen:
            if leaf:
                position = rng.randrange(len(leaf))
                changed = bytearray(leaf)
                changed[position] ^= 1 << rng.randrange(8)
                mutated = bytes(changed)
            else:
                mutated = b"\x01"
            where = f"field {kind} at {'.'.join(map(str, path))}"
            mutations.append((where, rlp.encode(_replace_leaf(structure, path, mutated))))
    return mutations


class VMConformanceTests:
    """Conformance tests for a VM plugin (over one state model).

    Set ``vm_name`` (and ``state_name``) and implement :meth:`build_conformance_traces`.
    The traces it returns should together contain: value transfers, a contract creation,
    calls that write and delete storage, a reverted transaction and a deposit; keep them
    small (a few transactions each), the mutation tests execute each trace many times.
    """

    vm_name: ClassVar[str]
    state_name: ClassVar[str] = "mpt"

    def build_conformance_traces(self) -> list[BuiltTrace]:
        """Return built traces for this VM (see the class docstring)."""
        raise NotImplementedError(
            f"{type(self).__name__} must implement build_conformance_traces()"
        )

    @pytest.fixture(scope="class")
    @classmethod
    def conformance_traces(cls) -> list[BuiltTrace]:
        traces = cls().build_conformance_traces()
        assert traces, "build_conformance_traces() returned no traces"
        return traces

    def _execute(self, *args: Any) -> Any:
        return execute_detailed(*args, vm=self.vm_name, state=self.state_name)

    def test_traces_verify(self, conformance_traces: list[BuiltTrace]) -> None:
        for built in conformance_traces:
            result = self._execute(*built.execute_args())
            assert result.ok, f"{result.reason}: {result.detail}"
            assert result.outputs == built.outputs

    def test_trace_encoding_round_trips(self, conformance_traces: list[BuiltTrace]) -> None:
        for built in conformance_traces:
            assert encode_trace(decode_trace(built.encoded)) == built.encoded

    def test_deterministic(self, conformance_traces: list[BuiltTrace]) -> None:
        for built in conformance_traces:
            first = self._execute(*built.execute_args())
            second = self._execute(*built.execute_args())
            assert first == second

    def test_wrong_post_root_is_false(self, conformance_traces: list[BuiltTrace]) -> None:
        for built in conformance_traces:
            pre, post, trace, gas = built.execute_args()
            wrong = bytes([post[0] ^ 1]) + post[1:]
            result = self._execute(pre, wrong, trace, gas)
            assert not result.ok and result.reason == RejectReason.POST_STATE_MISMATCH

    def test_wrong_pre_root_is_false(self, conformance_traces: list[BuiltTrace]) -> None:
        for built in conformance_traces:
            pre, post, trace, gas = built.execute_args()
            result = self._execute(post if post != pre else b"\x01" * 32, post, trace, gas)
            assert not result.ok

    def test_gas_off_by_one_is_false(self, conformance_traces: list[BuiltTrace]) -> None:
        for built in conformance_traces:
            pre, post, trace, gas = built.execute_args()
            for claimed in (gas - 1, gas + 1):
                if claimed < 0:
                    continue
                result = self._execute(pre, post, trace, claimed)
                assert not result.ok and result.reason == RejectReason.GAS_MISMATCH

    def test_missing_witness_entry_is_false(self, conformance_traces: list[BuiltTrace]) -> None:
        rng = random.Random(2)
        for built in conformance_traces:
            witness = built.trace.witness
            for field in ("state_nodes", "codes"):
                items = getattr(witness, field)
                picks = range(len(items)) if len(items) <= 16 else rng.sample(range(len(items)), 16)
                for index in picks:
                    smaller = replace(witness, **{field: items[:index] + items[index + 1 :]})
                    trace = encode_trace(replace(built.trace, witness=smaller))
                    pre, post, _, gas = built.execute_args()
                    result = self._execute(pre, post, trace, gas)
                    assert not result.ok, f"removing {field}[{index}] still verified"
                    assert result.reason == RejectReason.MISSING_WITNESS, result

    def test_single_field_mutations_are_false(self, conformance_traces: list[BuiltTrace]) -> None:
        for built in conformance_traces:
            pre, post, trace, gas = built.execute_args()
            for where, mutated in structured_mutations(trace):
                result = self._execute(pre, post, mutated, gas)
                assert not result.ok, f"a flipped byte in {where} still verified"

    def test_raw_byte_flips_are_false(self, conformance_traces: list[BuiltTrace]) -> None:
        for built in conformance_traces:
            pre, post, trace, gas = built.execute_args()
            step = max(1, len(trace) // RAW_MUTATIONS)
            for position in range(0, len(trace), step):
                mutated = bytearray(trace)
                mutated[position] ^= 0x80
                assert not execute(
                    pre, post, bytes(mutated), gas, vm=self.vm_name, state=self.state_name
                ), f"flipping byte {position} verified"

    def test_truncated_traces_are_false(self, conformance_traces: list[BuiltTrace]) -> None:
        for built in conformance_traces:
            pre, post, trace, gas = built.execute_args()
            for length in sorted({0, 1, 2, len(trace) // 2, len(trace) - 1}):
                result = self._execute(pre, post, trace[:length], gas)
                assert not result.ok and result.reason == RejectReason.MALFORMED_TRACE

    def test_garbage_is_false(self, conformance_traces: list[BuiltTrace]) -> None:
        pre, post, _, gas = conformance_traces[0].execute_args()
        rng = random.Random(3)
        for garbage in (b"", b"\xc0", b"\x00" * 64, rng.randbytes(1 << 20)):
            assert not execute(pre, post, garbage, gas, vm=self.vm_name, state=self.state_name)


class StateModelConformanceTests:
    """Conformance tests for a state model plugin. Set ``state_name``."""

    state_name: ClassVar[str]

    ADDRESSES: ClassVar[list[bytes]] = [bytes([i]) * 20 for i in range(1, 40)]

    @pytest.fixture
    def model(self) -> StateModel:
        model: StateModel = get_registry().create("state", self.state_name)
        return model

    def _populate(self, model: StateModel, store: StateStore) -> bytes:
        view = model.open(store, model.empty_root())
        for i, address in enumerate(self.ADDRESSES):
            view.set_account(address, nonce=i, balance=10**18 + i)
            if i % 3 == 0:
                view.set_code(address, bytes([0x60, i, 0x00]))
            for slot in range(i % 5):
                view.set_storage(address, slot, slot * 1000 + i + 1)
        return view.commit()

    def test_empty_root_is_stable(self, model: StateModel) -> None:
        store = StateStore()
        assert model.open(store, model.empty_root()).commit() == model.empty_root()

    def test_reads_back_writes(self, model: StateModel) -> None:
        store = StateStore()
        root = self._populate(model, store)
        view = model.open(store, root)
        for i, address in enumerate(self.ADDRESSES):
            account = view.get_account(address)
            assert account is not None
            assert (account.nonce, account.balance) == (i, 10**18 + i)
            assert view.get_code(address) == (bytes([0x60, i, 0x00]) if i % 3 == 0 else b"")
            for slot in range(i % 5):
                assert view.get_storage(address, slot) == slot * 1000 + i + 1
        assert view.get_account(b"\xee" * 20) is None

    def test_root_is_independent_of_write_order(self, model: StateModel) -> None:
        first = self._populate(model, StateStore())
        store = StateStore()
        view = model.open(store, model.empty_root())
        for i, address in reversed(list(enumerate(self.ADDRESSES))):
            for slot in reversed(range(i % 5)):
                view.set_storage(address, slot, slot * 1000 + i + 1)
            if i % 3 == 0:
                view.set_code(address, bytes([0x60, i, 0x00]))
            view.set_account(address, nonce=i, balance=10**18 + i)
        assert view.commit() == first

    def test_every_value_changes_the_root(self, model: StateModel) -> None:
        store = StateStore()
        root = self._populate(model, store)
        roots = {root}
        for change in range(3):
            view = model.open(store, root)
            address = self.ADDRESSES[7]
            if change == 0:
                view.set_account(address, nonce=99, balance=1)
            elif change == 1:
                view.set_storage(address, 1, 424242)
            else:
                view.set_code(address, b"\x00")
            roots.add(view.commit())
        assert len(roots) == 4

    def test_deleting_storage_restores_root(self, model: StateModel) -> None:
        store = StateStore()
        root = self._populate(model, store)
        view = model.open(store, root)
        view.set_storage(self.ADDRESSES[4], 77, 5)
        changed = view.commit()
        assert changed != root
        view.set_storage(self.ADDRESSES[4], 77, 0)
        assert view.commit() == root

    def test_witness_replays_reads_and_writes(self, model: StateModel) -> None:
        store = StateStore()
        root = self._populate(model, store)
        recording = model.open(store, root, record=True)
        picked = self.ADDRESSES[3:9]
        seen = {}
        for address in picked:
            seen[address] = (
                recording.get_account(address),
                recording.get_code(address),
                recording.get_storage(address, 0),
            )
            recording.set_storage(address, 0, 0)  # deletions collapse trie branches
        expected_root = recording.commit()
        assert expected_root != root
        stateless = model.open_witness(root, recording.witness())
        for address in picked:
            assert seen[address] == (
                stateless.get_account(address),
                stateless.get_code(address),
                stateless.get_storage(address, 0),
            )
            stateless.set_storage(address, 0, 0)
        assert stateless.commit() == expected_root

    def test_missing_witness_raises_typed_error(self, model: StateModel) -> None:
        store = StateStore()
        root = self._populate(model, store)
        recording = model.open(store, root, record=True)
        recording.get_account(self.ADDRESSES[0])
        stateless = model.open_witness(root, recording.witness())
        with pytest.raises(MissingWitnessError):
            for address in self.ADDRESSES:
                stateless.get_account(address)

    def test_proofs_verify(self, model: StateModel) -> None:
        store = StateStore()
        root = self._populate(model, store)
        for address in (self.ADDRESSES[4], self.ADDRESSES[9], b"\xee" * 20):
            proof = model.get_proof(store, root, address, [0, 1, 2, 999])
            assert model.verify_proof(root, proof)
        absent = model.get_proof(store, root, b"\xee" * 20)
        assert absent.account is None

    def test_tampered_proofs_fail(self, model: StateModel) -> None:
        store = StateStore()
        root = self._populate(model, store)
        proof = model.get_proof(store, root, self.ADDRESSES[4], [0, 1])
        assert proof.account is not None
        lies: list[AccountProof] = [
            replace(proof, account=replace(proof.account, balance=proof.account.balance + 1)),
            replace(proof, account=None),
            replace(proof, account_proof=proof.account_proof[:-1]),
            replace(
                proof,
                storage=(StorageProof(0, proof.storage[0].value + 1, proof.storage[0].proof),),
            ),
            replace(proof, address=self.ADDRESSES[5]),
        ]
        for lie in lies:
            assert not model.verify_proof(root, lie)
        assert not model.verify_proof(b"\x00" * 32, proof)
        assert not model.verify_proof(root, AccountProof(b"\x01" * 20, Account(), (b"\xc0",)))


def _sample_chain_blocks() -> tuple[list[Any], dict[int, Any], BuiltTrace]:
    """Blocks with transactions and deposits (an EVM dev chain), the L1 messages they
    consume by queue index, and the built trace of the last two blocks."""
    from rollupkit.chain import DevChain
    from rollupkit.testing.wallets import dev_wallets
    from rollupkit.types import GenesisAccount

    wallets = dev_wallets(3, 42_424)
    chain = DevChain({w.address: GenesisAccount(balance=10**24) for w in wallets})
    chain.deposit(b"\x42" * 20, 10**18)
    first = chain.build(transactions=[wallets[0].transfer(wallets[1].address, 5)])
    chain.deposit(b"\x43" * 20, 7, data=b"\x01\x02")
    second = chain.build(
        transactions=[wallets[1].transfer(wallets[2].address, 1, tx_type=t) for t in (0, 1, 2)]
    )
    blocks = [*first.trace.blocks, *second.trace.blocks]
    messages = {m.index: m for block in blocks for m in block.l1_messages}
    return blocks, messages, second


class DerivationConformanceTests:
    """Conformance tests for a derivation plugin. Set ``derivation_name``.

    A derivation must give back exactly the blocks it encoded (with every compression it
    accepts), fit its carrier (one calldata payload, or whole blobs), and raise
    :class:`~rollupkit.errors.TraceError`, never anything else, on data it cannot decode.
    """

    derivation_name: ClassVar[str]
    compressions: ClassVar[tuple[str, ...]] = ("none", "zlib", "zstd")

    @pytest.fixture(scope="class")
    @classmethod
    def sample(cls) -> tuple[list[Any], dict[int, Any]]:
        blocks, messages, _ = _sample_chain_blocks()
        return blocks, messages

    @pytest.fixture
    def derivation(self) -> Any:
        return get_registry().create("derivation", self.derivation_name)

    def test_round_trip_with_every_compression(self, derivation: Any, sample: Any) -> None:
        blocks, messages = sample
        for compression in self.compressions:
            payloads = derivation.encode_batch(42_424, blocks, compression=compression)
            assert derivation.decode_batch(42_424, payloads, messages.__getitem__) == blocks

    def test_payloads_fit_the_carrier(self, derivation: Any, sample: Any) -> None:
        payloads = derivation.encode_batch(42_424, sample[0])
        assert payloads and all(isinstance(p, bytes) for p in payloads)
        if derivation.carrier == "blobs":
            assert all(len(p) == 131_072 for p in payloads)
        else:
            assert len(payloads) == 1, "a calldata batch is one L1 transaction's data"

    def test_deterministic(self, derivation: Any, sample: Any) -> None:
        assert derivation.encode_batch(42_424, sample[0]) == derivation.encode_batch(
            42_424, sample[0]
        )

    def test_another_chains_batch_is_refused(self, derivation: Any, sample: Any) -> None:
        blocks, messages = sample
        payloads = derivation.encode_batch(42_424, blocks)
        with pytest.raises(TraceError):
            derivation.decode_batch(7, payloads, messages.__getitem__)

    def test_unqueued_message_is_a_trace_error(self, derivation: Any, sample: Any) -> None:
        blocks, _ = sample
        payloads = derivation.encode_batch(42_424, blocks)
        with pytest.raises(TraceError):
            derivation.decode_batch(42_424, payloads, {}.__getitem__)

    def test_garbage_is_a_trace_error(self, derivation: Any, sample: Any) -> None:
        blocks, messages = sample
        good = derivation.encode_batch(42_424, blocks)
        rng = random.Random(3)
        bad = [
            [b""],
            [good[0][: len(good[0]) // 2]],
            [bytes(rng.randrange(256) for _ in range(len(good[0])))],
            [b"\xff" * 64],
        ]
        for payloads in bad:
            try:
                decoded = derivation.decode_batch(42_424, payloads, messages.__getitem__)
            except TraceError:
                continue
            assert decoded != blocks, "garbage decoded to the original blocks"


class ProofBackendConformanceTests:
    """Conformance tests for a proof backend plugin. Set ``proof_name`` (and ``proof_options``
    if the backend's :meth:`~rollupkit.interfaces.ProofBackend.dev_options` do not suit).

    The lifecycle, generically: an honest batch is submitted, finalised and verifies; a false
    claim is refused (:class:`~rollupkit.errors.ProofError`) or does not verify; a submission
    does not verify another claim; a tampered or garbage submission does not verify and never
    makes ``verify`` raise. Options are JSON-able and unknown ones are refused; setup checks
    give a reason or None; the verifier contract ships with rollupkit and takes the
    constructor arguments the backend gives.
    """

    proof_name: ClassVar[str]
    #: What the backend is configured with (None: its own ``dev_options()``).
    proof_options: ClassVar[Mapping[str, Any] | None] = None

    @pytest.fixture(scope="class")
    @classmethod
    def batch(cls) -> ClaimedBatch:
        built = _sample_chain_blocks()[2]
        return ClaimedBatch(
            pre_state_root=built.pre_state_root,
            post_state_root=built.post_state_root,
            trace=built.encoded,
            gas_used=built.gas_used,
            outputs=built.outputs,
        )

    @pytest.fixture
    def backend(self) -> ProofBackend:
        cls = get_registry().get("proof", self.proof_name)
        options = self.proof_options if self.proof_options is not None else cls().dev_options()
        backend: ProofBackend = cls.configured(options)
        return backend

    @pytest.fixture
    def context(self) -> SettlementContext:
        return SettlementContext(l1_chain_id=1337, verifier="0x" + "ab" * 20, vm="evm", state="mpt")

    def finalized(
        self,
        backend: ProofBackend,
        batch: ClaimedBatch,
        submission: Submission,
        context: SettlementContext,
    ) -> Submission:
        """``submission`` made final. There is no L1 clock here, so by default it must be
        final at once; a backend whose submissions wait out a challenge window on an L1
        overrides this to let the window pass (and its tests to provide that L1)."""
        assert submission.final_at == 0, (
            f"{self.proof_name} submissions wait until L1 time {submission.final_at}: override "
            "finalized() to let the challenge window pass"
        )
        final = backend.finalize(batch, submission, context)
        assert final is not None, "finalize() refused a submission whose time had come"
        return final

    def _settle(
        self, backend: ProofBackend, batch: ClaimedBatch, context: SettlementContext
    ) -> Submission:
        return self.finalized(backend, batch, backend.submit(batch, context), context)

    def test_verifier_contract_ships(self, backend: ProofBackend) -> None:
        from rollupkit.contracts import artifact

        abi = artifact(backend.verifier_contract).abi
        assert any(item.get("name") == "verify" for item in abi)
        arguments = backend.verifier_arguments(vm="evm", state="mpt")
        inputs = [i["inputs"] for i in abi if i.get("type") == "constructor"]
        assert isinstance(arguments, list) and len(arguments) == len(inputs[0] if inputs else [])

    def test_options_are_json_and_unknown_ones_are_refused(self, backend: ProofBackend) -> None:
        json.dumps(backend.dev_options())  # they go into rollup.toml and node settings
        cls = type(backend)
        with pytest.raises(ProofError, match="no_such_option"):
            cls.configured({**backend.dev_options(), "no_such_option": 1})

    def test_setup_checks_give_a_reason_or_none(self, backend: ProofBackend) -> None:
        answers = [
            backend.check_setup(l1=l1, carrier=carrier)
            for l1 in ("embedded", "anvil", "http://127.0.0.1:8545")
            for carrier in ("calldata", "blobs")
        ]
        assert all(a is None or (isinstance(a, str) and a) for a in answers)
        assert None in answers, f"{self.proof_name} says it can settle on no L1 at all"

    def test_honest_batch_submits_finalizes_and_verifies(
        self, backend: ProofBackend, context: SettlementContext, batch: ClaimedBatch
    ) -> None:
        submission = backend.submit(batch, context)
        assert isinstance(submission, Submission)
        assert isinstance(submission.trace, bytes) and isinstance(submission.evidence, bytes)
        assert isinstance(submission.final_at, int) and submission.final_at >= 0
        if not backend.challenge_window:
            assert submission.final_at == 0, "no challenge window, yet not final at once"
        json.dumps(dict(submission.detail))  # the node stores it with the batch
        final = self.finalized(backend, batch, submission, context)
        assert backend.verify(batch, final, context)

    def test_false_claim_is_refused_or_does_not_verify(
        self, backend: ProofBackend, context: SettlementContext, batch: ClaimedBatch
    ) -> None:
        lies = [
            replace(batch, post_state_root=b"\x01" * 32,
                    outputs=replace(batch.outputs, post_state_root=b"\x01" * 32)),
            replace(batch, outputs=replace(batch.outputs, withdrawal_count=1)),
        ]  # fmt: skip
        for lie in lies:
            try:
                submission = self._settle(backend, lie, context)
            except ProofError:
                continue
            assert not backend.verify(lie, submission, context)

    def test_submission_does_not_verify_another_claim(
        self, backend: ProofBackend, context: SettlementContext, batch: ClaimedBatch
    ) -> None:
        submission = self._settle(backend, batch, context)
        others = [
            replace(batch, post_state_root=b"\x01" * 32,
                    outputs=replace(batch.outputs, post_state_root=b"\x01" * 32)),
            replace(batch, outputs=replace(batch.outputs, withdrawals_root=b"\x02" * 32)),
            replace(batch, gas_used=batch.gas_used + 1,
                    outputs=replace(batch.outputs, gas_used=batch.gas_used + 1)),
        ]  # fmt: skip
        for claim in others:
            assert not backend.verify(claim, submission, context)
        elsewhere = replace(context, verifier="0x" + "cd" * 20, l1_chain_id=1)
        if submission.evidence:  # evidence binds where it settles (re-execution has none)
            assert not backend.verify(batch, submission, elsewhere)

    def test_tampered_or_garbage_submission_does_not_verify(
        self, backend: ProofBackend, context: SettlementContext, batch: ClaimedBatch
    ) -> None:
        submission = self._settle(backend, batch, context)
        bad = [replace(submission, trace=b"", evidence=b""),
               replace(submission, trace=b"\x00" * 97, evidence=b"\xff" * 5)]  # fmt: skip
        if submission.evidence:
            flipped = bytearray(submission.evidence)
            flipped[len(flipped) // 2] ^= 0x01
            for evidence in (bytes(flipped), submission.evidence[:-1], b"", b"\x00" * 97):
                bad.append(replace(submission, evidence=evidence))
        if submission.trace:
            for trace in (submission.trace[:-1], submission.trace + b"\x00", b"\xc0"):
                bad.append(replace(submission, trace=trace))
        for tampered in bad:
            assert not backend.verify(batch, tampered, context)
