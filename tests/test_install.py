"""rollupkit installs into a fresh virtual environment, as a wheel and as an editable install,
and works there: plugins found through entry points, data files (contracts, templates)
shipped, the demo runs, and a scaffolded project passes its own tests in that environment.
"""

from __future__ import annotations

import json
import re
import sys
import time
from pathlib import Path

import pytest
from install_env import ROOT, run, source_copy


@pytest.fixture(scope="module")
def wheel_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv with rollupkit installed (not editable) from this checkout."""
    venv = tmp_path_factory.mktemp("wheel") / "venv"
    source = source_copy(tmp_path_factory.mktemp("source"))
    run(sys.executable, "-m", "venv", venv, cwd=venv.parent)
    done = run(venv / "bin" / "python", "-m", "pip", "install", "--quiet", source, cwd=venv.parent)
    # Building rollupkit is silent: setuptools warned about every data folder (700 lines).
    assert "Warning" not in done.stderr and "absent from" not in done.stderr, done.stderr[:3000]
    return venv


@pytest.mark.slow
def test_wheel_install_runs_the_demo(wheel_venv: Path, tmp_path: Path) -> None:
    rollupkit = wheel_venv / "bin" / "rollupkit"
    assert "scaffold" in run(rollupkit, "--help", cwd=tmp_path).stdout
    rows = json.loads(run(rollupkit, "plugins", "list", "--json", cwd=tmp_path).stdout)
    assert {(r["kind"], r["name"], r["origin"]) for r in rows} >= {
        ("vm", "evm", "built-in"),
        ("state", "mpt", "built-in"),
        ("proof", "reexec", "built-in"),
    }
    site = run(wheel_venv / "bin" / "python", "-c", "import rollupkit; print(rollupkit.__file__)",
               cwd=tmp_path).stdout  # fmt: skip
    assert str(ROOT) not in site
    # The main job: templates and contract artifacts come with the wheel.
    demo = run(rollupkit, "demo", cwd=tmp_path).stdout
    assert re.search(r"withdrawal claimed on L1 +│ 0\.5 ETH", demo), demo
    assert "the honest trace" in run(rollupkit, "demo", "execute", "--transfers", "4",
                                     cwd=tmp_path).stdout  # fmt: skip


@pytest.mark.slow
def test_editable_install(tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    run(sys.executable, "-m", "venv", venv, cwd=tmp_path)
    run(venv / "bin" / "python", "-m", "pip", "install", "--quiet", "-e", ROOT, cwd=tmp_path)
    rows = json.loads(run(venv / "bin" / "rollupkit", "plugins", "list", "--json",
                          cwd=tmp_path).stdout)  # fmt: skip
    assert ("vm", "evm", "built-in") in {(r["kind"], r["name"], r["origin"]) for r in rows}
    site = run(venv / "bin" / "python", "-c", "import rollupkit; print(rollupkit.__file__)",
               cwd=tmp_path).stdout  # fmt: skip
    assert site.startswith(str(ROOT))


@pytest.mark.slow
def test_scaffolded_project_passes_its_tests_in_the_fresh_venv(
    wheel_venv: Path, tmp_path: Path
) -> None:
    """The README of a generated project, followed in a fresh venv: install it, run its
    tests, run it with up / status / down."""
    bin_dir = wheel_venv / "bin"
    started = time.monotonic()
    run(bin_dir / "rollupkit", "scaffold", "new", "fresh-rollup", cwd=tmp_path)
    project = tmp_path / "fresh-rollup"
    run(bin_dir / "python", "-m", "pip", "install", "--quiet", "-e", f"{project}[test]",
        cwd=project)  # fmt: skip
    tests = run(bin_dir / "python", "-m", "pytest", "-q", "-p", "no:cacheprovider", cwd=project)
    elapsed = time.monotonic() - started
    assert re.search(r"\b5 passed\b", tests.stdout), tests.stdout
    print(f"scaffold new + pip install -e + pytest of the generated project: {elapsed:.1f} s")
    up = run(bin_dir / "rollupkit", "up", "--detach", "--l1-port", "0", "--rpc-port", "0",
             cwd=project)  # fmt: skip
    try:
        assert "is up" in up.stdout and "L2 JSON-RPC" in up.stdout
        status = run(bin_dir / "rollupkit", "status", cwd=project)
        assert "now: L1 #" in status.stdout
    finally:
        down = run(bin_dir / "rollupkit", "down", cwd=project, check=False)
    assert down.returncode == 0 and "stopped fresh-rollup" in down.stdout


@pytest.mark.slow
def test_scaffolded_vm_plugin_installs_and_runs_a_rollup(wheel_venv: Path, tmp_path: Path) -> None:
    """A plugin author's path: scaffold a VM plugin, install it, see it listed, pass the
    conformance suite, then scaffold a rollup on it and pass that rollup's own tests."""
    bin_dir = wheel_venv / "bin"
    run(bin_dir / "rollupkit", "scaffold", "plugin", "stack-vm", "--kind", "vm", cwd=tmp_path)
    plugin = tmp_path / "stack-vm"
    run(bin_dir / "python", "-m", "pip", "install", "--quiet", "-e", f"{plugin}[test]",
        cwd=plugin)  # fmt: skip
    rows = json.loads(run(bin_dir / "rollupkit", "plugins", "list", "--json", cwd=tmp_path).stdout)
    listed = {(r["kind"], r["name"]): r for r in rows}
    assert listed[("vm", "stack-vm")]["origin"] == "stack-vm"
    plugin_tests = run(bin_dir / "python", "-m", "pytest", "-q", "-p", "no:cacheprovider",
                       cwd=plugin).stdout  # fmt: skip
    assert re.search(r"\b\d+ passed\b", plugin_tests) and "failed" not in plugin_tests

    run(bin_dir / "rollupkit", "scaffold", "new", "stack-rollup", "--vm", "stack-vm",
        "--no-input", cwd=tmp_path)  # fmt: skip
    project = tmp_path / "stack-rollup"
    assert 'vm = "stack-vm"' in (project / "rollup.toml").read_text()
    run(bin_dir / "python", "-m", "pip", "install", "--quiet", "-e", f"{project}[test]",
        cwd=project)  # fmt: skip
    tests = run(bin_dir / "python", "-m", "pytest", "-q", "-p", "no:cacheprovider", cwd=project)
    assert re.search(r"\b4 passed\b", tests.stdout), tests.stdout
