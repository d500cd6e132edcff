"""Proof backends: their lifecycle (configure, check_setup, submit, finalize, verify), what they
prove, and their off-chain check agreeing with the contracts'."""

from __future__ import annotations

import re
import types
from collections.abc import Iterator, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any, ClassVar

import pytest
from eth_abi import decode, encode
from eth_account import Account
from node_env import chain_config
from rpc_env import call
from web3 import Web3

from rollupkit.errors import ProofError
from rollupkit.interfaces import ClaimedBatch, ProofBackend, SettlementContext, Submission
from rollupkit.l1.devnet import dev_accounts
from rollupkit.l1.node import start_devnet
from rollupkit.node.deploy import deploy_for_chain
from rollupkit.node.node import Node, NodeConfig
from rollupkit.plugins import get_registry, hookimpl, reset_registry
from rollupkit.project.config import proofs_for
from rollupkit.testing.evm import EvmScenario
from rollupkit.testing.wallets import dev_wallets
from rollupkit_reexec import ReexecBackend

KEYS = tuple("0x" + w.private_key.hex() for w in dev_wallets(3, 1, offset=7000))
CONTEXT = SettlementContext(l1_chain_id=1337, verifier="0x" + "11" * 20)


@pytest.fixture(scope="module")
def batch() -> ClaimedBatch:
    s = EvmScenario.create(wallets=3)
    built = s.chain.build(transactions=[s.wallets[1].transfer(s.wallets[2].address, 1)])
    return ClaimedBatch(
        built.pre_state_root, built.post_state_root, built.encoded, built.gas_used, built.outputs
    )


def backend(name: str, **options: object) -> ProofBackend:
    return get_registry().get("proof", name).configured(options)


def test_reexec_settles_with_the_trace_on_an_l1_with_execute(batch: ClaimedBatch) -> None:
    reexec = backend("reexec")
    assert reexec.check_setup(l1="embedded", carrier="calldata") is None
    assert "EXECUTE" in (reexec.check_setup(l1="anvil", carrier="calldata") or "")
    assert "calldata" in (reexec.check_setup(l1="embedded", carrier="blobs") or "")
    assert reexec.verifier_arguments(vm="evm", state="mpt") == ["evm", "mpt"]
    submission = reexec.submit(batch, CONTEXT)
    assert submission == Submission(trace=batch.trace, evidence=b"", final_at=0)
    assert reexec.finalize(batch, submission, CONTEXT) == submission
    assert reexec.verify(batch, submission, CONTEXT)
    forged = replace(batch, outputs=replace(batch.outputs, withdrawal_count=1))
    assert not reexec.verify(forged, submission, CONTEXT)
    # Submitting is cheap (the L1 re-executes when the settlement's gas is estimated): claims
    # that disagree with the batch or its trace are refused, the rest left to verify.
    with pytest.raises(ProofError, match="post_state_root"):
        reexec.submit(replace(batch, post_state_root=b"\x01" * 32), CONTEXT)
    with pytest.raises(ProofError, match="not those of this trace"):
        reexec.submit(replace(batch, outputs=replace(batch.outputs, block_number=9)), CONTEXT)
    with pytest.raises(ProofError, match="would not accept"):
        reexec.submit(replace(batch, trace=b"\xc0"), CONTEXT)
    assert not reexec.verify(batch, replace(submission, trace=b""), CONTEXT)
    with pytest.raises(ProofError, match="unknown proof option threshold"):
        backend("reexec", threshold=2)


