"""Every shell command the README shows works as written, on a fresh copy of the checkout: the
quick start (`make demo`; `make test` is what runs this very test, through `.ci/run`) and the
scaffolder's steps, up to `rollupkit up` serving a project made with them."""

from __future__ import annotations

import re
import signal
import subprocess
import time
from pathlib import Path

import pytest
from install_env import ROOT, run, source_copy, user_env

pytestmark = pytest.mark.slow

README = (ROOT / "README.md").read_text()


def shell_blocks() -> list[list[str]]:
    """The README's ```sh blocks, as their command lines."""
    blocks = re.findall(r"```(?:sh|bash)\n(.*?)```", README, flags=re.S)
    assert len(blocks) >= 2, "the README lost its shell blocks"
    return [[line for line in block.splitlines() if line.strip()] for block in blocks]


def command(line: str) -> str:
    """A line without its trailing comment (the README aligns them after two spaces)."""
    return re.split(r"\s{2,}#", line)[0].strip()


@pytest.fixture(scope="module")
def checkout(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return source_copy(tmp_path_factory.mktemp("fresh") / "rollupkit")


def test_the_quick_start_works_and_prints_only_progress_before_the_demo(checkout: Path) -> None:
    quick_start = [command(line) for line in shell_blocks()[0]]
    assert quick_start == ["make demo", "make test"]
    assert "make test" in (ROOT / ".ci" / "run").read_text()  # what CI runs: the suite itself
    done = run("bash", "-c", quick_start[0], cwd=checkout, timeout=1200)
    before_demo = done.stdout.split("demo-rollup: from scaffold")[0].splitlines()
    before_demo = [line for line in before_demo if line.strip()]
    assert len(before_demo) <= 5, "\n".join(before_demo)  # one line a set-up step
    for line in before_demo:
        assert "arning" not in line and "rror" not in line, line
    assert "every L1 transaction of the journey" in done.stdout
    assert "warning" not in done.stderr.lower(), done.stderr[:3000]


def test_the_scaffolder_steps_work_as_written(checkout: Path) -> None:
    lines = [command(line) for line in shell_blocks()[1]]
    assert lines[-1] == "rollupkit up", lines
    if not (checkout / ".venv" / "bin" / "rollupkit").exists():  # the quick start sets it up
        run("make", "setup", cwd=checkout, timeout=1200)
    # All but `rollupkit up` in one shell, as a user would type them; then `up`, in the same
    # shell, until it says the rollup is up; then Ctrl-C.
    script = "set -euo pipefail\n" + "\n".join(lines[:-1]) + "\nexec " + lines[-1] + "\n"
    shell = subprocess.Popen(
        ["bash", "-c", script], cwd=checkout, env=user_env(), text=True,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip
    assert shell.stdout is not None
    seen: list[str] = []
    deadline = time.monotonic() + 1200
    try:
        for line in shell.stdout:
            seen.append(line)
            if "stops it." in line:  # the summary's last line
                break
            assert time.monotonic() < deadline, "".join(seen[-40:])
        else:
            raise AssertionError(
                "the steps ended before `rollupkit up` was up:\n" + "".join(seen[-60:])
            )
        text = "".join(seen)
        assert re.search(r"\d+ passed", text), text[-3000:]  # the project's own tests
        assert " is up (pid " in text and "L2 JSON-RPC:" in text, text[-3000:]
        assert "log:" not in text  # it writes no log file in the foreground
        shell.send_signal(signal.SIGINT)
        rest, _ = shell.communicate(timeout=60)
        assert "stopped" in rest and shell.returncode == 0, rest[-3000:]
    finally:
        if shell.poll() is None:
            shell.kill()


def test_the_riscv_steps_work_as_written(tmp_path: Path) -> None:
    """The RISC-V section's commands: scaffold a riscv project, rebuild its guest examples
    (when clang and lld are here: the rebuilt ELFs are the committed ones)."""
    import os
    import shutil
    import sys

    (block,) = [b for b in shell_blocks() if any("--vm riscv" in line for line in b)]
    lines = [command(line) for line in block]
    if not (shutil.which("clang") and shutil.which("ld.lld")):
        lines = [line for line in lines if not line.startswith("make -C guest")]
    else:  # as if the sources were edited: make rebuilds every example
        lines = [f"touch guest/*.c && {line}" if line.startswith("make -C guest") else line
                 for line in lines]  # fmt: skip
    script = "set -euo pipefail\n" + "\n".join(lines) + "\n"
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    done = subprocess.run(["bash", "-c", script], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=300, check=False)  # fmt: skip
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    guest = tmp_path / "my-rollup" / "guest"
    committed = ROOT / "plugins" / "riscv" / "guest"
    for name in ("token", "counter", "caller", "spin"):
        assert (guest / f"{name}.elf").read_bytes() == (committed / f"{name}.elf").read_bytes()
