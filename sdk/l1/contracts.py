"""Deploy and drive rollupkit's L1 contracts over any JSON-RPC endpoint (web3.py).

:func:`deploy_rollup` deploys the bridge, a verifier and the settlement contract and wires
them; :class:`RollupContracts` wraps them: deposits and forced transactions, the queue as
:class:`rollupkit.types.L1Message` values, batch submission with either proof, withdrawal
claims. The node and the tests use the same code.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from eth_abi import encode as abi_encode
from eth_account import Account as EthAccount
from eth_hash.auto import keccak
from eth_utils import to_checksum_address
from web3 import Web3
from web3.exceptions import ContractCustomError, ContractLogicError

from rollupkit.contracts import artifact
from rollupkit.errors import (  # re-exported: raised here
    AttestationRefused,
    ConfigError,
    ContractRevert,
    RollupkitError,
)
from rollupkit.plugins import get_registry
from rollupkit.types import (
    CLAIM_FIELDS,
    L1Message,
    MessageKind,
    PublicOutputs,
    Withdrawal,
    abi_type,
    abi_values,
)

CLAIM_TYPE = abi_type(CLAIM_FIELDS)
ATTESTATION_DOMAIN = keccak(b"rollupkit.attestation.v1")


def claim_tuple(outputs: PublicOutputs) -> tuple[Any, ...]:
    """The Solidity ``BatchClaim`` for a verdict's public outputs."""
    return abi_values(outputs, CLAIM_FIELDS)


def attestation_digest(
    l1_chain_id: int, verifier: str, outputs: PublicOutputs, trace: bytes
) -> bytes:
    """What AttestationVerifier has each verifier sign for a batch."""
    return keccak(
        abi_encode(
            ["bytes32", "uint256", "address", CLAIM_TYPE, "bytes32"],
            [ATTESTATION_DOMAIN, l1_chain_id, verifier, claim_tuple(outputs), keccak(trace)],
        )
    )


def claim_hash(outputs: PublicOutputs) -> bytes:
    """``keccak(abi.encode(claim))``: a claim as OptimisticVerifier names it."""
    return bytes(keccak(abi_encode([kind for _, kind in CLAIM_FIELDS], list(claim_tuple(outputs)))))


#: OptimisticVerifier's step committee: what its members sign.
STEP_DOMAIN = keccak(b"rollupkit.step.v1")
WHOLE_DOMAIN = keccak(b"rollupkit.whole.v1")


def step_digest(
    l1_chain_id: int, verifier: str, vm: str, state: str, *, pre: bytes, input_hash: bytes,
    transactions: int, end: bool, reached: bytes,
) -> bytes:  # fmt: skip
    """``OptimisticVerifier.stepDigest``: from ``pre``, the block of ``input_hash``
    (``transactions`` of it, or sealed if ``end``) reaches the commitment ``reached``."""
    return bytes(keccak(abi_encode(
        ["bytes32", "uint256", "address", "string", "string", "bytes32", "bytes32", "uint256",
         "bool", "bytes32"],
        [STEP_DOMAIN, l1_chain_id, verifier, vm, state, pre, input_hash, transactions, end,
         reached],
    )))  # fmt: skip


def whole_digest(
    l1_chain_id: int, verifier: str, vm: str, state: str, *, layout: bytes, right_claim: bytes
) -> bytes:
    """``OptimisticVerifier.wholeDigest``: the blocks of ``layout`` make the claim whose
    :func:`claim_hash` is ``right_claim``."""
    return bytes(keccak(abi_encode(
        ["bytes32", "uint256", "address", "string", "string", "bytes32", "bytes32"],
        [WHOLE_DOMAIN, l1_chain_id, verifier, vm, state, layout, right_claim],
    )))  # fmt: skip


def sign_attestations(keys: Sequence[bytes], digest: bytes) -> bytes:
    """Evidence for AttestationVerifier: the signatures of ``keys``, ordered by signer address."""
    signed = []
    for key in keys:
        account = EthAccount.from_key(key)
        sig = account.unsafe_sign_hash(digest)
        signed.append((bytes.fromhex(account.address[2:]), sig.signature))
    signed.sort(key=lambda item: item[0])
    return abi_encode(["bytes[]"], [[sig for _, sig in signed]])


