"""Test support: commands run as a user would, and a clean copy of the checkout."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def user_env() -> dict[str, str]:
    """The environment a user's shell would have: none of the test suite's settings, and no
    virtual environment active (this test run's ``.venv/bin`` is off the PATH too)."""
    venv_bin = os.path.abspath(os.path.dirname(sys.executable))
    path = [
        p for p in os.environ.get("PATH", "").split(os.pathsep) if os.path.abspath(p) != venv_bin
    ]
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("ROLLUPKIT_", "PYTHONPATH", "VIRTUAL_ENV", "PYTEST_"))
    }
    return {**env, "PATH": os.pathsep.join(path)}


def run(
    *args: str | Path, cwd: Path, check: bool = True, timeout: float = 900
) -> subprocess.CompletedProcess[str]:
    """Run a command as a user would: none of the test suite's rollupkit settings."""
    env = user_env()
    done = subprocess.run(
        [str(a) for a in args], capture_output=True, text=True, cwd=cwd, env=env, check=False,
        timeout=timeout,
    )  # fmt: skip
    if check:
        assert done.returncode == 0, f"{args}: {done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done


def source_copy(dest: Path) -> Path:
    """The checkout's files (tracked and new, not ignored) copied to ``dest``.

    Building the wheel from a copy keeps a stale ``build/`` folder in the checkout (setuptools
    reuses it, files deleted from the source included) out of the test."""
    listed = run("git", "ls-files", "-z", "--cached", "--others", "--exclude-standard", cwd=ROOT)
    for name in filter(None, listed.stdout.split("\0")):
        source = ROOT / name
        if source.is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, dest / name)
    return dest
