"""``rollupkit up``, ``status`` and ``down``: run a rollup project's L1, contracts and node."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from rollupkit.errors import RollupkitError

if TYPE_CHECKING:
    from rich.console import Console

    from rollupkit.project.config import ProjectConfig

#: Tells the `up` that `up --detach` starts where its output goes.
_LOG_ENV = "ROLLUPKIT_UP_LOG"
_DIR = typer.Option(None, "--dir", help="The project folder (default: found from here).")


def _running(config: ProjectConfig) -> dict[str, Any] | None:
    from rollupkit.project.service import process_alive, read_up_record, remove_up_record

    record = read_up_record(config)
    if record is None:
        return None
    if process_alive(int(record.get("pid", 0))):
        return record
    remove_up_record(config)  # left by a process that died without cleaning up
    return None


def print_summary(record: dict[str, Any], console: Console) -> None:
    """URLs, contracts and dev keys of a running rollup."""
    deployed = record.get("deployed") or {}
    how = (
        f"deployed ({deployed.get('reason')})"
        if deployed.get("fresh")
        else "found from the last run (resumed)"
    )
    console.print(f"[bold]{record['project']}[/bold] is up (pid {record['pid']})")
    console.print(
        f"  L1 ({record['l1']['kind']}): {record['l1']['url']}  chain {record['l1']['chain_id']}"
    )
    console.print(f"  L2 JSON-RPC:    {record['l2']['url']}  chain {record['l2']['chain_id']}")
    console.print(f"  contracts, {how}; proof {record['proof']}:")
    for name, address in record["contracts"].items():
        console.print(f"    {name:9} {address}")
    if record.get("l1_dev_keys"):
        console.print("  L1 dev accounts (10,000 ETH each; dev keys, never use them for real):")
        for account in record["l1_dev_keys"]:
            console.print(f"    {account['role']:9} {account['address']}  {account['key']}")
    keys = record.get("l2_dev_keys") or []
    if keys:
        console.print(f"  L2 dev wallets funded at genesis ({len(keys)}; keys 0x…01 upwards):")
        for account in keys[:3]:
            console.print(f"    {account['address']}  {account['key']}")
        if len(keys) > 3:
            console.print(f"    … and {len(keys) - 3} more")
    if record.get("log"):  # only a background `up` writes one
        console.print(f"  log: {record['log']}")


def up(
    directory: Path = _DIR,
    detach: bool = typer.Option(
        False, "--detach", "-d", help="Run in the background; `rollupkit down` stops it."
    ),
    l1_port: int = typer.Option(
        None, min=0, max=65535, help="Serve the L1 here (default: rollup.toml's; 0: any free)."
    ),
    rpc_port: int = typer.Option(
        None,
        min=0,
        max=65535,
        help="Serve the L2 JSON-RPC here (default: rollup.toml's; 0: any free).",
    ),
    follower: bool = typer.Option(False, "--follower", help="Also run a follower node."),
    timeout: float = typer.Option(180, help="With --detach: how long to wait for it to be up."),
) -> None:
    """Start the project's rollup: its L1, its contracts (deployed once) and its node.

    The L1 is the embedded one unless rollup.toml names anvil or a URL. Prints the URLs, the
    contract addresses and the funded dev keys, then a live status line. Run again after a
    failure, it resumes: what is deployed stays deployed."""
    from rollupkit.project.config import load_project

    config = load_project(directory)
    running = _running(config)
    if running is not None:
        raise RollupkitError(
            f"{config.name} is already up (pid {running['pid']}, L2 at {running['l2']['url']}); "
            "`rollupkit down` stops it"
        )
    if detach:
        _detach(config, l1_port, rpc_port, follower, timeout)
        return
    _foreground(config, l1_port, rpc_port, follower)


def _foreground(
    config: ProjectConfig, l1_port: int | None, rpc_port: int | None, follower: bool
) -> None:
    from rich.console import Console

    from rollupkit.project.runner import run_project
    from rollupkit.project.service import remove_up_record, up_record, write_up_record
    from rollupkit.rpc.server import tune_process_for_serving

    console = Console(soft_wrap=True)
    interactive = console.is_terminal
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    with console.status("starting", spinner="dots") as progress:
        tune_process_for_serving()
        context = run_project(
            config, l1_port=l1_port, rpc_port=rpc_port, follower=follower,
            progress=lambda text: _progress(progress, console, interactive, text),
        )  # fmt: skip
        rollup = context.__enter__()
    try:
        record = up_record(config, rollup, pid=os.getpid(), log=os.environ.get(_LOG_ENV))
        write_up_record(config, record)
        print_summary(record, console)
        console.print("Ctrl-C (or `rollupkit down`) stops it.", style="dim")
        _status_loop(record, console, interactive, stop)
    finally:
        remove_up_record(config, os.getpid())
        context.__exit__(None, None, None)
        console.print("stopped")


def _progress(progress: Any, console: Console, interactive: bool, text: str) -> None:
    if interactive:
        progress.update(text)
    else:
        console.print(text)


def _status_loop(
    record: dict[str, Any], console: Console, interactive: bool, stop: threading.Event
) -> None:
    """A live status line on a terminal; a line every 30 s in a log."""
    from rollupkit.project.service import snapshot, snapshot_line

    l1_url, l2_url = record["l1"]["url"], record["l2"]["url"]
    if interactive:
        with console.status("", spinner="dots") as line:
            while not stop.wait(1.0):
                line.update(snapshot_line(snapshot(l1_url, l2_url)))
    else:
        while not stop.wait(30.0):
            console.print(time.strftime("%H:%M:%S ") + snapshot_line(snapshot(l1_url, l2_url)))


def _detach(
    config: ProjectConfig,
    l1_port: int | None,
    rpc_port: int | None,
    follower: bool,
    timeout: float,
) -> None:
    from rich.console import Console

    from rollupkit.project.service import LOG_FILE, read_up_record, stop_process

    config.state_dir.mkdir(parents=True, exist_ok=True)
    log_path = config.state_dir / LOG_FILE
    args = [sys.executable, "-m", "rollupkit_cli", "up", "--dir", str(config.root)]
    if l1_port is not None:
        args += ["--l1-port", str(l1_port)]
    if rpc_port is not None:
        args += ["--rpc-port", str(rpc_port)]
    if follower:
        args.append("--follower")
    with open(log_path, "ab") as log:
        log.write(f"\n--- rollupkit up --detach at {time.ctime()}\n".encode())
        log.flush()
        child = subprocess.Popen(
            args, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True, cwd=config.root, env={**os.environ, _LOG_ENV: str(log_path)},
        )  # fmt: skip
    console = Console(soft_wrap=True)
    deadline = time.monotonic() + timeout
    with console.status("starting in the background", spinner="dots"):
        while True:
            record = read_up_record(config)
            if record is not None and record.get("pid") == child.pid:
                break
            if child.poll() is not None:
                tail = log_path.read_text(errors="replace").strip().splitlines()[-1:]
                last = tail[0].removeprefix("error: ") if tail else "no output"
                raise RollupkitError(f"`rollupkit up` exited at startup: {last} (log: {log_path})")
            if time.monotonic() > deadline:
                stop_process(child.pid)
                raise RollupkitError(f"not up after {timeout:.0f} s (log: {log_path})")
            time.sleep(0.2)
    print_summary(record, console)
    console.print("running in the background: `rollupkit status`, `rollupkit down`", style="dim")


def status(directory: Path = _DIR) -> None:
    """Show whether the project's rollup is up: heads, settlement, batches, queue."""
    from rich.console import Console

    from rollupkit.project.config import load_project
    from rollupkit.project.service import snapshot, snapshot_line

    config = load_project(directory)
    record = _running(config)
    if record is None:
        typer.echo(f"{config.name} is not running (`rollupkit up` starts it)")
        raise typer.Exit(1)
    console = Console(soft_wrap=True)
    print_summary(record, console)
    snap = snapshot(record["l1"]["url"], record["l2"]["url"])
    console.print("  now: " + snapshot_line(snap))


def down(directory: Path = _DIR) -> None:
    """Stop what `rollupkit up` started for the project (its data stays, to resume)."""
    from rollupkit.project.config import load_project
    from rollupkit.project.service import remove_up_record, stop_process

    config = load_project(directory)
    record = _running(config)
    if record is None:
        typer.echo(f"{config.name} is not running")
        return
    killed = stop_process(int(record["pid"]))
    remove_up_record(config)
    typer.echo(f"stopped {config.name} (pid {record['pid']}{', killed' if killed else ''})")
