"""The EXECUTE gas market: what an L1 charges for a call to the EXECUTE precompile.

A call costs a fixed ``fixed_cost`` plus ``gas_used * price`` L1 gas, where ``gas_used`` is the
L2 gas the caller claims and ``price`` follows an EIP-1559-style rule over the *cumulative*
EXECUTE gas of each L1 block: above ``target`` the price rises by up to 1/8 per block, below it
falls by up to 1/8, never under ``min_price``. No block may exceed ``limit`` cumulative EXECUTE
gas: a call that would is refused. Payment is drawn up front from the claimed ``gas_used``, so
it is paid in full even when the verdict is False.

The seed proposal prices EXECUTE gas in ETH; a precompile can only charge L1 gas, so here the
price is "L1 gas per L2 gas", a fixed-point number scaled by :data:`PRICE_SCALE` (the ETH paid
is that L1 gas at the caller's L1 gas price).
"""

from __future__ import annotations

from dataclasses import dataclass

from rollupkit.errors import ExecuteGasLimitExceeded

PRICE_SCALE = 10**9


@dataclass(frozen=True)
class ExecuteGasConfig:
    """The market's parameters."""

    fixed_cost: int = 100_000  # EXECUTE_GAS_COST: decoding and witness hashing overhead
    target: int = 15_000_000  # EXECUTE_CUMULATIVE_GAS_TARGET, L2 gas per L1 block
    limit: int = 30_000_000  # EXECUTE_CUMULATIVE_GAS_LIMIT, L2 gas per L1 block
    min_price: int = PRICE_SCALE // 16  # 1/16 L1 gas per L2 gas
    change_denominator: int = 8  # at most ±1/8 per block, as in EIP-1559

    def __post_init__(self) -> None:
        if not 0 < self.target <= self.limit:
            raise ValueError("need 0 < target <= limit")
        if self.min_price <= 0 or self.change_denominator <= 0 or self.fixed_cost < 0:
            raise ValueError("min_price and change_denominator must be positive")


DEFAULT_CONFIG = ExecuteGasConfig()


def next_price(price: int, used: int, config: ExecuteGasConfig = DEFAULT_CONFIG) -> int:
    """The price for the block after one that used ``used`` cumulative EXECUTE gas."""
    if used == config.target:
        return max(price, config.min_price)
    if used > config.target:
        delta = max(price * (used - config.target) // config.target // config.change_denominator, 1)
        return price + delta
    delta = price * (config.target - used) // config.target // config.change_denominator
    return max(price - delta, config.min_price)


def execute_cost(gas_used: int, price: int, config: ExecuteGasConfig = DEFAULT_CONFIG) -> int:
    """L1 gas for one EXECUTE call claiming ``gas_used`` at ``price`` (rounded up)."""
    if gas_used < 0:
        raise ValueError("gas_used must be non-negative")
    return config.fixed_cost + -(-gas_used * price // PRICE_SCALE)


@dataclass
class ExecuteGasMarket:
    """The market's running state on one L1 chain: the price and this block's usage."""

    config: ExecuteGasConfig = DEFAULT_CONFIG
    price: int = DEFAULT_CONFIG.min_price
    block_number: int = 0
    used_in_block: int = 0

    def start_block(self, number: int) -> None:
        """Move to L1 block ``number``, updating the price once per block passed (a block
        with no EXECUTE calls counts as using 0)."""
        if number < self.block_number:
            raise ValueError(f"block {number} is before the market's block {self.block_number}")
        if number == self.block_number:
            return
        self.price = next_price(self.price, self.used_in_block, self.config)
        for _ in range(number - self.block_number - 1):
            if self.price == self.config.min_price:
                break  # empty blocks cannot push it lower
            self.price = next_price(self.price, 0, self.config)
        self.block_number = number
        self.used_in_block = 0

    def quote(self, gas_used: int) -> int:
        """What a call claiming ``gas_used`` would cost now."""
        return execute_cost(gas_used, self.price, self.config)

    def charge(self, gas_used: int) -> int:
        """Account for one call in the current block and return its L1 gas cost.

        Raises :class:`ExecuteGasLimitExceeded` if the block's cumulative EXECUTE gas would
        exceed the limit (the call must then fail, and nothing is recorded).
        """
        if self.used_in_block + gas_used > self.config.limit:
            raise ExecuteGasLimitExceeded(
                f"L1 block {self.block_number} has used {self.used_in_block} of "
                f"{self.config.limit} EXECUTE gas; a call claiming {gas_used} does not fit"
            )
        cost = self.quote(gas_used)
        self.used_in_block += gas_used
        return cost
