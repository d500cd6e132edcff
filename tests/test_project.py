"""Running a project: ``rollup.toml`` checked as a whole, hooks wired in and checked, the
deployment found again on the next run (and redone when the genesis changes), ``up`` /
``status`` / ``down`` as processes, and ``rollupkit demo`` from scaffold to claim."""

from __future__ import annotations

import json
import os
import re
import signal
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from test_cli import assert_one_line_error, cli

from rollupkit.project.config import ProjectConfig, ProjectError, load_project
from rollupkit.project.hooks import HookError, load_hooks
from rollupkit.project.runner import project_chain, run_project
from rollupkit.scaffold.options import RollupOptions
from rollupkit.scaffold.project import new_rollup


@pytest.fixture
def project(tmp_path: Path) -> Path:
    dest = tmp_path / "proj-rollup"
    new_rollup(dest, RollupOptions(name="proj-rollup"))
    return dest


def _set(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))


def _fast(config: ProjectConfig) -> ProjectConfig:
    return replace(config, block_time=0.2, l1=replace(config.l1, batch_interval=0.3))


# --- configuration and hooks ----------------------------------------------------------------


def test_no_project_here(tmp_path: Path) -> None:
    with pytest.raises(ProjectError, match="no rollup project here"):
        load_project(tmp_path)


@pytest.mark.parametrize(
    ("old", "new", "fragment"),
    [
        ('proof = "reexec"', 'proof = "snark"', "no proof plugin named 'snark'"),
        ('kind = "embedded"', 'kind = "anvil"', "needs an L1 with the EXECUTE precompile"),
        ('derivation = "settlement"', 'derivation = "blobs"', "blob transactions"),
        ("chain_id = 42424", "chain_id = 0", "chain id must be between"),
        (
            "chain_id = 42424",
            "chian_id = 42424",
            "unknown key 'chian_id' (did you mean 'chain_id'?)",
        ),
        ("chain_id = 42424", 'chain_id = "abc"', "[chain] chain_id must be an integer, not 'abc'"),
        (
            'dev_balance = "1',
            'dev_balance = "lots',
            "dev_balance must be an integer (or a string of one)",
        ),
        ("rpc_port = 8546", "rpc_port = 70000", "[node] rpc_port must be a TCP port"),
        ("chain_id = 42424", "chain_id = 1337", "[chain] chain id 1337 is the embedded L1's own"),
        ("[node]", "[nodes]", "unknown table [nodes] (did you mean 'node'?)"),
        (
            "permissionless = false",
            "permissionless = false\n[l1.proof_options]\nthreshold = 2",
            "[l1.proof_options] unknown proof option threshold for ReexecBackend (it takes: none)",
        ),
        (
            'proof = "reexec"',
            'proof = "multiclient"',
            "its settlement does not carry the batch's trace",
        ),
        (
            "permissionless = false",
            "permissionless = false\nattesters = 3",
            "[l1] attesters is an option of the proof backend now, in [l1.proof_options]",
        ),
        ("max_blocks_per_batch = 32", "max_blocks_per_batch = 32\nturbo = true", "turbo"),
        ('[project]\nname = "proj-rollup"', '[project]\nname = "proj-rollup', "not valid TOML"),
    ],
)
def test_configuration_errors_name_the_problem(
    project: Path, old: str, new: str, fragment: str
) -> None:
    _set(project / "rollup.toml", old, new)
    with pytest.raises(ProjectError, match=re.escape(fragment)):
        load_project(project)
    done = cli("status", "--dir", str(project))
    assert_one_line_error(done, fragment)


def test_hooks_module_errors(project: Path) -> None:
    hooks = project / "proj_rollup" / "hooks.py"
    original = hooks.read_text()
    hooks.write_text(original + "\n\ndef rollupkit_genesis_allocation(chain_id):\n    return {}\n")
    config = load_project(project)
    with pytest.raises(HookError, match="unknown hook 'rollupkit_genesis_allocation'; valid"):
        load_hooks(config.hooks, project)
    # A genesis hook allocating an address rollup.toml already funds is refused.
    hooks.write_text(original.replace(
        'TREASURY = keccak(b"proj-rollup treasury")[12:]', "TREASURY = (1).to_bytes(20, 'big')"
    ))  # fmt: skip
    table = '[chain.alloc."0x0000000000000000000000000000000000000001"]\nbalance = "1"\n'
    _set(project / "rollup.toml", "# [chain.alloc.", table + "# [chain.alloc.")
    with pytest.raises(ProjectError, match="already allocates"):
        project_chain(load_project(project), load_hooks(config.hooks, project))
    # A hooks module that does not import is named.
    hooks.write_text("import nonexistent_module_xyz\n")
    with pytest.raises(HookError, match=r"cannot import hooks module 'proj_rollup\.hooks'"):
        load_hooks(config.hooks, project)


