"""A zkpay rollup end to end, settled by Groth16 proofs (issue 17), on the embedded L1 and on
anvil: deposits, transfers and a withdrawal through the node's RPC, batches proven and settled
through ZkPayVerifier, a follower that agrees, the withdrawal claimed on L1; and the forgeries
L1 must refuse (a wrong proof, a proof for another claim, a deposit the proof skips, a batch
proven with a bad signature)."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import groth16py
import pytest
from eth_abi import decode as abi_decode
from eth_abi import encode as abi_encode
from test_cli import assert_one_line_error, cli
from web3 import Web3
from web3.exceptions import ContractLogicError

from rollupkit.errors import ConfigError
from rollupkit.l1.anvil import Anvil
from rollupkit.l1.contracts import ContractRevert, RollupContracts, claim_tuple, deploy_rollup
from rollupkit.l1.devnet import dev_accounts
from rollupkit.l1.node import start_devnet
from rollupkit.node.deploy import deploy_for_chain
from rollupkit.node.l2chain import ChainConfig
from rollupkit.node.node import Node, NodeConfig
from rollupkit.types import GenesisAccount, Withdrawal
from rollupkit_zkpay.circuit import CircuitParams
from rollupkit_zkpay.groth16 import Keys, setup
from rollupkit_zkpay.model import DEPTH
from rollupkit_zkpay.prover import EVIDENCE_TYPES, batch_witness, prove_batch
from rollupkit_zkpay.transition import Kind
from rollupkit_zkpay.wallet import ZkPayWallet, dev_wallets
from rollupkit_zkpay.witness import WitnessError

CHAIN_ID = 42_424
SLOTS = 2


@pytest.fixture(scope="module")
def keys_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # Shared by the xdist workers (their base temp folders have one parent): setup() takes
    # a lock, so one makes the keys and the others load them.
    return tmp_path_factory.getbasetemp().parent / "zkpay-keys"


@dataclasses.dataclass
class ZkRollup:
    l1: Web3
    l2: Web3
    sequencer: Node
    follower: Node
    contracts: RollupContracts
    wallets: list[ZkPayWallet]

    def wait(self, what: Any, message: str, timeout: float = 180) -> Any:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = what()
            if value:
                return value
            time.sleep(0.2)
        raise AssertionError(f"timed out waiting for {message}: {self.sequencer.errors[-3:]}")

    def balance(self, address: bytes) -> int:
        return int(self.l2.eth.get_balance(Web3.to_checksum_address(address)))

    def send(self, raw: bytes) -> Any:
        tx_hash = self.l2.eth.send_raw_transaction(raw)
        return self.l2.eth.wait_for_transaction_receipt(tx_hash, timeout=60, poll_latency=0.1)


@contextmanager
def zk_rollup(tmp: Path, l1: str, keys: Path) -> Iterator[ZkRollup]:
    wallets = dev_wallets(3, CHAIN_ID)
    chain = ChainConfig(
        chain_id=CHAIN_ID, vm="zkpay", state="poseidon",
        alloc={wallets[0].address: GenesisAccount(balance=10**20)},
        l1_chain_id=1337 if l1 == "embedded" else 31337,
    )  # fmt: skip
    with _l1(l1) as url:
        accounts = dev_accounts(4)
        settings = deploy_for_chain(
            chain, url, accounts[0], batcher_key=bytes(accounts[1].key), proof="groth16",
            proof_options={"slots": SLOTS, "keys": str(keys)}, derivation="calldata",
            batch_interval=0.3, back_genesis=True,
        )  # fmt: skip
        sequencer = Node(NodeConfig(tmp / "seq", chain, block_time=0.2, l1=settings, l1_poll=0.2))
        follower = Node(NodeConfig(tmp / "fol", chain, role="follower", l1=settings, l1_poll=0.2))
        for node in (sequencer, follower):
            node.start(background=True)
        try:
            w3 = Web3(Web3.HTTPProvider(url))
            yield ZkRollup(
                w3, Web3(Web3.HTTPProvider(sequencer.url)), sequencer, follower,
                RollupContracts(w3, settings.deployment, accounts[2]), wallets,
            )  # fmt: skip
        finally:
            for node in (sequencer, follower):
                node.stop()


@contextmanager
def _l1(kind: str) -> Iterator[str]:
    if kind == "embedded":
        with start_devnet() as running:
            yield running.url
    else:
        with Anvil() as anvil:
            yield anvil.url


def test_groth16_settlement_is_never_permissionless(tmp_path: Path) -> None:
    """The proof does not bind the system half of the state root nor the batch data: a
    stranger's settlement could strand the chain, so permissionless groth16 is refused, by
    the deployment and by a project's configuration (one clear line from the CLI)."""
    chain = ChainConfig(chain_id=CHAIN_ID, vm="zkpay", state="poseidon")
    with pytest.raises(ConfigError, match="settlement stays with the chain's batcher"):
        deploy_for_chain(
            chain, "http://127.0.0.1:1", dev_accounts(1)[0], batcher_key=b"\x01" * 32,
            proof="groth16", permissionless=True,
        )  # fmt: skip
    # The lower-level deployment too, whose default sequencer (the zero address) is anyone.
    with pytest.raises(ConfigError, match="settlement stays with the chain's batcher"):
        deploy_rollup(
            Web3(Web3.HTTPProvider("http://127.0.0.1:1")), dev_accounts(1)[0], l2_chain_id=1,
            genesis_state_root=bytes(32), genesis_block_hash=bytes(32), proof="groth16",
            vm="zkpay", state="poseidon",
        )  # fmt: skip
    dest = tmp_path / "pay-rollup"
    done = cli("scaffold", "new", "pay-rollup", "--vm", "zkpay", "--state", "poseidon",
               "--proof", "groth16", "--no-input", "--dir", str(dest))  # fmt: skip
    assert done.returncode == 0, done.stderr
    toml = dest / "rollup.toml"
    toml.write_text(toml.read_text().replace("permissionless = false", "permissionless = true"))
    assert_one_line_error(
        cli("status", "--dir", str(dest)),
        "permissionless = true cannot be used with proof 'groth16'",
    )


