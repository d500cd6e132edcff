"""Testing helpers rollupkit ships for plugin authors and generated rollups.

* :mod:`rollupkit.testing.conformance`: test classes a VM or state-model plugin's own tests
  subclass;
* :mod:`rollupkit.testing.pytest_plugin`: fixtures, registered with pytest through the
  ``pytest11`` entry point;
* :mod:`rollupkit.testing.wallets`: deterministic dev accounts signing real transactions;
* :mod:`rollupkit.testing.contracts`: compiled example contracts (a token, a storage tester).
"""