@dataclass
class Deployment:
    """Addresses of a deployed rollup."""

    bridge: str
    verifier: str
    rollup: str
    proof: str  # the proof backend (a plugin) the verifier belongs to: reexec, multiclient, ...

    @property
    def verifier_contract(self) -> str:
        """The verifier's contract name (from the proof backend plugin)."""
        return str(get_registry().get("proof", self.proof).verifier_contract)


class RollupContracts:
    """The bridge, verifier and settlement contracts of one rollup, and an account to act."""

    def __init__(self, w3: Web3, deployment: Deployment, account: Any) -> None:
        self.w3 = w3
        self.deployment = deployment
        self.account = account
        self.bridge = w3.eth.contract(_address(deployment.bridge), abi=artifact("L1Bridge").abi)
        self.rollup = w3.eth.contract(_address(deployment.rollup), abi=artifact("NativeRollup").abi)
        self.verifier = w3.eth.contract(
            _address(deployment.verifier), abi=artifact(deployment.verifier_contract).abi
        )
        self._errors = _error_selectors(
            [
                "L1Bridge",
                "NativeRollup",
                "ExecuteVerifier",
                "AttestationVerifier",
                "OptimisticVerifier",
                "ZkPayVerifier",
            ]
        )

    # --- transactions -------------------------------------------------------------------------

    def transact(
        self, call: Any, *, value: int = 0, gas: int | None = None, account: Any = None
    ) -> Any:
        """Sign and send a contract call; wait for its receipt; raise :class:`ContractRevert`
        on a revert (with ``gas`` given, the transaction is mined even if it reverts)."""
        account = account or self.account
        params: dict[str, Any] = {
            "from": account.address,
            "value": value,
            "nonce": self.w3.eth.get_transaction_count(account.address, "pending"),
        }
        try:
            # Estimated against the pending block, which is where it goes: an idle devnet's
            # latest block keeps an old time, and a call gated on time (a challenge window)
            # would fail there though it succeeds when mined.
            params["gas"] = gas if gas is not None else call.estimate_gas(params, "pending")
            tx = call.build_transaction(params)
        except (ContractCustomError, ContractLogicError) as exc:
            raise self._revert(exc) from exc
        signed = account.sign_transaction(tx)
        tx_hash = self.w3.eth.send_raw_transaction(signed.raw_transaction)
        receipt = self.w3.eth.wait_for_transaction_receipt(tx_hash, timeout=120)
        if receipt["status"] != 1:
            raise ContractRevert("transaction reverted on chain", receipt=receipt)
        return receipt

    def _revert(self, exc: Exception) -> ContractRevert:
        data = getattr(exc, "data", None)
        if isinstance(data, str) and data.startswith("0x") and len(data) >= 10:
            name = self._errors.get(data[2:10], f"0x{data[2:10]}")
            return ContractRevert(name, data)
        return ContractRevert(str(getattr(exc, "message", exc)))

    def deposit(
        self,
        target: bytes,
        value: int,
        *,
        data: bytes = b"",
        gas_limit: int = 0,
        account: Any = None,
    ) -> L1Message:
        """Deposit ``value`` wei to ``target`` on L2; returns the queued message."""
        receipt = self.transact(
            self.bridge.functions.deposit(to_checksum_address(target), gas_limit, data),
            value=value,
            account=account,
        )
        return self.messages_from_receipt(receipt)[0]

    def force_transaction(self, signed_l2_tx: bytes, *, account: Any = None) -> L1Message:
        """Queue a signed L2 transaction for forced inclusion."""
        receipt = self.transact(
            self.bridge.functions.forceTransaction(signed_l2_tx), account=account
        )
        return self.messages_from_receipt(receipt)[0]

    def submit_batch(
        self,
        outputs: PublicOutputs,
        trace: bytes,
        evidence: bytes = b"",
        *,
        gas: int | None = None,
        l1_updates: Sequence[tuple[bytes, int, int]] | None = None,
        hand_off: bool = False,
    ) -> Any:
        """Submit a batch (its public outputs as the claim, its trace, the evidence); a
        booster batch with L1 storage updates goes with them (``l1_updates``:
        :func:`rollupkit.l1updates.batch_updates`), applied as it settles, or with
        ``hand_off`` handed to the downstream rollup (:meth:`link_l1`) to go on from."""
        from rollupkit.l1updates import grouped

        claim = claim_tuple(outputs)
        if outputs.l1_updates_hash == b"\x00" * 32 and not hand_off:
            call = self.rollup.functions.submitBatch(claim, trace, evidence)
        elif l1_updates is None:
            raise ValueError("a booster batch settles with its L1 updates: give l1_updates")
        else:
            contracts, changes = grouped(l1_updates)
            addresses = [to_checksum_address(c) for c in contracts]
            submit = (
                self.rollup.functions.handOffBoosterBatch
                if hand_off
                else self.rollup.functions.submitBoosterBatch
            )
            call = submit(claim, trace, evidence, addresses, changes)
        return self.transact(call, gas=gas)

    def link_l1(self, downstream: RollupContracts) -> None:
        """Chain two booster rollups (seed 000): ``downstream`` goes on from the L1 state this
        one's batches hand off. Both deployers sign (each account deployed its rollup)."""
        downstream.transact(downstream.rollup.functions.setL1Upstream(self.rollup.address))
        self.transact(self.rollup.functions.setL1Downstream(downstream.rollup.address))

    def claim_withdrawal(
        self,
        batch_index: int,
        withdrawal: Withdrawal,
        leaf_index: int,
        proof: Sequence[bytes],
        *,
        account: Any = None,
    ) -> Any:
        """Claim a withdrawal with its Merkle proof against a settled batch."""
        w = withdrawal
        return self.transact(
            self.bridge.functions.claimWithdrawal(
                batch_index,
                w.nonce,
                to_checksum_address(w.sender),
                to_checksum_address(w.target),
                w.value,
                w.data,
                leaf_index,
                list(proof),
            ),
            account=account,
        )

    # --- reading ------------------------------------------------------------------------------

    def messages_from_receipt(self, receipt: Any) -> list[L1Message]:
        """The messages a transaction queued on this rollup's bridge (another bridge's, or
        another contract's events, in the same transaction are not this queue's)."""
        from web3.logs import DISCARD

        events = self.bridge.events.MessageQueued().process_receipt(receipt, errors=DISCARD)
        return [message_from_event(e.args) for e in events if e.address == self.bridge.address]

    def queued_messages(self, from_index: int = 0, from_block: int = 0) -> list[L1Message]:
        """Queued messages with index >= ``from_index``, in queue order."""
        events = self.bridge.events.MessageQueued().get_logs(from_block=from_block)
        messages = sorted((message_from_event(e.args) for e in events), key=lambda m: m.index)
        return [m for m in messages if m.index >= from_index]

    def state(self) -> dict[str, Any]:
        """Settled state root, block hash and number, batch count and queue position."""
        return {
            "state_root": bytes(self.rollup.functions.stateRoot().call()),
            "block_hash": bytes(self.rollup.functions.lastBlockHash().call()),
            "block_number": self.rollup.functions.lastBlockNumber().call(),
            "batches": self.rollup.functions.batchCount().call(),
            "consumed": self.bridge.functions.consumed().call(),
            "queued": self.bridge.functions.queueLength().call(),
        }


