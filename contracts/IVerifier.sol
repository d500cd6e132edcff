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
}

/// Checks a batch claim against its trace. Reverts with a reason, or returns true.
interface IVerifier {
    function verify(BatchClaim calldata claim, bytes calldata trace, bytes calldata evidence)
        external
        returns (bool);
}
