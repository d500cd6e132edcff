"""The EXECUTE gas market: fixed cost plus gas * price, EIP-1559-style price, hard cap."""

from __future__ import annotations

import pytest

from rollupkit.errors import ExecuteGasLimitExceeded
from rollupkit.gas_market import (
    PRICE_SCALE,
    ExecuteGasConfig,
    ExecuteGasMarket,
    execute_cost,
    next_price,
)

CONFIG = ExecuteGasConfig(
    fixed_cost=50_000,
    target=1_000_000,
    limit=2_000_000,
    min_price=PRICE_SCALE // 10,
    change_denominator=8,
)


def test_cost_is_fixed_plus_gas_times_price_rounded_up() -> None:
    assert execute_cost(0, PRICE_SCALE, CONFIG) == 50_000
    assert execute_cost(1_000, PRICE_SCALE, CONFIG) == 51_000
    assert execute_cost(1, PRICE_SCALE // 3, CONFIG) == 50_001  # 1/3 rounds up
    assert execute_cost(3_000, PRICE_SCALE // 3, CONFIG) == 50_000 + 1_000


def test_price_moves_with_usage_against_the_target() -> None:
    price = PRICE_SCALE
    assert next_price(price, CONFIG.target, CONFIG) == price
    assert next_price(price, CONFIG.limit, CONFIG) == price + price // 8  # full block: +1/8
    assert next_price(price, 0, CONFIG) == price - price // 8  # empty block: -1/8
    assert next_price(price, CONFIG.target + 1, CONFIG) == price + price // CONFIG.target // 8
    cheap = ExecuteGasConfig(min_price=1, target=10**6, limit=2 * 10**6)
    assert next_price(8, cheap.target + 1, cheap) == 9  # over target: always up by at least 1
    assert next_price(CONFIG.min_price, 0, CONFIG) == CONFIG.min_price  # floor


def test_market_rises_over_target_and_falls_under_it() -> None:
    market = ExecuteGasMarket(CONFIG, price=PRICE_SCALE)
    prices = [market.price]
    for block in range(1, 6):  # five busy blocks
        market.charge(1_800_000)
        market.start_block(block)
        prices.append(market.price)
    assert prices == sorted(prices) and len(set(prices)) == 6
    for block in range(6, 11):  # five quiet blocks
        market.charge(100_000)
        market.start_block(block)
        prices.append(market.price)
    assert prices[6:] == sorted(prices[6:], reverse=True) and prices[-1] < prices[5]


def test_skipped_blocks_count_as_empty() -> None:
    market = ExecuteGasMarket(CONFIG, price=PRICE_SCALE)
    market.start_block(3)  # blocks 1 and 2 had no EXECUTE calls
    expected = next_price(next_price(next_price(PRICE_SCALE, 0, CONFIG), 0, CONFIG), 0, CONFIG)
    assert market.price == expected
    with pytest.raises(ValueError):
        market.start_block(2)


def test_cumulative_limit_refuses_further_calls_and_records_nothing() -> None:
    market = ExecuteGasMarket(CONFIG)
    market.charge(1_500_000)
    with pytest.raises(ExecuteGasLimitExceeded, match="does not fit"):
        market.charge(600_000)
    assert market.used_in_block == 1_500_000
    assert market.charge(500_000) == market.quote(500_000)  # exactly up to the limit is fine
    market.start_block(1)
    market.charge(2_000_000)  # a new block starts empty


def test_full_payment_is_the_claimed_gas_whatever_the_verdict() -> None:
    # The cost depends only on the claimed gas and the price: a False verdict pays the same.
    market = ExecuteGasMarket(CONFIG, price=PRICE_SCALE)
    assert market.charge(123_456) == 50_000 + 123_456


def test_bad_configs_are_refused() -> None:
    with pytest.raises(ValueError):
        ExecuteGasConfig(target=0)
    with pytest.raises(ValueError):
        ExecuteGasConfig(target=10, limit=5)
    with pytest.raises(ValueError):
        execute_cost(-1, PRICE_SCALE)
