"""``rollupkit scaffold plugin``: each kind renders a package whose own tests (rollupkit's
conformance suite and the implementation's) pass, and a rollup built from scaffolded plugins
(VM, state model, derivation, proof backend) passes its generated end-to-end tests.

The install path (``pip install -e``, ``plugins list``, ``scaffold new --vm``) is in
test_install.py, in a fresh virtual environment."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from test_cli import assert_one_line_error, cli

from rollupkit.scaffold.options import RollupOptions
from rollupkit.scaffold.plugin import PluginOptions, new_plugin
from rollupkit.scaffold.project import new_rollup

PLUGINS = {"stack-vm": "vm", "flat-state": "state", "json-batches": "derivation",
           "solo-proof": "proof"}  # fmt: skip


def pytest_in(folder: Path, *, pythonpath: list[Path] = (), args: tuple[str, ...] = ()) -> str:  # type: ignore[assignment]
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    env["PYTHONPATH"] = os.pathsep.join(str(p) for p in [folder, *pythonpath])
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args], cwd=folder,
        capture_output=True, text=True, env=env, check=False, timeout=900,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    return done.stdout


@pytest.fixture(scope="module")
def plugins(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("plugins")
    for name, kind in PLUGINS.items():
        new_plugin(root / name, PluginOptions(name, kind))
    return {name: root / name for name in PLUGINS}


@pytest.mark.parametrize("name", list(PLUGINS))
def test_each_kind_passes_its_own_tests(plugins: dict[str, Path], name: str) -> None:
    out = pytest_in(plugins[name])
    passed = int(re.search(r"(\d+) passed", out).group(1))  # type: ignore[union-attr]
    assert passed >= 6 and "failed" not in out
    assert "Conformance" in (plugins[name] / "tests" / "test_conformance.py").read_text()


def test_the_vm_template_is_a_real_interpreter(plugins: dict[str, Path]) -> None:
    source = (plugins["stack-vm"] / "stack_vm" / "vm.py").read_text()
    assert "class StackVM(AccountVM):" in source and "def run_code" in source
    assert (plugins["stack-vm"] / "pyproject.toml").read_text().count(
        'stack-vm = "stack_vm.plugin"'
    ) == 1


def test_a_rollup_of_scaffolded_plugins_passes_its_end_to_end_tests(
    plugins: dict[str, Path], tmp_path: Path
) -> None:
    """The generated rollup's own tests, unchanged, on a chain whose VM, state model,
    derivation and proof backend all come from `scaffold plugin`."""
    registering = tmp_path / "register_scaffolded.py"
    registering.write_text(
        "from rollupkit import get_registry\n"
        + "".join(
            f"import {name.replace('-', '_')}.plugin as p{i}\n"
            f"get_registry().register(p{i}, name={name!r})\n"
            for i, name in enumerate(PLUGINS)
        )
    )
    options = RollupOptions(name="plug-rollup", vm="stack-vm", state="flat-state",
                            da="json-batches", proof="solo-proof")  # fmt: skip
    env_plugins = [tmp_path, *plugins.values()]
    # The options are checked against installed plugins: register them here too, briefly.
    script = (
        "import register_scaffolded, sys\n"
        "from pathlib import Path\n"
        "from rollupkit.scaffold.options import RollupOptions\n"
        "from rollupkit.scaffold.project import new_rollup\n"
        f"new_rollup(Path(sys.argv[1]), RollupOptions(**{options.to_answers()!r}))\n"
    )
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(map(str, env_plugins)))
    project = tmp_path / "plug-rollup"
    subprocess.run([sys.executable, "-c", script, str(project)], env=env, check=True)
    assert not (project / "contracts").exists()  # no Solidity on a stack-machine chain
    out = pytest_in(project, pythonpath=env_plugins, args=("-p", "register_scaffolded"))
    assert re.search(r"\b4 passed\b", out), out


def test_unknown_plugins_are_refused_before_rendering(tmp_path: Path) -> None:
    with pytest.raises(Exception, match="no vm plugin named 'stack-vm'"):
        new_rollup(tmp_path / "x", RollupOptions(name="x-rollup", vm="stack-vm"))
    assert not (tmp_path / "x").exists()


@pytest.mark.parametrize(
    ("args", "fragments"),
    [
        (["Bad Name", "--kind", "vm"], ["invalid plugin name 'Bad Name'"]),
        (["my-vm", "--kind", "compiler"], ["unknown plugin kind 'compiler'", "vm, state"]),
        (["evm", "--kind", "vm"], ["a vm plugin named 'evm' is already installed (built-in)"]),
        (["my-vm"], ["--kind"]),
    ],
)
def test_bad_plugin_input_is_one_line(
    tmp_path: Path, args: list[str], fragments: list[str]
) -> None:
    assert_one_line_error(cli("scaffold", "plugin", *args, cwd=tmp_path), *fragments)
    assert list(tmp_path.iterdir()) == []
