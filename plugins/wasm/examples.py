"""The example contracts shipped with the plugin: rollupkit's C examples built for wasm32
(``guest/*.wasm``) and a counter written in WAT (``guest/counter_wat.wat``)."""

from __future__ import annotations

from importlib.resources import files

from rollupkit.hostabi import guest_project_files

EXAMPLES = ("counter", "token", "caller", "spin", "counter_wat")


def example_wasm(name: str) -> bytes:
    """The committed module of example contract ``name`` (one of :data:`EXAMPLES`)."""
    if name not in EXAMPLES:
        raise ValueError(f"no example contract {name!r}; there are: {', '.join(EXAMPLES)}")
    return (files("rollupkit_wasm") / "guest" / f"{name}.wasm").read_bytes()


def guest_files() -> dict[str, bytes]:
    """What a scaffolded wasm project gets in ``guest/``: the C header and examples, the
    Makefile, the WAT counter and every built module."""
    return guest_project_files(files("rollupkit_wasm") / "guest", (".wasm", ".wat", ".md"))
