"""The step committee of an ``OptimisticVerifier`` on a stock L1 (no ``EXECUTE_STEP``).

The committee is a set of verifier services (:mod:`rollupkit.verifier`, each with its own key
and client). A party that must prove a step asks them all at once for
``verifier_attest_step``; each signs what the step reaches *by its own execution*. Only
signatures by members, over the answer this party computed itself, count; with at least
``threshold`` of them the party can settle the step on L1 (``resolveStepSigned``). The same
for a whole batch (``verifier_attest_whole``, ``resolveWholeSigned``).
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import Any

from rollupkit.errors import ProofError
from rollupkit.l1.contracts import step_digest, whole_digest
from rollupkit.verifier import ask, recover_signer


@dataclass(frozen=True)
class Committee:
    """Where the committee's members serve, who they are, and how many must agree."""

    verifiers: Sequence[str]  # their JSON-RPC URLs
    members: Sequence[bytes]  # their addresses (the verifier contract's committee)
    threshold: int
    timeout: float = 120.0

    def step_signatures(
        self, where: tuple[int, str, str, str], *, pre: bytes, trace: bytes, transactions: int,
        end: bool, gas: int, input_hash: bytes, reached: bytes,
    ) -> list[bytes]:  # fmt: skip
        """Signatures that the step reaches ``reached`` (L1 chain id, verifier, vm, state in
        ``where``), sorted by signer, at least ``threshold``; else ProofError."""
        request = {"pre": "0x" + pre.hex(), "transactions": transactions, "end": end,
                   "gas": gas, "trace": "0x" + trace.hex()}  # fmt: skip
        digest = step_digest(*where, pre=pre, input_hash=input_hash, transactions=transactions,
                             end=end, reached=reached)  # fmt: skip
        return self._gather("verifier_attest_step", request, digest, "the step")

    def whole_signatures(
        self, where: tuple[int, str, str, str], *, pre: bytes, post: bytes, gas: int,
        trace: bytes, layout: bytes, right_claim: bytes,
    ) -> list[bytes]:  # fmt: skip
        """Signatures that the blocks of ``layout`` make the claim ``right_claim``."""
        request = {"pre": "0x" + pre.hex(), "post": "0x" + post.hex(), "gas": gas,
                   "trace": "0x" + trace.hex()}  # fmt: skip
        digest = whole_digest(*where, layout=layout, right_claim=right_claim)
        return self._gather("verifier_attest_whole", request, digest, "the batch")

    def _gather(
        self, method: str, request: dict[str, Any], digest: bytes, what: str
    ) -> list[bytes]:
        allowed = {bytes(m) for m in self.members}
        signed: dict[bytes, bytes] = {}
        refusals: list[str] = []
        pool = ThreadPoolExecutor(max_workers=max(1, len(self.verifiers)),
                                  thread_name_prefix="committee")  # fmt: skip
        futures = {
            pool.submit(ask, url, method, [request], self.timeout): url for url in self.verifiers
        }
        done, late = wait(futures, timeout=self.timeout)
        pool.shutdown(wait=False, cancel_futures=True)
        for future in done:
            url = futures[future]
            try:
                answer = future.result()
                signature = bytes.fromhex(str(answer["signature"]).removeprefix("0x"))
            except ProofError as exc:
                refusals.append(str(exc))
                continue
            except (KeyError, TypeError, ValueError):
                refusals.append(f"{url}: a malformed answer")
                continue
            signer = recover_signer(digest, signature)
            if signer is None or signer not in allowed:
                # A member that computed something else signed another digest.
                refusals.append(f"{url}: did not sign this answer (or is not a member)")
            else:
                signed[signer] = signature
        refusals.extend(f"{futures[f]}: no answer in {self.timeout:g} s" for f in late)
        if len(signed) < self.threshold:
            raise ProofError(
                f"{len(signed)} of {self.threshold} committee signatures for {what}: "
                + ("; ".join(sorted(refusals)) or "no member answered")
            )
        return [signed[s] for s in sorted(signed)]
