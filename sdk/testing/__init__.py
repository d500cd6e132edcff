"""Testing helpers rollupkit ships for plugin authors and generated rollups.

* :mod:`rollupkit.testing.conformance`: test classes a VM or state-model plugin's own tests
  subclass;
* :mod:`rollupkit.testing.pytest_plugin`: fixtures, registered with pytest through the
  ``pytest11`` entry point;
* :mod:`rollupkit.testing.wallets`, :mod:`rollupkit.testing.contracts` and
  :mod:`rollupkit.testing.evm`: the dev wallets (:mod:`rollupkit.wallets`) and the examples
  (:mod:`rollupkit.examples`), under the names tests have always imported them by.

Production code never imports this package.
"""
