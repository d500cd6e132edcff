"""Which VM runs a contract of a ``multi`` chain: a prefix on its code says.

A RISC-V or wasm contract's code is a 3-byte prefix and then its ELF or module, as an Arbitrum
Stylus program is ``0xEFF000`` and then its wasm: ``0xEF`` starts no EVM contract (EIP-3541
refuses to deploy one), so no EVM code can be mistaken for a guest's, and ``0xEFF0`` is neither
EOF (``0xEF00``) nor an EIP-7702 delegation (``0xEF0100``). Any other code is EVM bytecode.

=============  ================  ===========================================
prefix         VM                what follows
=============  ================  ===========================================
``0xEFF001``   ``riscv``         an RV32IM ELF (``rollupkit_riscv``)
``0xEFF002``   ``wasm``          a wasm module (``rollupkit_wasm``)
(none)         ``evm``           EVM bytecode
=============  ================  ===========================================
"""

from __future__ import annotations

RISCV_PREFIX = b"\xef\xf0\x01"
WASM_PREFIX = b"\xef\xf0\x02"
#: prefix -> the name of the VM plugin that runs what follows it.
GUEST_PREFIXES = {RISCV_PREFIX: "riscv", WASM_PREFIX: "wasm"}
PREFIX_BYTES = 3


def guest_of(code: bytes) -> tuple[str, bytes] | None:
    """(VM name, guest code) if ``code`` is a RISC-V or wasm contract's, else None (EVM)."""
    if code[:2] != b"\xef\xf0":
        return None
    name = GUEST_PREFIXES.get(bytes(code[:PREFIX_BYTES]))
    return None if name is None else (name, bytes(code[PREFIX_BYTES:]))


def riscv_code(elf: bytes) -> bytes:
    """The code of a RISC-V contract on a ``multi`` chain (what a create transaction sends)."""
    return RISCV_PREFIX + elf


def wasm_code(module: bytes) -> bytes:
    """The code of a wasm contract on a ``multi`` chain (what a create transaction sends)."""
    return WASM_PREFIX + module