@pytest.mark.slow
@pytest.mark.parametrize("l1", ["embedded", "anvil"])
def test_deposit_transfers_proof_settlement_follower_and_claim(
    l1: str, tmp_path: Path, keys_folder: Path
) -> None:
    with zk_rollup(tmp_path, l1, keys_folder) as r:
        rich, user, friend = r.wallets
        r.contracts.deposit(user.address, 10**18)
        r.wait(lambda: r.balance(user.address) == 10**18, "the deposit")
        assert "no refund" in _rpc(r, "rollup_getDepositRefundProof", "0x0")["error"]["message"]
        # A deposit to an address whose leaf rich holds (same low 20 bits) bounces.
        colliding = (int.from_bytes(rich.address, "big") ^ 1 << 100).to_bytes(20, "big")
        bounced = r.contracts.deposit(colliding, 2 * 10**15)
        r.wait(
            lambda: "error" not in _rpc(r, "rollup_getDepositRefundProof", hex(bounced.index)),
            "the bounced deposit's block in a batch",
        )
        assert r.balance(colliding) == 0
        # ETH sent straight to the bridge: queued to its sender's Ethereum address, which no
        # zkpay key controls, so it is refunded whole (and proven so; L1 checks the message).
        sent = r.contracts.transact(r.contracts.bridge.receive(), value=3 * 10**15)
        (straight,) = r.contracts.messages_from_receipt(sent)
        assert straight.target == straight.sender
        r.wait(
            lambda: "error" not in _rpc(r, "rollup_getDepositRefundProof", hex(straight.index)),
            "the refunded deposit's block in a batch",
        )
        assert r.balance(straight.target) == 0
        first = r.send(rich.transfer(friend.address, 12_345, nonce=0))
        assert first["status"] == 1
        r.send(user.transfer(friend.address, 5, nonce=0))
        target = bytes.fromhex("00000000000000000000000000000000000c1a1e")
        withdrawal = r.send(user.withdrawal(3 * 10**17, target, nonce=1))
        assert r.balance(friend.address) == 12_350
        assert r.balance(user.address) == 10**18 - 5 - 3 * 10**17
        tx = r.l2.eth.get_transaction(withdrawal["transactionHash"])
        assert tx["to"] == Web3.to_checksum_address(target) and tx["value"] == 3 * 10**17

        block = int(withdrawal["blockNumber"])
        # The node's record of the settlement (its index, for the claim), not only L1's.
        r.wait(lambda: r.sequencer.chain.settled_block() >= block, "the settlement")
        settled = r.contracts.state()
        assert (
            bytes(settled["state_root"])
            == r.sequencer.chain.header_info(settled["block_number"]).state_root
        )
        batch = r.sequencer.store.batch_of_block(block)
        assert batch is not None and batch["detail"]["submission"]["proofs"] >= 1
        r.wait(lambda: r.follower.store.head_number() >= block, "the follower")
        assert (
            r.follower.chain.header_info(block).state_root
            == r.sequencer.chain.header_info(block).state_root
        )

        # The withdrawal, claimed on L1 with its proof against the settled root.
        answer = _rpc(r, "rollup_getWithdrawalProof", withdrawal["transactionHash"].to_0x_hex())
        proof = answer["result"]
        (item,) = proof["withdrawals"]
        before = r.l1.eth.get_balance(Web3.to_checksum_address(target))
        claimed = Withdrawal(
            int(item["nonce"], 16), bytes.fromhex(item["sender"][2:]), target,
            int(item["value"], 16), b"",
        )  # fmt: skip
        siblings = [bytes.fromhex(p[2:]) for p in item["proof"]]
        index = int(proof["settlementIndex"], 16)
        r.contracts.claim_withdrawal(index, claimed, int(item["leafIndex"], 16), siblings)
        assert r.l1.eth.get_balance(Web3.to_checksum_address(target)) - before == 3 * 10**17

        # The refunds, claimed by their L1 message index: the bridge pays each back to its
        # depositor, once.
        for message in (bounced, straight):
            refund = _rpc(r, "rollup_getDepositRefundProof", hex(message.index))["result"]
            (item,) = refund["withdrawals"]
            assert int(item["value"], 16) == message.value
            assert item["target"] == "0x" + message.sender.hex()
            claimed = Withdrawal(
                int(item["nonce"], 16), bytes.fromhex(item["sender"][2:]), message.sender,
                message.value, b"",
            )  # fmt: skip
            bridge = r.contracts.bridge.address
            before = r.l1.eth.get_balance(bridge)
            siblings = [bytes.fromhex(p[2:]) for p in item["proof"]]
            index = int(refund["settlementIndex"], 16)
            r.contracts.claim_withdrawal(index, claimed, int(item["leafIndex"], 16), siblings)
            assert before - r.l1.eth.get_balance(bridge) == message.value
            with pytest.raises(ContractRevert, match="AlreadyClaimed"):
                r.contracts.claim_withdrawal(index, claimed, int(item["leafIndex"], 16), siblings)
        assert "not applied" in _rpc(r, "rollup_getDepositRefundProof", "0x99")["error"]["message"]
        assert not r.sequencer.errors and not r.follower.errors


