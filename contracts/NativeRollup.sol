// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {BatchClaim, IVerifier} from "./IVerifier.sol";
import {L1Bridge} from "./L1Bridge.sol";

/// Settlement of a native rollup: a chain of L2 state roots, each step checked by a verifier
/// (EXECUTE re-execution, or k-of-n attestations on an L1 without EXECUTE).
///
/// A batch is accepted only if it continues the last settled block (state root and block
/// hash), consumes exactly the next messages of the bridge's queue (checked by rolling hash
/// at both ends), leaves no queued message older than the inclusion deadline unconsumed, and
/// the verifier accepts it.
contract NativeRollup {
    IVerifier public immutable verifier;
    L1Bridge public immutable bridge;
    uint256 public immutable l2ChainId;
    uint256 public immutable inclusionDeadline; // seconds a queued message may wait
    address public immutable sequencer; // zero: anyone may submit batches

    struct Batch {
        bytes32 stateRoot;
        bytes32 blockHash;
        uint64 blockNumber;
        uint64 settledAt;
        bytes32 withdrawalsRoot;
        uint256 messagesConsumed; // queue position after this batch
    }

    Batch[] private _batches;

    event BatchSettled(
        uint256 indexed batchIndex,
        bytes32 indexed stateRoot,
        bytes32 blockHash,
        uint256 blockNumber,
        uint256 messagesConsumed,
        bytes32 withdrawalsRoot,
        uint256 withdrawalCount
    );

    /// Emitted once, at deployment: lets a deployer find every rollupkit rollup of a chain id
    /// on this L1 (two rollups of one chain id would accept each other's transactions).
    event RollupCreated(uint256 indexed l2ChainId, bytes32 genesisBlockHash);

    error NotSequencer();
    error WrongChain(uint256 chainId);
    error WrongPreState(bytes32 expected);
    error WrongParent(bytes32 expected);
    error QueueMismatch(uint256 field);
    error OverdueMessageNotConsumed(uint256 index);
    error VerifierRejected();

    constructor(
        IVerifier verifier_,
        L1Bridge bridge_,
        uint256 l2ChainId_,
        bytes32 genesisStateRoot,
        bytes32 genesisBlockHash,
        uint256 inclusionDeadline_,
        address sequencer_
    ) {
        verifier = verifier_;
        bridge = bridge_;
        l2ChainId = l2ChainId_;
        inclusionDeadline = inclusionDeadline_;
        sequencer = sequencer_;
        _batches.push(Batch(genesisStateRoot, genesisBlockHash, 0, uint64(block.timestamp), bytes32(0), 0));
        emit BatchSettled(0, genesisStateRoot, genesisBlockHash, 0, 0, bytes32(0), 0);
        emit RollupCreated(l2ChainId_, genesisBlockHash);
    }

    function submitBatch(BatchClaim calldata claim, bytes calldata trace, bytes calldata evidence) external {
        if (sequencer != address(0) && msg.sender != sequencer) revert NotSequencer();
        Batch storage last = _batches[_batches.length - 1];
        if (claim.chainId != l2ChainId) revert WrongChain(claim.chainId);
        if (claim.preStateRoot != last.stateRoot) revert WrongPreState(last.stateRoot);
        if (claim.parentHash != last.blockHash) revert WrongParent(last.blockHash);

        uint256 start = bridge.consumed();
        uint256 end = start + claim.messagesConsumed;
        uint256 queued = bridge.queueLength();
        if (claim.queueStartIndex != start) revert QueueMismatch(0);
        if (claim.queueStartHash != bridge.rollingHashAt(start)) revert QueueMismatch(1);
        if (end > queued) revert QueueMismatch(2);
        if (claim.queueEndHash != bridge.rollingHashAt(end)) revert QueueMismatch(3);
        if (end < queued && block.timestamp > bridge.enqueuedAt(end) + inclusionDeadline) {
            revert OverdueMessageNotConsumed(end);
        }
        if (!verifier.verify(claim, trace, evidence)) revert VerifierRejected();

        _batches.push(
            Batch(
                claim.postStateRoot,
                claim.blockHash,
                uint64(claim.blockNumber),
                uint64(block.timestamp),
                claim.withdrawalsRoot,
                end
            )
        );
        bridge.onBatchSettled(end);
        emit BatchSettled(
            _batches.length - 1,
            claim.postStateRoot,
            claim.blockHash,
            claim.blockNumber,
            end,
            claim.withdrawalsRoot,
            claim.withdrawalCount
        );
    }

    // --- views -------------------------------------------------------------------------------

    function batchCount() external view returns (uint256) {
        return _batches.length;
    }

    function batch(uint256 index) external view returns (Batch memory) {
        return _batches[index];
    }

    function stateRoot() external view returns (bytes32) {
        return _batches[_batches.length - 1].stateRoot;
    }

    function lastBlockHash() external view returns (bytes32) {
        return _batches[_batches.length - 1].blockHash;
    }

    function lastBlockNumber() external view returns (uint256) {
        return _batches[_batches.length - 1].blockNumber;
    }

    function withdrawalsRootOf(uint256 index) external view returns (bytes32 root, uint64 settledAt) {
        if (index >= _batches.length) return (bytes32(0), 0);
        Batch storage b = _batches[index];
        return (b.withdrawalsRoot, b.settledAt);
    }
}
