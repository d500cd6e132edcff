"""zkpay's batch circuit: its parameters, its inputs and public signals, and building it.

The circuit (:file:`circuits/zkpay.circom`) is parameterised by the slots per proof ``n``,
the tree depth and the chain id. :func:`circuit_inputs` turns the :class:`Slot` records that
:mod:`rollupkit_zkpay.transition` returns into the circuit's inputs, and
:func:`expected_public_signals` says what the circuit must output for them; a batch is proven
only if the circuit computes exactly those.

:func:`compile_circuit` compiles it with circom (npm ``circom2``, the circom compiler built to
WebAssembly: it runs offline under Node) into an R1CS and a witness calculator, cached by a
hash of everything that goes into it.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rollupkit.errors import RollupkitError
from rollupkit_zkpay.poseidon import poseidon
from rollupkit_zkpay.transition import Kind, Slot
from rollupkit_zkpay.tree import AMOUNT_LIMIT

CIRCUITS = Path(__file__).with_name("circuits")
SOURCE = CIRCUITS / "zkpay.circom"


class CircuitError(RollupkitError):
    """The circuit cannot be built (no compiler, a compile error)."""


@dataclass(frozen=True)
class CircuitParams:
    """What fixes one circuit (and so one trusted setup and one verifier contract); the
    chain id is a public input, so every chain of the same shape shares them."""

    slots: int  # operations per proof
    depth: int  # the accounts tree's depth

    def __post_init__(self) -> None:
        if not 1 <= self.slots <= 256:
            raise ValueError(f"slots per proof must be 1 to 256, not {self.slots}")
        if not 1 <= self.depth <= 32:
            raise ValueError(f"the tree depth must be 1 to 32, not {self.depth}")

    def describe(self) -> str:
        return f"zkpay batches of {self.slots} operations, tree depth {self.depth}"

    @property
    def public_count(self) -> int:
        return 3 + 2 * self.slots

    def main_source(self) -> str:
        return (
            "pragma circom 2.1.0;\n"
            'include "zkpay.circom";\n'
            f"component main {{public [chainId]}} = ZkPayBatch({self.slots}, {self.depth});\n"
        )

    def fingerprint(self) -> str:
        """A hash of the circuit's whole source and parameters: the cache key of its build."""
        digest = hashlib.sha256(self.main_source().encode())
        digest.update(SOURCE.read_bytes())
        return digest.hexdigest()[:16]


def effects(slot: Slot) -> tuple[int, int]:
    """The two public signals of ``slot``: what L1 checks (see the circuit's header)."""
    if slot.kind == Kind.REFUNDED_DEPOSIT:
        return slot.to, 4
    packed = slot.to * AMOUNT_LIMIT + slot.amount
    if slot.kind == Kind.DEPOSIT:
        return packed, 2 if slot.bounced else 1
    if slot.kind == Kind.WITHDRAWAL:
        assert slot.tx is not None
        return packed, ((slot.tx.sender << 64) + slot.tx.nonce) * 4 + 3
    return 0, 0


def expected_public_signals(
    slots: Sequence[Slot],
    params: CircuitParams,
    *,
    chain_id: int,
    accounts_before: int,
    accounts_after: int,
    system_before: int,
    system_after: int,
) -> list[int]:
    """The public signals the circuit must output for ``slots`` (padded to the circuit)."""
    signals = [
        poseidon([accounts_before, system_before]),
        poseidon([accounts_after, system_after]),
    ]
    for slot in _padded(slots, params):
        signals.extend(effects(slot))
    return [*signals, chain_id]


def _padded(slots: Sequence[Slot], params: CircuitParams) -> list[Slot]:
    if len(slots) > params.slots:
        raise ValueError(f"{len(slots)} operations do not fit a {params.slots}-slot proof")
    return [*slots, *[Slot(Kind.NOTHING, 0, 0)] * (params.slots - len(slots))]