def _address(value: str) -> Any:
    return to_checksum_address(value)


def message_from_event(args: Any) -> L1Message:
    """The queued message a `MessageQueued` event describes."""
    return L1Message(
        kind=MessageKind(args["kind"]),
        index=args["index"],
        sender=bytes.fromhex(args["sender"][2:]),
        target=bytes.fromhex(args["target"][2:]),
        value=args["value"],
        gas_limit=args["gasLimit"],
        data=bytes(args["data"]),
    )


def _error_selectors(names: Sequence[str]) -> dict[str, str]:
    selectors = {}
    for name in names:
        for item in artifact(name).abi:
            if item.get("type") == "error":
                signature = f"{item['name']}({','.join(i['type'] for i in item['inputs'])})"
                selectors[keccak(signature.encode())[:4].hex()] = item["name"]
    return selectors


def _deploy(w3: Web3, account: Any, name: str, *args: Any) -> str:
    art = artifact(name)
    contract = w3.eth.contract(abi=art.abi, bytecode=art.bytecode)
    tx = contract.constructor(*args).build_transaction(
        {
            "from": account.address,
            "nonce": w3.eth.get_transaction_count(account.address, "pending"),
        }
    )
    tx_hash = w3.eth.send_raw_transaction(account.sign_transaction(tx).raw_transaction)
    receipt = w3.eth.wait_for_transaction_receipt(tx_hash, timeout=120)
    if receipt["status"] != 1:
        raise RollupkitError(f"deploying {name} failed")
    return str(receipt["contractAddress"])


