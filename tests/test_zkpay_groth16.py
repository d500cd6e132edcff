"""zkpay's Groth16 path (issue 17): a trusted setup made here, a real proof of a batch, and the
Solidity verifier rendered from the verifying key, compiled with the project's solc and run on
the embedded L1, refusing a wrong proof, a proof for another claim, and a batch with a bad
signature (which cannot be proven at all)."""

from __future__ import annotations

from typing import Any

import groth16py
import pytest
from eth_account import Account
from web3 import Web3

from rollupkit.l1.node import start_devnet
from rollupkit.solidity import compile_sources
from rollupkit_zkpay.babyjub import PrivateKey
from rollupkit_zkpay.circuit import CircuitParams, circuit_inputs, expected_public_signals
from rollupkit_zkpay.groth16 import Keys, setup
from rollupkit_zkpay.poseidon import FIELD
from rollupkit_zkpay.transition import (
    Kind,
    Transaction,
    address_of,
    apply_deposit,
    apply_transaction,
)
from rollupkit_zkpay.tree import AccountTree, empty_hashes
from rollupkit_zkpay.witness import WitnessError

PARAMS = CircuitParams(slots=2, depth=6)
CHAIN_ID = 42


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> Keys:
    cache = tmp_path_factory.mktemp("zk")
    made = setup(PARAMS, cache)
    # Made once: a second setup loads the same keys from the cache.
    again = setup(PARAMS, cache)
    assert again.verifying.to_json() == made.verifying.to_json()
    return made


def _batch() -> tuple[dict[str, Any], list[int], Transaction]:
    tree = AccountTree({}, empty_hashes(PARAMS.depth)[PARAMS.depth], PARAMS.depth)
    owner = PrivateKey(b"\x01" * 32)
    before = tree.root
    slots = [apply_deposit(tree, address_of(owner.public_key), 1000)]
    tx = Transaction.sign(
        owner, chain_id=CHAIN_ID, kind=Kind.WITHDRAWAL, to=0xABC, amount=300, nonce=0
    )
    slots.append(apply_transaction(tree, tx, CHAIN_ID))
    inputs = circuit_inputs(
        slots, PARAMS, chain_id=CHAIN_ID, accounts_before=before, system_before=5, system_after=6
    )
    public = expected_public_signals(
        slots, PARAMS, chain_id=CHAIN_ID, accounts_before=before, accounts_after=tree.root,
        system_before=5, system_after=6,
    )  # fmt: skip
    return inputs, public, tx


def test_a_proven_batch_verifies_on_l1_and_forgeries_do_not(keys: Keys) -> None:
    inputs, public, _ = _batch()
    proof, signals = keys.prove(inputs)
    assert signals == public  # what the Python rules expect
    assert keys.verify(proof, public)
    other_claim = [public[0], public[1] + 1, *public[2:]]  # another post-state root
    assert not keys.verify(proof, other_claim)
    flipped = bytearray(proof)
    flipped[200] ^= 1
    artifact = compile_sources({"Verifier.sol": keys.solidity()})["ZkPayGroth16Verifier"]
    with start_devnet() as running:
        w3 = Web3(Web3.HTTPProvider(running.url))
        deployer = Account.from_key(bytes(running.devnet.accounts[0].key))
        factory = w3.eth.contract(abi=artifact.abi, bytecode=artifact.bytecode)
        deploy = factory.constructor().build_transaction(
            {"from": deployer.address, "nonce": 0, "gas": 3_000_000, "chainId": w3.eth.chain_id}
        )
        sent = w3.eth.send_raw_transaction(deployer.sign_transaction(deploy).raw_transaction)
        address = w3.eth.wait_for_transaction_receipt(sent)["contractAddress"]
        verifier = w3.eth.contract(address=address, abi=artifact.abi).functions
        assert verifier.verifyProof(proof, public).call() is True
        assert verifier.verifyProof(proof, other_claim).call() is False
        assert verifier.verifyProof(bytes(flipped), public).call() is False
        assert verifier.verifyProof(proof[:-1], public).call() is False  # malformed: no revert
        assert verifier.verifyProof(proof, public[:-1]).call() is False
        out_of_field = [public[0] + FIELD, *public[1:]]
        assert verifier.verifyProof(proof, out_of_field).call() is False


def test_a_batch_with_a_bad_signature_cannot_be_proven(keys: Keys) -> None:
    inputs, public, tx = _batch()
    forged = dict(inputs)
    forged["S"] = [inputs["S"][0], (tx.signature.s + 1)]
    with pytest.raises(WitnessError, match="assert failed"):
        keys.prove(forged)
    # groth16py's prover alone does not check the constraints: what it makes of the forged
    # batch verifies for nothing.
    garbage = groth16py.prove(keys.proving, forged)
    assert not keys.verify(garbage, public)
    # Nor does the honest batch's proof stand for anything but the honest claim.
    proof, _ = keys.prove(inputs)
    assert keys.verify(proof, public)
    assert not keys.verify(proof, [*public[:-1], CHAIN_ID + 1])  # the chain id is public


def test_the_setup_is_cached_by_the_circuit(keys: Keys) -> None:
    other = CircuitParams(slots=3, depth=6)
    assert other.fingerprint() != PARAMS.fingerprint()  # another shape: another circuit
    assert keys.circuit.folder.name.endswith(PARAMS.fingerprint())
    assert (keys.circuit.folder / "proving.key").is_file()
