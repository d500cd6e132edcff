"""Groth16 over BN254 for zkpay's circuit: the trusted setup, proving, verifying, and the
Solidity verifier, with arkworks through ``groth16py`` (no Node, no download).

**The setup is single-party**: :func:`setup` draws the toxic waste from the OS's randomness and
forgets it, so whoever ran it could forge proofs only if they kept it. That is what a
development chain needs and all a test can have; a chain holding real value imports the
result of a multi-party ceremony instead (``groth16py.import_zkey`` takes a snarkjs ``.zkey``).
The keys are made once per circuit (:class:`~rollupkit_zkpay.circuit.CircuitParams`) and
cached next to the compiled circuit, keyed by its fingerprint; the verifier contract is
rendered from the verifying key, so a chain's verifier and its prover always match.
"""

from __future__ import annotations

import fcntl
import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import groth16py
from jinja2 import Environment, StrictUndefined

from rollupkit_zkpay.circuit import CircuitParams, CompiledCircuit, compile_circuit
from rollupkit_zkpay.circuit import circomlib as circuit_library
from rollupkit_zkpay.witness import WitnessCalculator, WitnessError

#: A Groth16 proof as groth16py and snarkjs's calldata export lay it out: A (x, y),
#: B (x imaginary, x real, y imaginary, y real), C (x, y), 32 bytes each.
PROOF_SIZE = 256
TEMPLATE = Path(__file__).with_name("Groth16Verifier.sol.j2")


@dataclass(frozen=True)
class Keys:
    """A circuit's proving and verifying keys."""

    circuit: CompiledCircuit
    proving: Any  # groth16py.ProvingKey (opaque; it carries the witness calculator)
    verifying: Any  # groth16py.VerifyingKey

    def public_signals(self, inputs: dict[str, Any]) -> list[int]:
        """What the circuit outputs for ``inputs``; raise
        :class:`~rollupkit_zkpay.witness.WitnessError` if a constraint fails."""
        count = self.circuit.params.public_count
        return WitnessCalculator(self.circuit.wasm).calculate(inputs, range(1, 1 + count))

    def prove(self, inputs: dict[str, Any]) -> tuple[bytes, list[int]]:
        """A proof for the circuit's ``inputs`` and its public signals.

        The inputs are run through the circuit's witness calculator first: groth16py's prover
        does not check the constraints, and would return a proof that verifies for nothing
        (so a refused batch raises :class:`~rollupkit_zkpay.witness.WitnessError` here, saying
        which constraint failed). The proof is verified before it is returned."""
        public = self.public_signals(inputs)
        proof: bytes = groth16py.prove(self.proving, inputs)
        if not self.verify(proof, public):
            raise WitnessError("the prover made a proof that does not verify")
        return proof, public

    def verify(self, proof: bytes, public: list[int]) -> bool:
        """Whether ``proof`` holds for the public signals ``public`` (never raises)."""
        if len(proof) != PROOF_SIZE or len(public) != self.circuit.params.public_count:
            return False
        try:
            return bool(groth16py.Verifier(self.verifying).verify(proof, public))
        except (groth16py.VerificationError, groth16py.EncodingError, ValueError, OverflowError):
            return False

    def solidity(self, name: str = "ZkPayGroth16Verifier") -> str:
        """The verifier contract's source (see ``Groth16Verifier.sol.j2``)."""
        return render_verifier(self.verifying.to_json(), self.circuit.params, name)


def setup(params: CircuitParams, cache: Path, *, progress: Any = None) -> Keys:
    """The keys of ``params``' circuit: loaded from ``cache`` if made before, else compiled
    and set up (seconds to minutes, by the circuit's size) and saved there. Processes sharing
    ``cache`` take turns (a lock file): the second one loads what the first one made."""
    cache.mkdir(parents=True, exist_ok=True)
    with open(cache / f"setup-{params.fingerprint()}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        return _setup(params, cache, progress)


def _setup(params: CircuitParams, cache: Path, progress: Any) -> Keys:
    circuit = compile_circuit(params, cache)
    proving_file = circuit.folder / "proving.key"
    verifying_file = circuit.folder / "verifying.key"
    if proving_file.is_file() and verifying_file.is_file():
        return Keys(
            circuit,
            groth16py.ProvingKey.load(str(proving_file)),
            groth16py.VerifyingKey.load(str(verifying_file)),
        )
    if progress is not None:
        progress(f"trusted setup of {params.describe()} ({circuit.constraints():,} constraints)")
    started = time.monotonic()
    proving, verifying = groth16py.setup_circom(
        str(circuit.main), [str(circuit.folder), str(circuit_library())]
    )
    if verifying.n_public != params.public_count:
        raise RuntimeError(
            f"the circuit has {verifying.n_public} public signals, not {params.public_count}"
        )
    (circuit.folder / "verification_key.json").write_text(verifying.to_json())
    # The proving key last and by rename: its presence says the setup is complete.
    verifying.save(str(verifying_file))
    partial = proving_file.with_suffix(".partial")
    proving.save(str(partial))
    partial.rename(proving_file)
    if progress is not None:
        progress(f"setup done in {time.monotonic() - started:.1f} s")
    return Keys(circuit, proving, verifying)


def _g2(point: list[list[str]]) -> list[int]:
    # snarkjs: [[x real, x imaginary], [y real, y imaginary], [1, 0]]; EIP-197 wants
    # imaginary parts first.
    return [int(point[0][1]), int(point[0][0]), int(point[1][1]), int(point[1][0])]


def render_verifier(verifying_json: str, params: CircuitParams, name: str) -> str:
    """The Solidity verifier for a verifying key (snarkjs's ``verification_key.json``)."""
    key = json.loads(verifying_json)
    if int(key["nPublic"]) != params.public_count:
        raise ValueError(f"the key has {key['nPublic']} public inputs, not {params.public_count}")
    ic = "".join(int(c).to_bytes(32, "big").hex() for point in key["IC"] for c in point[:2])
    environment = Environment(undefined=StrictUndefined, keep_trailing_newline=True)
    return environment.from_string(TEMPLATE.read_text()).render(
        name=name,
        description=params.describe(),
        fingerprint=params.fingerprint(),
        count=params.public_count,
        alpha=[int(c) for c in key["vk_alpha_1"][:2]],
        beta=_g2(key["vk_beta_2"]),
        gamma=_g2(key["vk_gamma_2"]),
        delta=_g2(key["vk_delta_2"]),
        ic=ic,
    )
