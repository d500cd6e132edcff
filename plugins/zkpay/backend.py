"""The ``groth16`` proof backend: zkpay batches settled by validity proofs (ZkPayVerifier).

Options (``[l1.proof_options]``)::

    slots = 8             # operations per proof (the circuit's size; default 8)
    keys = "build/zk"     # where the circuit's build and keys are kept (default: the user's
                          # cache, ~/.cache/rollupkit/zkpay; `rollupkit zk setup` fills it)

The keys come from a single-party setup made on this machine (:mod:`rollupkit_zkpay.groth16`:
fine for development, not for value). Deploying compiles the circuit and runs the setup if
they are not there yet, and hands ZkPayVerifier the creation code of the Groth16 verifier
rendered from that verifying key. Settling a batch re-executes its trace for the circuit's
inputs, proves it in ``ceil(operations / slots)`` proofs (at least one) and sends them with
the consumed L1 messages as evidence; the settlement carries no trace (the batch data is
posted by the derivation, as for attestations).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from eth_abi import decode as abi_decode

from rollupkit.errors import ProofError
from rollupkit.interfaces import ClaimedBatch, ProofBackend, SettlementContext, Submission
from rollupkit.types import L1Message, MessageKind, Withdrawal
from rollupkit.withdrawals import withdrawals_root
from rollupkit_zkpay.circuit import CircuitParams
from rollupkit_zkpay.groth16 import Keys, setup
from rollupkit_zkpay.model import DEPTH
from rollupkit_zkpay.transition import refunded_whole
from rollupkit_zkpay.tree import AMOUNT_LIMIT
from rollupkit_zkpay.vm import REFUND_SENDER

DEFAULT_SLOTS = 8


def default_keys_folder() -> Path:
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache) / "rollupkit" / "zkpay"


class Groth16Backend(ProofBackend):
    """Validity proofs of zkpay batches (Groth16 over BN254, checked by ZkPayVerifier)."""

    description = "zkpay batches proven with Groth16 (circom circuit, arkworks) (ZkPayVerifier)"
    verifier_contract = "ZkPayVerifier"
    permissionless_refusal = (
        "a groth16 proof binds the accounts and L1 messages, not the rest of the state root "
        "(block hashes, queue position) nor the posted batch data: a stranger could settle a "
        "root no node can rebuild, so settlement stays with the chain's batcher"
    )
    known_options = {
        "slots": f"operations per proof (the circuit's size; default {DEFAULT_SLOTS})",
        "keys": "folder for the circuit's build and keys (default ~/.cache/rollupkit/zkpay)",
    }

    def __init__(self) -> None:
        self.slots = DEFAULT_SLOTS
        self.folder = default_keys_folder()
        self._keys: Keys | None = None

    def configure(self, options: Mapping[str, Any]) -> None:
        super().configure(options)
        slots = options.get("slots", DEFAULT_SLOTS)
        if isinstance(slots, bool) or not isinstance(slots, int) or not 1 <= slots <= 64:
            raise ProofError(f"slots must be a whole number from 1 to 64, not {slots!r}")
        self.slots = slots
        if "keys" in options:
            self.folder = Path(str(options["keys"])).expanduser()

    def dev_options(self) -> dict[str, Any]:
        # Written into a scaffolded project's rollup.toml, so the circuit's size is in sight.
        return {"slots": DEFAULT_SLOTS}

    @property
    def params(self) -> CircuitParams:
        return CircuitParams(slots=self.slots, depth=DEPTH)

    def keys(self, progress: Any = None) -> Keys:
        """The circuit's keys: loaded, or made (compile and setup) on first use."""
        if self._keys is None:
            try:
                self._keys = setup(self.params, self.folder, progress=progress)
            except Exception as exc:  # a missing compiler, a failed setup: one clear line
                raise ProofError(f"the zkpay circuit's keys: {exc}") from exc
        return self._keys

    def check_chain(self, *, vm: str, state: str) -> str | None:
        if (vm, state) == ("zkpay", "poseidon"):
            return None
        return "groth16 proves zkpay chains only (vm zkpay, state poseidon): a circuit follows it"

    def verifier_arguments(self, *, vm: str, state: str) -> list[object]:
        refusal = self.check_chain(vm=vm, state=state)
        if refusal:
            raise ProofError(refusal)
        from rollupkit.solidity import compile_sources

        source = self.keys().solidity()
        artifact = compile_sources({"ZkPayGroth16Verifier.sol": source})["ZkPayGroth16Verifier"]
        return [artifact.bytecode, self.slots]

    def submit(self, batch: ClaimedBatch, context: SettlementContext) -> Submission:
        from rollupkit_zkpay.prover import batch_witness, prove_batch

        if (context.vm, context.state) != ("zkpay", "poseidon"):
            raise ProofError(f"the groth16 backend proves zkpay chains, not {context.vm}")
        try:
            witness = batch_witness(batch.trace)
            proof = prove_batch(self.keys(), witness)
        except ProofError:
            raise
        except Exception as exc:
            raise ProofError(f"proving the batch failed: {type(exc).__name__}: {exc}") from exc
        detail = {
            "proofs": len(proof.proofs), "operations": len(witness.slots),
            "slots_per_proof": self.slots, "proving_seconds": round(proof.seconds, 2),
        }  # fmt: skip
        return Submission(trace=b"", evidence=proof.evidence(), detail=detail)

    def verify(
        self, batch: ClaimedBatch, submission: Submission, context: SettlementContext
    ) -> bool:
        """ZkPayVerifier's rule, off-chain: the proofs chain from the claim's pre-state root
        to its post-state root and hold, the deposits are the consumed messages and the
        withdrawals hash to the claim's root."""
        try:
            return self._verify(batch, submission)
        except Exception:  # noqa: BLE001 - malformed evidence is simply not evidence
            return False

    def _verify(self, batch: ClaimedBatch, submission: Submission) -> bool:
        from rollupkit_zkpay.prover import EVIDENCE_TYPES

        roots, proofs, effects, raw_messages = abi_decode(EVIDENCE_TYPES, submission.evidence)
        outputs = batch.outputs
        k = len(roots) - 1
        per_proof = 2 * self.slots
        if k < 1 or len(proofs) != k or len(effects) != per_proof * k:
            return False
        if roots[0] != batch.pre_state_root or roots[-1] != batch.post_state_root:
            return False
        keys = self.keys()
        for i in range(k):
            public = [
                int.from_bytes(roots[i], "big"), int.from_bytes(roots[i + 1], "big"),
                *effects[i * per_proof : (i + 1) * per_proof], outputs.chain_id,
            ]  # fmt: skip
            if not keys.verify(bytes(proofs[i]), public):
                return False
        messages = [_message(m) for m in raw_messages]
        from rollupkit import messages as queue
        from rollupkit.types import QueuePosition

        start = QueuePosition(outputs.queue_start_index, outputs.queue_start_hash)
        if queue.consume(start, messages).rolling_hash != outputs.queue_end_hash:
            return False
        if len(messages) != outputs.messages_consumed:
            return False
        withdrawals = withdrawals_of(effects, messages)
        return withdrawals is not None and (
            len(withdrawals) == outputs.withdrawal_count
            and withdrawals_root(withdrawals) == outputs.withdrawals_root
        )


