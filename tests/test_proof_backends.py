"""Proof backends: what they prove, and their off-chain check agreeing with the contracts'."""

from __future__ import annotations

from dataclasses import replace

import pytest
from eth_abi import decode, encode

from rollupkit.errors import ProofError
from rollupkit.interfaces import SettlementContext
from rollupkit.plugins import get_registry
from rollupkit.testing.evm import EvmScenario
from rollupkit.testing.wallets import dev_wallets

KEYS = tuple(w.private_key for w in dev_wallets(3, 1, offset=7000))


@pytest.fixture(scope="module")
def built():  # type: ignore[no-untyped-def]
    s = EvmScenario.create(wallets=3)
    return s.chain.build(transactions=[s.wallets[1].transfer(s.wallets[2].address, 1)])


def _args(built, **changes):  # type: ignore[no-untyped-def]
    args = dict(
        pre_state_root=built.pre_state_root,
        post_state_root=built.post_state_root,
        trace=built.encoded,
        gas_used=built.gas_used,
        outputs=built.outputs,
    )
    args.update(changes)
    return args


def test_reexec_needs_execute_and_the_trace_on_l1(built) -> None:  # type: ignore[no-untyped-def]
    backend = get_registry().create("proof", "reexec")
    assert backend.requires_execute and backend.trace_in_calldata
    context = SettlementContext(l1_chain_id=1337, verifier="0x" + "11" * 20)
    assert backend.onchain_trace(built.encoded) == built.encoded
    assert backend.prove(**_args(built), context=context) == b""
    assert backend.verify(**_args(built), evidence=b"", context=context)
    forged = replace(built.outputs, withdrawal_count=1)
    assert not backend.verify(**_args(built, outputs=forged), evidence=b"", context=context)
    with pytest.raises(ProofError):
        backend.prove(**_args(built, outputs=forged), context=context)


def test_multiclient_signatures_follow_the_contract_rules(built) -> None:  # type: ignore[no-untyped-def]
    backend = get_registry().create("proof", "multiclient")
    assert not backend.requires_execute and backend.onchain_trace(built.encoded) == b""
    context = SettlementContext(
        l1_chain_id=1337, verifier="0x" + "11" * 20, attester_keys=KEYS[:2], threshold=2
    )
    evidence = backend.prove(**_args(built), context=context)
    assert backend.verify(**_args(built), evidence=evidence, context=context)
    assert not backend.verify(
        **_args(built), evidence=evidence, context=replace(context, threshold=3)
    )
    assert not backend.verify(
        **_args(built), evidence=evidence, context=replace(context, verifier="0x" + "22" * 20)
    )
    assert not backend.verify(
        **_args(built, outputs=replace(built.outputs, gas_used=1)),
        evidence=evidence,
        context=context,
    )
    (signatures,) = decode(["bytes[]"], evidence)
    tampered = [bytes([signatures[0][0] ^ 1]) + signatures[0][1:], signatures[1]]
    assert not backend.verify(
        **_args(built), evidence=encode(["bytes[]"], [tampered]), context=context
    )
    swapped = encode(["bytes[]"], [[signatures[1], signatures[0]]])  # not ascending
    assert not backend.verify(**_args(built), evidence=swapped, context=context)
    assert not backend.verify(**_args(built), evidence=b"junk", context=context)
    with pytest.raises(ProofError, match="does not verify"):
        backend.prove(**_args(built, post_state_root=b"\x01" * 32), context=context)
    with pytest.raises(ProofError, match="no attester keys"):
        backend.prove(**_args(built), context=replace(context, attester_keys=()))
