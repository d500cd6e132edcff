"""zkpay: a payments chain a circuit can prove (issue 17, in progress).

Accounts in a Poseidon Merkle tree (:mod:`.tree`), owners signing with EdDSA over Baby Jubjub
(:mod:`.babyjub`), deposits, transfers and withdrawals (:mod:`.transition`), and the circom
circuit that proves a batch of them (:mod:`.circuit`, ``circuits/zkpay.circom``).
"""
