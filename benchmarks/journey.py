"""A scaffolded rollup's journey on the embedded L1, for two VMs side by side.

For the built-in ``evm`` VM (py-evm) and for the stack-machine VM that ``rollupkit scaffold
plugin --kind vm`` generates (an AccountVM: rollupkit's own account model with a small
interpreter), each run: scaffold a fresh project, start it (embedded L1, contracts, sequencer)
and walk deposit -> L2 transfer -> withdrawal -> batch + EXECUTE settlement -> claim. Prints
the median time of each step over the runs, the settled batch's sizes and L1 gas, and the
stack/evm ratios, all measured in one run (this machine is noisy). The steps wait on the
block and batch timers (0.25 s blocks, 0.5 s batches, as in ``rollupkit demo``), so they show
what a user waits for, not the VMs' speed (``benchmarks/execute_evm.py`` measures that).

Usage: python benchmarks/journey.py [--runs 3]
"""

from __future__ import annotations

import argparse
import importlib
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from rollupkit import get_registry
from rollupkit.project.config import load_project
from rollupkit.project.journey import JourneyReport, run_journey
from rollupkit.project.runner import run_project
from rollupkit.scaffold.options import RollupOptions
from rollupkit.scaffold.plugin import PluginOptions, new_plugin
from rollupkit.scaffold.project import new_rollup

STACK_VM = "stack-vm"


def register_scaffolded_vm(root: Path) -> None:
    """Generate the stack-machine VM plugin and register it in this process (as if
    pip-installed)."""
    new_plugin(root / STACK_VM, PluginOptions(STACK_VM, "vm"))
    sys.path.insert(0, str(root / STACK_VM))
    module = importlib.import_module("stack_vm.plugin")
    get_registry().register(module, name=STACK_VM)


def one_run(root: Path, vm: str, index: int) -> tuple[float, float, JourneyReport]:
    """(scaffold seconds, up seconds, the journey) for one fresh project."""
    t0 = time.monotonic()
    project = root / f"{vm}-rollup-{index}"
    new_rollup(project, RollupOptions(name=f"{vm}-rollup", vm=vm))
    scaffold = time.monotonic() - t0
    # The demo's quick timings: blocks every 0.25 s, a batch every 0.5 s.
    config = load_project(project)
    config = replace(config, block_time=0.25, l1=replace(config.l1, batch_interval=0.5))
    t0 = time.monotonic()
    with run_project(config, l1_port=0, rpc_port=0, l1_poll=0.2) as rollup:
        up = time.monotonic() - t0
        journey = run_journey(rollup)
    return scaffold, up, journey


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="rollupkit-bench-") as folder:
        root = Path(folder)
        register_scaffolded_vm(root)
        results: dict[str, list[tuple[float, float, JourneyReport]]] = {"evm": [], STACK_VM: []}
        for index in range(args.runs):  # interleaved, so drift hits both alike
            for vm in results:
                print(f"run {index + 1}/{args.runs}: {vm}", file=sys.stderr, flush=True)
                results[vm].append(one_run(root, vm, index))

    def median_step(vm: str, name: str) -> float:
        if name == "scaffold":
            return statistics.median(r[0] for r in results[vm])
        if name == "up":
            return statistics.median(r[1] for r in results[vm])
        if name == "total":
            return statistics.median(r[0] + r[1] + r[2].total_seconds for r in results[vm])
        return statistics.median(
            next(s.seconds for s in r[2].steps if s.name == name) for r in results[vm]
        )

    step_names = ["scaffold", "up", *(s.name for s in results["evm"][0][2].steps), "total"]
    print(f"journey on the embedded L1, medians of {args.runs} runs (seconds)")
    print(f"  {'step':22}{'evm':>10}{STACK_VM:>12}{'stack/evm':>12}")
    for name in step_names:
        evm, stack = median_step("evm", name), median_step(STACK_VM, name)
        print(f"  {name:22}{evm:>10.2f}{stack:>12.2f}{stack / evm:>11.2f}x")
    print("the settled batch (last run)")
    print(f"  {'':22}{'evm':>10}{STACK_VM:>12}{'stack/evm':>12}")
    rows = (("L2 gas used", "l2GasUsed"), ("batch bytes on L1", "l1Bytes"),
            ("trace bytes", "traceBytes"), ("L1 gas of settlement", "settleGas"))  # fmt: skip
    for label, key in rows:
        evm_value = int(results["evm"][-1][2].batch.get(key, "0x0"), 16)
        stack_value = int(results[STACK_VM][-1][2].batch.get(key, "0x0"), 16)
        ratio = f"{stack_value / evm_value:>11.2f}x" if evm_value else ""
        print(f"  {label:22}{evm_value:>10,}{stack_value:>12,}{ratio}")


if __name__ == "__main__":
    main()
