"""Gathering k-of-n attestations from verifier services (:mod:`rollupkit.verifier`).

All verifiers are asked at once; each answer is checked here before it counts (its signature
must recover to an attester the verifier contract knows, over this claim), so a verifier
that signs garbage is as good as one that refuses. The batch settles with every valid
signature gathered within the timeout if there are at least ``threshold`` of them from
verifiers running at least ``distinct_clients`` different clients; otherwise nothing is sent
and the error names every refusal.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor, wait
from typing import Any

from eth_abi import encode as abi_encode

from rollupkit.errors import ProofError
from rollupkit.interfaces import ClaimedBatch, SettlementContext
from rollupkit.verifier import ask, recover_signer


def _ask(url: str, request: dict[str, Any], timeout: float) -> tuple[bytes, str]:
    """(signature, client) from one verifier."""
    status = ask(url, "verifier_status", [], timeout)
    answer = ask(url, "verifier_attest", [request], timeout)
    try:
        return bytes.fromhex(str(answer["signature"]).removeprefix("0x")), str(status["client"])
    except (KeyError, TypeError, ValueError):
        raise ProofError(f"{url}: a malformed answer") from None


def gather_signatures(
    verifiers: Sequence[str],
    batch: ClaimedBatch,
    context: SettlementContext,
    *,
    attesters: Sequence[bytes],
    threshold: int,
    distinct_clients: int,
    timeout: float,
) -> tuple[bytes, dict[str, Any]]:
    """(evidence for AttestationVerifier, detail for the node's records)."""
    from rollupkit.l1.contracts import attestation_digest
    from rollupkit.verifier import outputs_json

    request = {
        "pre": "0x" + batch.pre_state_root.hex(), "post": "0x" + batch.post_state_root.hex(),
        "gas": batch.gas_used, "trace": "0x" + batch.trace.hex(),
        "outputs": outputs_json(batch.outputs),
    }  # fmt: skip
    digest = attestation_digest(context.l1_chain_id, context.verifier, batch.outputs, b"")
    allowed = set(attesters)
    signed: dict[bytes, tuple[bytes, str]] = {}  # signer -> (signature, client)
    refusals: list[str] = []
    pool = ThreadPoolExecutor(max_workers=len(verifiers), thread_name_prefix="attest")
    futures = {pool.submit(_ask, url, request, timeout): url for url in verifiers}
    done, late = wait(futures, timeout=timeout)
    pool.shutdown(wait=False, cancel_futures=True)
    for future in done:
        url = futures[future]
        try:
            signature, client = future.result()
        except ProofError as exc:
            refusals.append(str(exc))
            continue
        signer = recover_signer(digest, signature)
        if signer is None or signer not in allowed:
            refusals.append(f"{url}: signed as a stranger, or not this claim")
        elif signer not in signed:
            signed[signer] = (signature, client)
    refusals.extend(f"{futures[f]}: no answer in {timeout:g} s" for f in late)
    clients = {client for _, client in signed.values()}
    if len(signed) < threshold or len(clients) < distinct_clients:
        raise ProofError(
            f"{len(signed)} of {threshold} signatures ({len(clients)} of {distinct_clients} "
            f"clients) for the batch to block {batch.outputs.block_number}: "
            + ("; ".join(sorted(refusals)) or "no verifier answered")
        )
    ordered = [signed[s][0] for s in sorted(signed)]
    evidence = abi_encode(["bytes[]"], [ordered])
    detail = {
        "signatures": len(ordered), "clients": sorted(clients), "refusals": sorted(refusals),
    }  # fmt: skip
    return evidence, detail
