"""The architecture stays as designed: these fail when a change crosses a boundary.

* production code (``sdk/`` outside ``testing``, ``cli/``, ``plugins/``) never imports
  ``rollupkit.testing``;
* the block loop lives in ``rollupkit.block`` only: no VM iterates a block's messages or
  transactions;
* core never compares a plugin's name (``vm == "evm"``) to decide what to do: plugins say what
  they need through their interfaces;
* the command line starts without the heavy libraries (py-evm, web3, aiohttp): each command
  imports what it needs (``benchmarks/cli_start.py`` measures the start).
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def sources(*folders: str, skip: tuple[str, ...] = ()) -> list[Path]:
    found = []
    for folder in folders:
        for path in sorted((ROOT / folder).rglob("*.py")):
            if not any(part in path.relative_to(ROOT).parts for part in skip):
                found.append(path)
    assert found, folders
    return found


def test_production_code_does_not_import_the_testing_helpers() -> None:
    offenders = [
        str(path.relative_to(ROOT))
        for path in sources("sdk", "cli", "plugins", skip=("testing",))
        if re.search(r"^\s*(from|import) rollupkit\.testing\b", path.read_text(), re.M)
    ]
    assert offenders == []


def test_no_vm_walks_a_blocks_messages_or_transactions() -> None:
    """A VM applies one step at a time; the order of a block is rollupkit.block's."""
    loop = re.compile(r"for \w+ in [\w.]*\b(l1_messages|transactions)\b")
    vms = [ROOT / "sdk" / "accountvm.py", *sources("plugins")]
    assert [str(path.relative_to(ROOT)) for path in vms if loop.search(path.read_text())] == []
    assert loop.search((ROOT / "sdk" / "block.py").read_text())  # ...and the core does


def test_core_does_not_branch_on_plugin_names() -> None:
    pattern = re.compile(
        r"""(\b(vm|state|model|proof|backend|derivation)(_name)?|\.get\(["'](vm|state)["'][^)]*\))"""
        r"""\s*(==|!=)\s*["']\w+["']"""
    )
    offenders = [
        str(path.relative_to(ROOT))
        for path in sources("sdk", skip=("testing",))
        if pattern.search(path.read_text())
    ]
    assert offenders == []


def test_the_command_line_starts_without_the_heavy_libraries() -> None:
    heavy = ("eth", "web3", "aiohttp", "eth_abi", "eth_account", "py_ecc", "rollupkit.node")
    probe = (
        "import sys; from rollupkit_cli import main; "
        f"print(' '.join(m for m in {heavy!r} if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.split() == [], f"imported at start: {done.stdout}"