# --- deployment: once, then found again -----------------------------------------------------


def test_up_resumes_and_redeploys_when_the_genesis_changes(project: Path) -> None:
    config = _fast(load_project(project))
    with run_project(config, l1_port=0, rpc_port=0, l1_poll=0.2) as rollup:
        assert rollup.record["fresh"] and rollup.record["reason"] == "first deployment"
        first = rollup.record["deployment"]["rollup"]
        receipt = rollup.send(rollup.wallet(0).sign(to=b"\x42" * 20, value=7))
        rollup.wait_settled(receipt["blockNumber"])
    # Again: same contracts, same L2 (the embedded L1 keeps its chain in .rollupkit/l1).
    with run_project(config, l1_port=0, rpc_port=0, l1_poll=0.2) as rollup:
        assert not rollup.record["fresh"]
        assert rollup.record["deployment"]["rollup"] == first
        assert rollup.l2.eth.get_balance("0x" + "42" * 20) == 7
        assert rollup.settled_block() >= receipt["blockNumber"]
    # A different genesis is a different chain: deployed afresh, the old L2 kept aside.
    _set(project / "rollup.toml", "dev_accounts = 10", "dev_accounts = 4")
    config = _fast(load_project(project))
    with run_project(config, l1_port=0, rpc_port=0, l1_poll=0.2) as rollup:
        assert rollup.record["fresh"]
        assert "genesis" in rollup.record["reason"]
        assert rollup.record["deployment"]["rollup"] != first
        assert rollup.l2.eth.get_balance("0x" + "42" * 20) == 0
    assert len(list((project / ".rollupkit").glob("sequencer.old-*"))) == 1


# --- the commands ---------------------------------------------------------------------------


def test_up_status_down_as_processes(project: Path) -> None:
    status = cli("status", "--dir", str(project))
    assert status.returncode == 1 and "is not running" in status.stdout
    up = cli("up", "--detach", "--dir", str(project), "--l1-port", "0", "--rpc-port", "0")
    try:
        assert up.returncode == 0, up.stderr
        record = json.loads((project / ".rollupkit" / "up.json").read_text())
        for text in (record["l1"]["url"], record["l2"]["url"], record["contracts"]["rollup"],
                     record["l2_dev_keys"][0]["key"], "deployed (first deployment)"):  # fmt: skip
            assert text in up.stdout
        again = cli("up", "--dir", str(project))
        assert_one_line_error(again, "already up", "rollupkit down")
        status = cli("status", "--dir", str(project))
        assert status.returncode == 0, status.stderr
        assert re.search(r"now: L1 #\d+ \| L2 #\d+, settled #\d+", status.stdout), status.stdout
    finally:
        down = cli("down", "--dir", str(project))
    assert down.returncode == 0 and "stopped proj-rollup" in down.stdout
    assert not (project / ".rollupkit" / "up.json").exists()
    assert cli("status", "--dir", str(project)).returncode == 1
    # Up again: the deployment is found, not redone.
    up = cli("up", "--detach", "--dir", str(project), "--l1-port", "0", "--rpc-port", "0")
    try:
        assert up.returncode == 0, up.stderr
        assert "found from the last run (resumed)" in up.stdout
    finally:
        cli("down", "--dir", str(project))


@pytest.mark.slow
def test_a_killed_up_loses_nothing_acknowledged(project: Path) -> None:
    """`up` runs the embedded L1 and the node in one process: SIGKILL it right after an L2
    transaction is acknowledged and an L1 deposit is mined; the next `up` has both."""
    from eth_account import Account
    from web3 import Web3

    from rollupkit.l1.contracts import Deployment, RollupContracts
    from rollupkit.testing.wallets import dev_wallets

    def up() -> dict[str, Any]:
        done = cli("up", "--detach", "--dir", str(project), "--l1-port", "0", "--rpc-port", "0")
        assert done.returncode == 0, done.stderr
        return json.loads((project / ".rollupkit" / "up.json").read_text())  # type: ignore[no-any-return]

    depositor, receiver = Web3.to_checksum_address("0x" + "77" * 20), "0x" + "88" * 20
    record = up()
    try:
        l1 = Web3(Web3.HTTPProvider(record["l1"]["url"]))
        l2 = Web3(Web3.HTTPProvider(record["l2"]["url"]))
        deployed = json.loads((project / ".rollupkit" / "deployment.json").read_text())
        user = Account.from_key(record["l1_dev_keys"][2]["key"])
        RollupContracts(l1, Deployment(**deployed["deployment"]), user).deposit(
            bytes.fromhex(depositor[2:]), 10**18
        )
        wallet = dev_wallets(1, chain_id=l2.eth.chain_id)[0]
        wallet.nonce = l2.eth.get_transaction_count(wallet.checksum_address, "pending")
        l2.eth.send_raw_transaction(wallet.transfer(bytes.fromhex(receiver[2:]), 12_345))
    finally:
        os.kill(record["pid"], signal.SIGKILL)
    record = up()  # a stale up.json of a dead process is not "already up"
    try:
        l2 = Web3(Web3.HTTPProvider(record["l2"]["url"]))
        assert record["deployed"]["fresh"] is False  # the same deployment, found again
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            got = (l2.eth.get_balance(Web3.to_checksum_address(receiver)),
                   l2.eth.get_balance(depositor))  # fmt: skip
            if all(got):
                break
            time.sleep(0.3)
        assert got == (12_345, 10**18)
    finally:
        cli("down", "--dir", str(project))