def _message(fields: Any) -> L1Message:
    kind, index, sender, target, value, gas_limit, data = fields
    return L1Message(
        MessageKind(kind), index, bytes.fromhex(sender[2:]), bytes.fromhex(target[2:]), value,
        gas_limit, bytes(data),
    )  # fmt: skip


def withdrawals_of(effects: list[int], messages: list[L1Message]) -> list[Withdrawal] | None:
    """The withdrawals the effects and messages make, in order, as ZkPayVerifier rebuilds them
    (None where the contract reverts: a deposit effect that is not the next deposit)."""
    deposits = iter([m for m in messages if m.kind == MessageKind.DEPOSIT])
    out: list[Withdrawal] = []
    for s in range(len(effects) // 2):
        a, b = effects[2 * s], effects[2 * s + 1]
        if b == 0:
            if a != 0:
                return None
            continue
        if b in (1, 2, 4):
            m = next(deposits, None)
            if m is None:
                return None
            target = int.from_bytes(m.target, "big")
            whole = refunded_whole(m.sender, m.target, m.value, m.data)
            if b == 4:
                ok = whole and a == target
            else:
                ok = not whole and a == target * AMOUNT_LIMIT + m.value
            if not ok:
                return None
            if b != 1:
                out.append(Withdrawal(m.index, REFUND_SENDER, m.sender, m.value, b""))
            continue
        if b & 3 != 3:
            return None
        tag = b >> 2
        out.append(Withdrawal(
            tag & (2**64 - 1), (tag >> 64).to_bytes(20, "big"),
            (a // AMOUNT_LIMIT).to_bytes(20, "big"), a % AMOUNT_LIMIT, b"",
        ))  # fmt: skip
    if next(deposits, None) is not None:
        return None  # a consumed deposit no slot applied
    return out