def test_reexec_submit_does_not_re_execute(
    batch: ClaimedBatch, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The settler must not re-execute what the node built itself: the L1 does it."""
    import rollupkit_reexec

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("submit re-executed the batch")

    monkeypatch.setattr(rollupkit_reexec, "execute_detailed", refuse)
    assert backend("reexec").submit(batch, CONTEXT).trace == batch.trace


def test_multiclient_signatures_follow_the_contract_rules(batch: ClaimedBatch) -> None:
    multiclient = backend("multiclient", attester_keys=list(KEYS[:2]), threshold=2)
    assert multiclient.check_setup(l1="anvil", carrier="blobs") is None
    submission = multiclient.submit(batch, CONTEXT)
    assert submission.trace == b"" and submission.final_at == 0
    assert multiclient.finalize(batch, submission, CONTEXT) == submission
    assert multiclient.verify(batch, submission, CONTEXT)
    # The contract's view: three registered signers, two signatures needed, or three.
    addresses = [Account.from_key(k).address for k in KEYS]
    two_of_three = backend("multiclient", attesters=addresses, threshold=2)
    assert two_of_three.verifier_arguments(vm="evm", state="mpt") == [addresses, 2]
    assert two_of_three.verify(batch, submission, CONTEXT)
    assert not backend("multiclient", attesters=addresses, threshold=3).verify(
        batch, submission, CONTEXT
    )
    assert not multiclient.verify(batch, submission, replace(CONTEXT, verifier="0x" + "22" * 20))
    assert not multiclient.verify(
        replace(batch, outputs=replace(batch.outputs, gas_used=1)), submission, CONTEXT
    )
    # The signatures cover the trace argument the settlement carries.
    assert not multiclient.verify(batch, replace(submission, trace=batch.trace), CONTEXT)
    (signatures,) = decode(["bytes[]"], submission.evidence)
    tampered = [bytes([signatures[0][0] ^ 1]) + signatures[0][1:], signatures[1]]
    for evidence in (
        encode(["bytes[]"], [tampered]),
        encode(["bytes[]"], [[signatures[1], signatures[0]]]),  # not ascending
        b"junk",
    ):
        assert not multiclient.verify(batch, replace(submission, evidence=evidence), CONTEXT)
    with pytest.raises(ProofError, match="does not verify"):
        multiclient.submit(replace(batch, post_state_root=b"\x01" * 32), CONTEXT)
    with pytest.raises(ProofError, match="no attester keys"):
        backend("multiclient", attesters=addresses).submit(batch, CONTEXT)
    with pytest.raises(ProofError, match="cannot make the 3 signatures"):
        backend("multiclient", attester_keys=list(KEYS[:2]), attesters=addresses, threshold=3)\
            .submit(batch, CONTEXT)  # fmt: skip


@pytest.mark.parametrize(
    ("options", "fragment"),
    [
        ({"attester_keys": ["0x1234"]}, "attester_keys[0] is not a 32-byte hex private key"),
        ({"attester_keys": "0x" + "11" * 32}, "must be a list"),
        ({"attester_keys": list(KEYS[:2]), "threshold": 3}, "threshold 3 exceeds"),
        ({"attester_keys": list(KEYS[:2]), "threshold": 0}, "positive integer"),
        ({"attesters": ["nope"]}, "0x-hex addresses"),
        ({"attester_keys": [KEYS[0]], "attesters": ["0x" + "22" * 20]}, "not one of the attesters"),
        ({"attester_keys": [KEYS[0], KEYS[0]]}, "listed twice"),
        ({"attester_keys": list(KEYS), "treshold": 2}, "unknown proof option treshold"),
    ],
)
def test_multiclient_options_are_checked(options: dict[str, object], fragment: str) -> None:
    with pytest.raises(ProofError, match=re.escape(fragment)):
        backend("multiclient", **options)
    with pytest.raises(ProofError, match="needs its attesters"):
        backend("multiclient").verifier_arguments(vm="evm", state="mpt")


def test_backends_say_where_they_can_settle() -> None:
    """The project checks and the scaffolder's offers come from check_setup, not flags."""
    assert {"multiclient", "reexec"} <= set(proofs_for("embedded", "calldata"))
    for l1, carrier in (("anvil", "calldata"), ("anvil", "blobs"), ("embedded", "blobs")):
        assert "multiclient" in proofs_for(l1, carrier)
        assert "reexec" not in proofs_for(l1, carrier)
    for name in get_registry().names("proof"):
        cls = get_registry().get("proof", name)
        assert not hasattr(cls, "requires_execute") and not hasattr(cls, "trace_in_calldata")


class WindowedBackend(ReexecBackend):
    """Re-execution behind a challenge window that closes at the L1 time in its options; it
    counts its calls, and can lose its first claim (a test double for an optimistic backend)."""

    challenge_window = 1_000
    known_options = {
        "final_at": "the L1 time from which submissions may be finalised",
        "lose_first_claim": "whether the first finalisation finds the claim challenged",
    }
    calls: ClassVar[list[str]] = []

    def configure(self, options: Mapping[str, Any]) -> None:
        super().configure(options)
        self.final_at = int(options.get("final_at", 0))
        self.lose_first_claim = bool(options.get("lose_first_claim", False))

    def submit(self, batch: ClaimedBatch, context: SettlementContext) -> Submission:
        self.calls.append("submit")
        return replace(super().submit(batch, context), final_at=self.final_at, detail={"n": 1})

    def finalize(
        self, batch: ClaimedBatch, submission: Submission, context: SettlementContext
    ) -> Submission | None:
        self.calls.append("finalize")
        if self.lose_first_claim and self.calls.count("finalize") == 1:
            raise ProofError("the claim was challenged and lost")
        return submission


@pytest.fixture
def windowed() -> Iterator[str]:
    """WindowedBackend registered as proof backend ``windowed``, for one test."""
    plugin = types.ModuleType("windowed_plugin")
    plugin.rollupkit_register_proof_backends = hookimpl(  # type: ignore[attr-defined]
        lambda: [("windowed", WindowedBackend)]
    )
    get_registry().register(plugin, name="windowed")
    WindowedBackend.calls.clear()
    yield "windowed"
    reset_registry()  # the next test sees the built-in backends only


@pytest.mark.parametrize("lose_first_claim", [False, True])
def test_the_settler_waits_out_the_window_and_resumes_after_a_restart(
    tmp_path: Path, windowed: str, lose_first_claim: bool
) -> None:
    """posted → submitted (stored) → the node restarts → still submitted, not submitted again
    → L1's clock passes final_at → finalised and settled. A claim found lost when finalised
    sends the batch back to be submitted afresh."""
    chain = chain_config()
    sender = dev_wallets(6, chain.chain_id)[1]
    with start_devnet() as running:
        w3 = Web3(Web3.HTTPProvider(running.url))
        final_at = int(w3.eth.get_block("latest")["timestamp"]) + 1_000
        accounts = dev_accounts(4)
        settings = deploy_for_chain(
            chain, running.url, accounts[0], batcher_key=bytes(accounts[1].key),
            proof=windowed, batch_interval=0,
            proof_options={"final_at": final_at, "lose_first_claim": lose_first_claim},
        )  # fmt: skip
        config = NodeConfig(tmp_path, chain, l1=settings)
        node = Node(config).start(background=False)
        try:
            call(node.url, "eth_sendRawTransaction", "0x" + sender.transfer(b"\x11" * 20, 1).hex())
            node.produce_block()
            node.l1_step()  # batched, posted, submitted; then it waits
            batch = call(node.url, "rollup_getBatch", "0x1")["result"]
            assert batch["status"] == "submitted" and int(batch["finalAt"], 16) == final_at
            assert batch["submission"] == {"n": 1} and "_submission" not in batch
        finally:
            node.stop()
        node = Node(config).start(background=False)  # a restart
        try:
            node.l1_step()
            assert node.store.batch(1)["status"] == "submitted"  # type: ignore[index]
            w3.provider.make_request("evm_increaseTime", [1_001])  # type: ignore[arg-type]
            w3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]
            if lose_first_claim:
                with pytest.raises(ProofError, match="challenged and lost"):
                    node.l1_step()
                assert node.store.batch(1)["status"] == "posted"  # type: ignore[index]
            node.l1_step()
            assert node.store.batch(1)["status"] == "settled"  # type: ignore[index]
            assert int(node.store.get_meta("settled_block")) == 1
        finally:
            node.stop()
    assert WindowedBackend.calls == ["submit", "finalize"] * (1 + lose_first_claim)
