"""rollupkit's ``booster`` VM plugin: booster rollups (seed 000), the EVM with L1CALL,
L1SANDBOXCALL and L1DELEGATECALL at ``0x…b001``, ``0x…b002`` and ``0x…b003``, executed
against the L1 state of each block's anchor, read statelessly from the trace's witness
(:mod:`rollupkit_booster.l1`, :mod:`rollupkit_booster.vm`); a node's builder reads that state
from the L1 node (:mod:`rollupkit_booster.reader`). Chained rollups go on from the L1 state an
upstream rollup handed off (an L1 handoff message: :mod:`rollupkit_booster.vm`)."""

from __future__ import annotations

from rollupkit.plugins import hookimpl
from rollupkit_booster.vm import (
    BOOSTER_CONFIG_ADDRESS,
    L1CALL_ADDRESS,
    L1DELEGATECALL_ADDRESS,
    L1SANDBOXCALL_ADDRESS,
    BoosterVM,
)

__all__ = [
    "BOOSTER_CONFIG_ADDRESS",
    "L1CALL_ADDRESS",
    "L1DELEGATECALL_ADDRESS",
    "L1SANDBOXCALL_ADDRESS",
    "BoosterVM",
]


@hookimpl
def rollupkit_register_vms() -> list[tuple[str, type[BoosterVM]]]:
    return [("booster", BoosterVM)]
