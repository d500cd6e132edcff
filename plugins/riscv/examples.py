"""The example contracts shipped with the plugin (sources and ELFs in ``guest/``)."""

from __future__ import annotations

from importlib.resources import files

EXAMPLES = ("counter", "token", "caller", "spin")


def example_elf(name: str) -> bytes:
    """The committed ELF of example contract ``name`` (one of :data:`EXAMPLES`)."""
    if name not in EXAMPLES:
        raise ValueError(f"no example contract {name!r}; there are: {', '.join(EXAMPLES)}")
    return (files("rollupkit_riscv") / "guest" / f"{name}.elf").read_bytes()
