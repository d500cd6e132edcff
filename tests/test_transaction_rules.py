"""Ethereum's transaction rules, exactly, in the one block loop (rollupkit.block).

Each case is one that py-evm alone gets wrong or leaves to its caller: it is checked in strict
mode (the block is invalid), in sequencer mode (the transaction is left out and the block still
verifies with EXECUTE) and as a forced transaction (consumed as a no-op that changes nothing).
"""

from __future__ import annotations

import pytest
import rlp
from eth_hash.auto import keccak

from rollupkit import DevChain, GenesisAccount, execute_detailed
from rollupkit.builder import BuiltTrace
from rollupkit.errors import InvalidTransactionError
from rollupkit.ethprecompiles import revm_precompile
from rollupkit.testing.wallets import Wallet, dev_wallets

CHAIN_ID = 42_424
RICH = 10**24


def chain_for(alloc: dict[bytes, GenesisAccount]) -> DevChain:
    return DevChain(alloc, chain_id=CHAIN_ID)


def funded(count: int = 2) -> tuple[DevChain, list[Wallet]]:
    wallets = dev_wallets(count, CHAIN_ID)
    return chain_for({w.address: GenesisAccount(balance=RICH) for w in wallets}), wallets


def verifies(built: BuiltTrace) -> None:
    result = execute_detailed(*built.execute_args())
    assert result.ok, result


def refused_everywhere(chain: DevChain, sender: Wallet, raw: bytes, reason: str) -> None:
    """Strict: invalid block. Sequencer: left out, the block verifies. Forced: a no-op."""
    with pytest.raises(InvalidTransactionError, match=reason):
        chain.build(transactions=[raw], commit=False)
    dropped = chain.build(transactions=[raw], drop_invalid=True, commit=False)
    assert dropped.dropped == ((0,),) and not dropped.results[0].transactions
    verifies(dropped)
    before = chain.account(sender.address)
    chain.force_transaction(raw)
    forced = chain.build()
    verifies(forced)
    assert forced.outputs.messages_consumed == 1 and not forced.results[0].transactions
    assert chain.account(sender.address) == before  # no nonce bump, no gas charged


def test_init_code_over_the_eip3860_limit() -> None:
    chain, (user, _) = funded()
    raw = user.sign(to=None, data=b"\x00" * (2 * 24_576 + 1), gas=10_000_000)
    refused_everywhere(chain, user, raw, "EIP-3860")


def test_gas_below_the_intrinsic_gas_or_the_calldata_floor() -> None:
    chain, (user, other) = funded()
    # 1,000 non-zero bytes: intrinsic 37,000, floor 61,000 (EIP-7623).
    below_intrinsic = user.sign(to=other.address, data=b"\x01" * 1000, gas=30_000, nonce=0)
    refused_everywhere(chain, user, below_intrinsic, "ntrinsic")
    below_floor = user.sign(to=other.address, data=b"\x01" * 1000, gas=40_000, nonce=0)
    refused_everywhere(chain, user, below_floor, "calldata floor")


def test_a_sender_with_code_is_refused_unless_it_is_a_delegation() -> None:
    user, other, delegated = dev_wallets(3, CHAIN_ID)
    delegation = b"\xef\x01\x00" + other.address
    chain = chain_for(
        {
            user.address: GenesisAccount(balance=RICH, code=b"\x60\x00"),
            other.address: GenesisAccount(balance=RICH),
            delegated.address: GenesisAccount(balance=RICH, code=delegation),
        }
    )
    refused_everywhere(chain, user, user.transfer(other.address, 1, nonce=0), "EIP-3607")
    verifies(chain.build(transactions=[delegated.transfer(other.address, 1)]))


def test_priority_fee_above_the_max_fee() -> None:
    chain, (user, other) = funded()
    raw = user.sign(to=other.address, max_fee=2 * 10**9, tip=3 * 10**9, nonce=0)
    refused_everywhere(chain, user, raw, "priority fee")


def test_balance_must_cover_gas_times_max_fee_not_the_effective_price() -> None:
    user, other = dev_wallets(2, CHAIN_ID)
    max_fee = 100 * 10**9  # far above the 1 gwei base fee actually paid
    chain = chain_for(
        {user.address: GenesisAccount(balance=21_000 * 10**9 * 2), other.address: GenesisAccount()}
    )
    raw = user.sign(to=other.address, value=1, max_fee=max_fee, tip=0, nonce=0)
    refused_everywhere(chain, user, raw, "insufficient funds")


def test_creating_at_an_address_with_storage_fails_eip7610() -> None:
    user, _ = dev_wallets(2, CHAIN_ID)
    target = keccak(rlp.encode([user.address, 0]))[12:]  # the user's first contract
    chain = chain_for(
        {
            user.address: GenesisAccount(balance=RICH),
            target: GenesisAccount(storage={1: 1}),
        }
    )
    runtime = b"\x60\x00\x60\x00\xf3"  # returns empty code: any creation would be visible
    init = b"\x60\x2a\x60\x00\x55" + runtime  # SSTORE(0, 42) then fall into runtime
    built = chain.build(transactions=[user.sign(to=None, data=init, gas=200_000)])
    verifies(built)
    receipt = rlp.decode(built.results[0].receipts[0][1:])
    assert receipt[0] == b""  # status 0: the creation collided
    assert chain.storage(target, 0) == 0 and chain.storage(target, 1) == 1


def test_modexp_of_an_empty_base_to_the_zero_is_one() -> None:
    """0 ** 0 % 5 is 1 (py-evm said 0); revm, an independent client, agrees with rollupkit."""
    user, _ = dev_wallets(2, CHAIN_ID)
    probe = b"\x20" * 20
    # CALLDATACOPY the input, STATICCALL 0x05 with it (1 byte out at 0x200), SSTORE it at 0.
    code = bytes.fromhex("365f5f376001610200365f60055afa50610200515f5500")
    chain = chain_for(
        {user.address: GenesisAccount(balance=RICH), probe: GenesisAccount(code=code, nonce=1)}
    )
    data = (0).to_bytes(32, "big") + (0).to_bytes(32, "big") + (1).to_bytes(32, "big") + b"\x05"
    built = chain.build(transactions=[user.sign(to=probe, data=data, gas=200_000)])
    verifies(built)
    assert chain.storage(probe, 0) >> 248 == 1
    assert revm_precompile(5, data, 200) == b"\x01"


def test_a_transaction_is_decoded_and_recovered_once_per_process() -> None:
    """The mempool, the builder, the prover and an in-process L1 share one decoded
    transaction (its sender recovered once), keyed by its bytes; other bytes are another
    transaction."""
    from rollupkit.ethtx import clear_decode_cache, decode_signed_transaction

    (user, other) = dev_wallets(2, CHAIN_ID)
    raw = user.transfer(other.address, 1)
    clear_decode_cache()
    first = decode_signed_transaction(raw, CHAIN_ID)
    assert decode_signed_transaction(bytes(raw), CHAIN_ID) is first
    assert decode_signed_transaction(user.transfer(other.address, 2), CHAIN_ID) is not first
    with pytest.raises(InvalidTransactionError, match="chain id"):
        decode_signed_transaction(raw, CHAIN_ID + 1)  # the cache is per chain id
