// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// What a batch claims: the transition and the public outputs EXECUTE binds.
/// The field order is the EXECUTE precompile's output order (see rollupkit.l1.precompile).
struct BatchClaim {
    uint256 chainId;
    bytes32 preStateRoot;
    bytes32 postStateRoot;
    uint256 gasUsed;
    bytes32 parentHash;
    bytes32 blockHash;
    uint256 blockNumber;
    uint256 queueStartIndex;
    bytes32 queueStartHash;
    uint256 messagesConsumed;
    bytes32 queueEndHash;
    bytes32 withdrawalsRoot;
    uint256 withdrawalCount;
    // Booster rollups (zero otherwise): the L1 block their L1 calls read at, the L1 state root
    // after their L1 writes, and keccak(abi.encode(contracts, changes)) of their L1 updates.
    uint256 l1AnchorNumber;
    bytes32 l1AnchorHash;
    bytes32 l1StateRoot;
    bytes32 l1UpdatesHash;
}

/// Checks a batch claim against its trace. Reverts with a reason, or returns true.
interface IVerifier {
    function verify(BatchClaim calldata claim, bytes calldata trace, bytes calldata evidence)
        external
        returns (bool);
}

// How many of the claim's fields EXECUTE answers (all but the pre-state root), after
// `(bool ok, uint8 reason)`: its output is `(2 + VERDICT_FIELDS) * 32` bytes.
uint256 constant VERDICT_FIELDS = 16;

/// Which of the claim's fields EXECUTE's `output` (`abi.encode(bool ok, uint8 reason, ...)`:
/// the claim's fields but the pre-state root, see rollupkit.types.VERDICT_FIELDS) differs in
/// first, as an index into that list; VERDICT_FIELDS when every one is what the claim says.
function firstMismatch(BatchClaim calldata claim, bytes memory output) pure returns (uint256) {
    bytes32[VERDICT_FIELDS] memory expected = [
        claim.postStateRoot,
        bytes32(claim.gasUsed),
        bytes32(claim.chainId),
        claim.parentHash,
        claim.blockHash,
        bytes32(claim.blockNumber),
        bytes32(claim.queueStartIndex),
        claim.queueStartHash,
        bytes32(claim.messagesConsumed),
        claim.queueEndHash,
        claim.withdrawalsRoot,
        bytes32(claim.withdrawalCount),
        bytes32(claim.l1AnchorNumber),
        claim.l1AnchorHash,
        claim.l1StateRoot,
        claim.l1UpdatesHash
    ];
    for (uint256 i = 0; i < VERDICT_FIELDS; i++) {
        bytes32 actual;
        assembly {
            actual := mload(add(output, add(96, mul(i, 32))))
        }
        if (actual != expected[i]) return i;
    }
    return VERDICT_FIELDS;
}