def rollups_of_chain(w3: Web3, l2_chain_id: int) -> list[str]:
    """Addresses of the rollupkit rollups of ``l2_chain_id`` deployed on this L1 (from their
    ``RollupCreated`` events, oldest first)."""
    event = artifact("NativeRollup").event_topic("RollupCreated")
    logs = w3.eth.get_logs(
        {"fromBlock": 0, "toBlock": "latest", "topics": [event, f"0x{l2_chain_id:064x}"]}
    )
    return [Web3.to_checksum_address(log["address"]) for log in logs]


def check_permissionless(proof: str, permissionless: bool) -> None:
    """Refuse (:class:`ConfigError`) permissionless settlement with a proof backend that
    says it cannot have it (``ProofBackend.permissionless_refusal``: groth16)."""
    refusal = get_registry().get("proof", proof).permissionless_refusal
    if permissionless and refusal:
        raise ConfigError(f"permissionless settlement with proof {proof!r}: {refusal}")


def deploy_rollup(
    w3: Web3,
    account: Any,
    *,
    l2_chain_id: int,
    genesis_state_root: bytes,
    genesis_block_hash: bytes,
    proof: str = "reexec",
    vm: str = "evm",
    state: str = "mpt",
    proof_options: Mapping[str, Any] | None = None,
    inclusion_deadline: int = 3600,
    finality_delay: int = 0,
    max_message_gas: int = 10_000_000,
    sequencer: str = "0x0000000000000000000000000000000000000000",
    genesis_backing: int = 0,
) -> RollupContracts:
    """Deploy L1Bridge, the verifier of proof backend ``proof`` (reexec, multiclient, ...),
    configured with ``proof_options``, and NativeRollup, and wire them. ``genesis_backing``
    wei are locked in the bridge first, to back the L2's genesis balances (dev chains).
    ``sequencer``: who may settle (the zero address: anyone), refused for a backend whose
    settlement must stay with the chain's batcher (``permissionless_refusal``)."""
    check_permissionless(proof, int(sequencer, 16) == 0)
    backend = get_registry().get("proof", proof).configured(proof_options)
    arguments = backend.verifier_arguments(vm=vm, state=state)
    bridge = _deploy(w3, account, "L1Bridge", max_message_gas, finality_delay)
    verifier_address = _deploy(w3, account, backend.verifier_contract, *arguments)
    rollup = _deploy(
        w3,
        account,
        "NativeRollup",
        verifier_address,
        bridge,
        l2_chain_id,
        genesis_state_root,
        genesis_block_hash,
        inclusion_deadline,
        sequencer,
    )
    contracts = RollupContracts(w3, Deployment(bridge, verifier_address, rollup, proof), account)
    if genesis_backing:
        contracts.transact(contracts.bridge.functions.backGenesis(), value=genesis_backing)
    contracts.transact(contracts.bridge.functions.initialize(rollup))
    return contracts


def attest_batch(
    keys: Sequence[bytes],
    *,
    l1_chain_id: int,
    verifier: str,
    pre_state_root: bytes,
    post_state_root: bytes,
    trace: bytes,
    gas_used: int,
    claimed: PublicOutputs,
    vm: str = "evm",
    state: str = "mpt",
    onchain_trace: bytes | None = None,
) -> bytes:
    """Act as verifier clients holding ``keys``: re-execute the batch with rollupkit's
    EXECUTE and sign the claim only if it verifies with exactly the claimed outputs.

    ``onchain_trace`` is what ``submitBatch`` will carry as its trace argument, which the
    signatures cover (default: the trace itself). A rollup whose data is posted elsewhere
    (blobs, or calldata to its inbox) passes ``b""`` and saves that calldata.
    """
    from rollupkit.execution import execute_detailed

    result = execute_detailed(pre_state_root, post_state_root, trace, gas_used, vm=vm, state=state)
    if not result.ok:
        raise AttestationRefused(f"the batch does not verify: {result.reason}: {result.detail}")
    if result.outputs != claimed:
        raise AttestationRefused("the claimed public outputs are not what the trace produces")
    signed_trace = trace if onchain_trace is None else onchain_trace
    return sign_attestations(keys, attestation_digest(l1_chain_id, verifier, claimed, signed_trace))
