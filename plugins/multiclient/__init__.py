"""rollupkit's ``multiclient`` proof backend: k of n independent verifier clients re-execute
the batch and sign its claim (``AttestationVerifier``). Works on any L1, EXECUTE or not, and
with blob DA: the trace need not be on L1, the signatures cover the claim.

The clients here are rollupkit's EXECUTE run with the keys the node was given (a devnet
setup); production deployments run independent clients (say, py-evm and revm) with their own
keys, and the node gathers their signatures.
"""

from __future__ import annotations

from collections.abc import Sequence

from eth_abi import decode as abi_decode
from eth_keys import keys

from rollupkit.errors import ProofError
from rollupkit.interfaces import ProofBackend, SettlementContext
from rollupkit.plugins import hookimpl
from rollupkit.types import PublicOutputs

HALF_N = 0x7FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF5D576E7357A4501DDFE92F46681B20A0


class MulticlientBackend(ProofBackend):
    """Settlement by k-of-n attestations of verifier clients (AttestationVerifier)."""

    description = "k-of-n verifier clients re-execute and sign (AttestationVerifier); any L1"
    verifier_contract = "AttestationVerifier"

    def verifier_arguments(
        self, *, vm: str, state: str, attesters: Sequence[str], threshold: int
    ) -> list[object]:
        if not attesters:
            raise ProofError("the multiclient backend needs attester addresses")
        return [list(attesters), threshold or len(attesters)]

    def onchain_trace(self, trace: bytes) -> bytes:
        return b""

    def prove(
        self, *, pre_state_root: bytes, post_state_root: bytes, trace: bytes, gas_used: int,
        outputs: PublicOutputs, context: SettlementContext,
    ) -> bytes:  # fmt: skip
        from rollupkit.l1.contracts import AttestationRefused, attest_batch

        if not context.attester_keys:
            raise ProofError("no attester keys: the multiclient backend has nobody to sign")
        try:
            return attest_batch(
                context.attester_keys, l1_chain_id=context.l1_chain_id,
                verifier=context.verifier, pre_state_root=pre_state_root,
                post_state_root=post_state_root, trace=trace, gas_used=gas_used,
                claimed=outputs, vm=context.vm, state=context.state,
                onchain_trace=self.onchain_trace(trace),
            )  # fmt: skip
        except AttestationRefused as exc:
            raise ProofError(str(exc)) from exc

    def verify(
        self, *, pre_state_root: bytes, post_state_root: bytes, trace: bytes, gas_used: int,
        outputs: PublicOutputs, evidence: bytes, context: SettlementContext,
    ) -> bool:  # fmt: skip
        """The contract's rule: enough distinct, ascending signers among the known ones."""
        from rollupkit.l1.contracts import attestation_digest

        try:
            (signatures,) = abi_decode(["bytes[]"], evidence)
            digest = attestation_digest(
                context.l1_chain_id, context.verifier, outputs, self.onchain_trace(trace)
            )
            allowed = {
                keys.PrivateKey(k).public_key.to_canonical_address() for k in context.attester_keys
            }
            previous = b""
            for raw in signatures:
                r, s, v = raw[:32], raw[32:64], raw[64]
                v = v - 27 if v >= 27 else v
                if len(raw) != 65 or int.from_bytes(s, "big") > HALF_N:
                    return False
                signer = (
                    keys.Signature(vrs=(v, int.from_bytes(r, "big"), int.from_bytes(s, "big")))
                    .recover_public_key_from_msg_hash(digest)
                    .to_canonical_address()
                )
                if signer not in allowed or signer <= previous:
                    return False
                previous = signer
            return len(signatures) >= (context.threshold or len(allowed))
        except Exception:  # noqa: BLE001 - malformed evidence is simply not evidence
            return False


@hookimpl
def rollupkit_register_proof_backends() -> list[tuple[str, type[ProofBackend]]]:
    return [("multiclient", MulticlientBackend)]
