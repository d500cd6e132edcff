"""A project's customisation hooks: a module implementing rollupkit's project hooks.

The module is named in ``rollup.toml`` (``[project] hooks = "my_rollup.hooks"``) and
registered with its own pluggy manager over rollupkit's one hookspec module, so it is checked
like any plugin (an unknown ``rollupkit_*`` function is an error naming the valid ones) but
customises only this project's chain.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Mapping
from pathlib import Path
from types import ModuleType

import pluggy

from rollupkit import hookspecs
from rollupkit.errors import (
    HookError,  # re-exported: raised here
)
from rollupkit.ethtx import TxSummary
from rollupkit.plugins import valid_hook_names
from rollupkit.types import GenesisAccount


class ProjectHooks:
    """The project hooks of one module (or none)."""

    def __init__(self, module: ModuleType | None = None) -> None:
        self.module = module
        self._pm = pluggy.PluginManager("rollupkit")
        self._pm.add_hookspecs(hookspecs)
        if module is not None:
            valid = valid_hook_names()
            for attr in dir(module):
                hook = attr.startswith("rollupkit_") and callable(getattr(module, attr))
                if hook and attr not in valid:
                    raise HookError(
                        f"hooks module {module.__name__!r} defines unknown hook {attr!r}; "
                        f"valid hooks: {', '.join(valid)}"
                    )
            try:
                self._pm.register(module, name=module.__name__)
            except pluggy.PluginValidationError as exc:
                raise HookError(f"hooks module {module.__name__!r}: {exc}") from None

    @property
    def name(self) -> str:
        return self.module.__name__ if self.module is not None else "(none)"

    def genesis_alloc(self, chain_id: int) -> dict[bytes, GenesisAccount]:
        """Every implementation's accounts, merged; two giving one address is an error."""
        merged: dict[bytes, GenesisAccount] = {}
        for answer in self._pm.hook.rollupkit_genesis_alloc(chain_id=chain_id):
            if answer is None:
                continue
            if not isinstance(answer, Mapping):
                raise HookError(f"rollupkit_genesis_alloc must return a mapping, got {answer!r}")
            for address, account in answer.items():
                if not (isinstance(address, bytes) and len(address) == 20):
                    raise HookError(f"rollupkit_genesis_alloc: address {address!r} is not 20 bytes")
                if not isinstance(account, GenesisAccount):
                    raise HookError(
                        f"rollupkit_genesis_alloc: account of 0x{address.hex()} must be a "
                        "rollupkit.types.GenesisAccount"
                    )
                if address in merged:
                    raise HookError(f"two genesis hooks allocate 0x{address.hex()}")
                merged[address] = account
        return merged

    def admit(self, tx: TxSummary) -> str | None:
        """Why the project refuses ``tx``, or None."""
        reason = self._pm.hook.rollupkit_admit_transaction(tx=tx)
        return str(reason) if reason else None

    @property
    def has_admission_rule(self) -> bool:
        return bool(self._pm.hook.rollupkit_admit_transaction.get_hookimpls())


def load_hooks(module_name: str | None, project_root: Path) -> ProjectHooks:
    """Import the hooks module: the project's own file as it is now when the project has it
    (a module of that name imported before, from another folder or an older edit, is
    replaced), else an installed one."""
    if not module_name:
        return ProjectHooks()
    root = project_root.resolve()
    local = root.joinpath(*module_name.split(".")).with_suffix(".py")
    if local.is_file():
        # First on the path: an uninstalled project finds its package, and it wins over a
        # namesake from elsewhere.
        if str(root) in sys.path:
            sys.path.remove(str(root))
        sys.path.insert(0, str(root))
        top = module_name.split(".")[0]
        for name in [n for n in sys.modules if n == top or n.startswith(top + ".")]:
            del sys.modules[name]
        importlib.invalidate_caches()
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise HookError(f"cannot import hooks module {module_name!r}: {exc}") from None
    except Exception as exc:  # noqa: BLE001 - a bug in the user's module: say where
        raise HookError(
            f"hooks module {module_name!r} failed to import: {type(exc).__name__}: {exc}"
        ) from None
    return ProjectHooks(module)