def circuit_inputs(
    slots: Sequence[Slot],
    params: CircuitParams,
    *,
    chain_id: int,
    accounts_before: int,
    system_before: int,
    system_after: int,
) -> dict[str, Any]:
    """The circuit's inputs for ``slots`` (applied in order from ``accounts_before``)."""
    names = [
        "kind",
        "to",
        "amount",
        "Ax",
        "Ay",
        "R8x",
        "R8y",
        "S",
        "nonce",
        "senderBalance",
        "senderSiblings",
        "receiverEmpty",
        "receiverAddress",
        "receiverBalance",
        "receiverNonce",
        "receiverSiblings",
    ]
    inputs: dict[str, Any] = {name: [] for name in names}
    zeros = [0] * params.depth
    for slot in _padded(slots, params):
        tx = slot.tx
        sender = slot.sender
        receiver = slot.receiver
        row = {
            "kind": int(slot.kind),
            "to": slot.to,
            # The circuit takes no amount for a deposit refunded whole (L1 has it).
            "amount": 0 if slot.kind == Kind.REFUNDED_DEPOSIT else slot.amount,
            # A slot that signs nothing still needs points the circuit can compute with.
            "Ax": tx.public_key[0] if tx else 0,
            "Ay": tx.public_key[1] if tx else 1,
            "R8x": tx.signature.r8[0] if tx else 0,
            "R8y": tx.signature.r8[1] if tx else 1,
            "S": tx.signature.s if tx else 0,
            "nonce": tx.nonce if tx else 0,
            "senderBalance": sender.leaf.balance if sender and sender.leaf else 0,
            "senderSiblings": list(sender.siblings) if sender else zeros,
            "receiverEmpty": 1 if receiver is None or receiver.leaf is None else 0,
            "receiverAddress": receiver.leaf.address if receiver and receiver.leaf else 0,
            "receiverBalance": receiver.leaf.balance if receiver and receiver.leaf else 0,
            "receiverNonce": receiver.leaf.nonce if receiver and receiver.leaf else 0,
            "receiverSiblings": list(receiver.siblings) if receiver else zeros,
        }
        for name in names:
            inputs[name].append(row[name])
    return {
        "chainId": chain_id,
        "accountsRoot": accounts_before,
        "systemBefore": system_before,
        "systemAfter": system_after,
        **inputs,
    }


# --- building ---------------------------------------------------------------------------------


def circom_compiler() -> list[str]:
    """The command that runs circom: npm's ``circom2`` under Node."""
    from rollupkit.solidity import node_modules_candidates

    for modules in node_modules_candidates():
        script = modules / "circom2" / "cli.js"
        if script.is_file():
            return ["node", str(script)]
    raise CircuitError(
        "circom is not installed: run `npm install circom2 circomlib` in the project (or `make "
        "setup` in rollupkit's checkout)"
    )


def circomlib() -> Path:
    """circomlib's circuits (Poseidon, EdDSA, comparators): npm's, or the copy groth16py
    ships (the same files)."""
    from rollupkit.solidity import node_modules_candidates

    for modules in node_modules_candidates():
        folder = modules / "circomlib" / "circuits"
        if (folder / "poseidon.circom").is_file():
            return folder
    import groth16py

    return Path(groth16py.circomlib_path(2))


@dataclass(frozen=True)
class CompiledCircuit:
    params: CircuitParams
    folder: Path

    @property
    def main(self) -> Path:
        return self.folder / "main.circom"

    @property
    def r1cs(self) -> Path:
        return self.folder / "main.r1cs"

    @property
    def wasm(self) -> Path:
        return self.folder / "main_js" / "main.wasm"

    def constraints(self) -> int:
        """The number of constraints (from the R1CS header)."""
        data = self.r1cs.read_bytes()
        # r1cs: "r1cs", version, sections; the header section holds field size, prime, then
        # nWires, nPubOut, nPubIn, nPrvIn, nLabels (u64), nConstraints (u32).
        offset = 12
        while offset < len(data):
            kind = int.from_bytes(data[offset : offset + 4], "little")
            size = int.from_bytes(data[offset + 4 : offset + 12], "little")
            body = offset + 12
            if kind == 1:
                field_size = int.from_bytes(data[body : body + 4], "little")
                at = body + 4 + field_size + 4 * 4 + 8
                return int.from_bytes(data[at : at + 4], "little")
            offset = body + size
        raise CircuitError(f"{self.r1cs} has no header section")


def compile_circuit(params: CircuitParams, cache: Path) -> CompiledCircuit:
    """Compile the circuit for ``params`` into ``cache/<fingerprint>`` (or reuse it)."""
    folder = cache / f"zkpay-{params.slots}x{params.depth}-{params.fingerprint()}"
    compiled = CompiledCircuit(params, folder)
    if compiled.r1cs.is_file() and compiled.wasm.is_file():
        return compiled
    work = folder.with_name(folder.name + f".tmp{os.getpid()}")
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    (work / "main.circom").write_text(params.main_source())
    # circom2 runs under WASI, which sees only the folders around its working directory: the
    # sources it includes are copied next to it.
    shutil.copy(SOURCE, work / SOURCE.name)
    shutil.copytree(circomlib(), work / "circomlib")
    options = ["--r1cs", "--wasm", "--O2", "-o", ".", "-l", "circomlib"]
    command = [*circom_compiler(), "main.circom", *options]
    done = subprocess.run(command, cwd=work, capture_output=True, text=True, timeout=3600)
    if done.returncode != 0:
        shutil.rmtree(work, ignore_errors=True)
        raise CircuitError(f"circom failed: {(done.stderr or done.stdout).strip()[-2000:]}")
    shutil.rmtree(work / "circomlib")
    shutil.rmtree(folder, ignore_errors=True)
    work.rename(folder)
    return compiled
