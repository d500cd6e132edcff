"""rollupkit's ``multiclient`` proof backend: k of n independent verifier clients re-execute
the batch and sign its claim (``AttestationVerifier``). Works on any L1, EXECUTE or not, and
with blob DA: the trace need not be on L1, the signatures cover the claim. A batch is final as
soon as enough clients signed it.

Options (``[l1.proof_options]``)::

    verifiers = ["http://…", …]  # verifier services to ask (rollupkit verifier serve)
    attesters = ["0x…", …]       # the verifier contract's signers
    threshold = 2                # signatures a batch needs (default: every attester)
    distinct_clients = 2         # how many different clients the signers must run (default 1)
    timeout = 120                # seconds to wait for the verifiers
    attester_keys = ["0x…", …]   # dev: keys this node signs with itself, re-executing locally

A production deployment runs n verifier services (:mod:`rollupkit.verifier`), each with its
own key and its own client (py-evm, revm, ...), and lists them in ``verifiers``: the settler
asks them all at once and settles with what the first ``threshold`` honest ones sign, so a
verifier that is down, slow or wrong does not stop settlement, and fewer than ``threshold``
agreeing ones stop it instead of settling a wrong root. A refusal is reported by the
verifier (an alert when its client disagrees) and, here, in the error that keeps the batch
waiting. With ``attester_keys`` instead, the node signs for those keys after its own EXECUTE
(the devnet setup).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from eth_abi import decode as abi_decode
from eth_keys import keys
from eth_utils import is_address, to_canonical_address, to_checksum_address
from eth_utils.exceptions import ValidationError

from rollupkit.errors import ProofError
from rollupkit.interfaces import ClaimedBatch, ProofBackend, SettlementContext, Submission
from rollupkit.plugins import hookimpl

HALF_N = 0x7FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF5D576E7357A4501DDFE92F46681B20A0
#: Keys of the dev verifier clients (:meth:`MulticlientBackend.dev_options`). Dev only: anyone
#: can sign with them.
DEV_ATTESTER_KEYS = tuple((9000 + i + 1).to_bytes(32, "big") for i in range(3))


class MulticlientBackend(ProofBackend):
    """Settlement by k-of-n attestations of verifier clients (AttestationVerifier)."""

    description = "k-of-n verifier clients re-execute and sign (AttestationVerifier); any L1"
    verifier_contract = "AttestationVerifier"
    known_options = {
        "verifiers": "URLs of verifier services (rollupkit verifier serve) to gather signatures",
        "distinct_clients": "how many different clients the signers must run (default 1)",
        "timeout": "seconds to wait for the verifier services (default 120)",
        "attester_keys": "hex private keys of the verifier clients this node signs for",
        "attesters": "addresses of the verifier's signers (default: those of attester_keys)",
        "threshold": "how many signatures a batch needs (default: every attester)",
    }

    def __init__(self) -> None:
        self.verifiers: tuple[str, ...] = ()
        self.distinct_clients = 1
        self.timeout = 120.0
        self.keys: tuple[bytes, ...] = ()
        self.attesters: tuple[bytes, ...] = ()  # canonical addresses
        self.threshold = 0

    def configure(self, options: Mapping[str, Any]) -> None:
        super().configure(options)
        raw_keys = options.get("attester_keys", [])
        if not isinstance(raw_keys, list | tuple):
            raise ProofError("attester_keys must be a list of hex private keys")
        parsed = []
        for i, key in enumerate(raw_keys):
            try:
                parsed.append(keys.PrivateKey(bytes.fromhex(str(key).removeprefix("0x"))))
            except (ValueError, TypeError, ValidationError):
                raise ProofError(f"attester_keys[{i}] is not a 32-byte hex private key") from None
        self.keys = tuple(k.to_bytes() for k in parsed)
        own = [k.public_key.to_canonical_address() for k in parsed]
        raw_attesters = options.get("attesters")
        if raw_attesters is None:
            attesters = own
        else:
            if not isinstance(raw_attesters, list | tuple) or not all(
                isinstance(a, str) and is_address(a) for a in raw_attesters
            ):
                raise ProofError("attesters must be a list of 0x-hex addresses")
            attesters = [to_canonical_address(a) for a in raw_attesters]
            strangers = [to_checksum_address(a) for a in own if a not in attesters]
            if strangers:
                raise ProofError(
                    f"attester_keys sign as {', '.join(strangers)}, not one of the attesters"
                )
        if len(set(attesters)) != len(attesters):
            raise ProofError("an attester is listed twice")
        self.attesters = tuple(attesters)
        threshold = options.get("threshold", len(attesters))
        positive = isinstance(threshold, int) and not isinstance(threshold, bool) and threshold > 0
        if "threshold" in options and not positive:
            raise ProofError(f"threshold must be a positive integer, not {threshold!r}")
        if attesters and threshold > len(attesters):
            raise ProofError(
                f"threshold {threshold} exceeds the number of attesters ({len(attesters)})"
            )
        self.threshold = threshold
        verifiers = options.get("verifiers", [])
        if not isinstance(verifiers, list | tuple) or not all(
            isinstance(u, str) and u.startswith(("http://", "https://")) for u in verifiers
        ):
            raise ProofError("verifiers must be a list of http(s):// URLs")
        self.verifiers = tuple(verifiers)
        distinct = options.get("distinct_clients", 1)
        if not isinstance(distinct, int) or isinstance(distinct, bool) or distinct < 1:
            raise ProofError(f"distinct_clients must be a positive integer, not {distinct!r}")
        if distinct > max(self.threshold, 1):
            raise ProofError(f"distinct_clients {distinct} exceeds the threshold {self.threshold}")
        self.distinct_clients = distinct
        timeout = options.get("timeout", 120)
        if not isinstance(timeout, int | float) or isinstance(timeout, bool) or timeout <= 0:
            raise ProofError(f"timeout must be a positive number of seconds, not {timeout!r}")
        self.timeout = float(timeout)

    def dev_options(self) -> dict[str, Any]:
        return {"attester_keys": ["0x" + k.hex() for k in DEV_ATTESTER_KEYS], "threshold": 2}

    def verifier_arguments(self, *, vm: str, state: str) -> list[object]:
        if not self.attesters:
            raise ProofError(
                "the multiclient backend needs its attesters: set attester_keys (or attesters) "
                "in [l1.proof_options]"
            )
        return [[to_checksum_address(a) for a in self.attesters], self.threshold]

    def submit(self, batch: ClaimedBatch, context: SettlementContext) -> Submission:
        """Each client this node holds a key of re-executes the batch and signs its claim;
        final at once. The signatures cover an empty trace argument: the data is posted
        elsewhere (calldata to the inbox, or blobs)."""
        from rollupkit.l1.contracts import AttestationRefused, attest_batch

        if self.verifiers:
            from rollupkit_multiclient.gather import gather_signatures

            evidence, detail = gather_signatures(
                self.verifiers, batch, context, attesters=self.attesters,
                threshold=self.threshold, distinct_clients=self.distinct_clients,
                timeout=self.timeout,
            )  # fmt: skip
            return Submission(trace=b"", evidence=evidence, detail=detail)
        if not self.keys:
            raise ProofError("no attester keys: the multiclient backend has nobody to sign")
        if len(self.keys) < self.threshold:
            raise ProofError(
                f"{len(self.keys)} attester keys cannot make the {self.threshold} signatures "
                "a batch needs"
            )
        try:
            evidence = attest_batch(
                self.keys, l1_chain_id=context.l1_chain_id, verifier=context.verifier,
                pre_state_root=batch.pre_state_root, post_state_root=batch.post_state_root,
                trace=batch.trace, gas_used=batch.gas_used, claimed=batch.outputs,
                vm=context.vm, state=context.state, onchain_trace=b"",
            )  # fmt: skip
        except AttestationRefused as exc:
            raise ProofError(str(exc)) from exc
        return Submission(trace=b"", evidence=evidence, detail={"signatures": len(self.keys)})

    def verify(
        self, batch: ClaimedBatch, submission: Submission, context: SettlementContext
    ) -> bool:
        """The contract's rule: enough distinct, ascending signers among the attesters, over
        this claim and the trace argument the settlement carries."""
        from rollupkit.l1.contracts import attestation_digest

        try:
            (signatures,) = abi_decode(["bytes[]"], submission.evidence)
            digest = attestation_digest(
                context.l1_chain_id, context.verifier, batch.outputs, submission.trace
            )
            allowed = set(self.attesters)
            previous = b""
            for raw in signatures:
                if len(raw) != 65:
                    return False
                r, s, v = raw[:32], raw[32:64], raw[64]
                v = v - 27 if v >= 27 else v
                if int.from_bytes(s, "big") > HALF_N:
                    return False
                signer = (
                    keys.Signature(vrs=(v, int.from_bytes(r, "big"), int.from_bytes(s, "big")))
                    .recover_public_key_from_msg_hash(digest)
                    .to_canonical_address()
                )
                if signer not in allowed or signer <= previous:
                    return False
                previous = signer
            return bool(allowed) and len(signatures) >= self.threshold
        except Exception:  # noqa: BLE001 - malformed evidence is simply not evidence
            return False


@hookimpl
def rollupkit_register_proof_backends() -> list[tuple[str, type[ProofBackend]]]:
    return [("multiclient", MulticlientBackend)]
