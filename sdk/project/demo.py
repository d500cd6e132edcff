"""``rollupkit demo``: scaffold a rollup, start it on the embedded L1, walk the journey."""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

from rollupkit.project.config import CONFIG_FILE, load_project
from rollupkit.project.journey import ETHER, JourneyReport, Step, run_journey
from rollupkit.project.runner import run_project

DEMO_NAME = "demo-rollup"


@dataclass
class RollupDemoReport:
    """What the demo did, step by step, and the batch that settled the withdrawal."""

    project: str
    journey: JourneyReport
    steps: list[Step] = field(default_factory=list)
    total_seconds: float = 0.0
    where: str = ""

    def settlement_rows(self) -> list[tuple[str, str]]:
        batch = self.journey.batch

        def number(key: str) -> int:
            return int(batch.get(key, "0x0"), 16)

        return [
            ("batch", f"#{number('id')}: L2 blocks {number('firstBlock')}-{number('lastBlock')}"),
            ("pre-state root", str(batch.get("preStateRoot", "(settled before a restart)"))),
            ("post-state root", str(batch.get("postStateRoot", ""))),
            ("L2 gas used", f"{number('l2GasUsed'):,}"),
            (
                "EXECUTE gas claimed",
                f"{number('executeGas'):,} (L2 gas + trace bytes, blocks, messages)",
            ),
            ("trace for EXECUTE", f"{number('traceBytes'):,} bytes (in the settlement's input)"),
            ("settlement transaction", str(batch.get("settleTx", ""))),
            (
                "withdrawal claimed on L1",
                f"{self.journey.claimed / ETHER:g} ETH to {self.journey.account}",
            ),
        ]

    def l1_rows(self) -> list[tuple[str, ...]]:
        """Every L1 transaction of the journey: what it was, its L1 gas, calldata and blobs,
        and for a batch's posting or settlement its bytes and gas per L2 transaction of the
        batch; then the totals."""
        txs = self.journey.l1_transactions
        rows: list[tuple[str, ...]] = []
        for t in txs:
            per = t.per_l2_transaction()
            per_cells = (f"{per[0]:,}", f"{per[1]:,}") if per else ("", "")
            rows.append((f"{t.kind}: {t.what}", f"{t.gas_used:,}", f"{t.calldata_bytes:,}",
                         str(t.blobs), *per_cells))  # fmt: skip
        rows.append((
            f"total ({len(txs)} transactions)", f"{sum(t.gas_used for t in txs):,}",
            f"{sum(t.calldata_bytes for t in txs):,}", str(sum(t.blobs for t in txs)), "", "",
        ))  # fmt: skip
        return rows


def run_rollup_demo(
    directory: Path | None = None, *, progress: Callable[[str], None] = lambda _: None
) -> RollupDemoReport:
    """Scaffold (or resume) a project in ``directory`` (a temporary folder if None, removed
    afterwards), start it on free ports, and walk deposit → transfer → withdrawal → settlement
    → claim."""
    from rollupkit.scaffold.options import RollupOptions
    from rollupkit.scaffold.project import new_rollup

    started = time.monotonic()
    steps: list[Step] = []
    temporary = directory is None
    root = Path(tempfile.mkdtemp(prefix="rollupkit-demo-")) / DEMO_NAME if temporary else directory
    assert root is not None
    try:
        t0 = time.monotonic()
        if (root / CONFIG_FILE).is_file():
            progress(f"resuming the project in {root}")
            detail = f"resumed the project in {root}"
        else:
            progress(f"scaffolding {root}")
            files = new_rollup(root, RollupOptions(name=DEMO_NAME))
            detail = f"`scaffold new {DEMO_NAME}`: {len(files)} files (evm, mpt, calldata, reexec)"
        steps.append(Step("scaffold", time.monotonic() - t0, detail))
        config = load_project(root)
        # Blocks and batches come quicker than a real deployment would want, so the demo is short.
        config = replace(config, block_time=0.25, l1=replace(config.l1, batch_interval=0.5))
        t0 = time.monotonic()
        with run_project(config, l1_port=0, rpc_port=0, l1_poll=0.2, progress=progress) as rollup:
            steps.append(Step(
                "up", time.monotonic() - t0,
                f"embedded L1 at {rollup.l1_url}, contracts "
                f"{'deployed' if rollup.record.get('fresh') else 'found'}, sequencer at "
                f"{rollup.l2_url}",
            ))  # fmt: skip
            journey = run_journey(rollup, progress=progress)
        steps.extend(journey.steps)
        total = time.monotonic() - started
        where = (
            "the project was in a temporary folder, now removed (`rollupkit demo --dir DIR` "
            "keeps it)"
            if temporary
            else f"the project is in {root}: `cd {root} && rollupkit up` runs it again"
        )
        return RollupDemoReport(DEMO_NAME, journey, steps, total, where)
    finally:
        if temporary:
            shutil.rmtree(root.parent, ignore_errors=True)
