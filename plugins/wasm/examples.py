"""The example contracts shipped with the plugin: rollupkit's C examples built for wasm32
(``guest/*.wasm``) and a counter written in WAT (``guest/counter_wat.wat``)."""

from __future__ import annotations

from importlib.resources import files

from rollupkit.hostabi import c_examples, c_header

EXAMPLES = ("counter", "token", "caller", "spin", "counter_wat")


def example_wasm(name: str) -> bytes:
    """The committed module of example contract ``name`` (one of :data:`EXAMPLES`)."""
    if name not in EXAMPLES:
        raise ValueError(f"no example contract {name!r}; there are: {', '.join(EXAMPLES)}")
    return (files("rollupkit_wasm") / "guest" / f"{name}.wasm").read_bytes()


def guest_files() -> dict[str, bytes]:
    """What a scaffolded wasm project gets in ``guest/``: the C header and examples, the
    Makefile, the WAT counter and every built module."""
    guest = files("rollupkit_wasm") / "guest"
    found = {
        f"guest/{item.name}": item.read_bytes()
        for item in guest.iterdir()
        if item.name.endswith((".wasm", ".wat", ".md")) or item.name == "Makefile"
    }
    sources = {f"guest/{name}": text for name, text in c_examples().items()}
    return {**found, **sources, "guest/rollupkit.h": c_header()}