def test_up_outside_a_project_is_one_line(tmp_path: Path) -> None:
    assert_one_line_error(cli("up", cwd=tmp_path), "no rollup project here")


def test_a_port_in_use_is_one_line(project: Path) -> None:
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        done = cli("up", "--dir", str(project), "--l1-port", str(port))
    assert_one_line_error(done, f"cannot serve the embedded L1 on port {port}")


def test_demo_goes_from_scaffold_to_claimed_withdrawal(tmp_path: Path) -> None:
    done = cli("demo", "--dir", str(tmp_path / "demo"))
    assert done.returncode == 0, done.stderr
    out = done.stdout
    for step in ("scaffold", "up", "deposit", "L2 transfer", "withdraw", "batch + settlement",
                 "claim", "total"):  # fmt: skip
        assert re.search(rf"│ {re.escape(step)} +│ \d+\.\d\d s │", out), step
    assert re.search(r"withdrawal claimed on L1 │ 0\.5 ETH to 0x[0-9a-fA-F]{40}", out)
    assert re.search(r"pre-state root +│ 0x[0-9a-f]{64}", out)
    assert re.search(r"\d+\.\d s from the command's start", out)
    # Every L1 transaction with its gas and bytes: one posting, the settlement carrying the
    # blocks (re-execution's default), with its bytes and gas per L2 transaction.
    for kind in ("deposit", "settlement", "claim"):
        assert re.search(rf"│ {kind}: .* │ +[\d,]+ │ +[\d,]+ │ +0 │", out), kind
    assert "batch data:" not in out
    assert re.search(r"│ settlement: .* │ +0 │ +[\d,]+ │ +[\d,]+ │", out), out
    total = re.search(r"│ total \(3 transactions\) +│ +([\d,]+) │ +([\d,]+) │", out)
    assert total and int(total[1].replace(",", "")) > 200_000, out
    assert (tmp_path / "demo" / "rollup.toml").is_file()  # --dir keeps the project
    # Again in the same folder: resumed, and the journey still ends in a claim.
    again = cli("demo", "--dir", str(tmp_path / "demo"))
    assert again.returncode == 0, again.stderr
    assert "resumed the project" in again.stdout and "0.5 ETH to" in again.stdout


def test_generated_tests_pass_in_process(project: Path) -> None:
    """The generated project's own tests, run by pytest here (the fresh-venv run is in
    test_install.py)."""
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        cwd=project, capture_output=True, text=True, check=False, timeout=600,
        env={**__import__("os").environ, "PYTHONPATH": str(project)},
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert re.search(r"\b5 passed\b", done.stdout), done.stdout[-500:]


@pytest.mark.slow
def test_a_multi_vm_project_passes_its_own_tests(tmp_path: Path) -> None:
    """`scaffold new --vm multi`: EVM contracts and both guest SDKs, and its tests (end to end,
    the EVM token, and RISC-V calling wasm over web3.py with eth_call and eth_estimateGas)
    pass."""
    dest = tmp_path / "multi-rollup"
    new_rollup(dest, RollupOptions(name="multi-rollup", vm="multi"))
    assert (dest / "guest" / "riscv" / "caller.elf").is_file()
    assert (dest / "guest" / "wasm" / "counter.wasm").is_file()
    assert (dest / "contracts" / "MultiRollupToken.sol").is_file()
    _own_tests_pass(dest, 6)