def _rpc(r: ZkRollup, method: str, *params: Any) -> Any:
    return r.l2.provider.make_request(method, list(params))  # type: ignore[arg-type]


def _error(name: str) -> str:
    from eth_hash.auto import keccak

    return "0x" + keccak(name.encode())[:4].hex()


@pytest.mark.slow
def test_l1_refuses_a_wrong_proof_another_claim_a_skipped_deposit_and_a_bad_signature(
    tmp_path: Path, keys_folder: Path
) -> None:
    with zk_rollup(tmp_path, "embedded", keys_folder) as r:
        rich, user, _ = r.wallets
        r.contracts.deposit(user.address, 10**18)
        r.wait(lambda: r.balance(user.address) == 10**18, "the deposit")
        receipt = r.send(rich.transfer(user.address, 7, nonce=0))
        block = int(receipt["blockNumber"])
        r.wait(lambda: r.sequencer.chain.settled_block() >= block, "the settlement")
        batch = r.sequencer.store.batch_of_block(1)  # the deposit's
        assert batch is not None
        assembled = r.sequencer.chain.assemble_batch(batch["first_block"], batch["last_block"])
        claim = claim_tuple(assembled.outputs)
        evidence = bytes.fromhex(batch["detail"]["_submission"]["evidence"])
        roots, proofs, effects, messages = abi_decode(EVIDENCE_TYPES, evidence)
        assert len(messages) == 1 and any(effects)  # the deposit, and its slot

        def verify(claim: Any, roots: Any, proofs: Any, effects: Any, messages: Any) -> str:
            forged = abi_encode(EVIDENCE_TYPES, [roots, proofs, effects, messages])
            try:
                r.contracts.verifier.functions.verify(claim, b"", forged).call()
            except ContractLogicError as exc:
                return str(exc.data)
            return "accepted"

        assert verify(claim, roots, proofs, effects, messages) == "accepted"
        flipped = bytearray(proofs[0])
        flipped[100] ^= 1
        wrong_proof = verify(claim, roots, [bytes(flipped), *proofs[1:]], effects, messages)
        assert wrong_proof.startswith(_error("ProofRejected(uint256)"))
        # Another claim: another post-state root, with the evidence's roots to match.
        other = list(claim)
        other[2] = b"\x01" * 32
        other_roots = [*roots[:-1], b"\x01" * 32]
        assert verify(tuple(other), roots, proofs, effects, messages).startswith(
            _error("RootsMismatch()")
        )
        assert verify(tuple(other), other_roots, proofs, effects, messages).startswith(
            _error("ProofRejected(uint256)")
        )
        # The deposit's slot turned into nothing: the proof no longer holds...
        skipped = list(effects)
        slot = next(i for i in range(0, len(effects), 2) if effects[i + 1] == 1)
        skipped[slot] = skipped[slot + 1] = 0
        assert verify(claim, roots, proofs, skipped, messages).startswith(
            _error("ProofRejected(uint256)")
        )
        # ...and a claim consuming no message is not the one the proof's deposit answers.
        none = list(claim)
        none[9], none[10] = 0, claim[8]  # messagesConsumed, queueEndHash
        assert verify(tuple(none), roots, proofs, effects, []).startswith(
            _error("DepositMismatch(uint256)")
        )

        # A batch with one bad signature: the transfer's batch proven by a sequencer that
        # breaks the signature and skips the witness check (the honest prover refuses).
        transfer_batch = r.sequencer.store.batch_of_block(block)
        assert transfer_batch is not None
        assembled = r.sequencer.chain.assemble_batch(
            transfer_batch["first_block"], transfer_batch["last_block"]
        )
        witness = batch_witness(assembled.trace)
        assert any(slot.kind == Kind.TRANSFER for slot in witness.slots)
        keys = setup(CircuitParams(SLOTS, DEPTH), keys_folder)
        honest = prove_batch(keys, witness)
        forger = _BadSignatureProver(keys.circuit, keys.proving, keys.verifying)
        forged = prove_batch(forger, witness)
        assert forged.roots == honest.roots and forged.effects == honest.effects
        assert forged.proofs != honest.proofs
        claim = claim_tuple(assembled.outputs)
        messages = [(int(m.kind), m.index, m.sender, m.target, m.value, m.gas_limit, m.data)
                    for m in honest.messages]  # fmt: skip
        assert verify(claim, honest.roots, honest.proofs, honest.effects, messages) == "accepted"
        assert verify(claim, forged.roots, forged.proofs, forged.effects, messages).startswith(
            _error("ProofRejected(uint256)")
        )


class _BadSignatureProver(Keys):
    """Proves a batch with its transfers' signatures broken (``S`` off by one), skipping
    the witness check :meth:`Keys.prove` makes; the public signals are the honest ones."""

    def prove(self, inputs: dict[str, Any]) -> tuple[bytes, list[int]]:
        public = self.public_signals(inputs)
        signatures = [
            s + 1 if kind == Kind.TRANSFER else s
            for kind, s in zip(inputs["kind"], inputs["S"], strict=True)
        ]
        with pytest.raises(WitnessError):
            self.public_signals({**inputs, "S": signatures})
        return groth16py.prove(self.proving, {**inputs, "S": signatures}), public
