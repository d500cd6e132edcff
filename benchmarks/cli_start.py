"""How long the ``rollupkit`` command takes to start: ``--help`` and a few commands' help,
next to a bare Python start and to importing the whole SDK, medians of ``--runs`` runs.

Usage: python benchmarks/cli_start.py [--runs 9]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

BIN = Path(sys.executable).parent


def seconds(command: list[str], runs: int) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=9)
    args = parser.parse_args()
    rollupkit = str(BIN / "rollupkit")
    cases = {
        "python -c pass": [sys.executable, "-c", "pass"],
        "rollupkit --help": [rollupkit, "--help"],
        "rollupkit --version": [rollupkit, "--version"],
        "rollupkit scaffold new --help": [rollupkit, "scaffold", "new", "--help"],
        "rollupkit up --help": [rollupkit, "up", "--help"],
        "import the whole SDK (py-evm, web3)": [
            sys.executable, "-c", "import rollupkit.node.node, rollupkit.l1.devnet",
        ],
    }  # fmt: skip
    base = None
    print(f"median of {args.runs} runs")
    for name, command in cases.items():
        median = seconds(command, args.runs)
        base = base or median
        print(f"  {name:38} {median:6.3f} s  {median / base:5.1f}x python")


if __name__ == "__main__":
    main()
