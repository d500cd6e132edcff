"""rollupkit's py-evm engine changes nothing an EVM program can see: memory-heavy programs
give the same output, gas and failures as stock py-evm (rollupkit_evm.engine speeds up the
memory accesses that need no expansion)."""

from __future__ import annotations

import pytest
from eth.vm.forks.prague.computation import PragueComputation
from pyevm_env import prague_state, run_message

from rollupkit_evm.engine import RollupComputation

TARGET = b"\x20" * 20

PROGRAMS = {
    # MSTORE at growing offsets, MLOAD back, MSTORE8, then return 96 bytes of memory
    "stores": "602a5f5260ff60205260016041535f516020510160605ff3",
    # overlapping writes within memory already expanded, then MCOPY and KECCAK256
    "overlap": "6080515060aa601f5260bb6021526020601060405e60405f2060005260205ff3",
    # CALLDATACOPY into expanded and unexpanded memory, return it
    "calldatacopy": "36600060003736604060003760805ff3",
    # an offset too large to pay for: out of gas
    "huge offset": "602a63ffffffff5200",
    # MSTORE of a short value at an offset not a multiple of 32
    "unaligned": "6001600352600160045260405ff3",
    # MLOAD past the end expands; RETURN a zero-sized range at a huge offset
    "edges": "6100ff515f63fffffffff3",
}


@pytest.fixture(scope="module")
def state():  # type: ignore[no-untyped-def]
    return prague_state()


def run(state, computation_class, code: bytes, data: bytes) -> tuple:  # type: ignore[no-untyped-def, type-arg]
    return run_message(state, computation_class, TARGET, data, code)


@pytest.mark.parametrize("name", sorted(PROGRAMS))
def test_memory_programs_match_stock_pyevm(state, name: str) -> None:  # type: ignore[no-untyped-def]
    code = bytes.fromhex(PROGRAMS[name])
    data = bytes(range(70))
    ours = run(state, RollupComputation, code, data)
    assert ours == run(state, PragueComputation, code, data)
    if name == "huge offset":
        assert not ours[0]
    if name == "stores":
        assert ours[0] and len(ours[1]) == 96
