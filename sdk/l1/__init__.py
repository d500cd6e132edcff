"""The L1 side: the embedded devnet with EXECUTE, the rollup's contracts, anvil.

Only constants live here, so that naming a default (say, in a command's options) does not
import py-evm."""

#: The embedded devnet's chain id unless told otherwise.
DEFAULT_L1_CHAIN_ID = 1337
