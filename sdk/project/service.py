"""What ``rollupkit up`` leaves for ``status`` and ``down``: a record of the running rollup
(``.rollupkit/up.json``: its pid, URLs, contracts and dev keys), and a way to read its state
over JSON-RPC."""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path
from typing import Any

from rollupkit.errors import RollupkitError
from rollupkit.l1.anvil import rpc
from rollupkit.l1.devnet import dev_accounts
from rollupkit.project.config import ProjectConfig
from rollupkit.project.running import RunningRollup

UP_FILE = "up.json"
LOG_FILE = "up.log"


def up_record(
    config: ProjectConfig, rollup: RunningRollup, *, pid: int, log: str | None = None
) -> dict[str, Any]:
    """What a running ``up`` tells ``status``, ``down`` and the user (``log``: where its
    output goes, when it runs in the background)."""
    deployment = rollup.settings.deployment
    l1_keys: list[dict[str, str]] = []
    if not config.l1.is_url:  # dev keys of a dev L1; never write a real key to disk
        for role, account in zip(("deployer", "batcher", "user"), dev_accounts(3), strict=True):
            l1_keys.append(
                {"role": role, "address": account.address, "key": "0x" + bytes(account.key).hex()}
            )
    return {
        "pid": pid,
        "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "project": config.name,
        "l1": {"kind": rollup.l1_kind, "url": rollup.l1_url, "chain_id": rollup.l1.eth.chain_id},
        "l2": {"url": rollup.l2_url, "chain_id": config.chain_id},
        "contracts": {
            "bridge": deployment.bridge,
            "verifier": deployment.verifier,
            "rollup": deployment.rollup,
            "inbox": rollup.settings.inbox,
        },
        "proof": deployment.proof,
        "deployed": {"fresh": rollup.record.get("fresh"), "reason": rollup.record.get("reason")},
        "l1_dev_keys": l1_keys,
        "l2_dev_keys": [
            {"address": w.checksum_address, "key": "0x" + w.private_key.hex()}
            for w in rollup.wallets
        ],
        "log": log,
    }


def write_up_record(config: ProjectConfig, record: dict[str, Any]) -> None:
    config.state_dir.mkdir(parents=True, exist_ok=True)
    path = config.state_dir / UP_FILE
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(record, indent=2) + "\n")
    os.replace(temporary, path)


def read_up_record(config: ProjectConfig) -> dict[str, Any] | None:
    try:
        data: dict[str, Any] = json.loads((config.state_dir / UP_FILE).read_text())
        return data
    except (FileNotFoundError, ValueError):
        return None


def remove_up_record(config: ProjectConfig, pid: int | None = None) -> None:
    """Remove the record (only if it is ``pid``'s, when given)."""
    record = read_up_record(config)
    if record is not None and (pid is None or record.get("pid") == pid):
        (config.state_dir / UP_FILE).unlink(missing_ok=True)


def process_alive(pid: int) -> bool:
    """Whether ``pid`` is a live rollupkit process (a reused pid of another program is not)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return False  # someone else's process: not ours
    cmdline = Path(f"/proc/{pid}/cmdline")
    if cmdline.exists():
        try:
            text = cmdline.read_bytes()
        except OSError:
            return False
        if b"rollupkit" not in text:
            return False
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"  # not a zombie
    return True


def stop_process(pid: int, timeout: float = 30) -> bool:
    """SIGTERM, then SIGKILL after ``timeout``; True if it had to be killed."""
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return False
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not process_alive(pid):
            return False
        time.sleep(0.1)
    os.kill(pid, signal.SIGKILL)
    return True


def snapshot(l1_url: str, l2_url: str) -> dict[str, Any]:
    """Heads, settlement and queue, read over JSON-RPC (what ``status`` and the live line show)."""
    out: dict[str, Any] = {}
    try:
        out["l1_block"] = int(str(rpc(l1_url, "eth_blockNumber", timeout=2)), 16)
    except (OSError, RollupkitError) as exc:
        out["l1_error"] = str(exc)
    try:
        status = rpc(l2_url, "rollup_status", timeout=2)
        assert isinstance(status, dict)
        for key in ("head", "settledBlock", "batches", "pendingTransactions", "queueIndex"):
            out[key] = int(status[key], 16)
        out["errors"] = status.get("errors", [])
    except (OSError, RollupkitError) as exc:
        out["l2_error"] = str(exc)
    return out


def snapshot_line(snap: dict[str, Any]) -> str:
    """One line: ``L1 #120 | L2 #57, settled #52 | 9 batches | 0 pending``."""
    l1 = f"L1 #{snap['l1_block']}" if "l1_block" in snap else "L1 unreachable"
    if "head" not in snap:
        return f"{l1} | L2 unreachable"
    line = (
        f"{l1} | L2 #{snap['head']}, settled #{snap['settledBlock']} | {snap['batches']} batches"
        f" | {snap['pendingTransactions']} pending | {snap['queueIndex']} deposits in"
    )
    if snap.get("errors"):
        line += f" | last error: {snap['errors'][-1][:80]}"
    return line
