"""rollupkit installs into a fresh virtual environment, as a wheel and as an editable install,
and the installed command works there (plugins found through entry points, data files shipped).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def run(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("ROLLUPKIT_", "PYTHONPATH", "VIRTUAL_ENV"))
    }
    done = subprocess.run(
        [str(a) for a in args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        check=False,
        timeout=900,
    )
    assert done.returncode == 0, f"{args}: {done.stdout[-2000:]}\n{done.stderr[-2000:]}"
    return done


@pytest.mark.slow
@pytest.mark.parametrize("editable", [False, True], ids=["wheel", "editable"])
def test_fresh_virtualenv_install(tmp_path: Path, editable: bool) -> None:
    venv = tmp_path / "venv"
    run(sys.executable, "-m", "venv", venv, cwd=tmp_path)
    pip = [venv / "bin" / "python", "-m", "pip", "install", "--quiet"]
    run(*pip, *(["-e", ROOT] if editable else [ROOT]), cwd=tmp_path)
    rollupkit = venv / "bin" / "rollupkit"
    assert "demo" in run(rollupkit, "--help", cwd=tmp_path).stdout
    rows = json.loads(run(rollupkit, "plugins", "list", "--json", cwd=tmp_path).stdout)
    assert {(r["kind"], r["name"], r["origin"]) for r in rows} >= {
        ("vm", "evm", "built-in"),
        ("state", "mpt", "built-in"),
    }
    if not editable:  # the wheel must carry the contract artifacts the demo deploys
        assert (
            "the honest trace"
            in run(rollupkit, "demo", "execute", "--transfers", "4", cwd=tmp_path).stdout
        )
        site = run(
            venv / "bin" / "python",
            "-c",
            "import rollupkit; print(rollupkit.__file__)",
            cwd=tmp_path,
        ).stdout
        assert str(ROOT) not in site
