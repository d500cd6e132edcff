"""The public outputs' L1 layout is defined once (rollupkit.types) and matches the contracts;
reject reasons keep their on-chain numbers."""

from __future__ import annotations

import re

from rollupkit.contracts import artifact
from rollupkit.l1.precompile import OUTPUT_TYPES, decode_output, encode_output
from rollupkit.metering import SCHEDULE
from rollupkit.types import (
    CLAIM_FIELDS,
    REJECT_CODES,
    VERDICT_FIELDS,
    ExecuteResult,
    PublicOutputs,
    RejectReason,
)


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def test_claim_fields_are_the_solidity_batch_claim() -> None:
    submit = next(f for f in artifact("NativeRollup").abi if f.get("name") == "submitBatch")
    components = [(c["name"], c["type"]) for c in submit["inputs"][0]["components"]]
    assert components == [(camel(name), kind) for name, kind in CLAIM_FIELDS]
    assert {name for name, _ in CLAIM_FIELDS} <= set(PublicOutputs.__dataclass_fields__)


def test_verdict_fields_are_what_execute_verifier_compares() -> None:
    from pathlib import Path

    import rollupkit.contracts

    # The comparison both verifiers use (firstMismatch) is in IVerifier.sol.
    source = (Path(rollupkit.contracts.__file__).parent / "IVerifier.sol").read_text()
    compared = re.search(r"bytes32\[VERDICT_FIELDS\] memory expected = \[(.*?)\];", source, re.S)
    assert compared is not None
    count = re.search(r"uint256 constant VERDICT_FIELDS = (\d+);", source)
    assert count is not None and int(count.group(1)) == len(VERDICT_FIELDS)
    names = re.findall(r"claim\.(\w+)", compared.group(1))
    assert names == [camel(name) for name, _ in VERDICT_FIELDS]
    assert ["bool", "uint8", *(kind for _, kind in VERDICT_FIELDS)] == OUTPUT_TYPES


def test_a_verdict_round_trips_through_the_precompile_encoding() -> None:
    outputs = PublicOutputs(
        chain_id=7, pre_state_root=b"\x01" * 32, post_state_root=b"\x02" * 32,
        gas_used=SCHEDULE.block, parent_hash=b"\x03" * 32, block_hash=b"\x04" * 32,
        block_number=9, block_count=1, receipts_root=b"\x05" * 32, queue_start_index=3,
        queue_start_hash=b"\x06" * 32, messages_consumed=2, queue_end_hash=b"\x07" * 32,
        withdrawals_root=b"\x08" * 32, withdrawal_count=1, l1_anchor_number=11,
        l1_anchor_hash=b"\x09" * 32, l1_state_root=b"\x0a" * 32, l1_updates_hash=b"\x0b" * 32,
    )  # fmt: skip
    decoded = decode_output(encode_output(ExecuteResult(True, None, "", outputs)))
    assert decoded[:2] == (True, 0)
    assert list(decoded[2:]) == [getattr(outputs, name) for name, _ in VERDICT_FIELDS]
    refused = decode_output(encode_output(ExecuteResult(False, RejectReason.GAS_MISMATCH)))
    assert refused[:2] == (False, 14)


def test_reject_codes_never_change() -> None:
    # On-chain contracts and indexers read these numbers: this table is the promise.
    assert {reason.value: reason.code for reason in RejectReason} == {
        "oversized": 1, "malformed-trace": 2, "unsupported-version": 3, "unknown-plugin": 4,
        "unsupported-combination": 5, "bad-argument": 6, "bad-ancestors": 7,
        "pre-state-mismatch": 8, "missing-witness": 9, "invalid-messages": 10,
        "invalid-block": 11, "invalid-transaction": 12, "post-state-mismatch": 13,
        "gas-mismatch": 14, "internal-error": 15, "unsupported-by-client": 16,
    }  # fmt: skip
    assert set(REJECT_CODES) == set(RejectReason)