@pytest.mark.slow
@pytest.mark.parametrize(("vm", "state"), [("riscv", "mpt"), ("wasm", "binary")])
def test_a_guest_vm_project_passes_its_own_tests(tmp_path: Path, vm: str, state: str) -> None:
    """`scaffold new --vm riscv|wasm [--state binary]`: the project gets the guest SDK and
    the example contracts, and its tests (end to end, and the token used from web3.py) pass
    on its state model."""
    from rollupkit_riscv.examples import example_elf
    from rollupkit_wasm.examples import example_wasm

    dest = tmp_path / f"{vm}-rollup"
    new_rollup(dest, RollupOptions(name=f"{vm}-rollup", vm=vm, state=state))
    assert f'state = "{state}"' in (dest / "rollup.toml").read_text()
    built = "token.elf" if vm == "riscv" else "token.wasm"
    example = example_elf("token") if vm == "riscv" else example_wasm("token")
    assert (dest / "guest" / built).read_bytes() == example
    assert (dest / "guest" / "rollupkit.h").is_file() and (dest / "guest" / "Makefile").is_file()
    _own_tests_pass(dest, 5)


@pytest.mark.slow
def test_a_booster_project_passes_its_own_tests(tmp_path: Path) -> None:
    """`scaffold new --booster`: a booster chain with a ballot on L1; its tests (end to end,
    the EVM token, and L2 votes through L1CALL settling on L1 as applyStateUpdates) pass."""
    dest = tmp_path / "boost-rollup"
    done = cli("scaffold", "new", "boost-rollup", "--booster", "--no-input", "--dir", str(dest))
    assert done.returncode == 0, done.stderr
    assert 'vm = "booster"' in (dest / "rollup.toml").read_text()
    assert (dest / "contracts" / "build" / "BoostRollupBallot.json").is_file()
    assert "L1CALL" in (dest / "README.md").read_text()
    _own_tests_pass(dest, 6)


@pytest.mark.slow
def test_a_zkpay_project_passes_its_own_tests(tmp_path: Path) -> None:
    """`scaffold new --vm zkpay --state poseidon --proof groth16`: a payments chain settled by
    Groth16 proofs; its tests (end to end with the claim, payments, refusals, a bounced
    deposit refunded on L1, proofs) pass.
    The keys go to a cache of the test's own (XDG_CACHE_HOME), made by `rollupkit zk setup`
    run in the project, which the project's tests then load."""
    dest = tmp_path / "pay-rollup"
    done = cli("scaffold", "new", "pay-rollup", "--vm", "zkpay", "--state", "poseidon",
               "--proof", "groth16", "--no-input", "--dir", str(dest))  # fmt: skip
    assert done.returncode == 0, done.stderr
    toml = (dest / "rollup.toml").read_text()
    assert 'vm = "zkpay"' in toml and 'proof = "groth16"' in toml and "slots = 8" in toml
    assert "rollupkit zk setup" in (dest / "README.md").read_text()
    cache = tmp_path / "cache"
    env = {**os.environ, "XDG_CACHE_HOME": str(cache)}
    import subprocess

    made = subprocess.run(
        [str(Path(sys.executable).with_name("rollupkit")), "zk", "setup"], cwd=dest, env=env,
        capture_output=True, text=True, check=False, timeout=900,
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    assert "zkpay batches of 8 operations" in made.stdout
    assert any((cache / "rollupkit" / "zkpay").glob("zkpay-8x20-*/proving.key"))
    _own_tests_pass(dest, 8, env=env)


def test_booster_is_vm_booster_only() -> None:
    done = cli("scaffold", "new", "boost-rollup", "--booster", "--vm", "evm", "--no-input")
    assert_one_line_error(done, "--booster is --vm booster")


def _own_tests_pass(dest: Path, count: int, env: dict[str, str] | None = None) -> None:
    """Run a generated project's own tests with pytest; all ``count`` of them pass."""
    import subprocess

    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        cwd=dest, capture_output=True, text=True, check=False, timeout=600,
        env={**(env or os.environ), "PYTHONPATH": str(dest)},
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert re.search(rf"\b{count} passed\b", done.stdout), done.stdout[-500:]


@pytest.mark.slow
def test_an_optimistic_project_passes_its_own_tests(tmp_path: Path) -> None:
    """`scaffold new --proof optimistic`: its batches are proposed with a bond and settle once
    the (development: 20 s) challenge window has passed; its tests, end to end to a claimed
    withdrawal, pass."""
    dest = tmp_path / "optimistic-rollup"
    new_rollup(dest, RollupOptions(name="optimistic-rollup", proof="optimistic"))
    toml = (dest / "rollup.toml").read_text()
    assert 'proof = "optimistic"' in toml and "window = 20" in toml
    _own_tests_pass(dest, 5)


def test_a_bad_proof_option_is_named(project: Path) -> None:
    _set(project / "rollup.toml", 'derivation = "settlement"', 'derivation = "calldata"')
    _set(project / "rollup.toml", 'proof = "reexec"',
         'proof = "multiclient"\nproof_options = { attester_keys = ["0x12"] }')  # fmt: skip
    fragment = "[l1.proof_options] attester_keys[0] is not a 32-byte hex private key"
    with pytest.raises(ProjectError, match=re.escape(fragment)):
        load_project(project)
