"""The plugin system: discovery through entry points, validation, listing, tracing."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from rollupkit import execute
from rollupkit.errors import PluginError, PluginRegistrationError, UnknownPluginError
from rollupkit.hookspecs import rollupkit_register_vms
from rollupkit.interfaces import PLUGIN_KINDS, VM
from rollupkit.plugins import PluginRegistry, hookimpl, valid_hook_names
from rollupkit.testing.evm import EvmScenario
from rollupkit_evm import EvmVM

GOOD_PLUGIN = '''
from rollupkit.plugins import hookimpl
from rollupkit_evm import EvmVM


class EchoVM(EvmVM):
    """The EVM under another name: a throwaway third-party VM plugin."""

    description = "third-party test VM"


@hookimpl
def rollupkit_register_vms():
    return [("echo-vm", EchoVM)]
'''

INCOMPLETE_PLUGIN = """
from rollupkit.interfaces import VM
from rollupkit.plugins import hookimpl


class HalfVM(VM):
    def decode_header(self, raw):
        return None


@hookimpl
def rollupkit_register_vms():
    return [("half-vm", HalfVM)]
"""


def install_fake_distribution(
    root: Path, dist: str, module: str, source: str, version: str = "0.3.0"
) -> Path:
    """Lay out an installed distribution (module + dist-info with an entry point) under
    ``root``: importlib.metadata finds it exactly as it finds a pip-installed package."""
    (root / f"{module}.py").write_text(textwrap.dedent(source))
    info = root / f"{dist}-{version}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: {version}\n")
    (info / "entry_points.txt").write_text(f"[rollupkit]\n{module.replace('_', '-')} = {module}\n")
    return root


@pytest.fixture
def on_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    def add(dist: str, module: str, source: str) -> Path:
        install_fake_distribution(tmp_path, dist, module, source)
        monkeypatch.syspath_prepend(str(tmp_path))
        return tmp_path

    yield add
    for name in ("echo_plugin", "half_plugin"):
        sys.modules.pop(name, None)


def test_builtins_are_registered_through_entry_points() -> None:
    registry = PluginRegistry()
    registry.load_entry_points(only_builtin=True)
    infos = {(i.kind, i.name): i for i in registry.all()}
    assert infos[("vm", "evm")].origin == "built-in"
    assert infos[("vm", "evm")].cls is EvmVM
    assert infos[("state", "mpt")].origin == "built-in"
    assert infos[("vm", "evm")].version == infos[("state", "mpt")].version != "0"


def test_third_party_plugin_is_discovered_and_usable(on_path) -> None:  # type: ignore[no-untyped-def]
    on_path("echo-plugin", "echo_plugin", GOOD_PLUGIN)
    registry = PluginRegistry()
    registry.load_entry_points()
    info = registry.info("vm", "echo-vm")
    assert (info.origin, info.version, info.description) == (
        "echo-plugin",
        "0.3.0",
        "third-party test VM",
    )
    # ...and EXECUTE can dispatch to it by name.
    built = EvmScenario.create(wallets=2).setup[0]
    assert execute(*built.execute_args(), vm="echo-vm", registry=registry)
    registry_builtin = PluginRegistry()
    registry_builtin.load_entry_points(only_builtin=True)
    assert "echo-vm" not in registry_builtin.names("vm")


def test_incomplete_plugin_names_what_is_missing(on_path) -> None:  # type: ignore[no-untyped-def]
    on_path("half-plugin", "half_plugin", INCOMPLETE_PLUGIN)
    registry = PluginRegistry()
    with pytest.raises(PluginRegistrationError) as error:
        registry.load_entry_points()
    message = str(error.value)
    for missing in ("VM.open_block", "VM.genesis_header", "VM.next_block"):
        assert missing in message
    assert "VM.decode_header" not in message
    assert "half-vm" in message


def test_unknown_hook_lists_the_valid_ones() -> None:
    registry = PluginRegistry()

    class Typo:
        @staticmethod
        def rollupkit_register_vm() -> list[object]:
            return []

    with pytest.raises(PluginRegistrationError) as error:
        registry.register(Typo(), name="typo")
    assert "rollupkit_register_vm'" in str(error.value)
    for hook in valid_hook_names():
        assert hook in str(error.value)


def test_wrong_base_class_bad_name_and_duplicates_are_refused() -> None:
    class NotAVM:
        pass

    class Plugin:
        def __init__(self, pairs: list[tuple[str, type]]) -> None:
            self.pairs = pairs

        @hookimpl
        def rollupkit_register_vms(self) -> list[tuple[str, type]]:
            return self.pairs

    registry = PluginRegistry()
    with pytest.raises(
        PluginRegistrationError, match=r"not a subclass of rollupkit\.interfaces\.VM"
    ):
        registry.register(Plugin([("x", NotAVM)]), name="a")
    with pytest.raises(PluginRegistrationError, match="name 'Bad Name' is invalid"):
        registry.register(Plugin([("Bad Name", EvmVM)]), name="b")
    registry.register(Plugin([("evm", EvmVM)]), name="c")
    with pytest.raises(PluginRegistrationError, match="already registered"):
        registry.register(Plugin([("evm", EvmVM)]), name="d")
    assert registry.names("vm") == ["evm"]  # the refused plugins left nothing behind


def test_unknown_plugin_error_lists_the_available_ones() -> None:
    registry = PluginRegistry()
    registry.load_entry_points(only_builtin=True)
    available = r"no vm plugin named 'nope' \(available: booster, evm, multi, riscv, wasm, zkpay\)"
    with pytest.raises(UnknownPluginError, match=available):
        registry.get("vm", "nope")
    with pytest.raises(PluginError, match="unknown plugin kind"):
        registry.names("gpu")


def test_every_hook_has_a_kind_a_docstring_and_a_result_rule() -> None:
    hooks = set(valid_hook_names())
    registration_hooks = {hook for _, hook in PLUGIN_KINDS.values()}
    # every plugin kind has its registration hook; the rest are project hooks
    assert registration_hooks <= hooks
    assert hooks - registration_hooks == {"rollupkit_genesis_alloc", "rollupkit_admit_transaction"}
    assert rollupkit_register_vms.__doc__ and "Result rule" in rollupkit_register_vms.__doc__
    import rollupkit.hookspecs as specs

    for hook in hooks:
        assert "Result rule" in (getattr(specs, hook).__doc__ or ""), hook
    assert issubclass(EvmVM, VM)


def _cli(*args: str, env_extra: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ROLLUPKIT_")}
    env.update(env_extra or {})
    return subprocess.run(
        [sys.executable, "-m", "rollupkit_cli", *args],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )


def test_cli_plugins_list_shows_builtins_and_third_party(tmp_path: Path) -> None:
    install_fake_distribution(tmp_path, "echo-plugin", "echo_plugin", GOOD_PLUGIN)
    done = _cli("plugins", "list", "--json", env_extra={"PYTHONPATH": str(tmp_path)})
    assert done.returncode == 0, done.stderr
    import json

    rows = {(r["kind"], r["name"]): r for r in json.loads(done.stdout)}
    assert rows[("vm", "evm")]["origin"] == "built-in"
    assert rows[("state", "mpt")]["origin"] == "built-in"
    assert rows[("vm", "echo-vm")]["origin"] == "echo-plugin"
    assert rows[("vm", "echo-vm")]["version"] == "0.3.0"


def test_cli_broken_plugin_is_one_clear_line(tmp_path: Path) -> None:
    install_fake_distribution(tmp_path, "half-plugin", "half_plugin", INCOMPLETE_PLUGIN)
    done = _cli("plugins", "list", env_extra={"PYTHONPATH": str(tmp_path)})
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: plugin 'half-plugin'")
    assert "VM.open_block" in lines[0] and "Traceback" not in done.stderr


def test_tracing_prints_hook_calls(tmp_path: Path) -> None:
    done = _cli("plugins", "list", env_extra={"ROLLUPKIT_TRACE_PLUGINS": "1"})
    assert done.returncode == 0
    assert "[rollupkit] evm.rollupkit_register_vms() -> [('evm'" in done.stderr
    assert "[rollupkit] mpt.rollupkit_register_state_models()" in done.stderr
