"""Dev wallets for tests: :mod:`rollupkit.wallets` (kept here, where tests and generated projects
have always imported them from)."""

from rollupkit.wallets import DEFAULT_MAX_FEE, DEFAULT_TIP, Wallet, contract_address, dev_wallets

__all__ = ["DEFAULT_MAX_FEE", "DEFAULT_TIP", "Wallet", "contract_address", "dev_wallets"]
