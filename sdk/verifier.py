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
        return {"verifier_attest": self.attest, "verifier_status": self.describe}

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
            signature = self.account.unsafe_sign_hash(digest).signature
            self.status.attested += 1
            log.info("attested batch %s in %.2f s", _name(claimed), took)
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
