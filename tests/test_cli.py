"""The command line: each command works, and every user error is one line, exit non-zero."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from rollupkit.testing.evm import EvmScenario

ROOT = Path(__file__).resolve().parents[1]


def cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, ROLLUPKIT_PLUGINS="builtin", COLUMNS="160")
    return subprocess.run(
        [sys.executable, "-m", "rollupkit_cli", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        check=False,
    )


def assert_one_line_error(done: subprocess.CompletedProcess[str], *fragments: str) -> None:
    assert done.returncode != 0
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("error: ")
    assert "Traceback" not in done.stderr
    for fragment in fragments:
        assert fragment in lines[0]


@pytest.fixture(scope="module")
def trace_file(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, object]:
    s = EvmScenario.create(wallets=3)
    built = s.chain.build(transactions=[s.wallets[1].transfer(s.wallets[2].address, 5)])
    path = tmp_path_factory.mktemp("trace") / "trace.bin"
    path.write_bytes(built.encoded)
    return path, built


def test_help_and_version() -> None:
    done = cli("--help")
    assert done.returncode == 0
    for command in ("demo", "execute", "plugins", "contracts", "trace", "scaffold", "up"):
        assert command in done.stdout
    version = cli("--version")
    assert version.returncode == 0 and version.stdout.startswith("rollupkit ")


def test_flags_are_shown_as_flags(tmp_path: Path) -> None:
    """typer's rich help showed `--force <bool>`, and `--force true` was then refused."""
    done = cli("scaffold", "new", "--help")
    assert done.returncode == 0
    force = next(line for line in done.stdout.splitlines() if "--force" in line)
    assert "<bool>" not in done.stdout and force.split()[0] == "--force", force
    assert "Usage: rollupkit scaffold new [OPTIONS] {NAME}" in done.stdout
    made = cli("scaffold", "new", "flags", "--no-input", "--force", "--dir", str(tmp_path / "f"))
    assert made.returncode == 0, made.stderr


def test_execute_demo_prints_its_tables_and_saves_a_verifiable_trace(tmp_path: Path) -> None:
    done = cli("demo", "execute", "--transfers", "6", "--out", str(tmp_path))
    assert done.returncode == 0, done.stderr
    assert "the honest trace" in done.stdout and "post-state-mismatch" in done.stdout
    assert "NO" not in done.stdout.split("as expected", 1)[1]
    args = json.loads((tmp_path / "execute.json").read_text())
    verified = cli(
        "execute",
        str(tmp_path / "trace.bin"),
        "--pre",
        args["pre_state_root"],
        "--post",
        args["post_state_root"],
        "--gas",
        str(args["gas_used"]),
    )
    assert verified.returncode == 0 and verified.stdout.strip() == "EXECUTE: true"


def test_execute_verdicts_and_json(trace_file) -> None:  # type: ignore[no-untyped-def]
    path, built = trace_file
    pre, post = "0x" + built.pre_state_root.hex(), "0x" + built.post_state_root.hex()
    wrong_gas = cli(
        "execute", str(path), "--pre", pre, "--post", post, "--gas", str(built.gas_used + 1)
    )
    assert wrong_gas.returncode == 1 and "gas-mismatch" in wrong_gas.stdout
    as_json = cli(
        "execute", str(path), "--pre", pre, "--post", post, "--gas", str(built.gas_used), "--json"
    )
    verdict = json.loads(as_json.stdout)
    assert verdict["ok"] is True and verdict["outputs"]["post_state_root"] == post
    hex_file = path.with_suffix(".hex")
    hex_file.write_text("0x" + built.encoded.hex() + "\n")
    assert (
        cli(
            "execute", str(hex_file), "--pre", pre, "--post", post, "--gas", str(built.gas_used)
        ).returncode
        == 0
    )


def test_execute_with_an_independent_client(trace_file) -> None:  # type: ignore[no-untyped-def]
    path, built = trace_file
    pre, post = "0x" + built.pre_state_root.hex(), "0x" + built.post_state_root.hex()
    gas = str(built.gas_used)
    done = cli("execute", str(path), "--pre", pre, "--post", post, "--gas", gas, "--client", "revm")
    assert done.returncode == 0 and done.stdout.strip() == "EXECUTE: true"
    wrong = cli("execute", str(path), "--pre", pre, "--post", pre, "--gas", gas, "--client", "revm")
    assert wrong.returncode == 1 and "post-state-mismatch" in wrong.stdout
    assert_one_line_error(
        cli("execute", str(path), "--pre", pre, "--post", post, "--gas", gas, "--client", "nope"),
        "no client plugin named 'nope'",
    )
    assert_one_line_error(
        cli(
            "execute", str(path), "--pre", pre, "--post", post, "--gas", gas, "--client", "rv32ref"
        ),
        "client 'rv32ref' implements VM 'riscv', not 'evm'",
    )


def test_trace_inspect(trace_file) -> None:  # type: ignore[no-untyped-def]
    path, _ = trace_file
    done = cli("trace", "inspect", str(path))
    assert done.returncode == 0 and "transactions: 1" in done.stdout


def test_user_errors_are_one_line(trace_file, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path, built = trace_file
    pre = "0x" + built.pre_state_root.hex()
    assert_one_line_error(cli("nope"), "No such command")
    assert_one_line_error(
        cli("execute", str(path), "--pre", "0x12", "--post", pre, "--gas", "1"),
        "--pre must be 32 bytes",
    )
    assert_one_line_error(
        cli("execute", str(tmp_path / "missing"), "--pre", pre, "--post", pre, "--gas", "1"),
        "no such file",
    )
    assert_one_line_error(
        cli("execute", str(path), "--pre", pre, "--post", pre, "--gas", "-1"), "--gas"
    )
    garbage = tmp_path / "garbage.bin"
    garbage.write_bytes(b"\x01\x02\x03")
    assert_one_line_error(cli("trace", "inspect", str(garbage)), "not valid RLP")
    assert_one_line_error(
        cli("execute", str(path), "--pre", pre, "--post", pre, "--gas", "1", "--vm", "nope"),
        "no vm plugin named 'nope' (available: booster, evm, multi, riscv, wasm, zkpay)",
    )


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("node") is None, reason="Node.js is needed to compile Solidity")
def test_contract_artifacts_match_sources_and_edits_are_caught(tmp_path: Path) -> None:
    done = cli("contracts", "build", "--check")
    assert done.returncode == 0, done.stderr
    copy = tmp_path / "contracts"
    shutil.copytree(ROOT / "contracts", copy, ignore=shutil.ignore_patterns("__pycache__", "*.py"))
    assert cli("contracts", "build", "--check", str(copy)).returncode == 0
    source = copy / "L2Bridge.sol"
    source.write_text(source.read_text().replace("withdrawalCount++", "withdrawalCount += 1"))
    stale = cli("contracts", "build", "--check", str(copy))
    assert stale.returncode == 1 and "L2Bridge.json" in stale.stderr
    assert cli("contracts", "build", str(copy)).returncode == 0
    assert cli("contracts", "build", "--check", str(copy)).returncode == 0
