"""Example contracts and an EVM scenario built on them, for the demo, benchmarks and tests.

* :mod:`rollupkit.examples.contracts`: compiled example contracts (a token, a storage tester).
* :mod:`rollupkit.examples.evm`: :class:`~rollupkit.examples.evm.EvmScenario`, a chain with
  funded wallets and the examples deployed.
"""
