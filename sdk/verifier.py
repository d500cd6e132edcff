"""A verifier client as a service: re-execute a batch with one client and sign its claim.

k-of-n settlement (the ``multiclient`` proof backend, ``AttestationVerifier`` on L1) is only as
diverse as the verifiers that sign: each should run its own client (py-evm, revm, ...), with
its own key, in its own process. ``rollupkit verifier serve`` starts one; start it n times
with different ``--client`` and ``--key``. A settler asks each over JSON-RPC:

``verifier_attest(request)``
    ``request`` is ``{"pre": hex, "post": hex, "gas": int, "trace": hex, "outputs": {...}}``
    (the batch and the public outputs its claim binds, field names as
    :class:`~rollupkit.types.PublicOutputs`). The verifier checks that the claim continues what
    L1 has settled (the rollup's state root and last block hash), runs EXECUTE with its client,
    and only if that holds with exactly the claimed outputs returns ``{"signer": address,
    "signature": hex}``: raw ECDSA over ``AttestationVerifier.digest(claim, keccak(""))`` (the
    settlement carries no trace: the data is posted to the inbox or in blobs). Otherwise a
    JSON-RPC error -32000 says why. A client that *disagrees* (EXECUTE false with a verdict, not
    an abstention) also raises an **alert**: logged at ERROR and kept for ``verifier_status``.
``verifier_attest_step(request)``
    For an optimistic rollup on a stock L1, whose ``OptimisticVerifier`` has a step committee:
    ``request`` is ``{"pre": hex, "transactions": int, "end": bool, "gas": int, "trace": hex}``
    (one step of a dispute: a one-block trace, :mod:`rollupkit.steps`). The verifier runs the
    step with its client and signs what it reaches, ``OptimisticVerifier.stepDigest``:
    ``{"signer", "signature", "reached": commitment, "input": the block's input hash}``. It
    signs what *it* computes, so a party asking for the wrong answer gets the right one.
``verifier_attest_whole(request)``
    The same for a whole batch (a dispute over a field no step commits to): ``request`` as
    ``verifier_attest`` but without outputs; it signs ``OptimisticVerifier.wholeDigest``, which
    claim the trace's blocks make: ``{"signer", "signature", "claim": claimHash, "layout"}``.
``verifier_status()``
    The signer, client, VM and state model, counts of attested, refused and abstained batches,
    and the recent alerts.

Nothing here trusts the settler: the witness is checked against the pre-state root L1 holds,
and the signature binds the L1 chain id and the verifier contract's address.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any

from eth_account import Account as EthAccount

from rollupkit.errors import RpcError
from rollupkit.execution import execute_detailed, resolve_plugins
from rollupkit.types import PublicOutputs, RejectReason

log = logging.getLogger("rollupkit.verifier")

#: JSON-RPC error code of a refusal (EIP-1474's generic server error).
REFUSED = -32000
INVALID_PARAMS = -32602
#: Alerts kept for verifier_status.
MAX_ALERTS = 50
#: Hex-encoded traces are twice their size: allow the largest trace EXECUTE takes.
MAX_REQUEST_BYTES = 80 * 1024 * 1024


@dataclass
class VerifierSettings:
    """One verifier: whose key, which client, which rollup on which L1."""

    key: bytes
    l1_url: str
    rollup: str  # the NativeRollup contract's address
    vm: str = "evm"
    state: str = "mpt"
    client: str | None = None  # None: the VM plugin's own client


@dataclass
class VerifierStatus:
    attested: int = 0
    refused: int = 0
    abstained: int = 0
    alerts: deque[dict[str, Any]] = field(default_factory=lambda: deque(maxlen=MAX_ALERTS))


class VerifierService:
    """The methods a verifier serves (see the module docstring)."""

    def __init__(self, settings: VerifierSettings) -> None:
        from web3 import Web3

        from rollupkit.contracts import artifact

        # Resolved once, at start (an unknown plugin fails here): its name for the status.
        vm, _ = resolve_plugins(settings.vm, settings.state, client=settings.client)
        self.client_name = vm.client
        self.settings = settings
        self.account = EthAccount.from_key(settings.key)
        self.w3 = Web3(Web3.HTTPProvider(settings.l1_url, request_kwargs={"timeout": 30}))
        self.rollup = self.w3.eth.contract(
            address=Web3.to_checksum_address(settings.rollup), abi=artifact("NativeRollup").abi
        )
        self.verifier = str(self.rollup.functions.verifier().call())
        self.l1_chain_id = int(self.w3.eth.chain_id)
        self.status = VerifierStatus()
        self._lock = threading.Lock()  # one batch at a time: EXECUTE is CPU-bound anyway

    def methods(self) -> dict[str, Any]:
        return {
            "verifier_attest": self.attest, "verifier_attest_step": self.attest_step,
            "verifier_attest_whole": self.attest_whole, "verifier_status": self.describe,
        }  # fmt: skip

    # --- methods -----------------------------------------------------------------------------

    def attest(self, request: Any) -> dict[str, str]:
        pre, post, gas, trace, claimed = _parse_request(request)
        with self._lock:
            settled_root = bytes(self.rollup.functions.stateRoot().call())
            settled_hash = bytes(self.rollup.functions.lastBlockHash().call())
            if pre != settled_root or claimed.parent_hash != settled_hash:
                return self._refuse("the claim does not continue the last block L1 settled")
            started = time.perf_counter()
            result = execute_detailed(
                pre, post, trace, gas, vm=self.settings.vm, state=self.settings.state,
                client=self.settings.client,
            )  # fmt: skip
            took = time.perf_counter() - started
            if result.reason is RejectReason.UNSUPPORTED_BY_CLIENT:
                self.status.abstained += 1
                log.warning("abstaining from batch %s: %s", _name(claimed), result.detail)
                raise RpcError(REFUSED, f"abstained: {result.detail}")
            if not result.ok:
                return self._alert(claimed, f"EXECUTE says false: {result.reason}: {result.detail}")
            if result.outputs != claimed:
                return self._alert(claimed, "EXECUTE holds, but not with the claimed outputs")
            from rollupkit.l1.contracts import attestation_digest

            digest = attestation_digest(self.l1_chain_id, self.verifier, claimed, b"")
            self.status.attested += 1
            log.info("attested batch %s in %.2f s", _name(claimed), took)
            return self._sign(digest)

    def attest_step(self, request: Any) -> dict[str, str]:
        from rollupkit.l1.contracts import step_digest
        from rollupkit.steps import execute_step

        pre, transactions, end, gas, trace = _parse_step_request(request)
        with self._lock:
            s = self.settings
            result = execute_step(pre, trace, transactions, end, gas, vm=s.vm, state=s.state,
                                  client=s.client)  # fmt: skip
            if not result.ok or result.state is None:
                if "ClientUnsupported" in result.reason:
                    self.status.abstained += 1
                    raise RpcError(REFUSED, f"abstained: {result.reason}")
                return self._refuse(f"the step does not execute: {result.reason}")
            reached, input_hash = result.state.commitment(), result.state.block_input_hash
            digest = step_digest(
                self.l1_chain_id, self.verifier, s.vm, s.state, pre=pre, input_hash=input_hash,
                transactions=transactions, end=end, reached=reached,
            )  # fmt: skip
            self.status.attested += 1
            log.info("attested a step (%d transactions%s)", transactions, ", end" * end)
            return {**self._sign(digest), "reached": "0x" + reached.hex(),
                    "input": "0x" + input_hash.hex()}  # fmt: skip

    def attest_whole(self, request: Any) -> dict[str, str]:
        from rollupkit.l1.contracts import claim_hash, whole_digest
        from rollupkit.steps import batch_layout, layout_hash

        if not isinstance(request, Mapping):
            raise RpcError(INVALID_PARAMS, "the request is an object")
        gas = request.get("gas")
        if not isinstance(gas, int) or isinstance(gas, bool) or gas < 0:
            raise RpcError(INVALID_PARAMS, "gas must be a non-negative integer")
        pre, post = _hex(request.get("pre"), "pre", 32), _hex(request.get("post"), "post", 32)
        trace = _hex(request.get("trace"), "trace")
        with self._lock:
            s = self.settings
            result = execute_detailed(pre, post, trace, gas, vm=s.vm, state=s.state,
                                      client=s.client)  # fmt: skip
            if result.reason is RejectReason.UNSUPPORTED_BY_CLIENT:
                self.status.abstained += 1
                raise RpcError(REFUSED, f"abstained: {result.detail}")
            if not result.ok or result.outputs is None:
                return self._refuse(f"EXECUTE says false: {result.reason}: {result.detail}")
            layout, right = layout_hash(*batch_layout(trace)), claim_hash(result.outputs)
            digest = whole_digest(self.l1_chain_id, self.verifier, s.vm, s.state, layout=layout,
                                  right_claim=right)  # fmt: skip
            self.status.attested += 1
            return {**self._sign(digest), "claim": "0x" + right.hex(),
                    "layout": "0x" + layout.hex()}  # fmt: skip

    def _sign(self, digest: bytes) -> dict[str, str]:
        signature = self.account.unsafe_sign_hash(digest).signature
        return {"signer": self.account.address, "signature": "0x" + bytes(signature).hex()}

    def describe(self) -> dict[str, Any]:
        s = self.status
        return {
            "signer": self.account.address, "client": self.client_name, "vm": self.settings.vm,
            "state": self.settings.state, "rollup": self.settings.rollup,
            "attested": s.attested, "refused": s.refused, "abstained": s.abstained,
            "alert": bool(s.alerts), "alerts": list(s.alerts),
        }  # fmt: skip

    def _refuse(self, why: str) -> dict[str, str]:
        self.status.refused += 1
        log.warning("refusing: %s", why)
        raise RpcError(REFUSED, f"refused: {why}")

    def _alert(self, claimed: PublicOutputs, why: str) -> dict[str, str]:
        """This client disagrees with the claim: refuse, and say so loudly."""
        self.status.refused += 1
        alert = {
            "time": int(time.time()), "block": claimed.block_number,
            "post_state_root": "0x" + claimed.post_state_root.hex(), "reason": why,
        }  # fmt: skip
        self.status.alerts.append(alert)
        log.error("ALERT: %s disagrees with the claim for block %d: %s", self.client_name,
                  claimed.block_number, why)  # fmt: skip
        raise RpcError(REFUSED, f"refused (alert): {why}")


def _name(claimed: PublicOutputs) -> str:
    return f"to block {claimed.block_number}"


def _hex(value: Any, what: str, size: int | None = None) -> bytes:
    if not isinstance(value, str) or not value.startswith("0x"):
        raise RpcError(INVALID_PARAMS, f"{what} must be 0x-prefixed hex")
    try:
        raw = bytes.fromhex(value[2:])
    except ValueError:
        raise RpcError(INVALID_PARAMS, f"{what} is not hex") from None
    if size is not None and len(raw) != size:
        raise RpcError(INVALID_PARAMS, f"{what} must be {size} bytes")
    return raw


def _parse_request(request: Any) -> tuple[bytes, bytes, int, bytes, PublicOutputs]:
    if not isinstance(request, Mapping):
        raise RpcError(INVALID_PARAMS, "the request is an object")
    gas = request.get("gas")
    if not isinstance(gas, int) or isinstance(gas, bool) or gas < 0:
        raise RpcError(INVALID_PARAMS, "gas must be a non-negative integer")
    outputs = request.get("outputs")
    if not isinstance(outputs, Mapping):
        raise RpcError(INVALID_PARAMS, "outputs must be an object")
    values: dict[str, Any] = {}
    for f in fields(PublicOutputs):
        value = outputs.get(f.name)
        if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
            values[f.name] = value
        else:
            values[f.name] = _hex(value, f"outputs.{f.name}", 32)
    try:
        claimed = PublicOutputs(**values)
    except TypeError as exc:
        raise RpcError(INVALID_PARAMS, f"outputs: {exc}") from None
    pre = _hex(request.get("pre"), "pre", 32)
    post = _hex(request.get("post"), "post", 32)
    return pre, post, gas, _hex(request.get("trace"), "trace"), claimed


def _parse_step_request(request: Any) -> tuple[bytes, int, bool, int, bytes]:
    if not isinstance(request, Mapping):
        raise RpcError(INVALID_PARAMS, "the request is an object")
    numbers = []
    for name in ("transactions", "gas"):
        value = request.get(name)
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise RpcError(INVALID_PARAMS, f"{name} must be a non-negative integer")
        numbers.append(value)
    end = request.get("end")
    if not isinstance(end, bool):
        raise RpcError(INVALID_PARAMS, "end must be true or false")
    pre, trace = _hex(request.get("pre"), "pre", 32), _hex(request.get("trace"), "trace")
    return pre, numbers[0], end, numbers[1], trace


def ask(url: str, method: str, params: list[Any], timeout: float) -> Any:
    """One JSON-RPC call to a verifier; raises :class:`rollupkit.errors.ProofError` with the
    server's message on an error."""
    import requests

    from rollupkit.errors import ProofError

    try:
        answer = requests.post(
            url, json={"jsonrpc": "2.0", "id": 1, "method": method, "params": params},
            timeout=timeout,
        ).json()  # fmt: skip
    except (requests.RequestException, ValueError) as exc:
        raise ProofError(f"{url}: {type(exc).__name__}: {exc}") from None
    if not isinstance(answer, Mapping):
        raise ProofError(f"{url}: a malformed answer")
    if "error" in answer:
        error = answer["error"]
        raise ProofError(
            f"{url}: {error.get('message', error) if isinstance(error, Mapping) else error}"
        )
    return answer.get("result")


#: secp256k1 n / 2: a signature with a higher s is a malleable copy (L1 refuses it).
HALF_N = 0x7FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF5D576E7357A4501DDFE92F46681B20A0


def recover_signer(digest: bytes, signature: bytes) -> bytes | None:
    """The address that signed ``digest`` (raw ECDSA, 65 bytes r, s, v) as L1's ``ecrecover``
    would accept it, or None."""
    from eth_keys import keys

    if len(signature) != 65 or int.from_bytes(signature[32:64], "big") > HALF_N:
        return None
    v = signature[64] - 27 if signature[64] >= 27 else signature[64]
    try:
        vrs = (v, int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:64], "big"))
        public = keys.Signature(vrs=vrs).recover_public_key_from_msg_hash(digest)
        return bytes(public.to_canonical_address())
    except Exception:  # noqa: BLE001 - a malformed signature is no signature
        return None


def outputs_json(outputs: PublicOutputs) -> dict[str, Any]:
    """``outputs`` as verifier_attest takes them."""
    return {k: ("0x" + v.hex() if isinstance(v, bytes) else v) for k, v in vars(outputs).items()}


def serve(settings: VerifierSettings, *, host: str = "127.0.0.1", port: int = 0) -> Any:
    """Start a verifier's JSON-RPC server (returned, started; ``stop()`` ends it)."""
    from rollupkit.rpc.server import JsonRpcServer

    service = VerifierService(settings)
    server = JsonRpcServer(
        service.methods(), host=host, port=port, name="verifier", max_body=MAX_REQUEST_BYTES,
        workers=2,
    )  # fmt: skip
    server.service = service
    return server.start()
