// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {BatchClaim, IVerifier} from "./IVerifier.sol";
import {L1Bridge} from "./L1Bridge.sol";

/// One L1 storage slot set by a booster rollup (seed 000).
struct StateChange {
    bytes32 slot;
    bytes32 value;
}

/// An L1 contract that takes a booster rollup's storage updates: it must accept them only
/// from its rollup's NativeRollup (the seed's `onlyFromBooster`).
interface IBoosted {
    function applyStateUpdates(StateChange[] calldata changes) external;
}

/// Settlement of a native rollup: a chain of L2 state roots, each step checked by a verifier
/// (EXECUTE re-execution, or k-of-n attestations on an L1 without EXECUTE).
///
/// A batch is accepted only if it continues the last settled block (state root and block
/// hash), consumes exactly the next messages of the bridge's queue (checked by rolling hash
/// at both ends), leaves no queued message older than the inclusion deadline unconsumed, and
/// the verifier accepts it.
///
/// Booster rollups (seed 000): a batch whose L2 calls read L1 names the L1 block it read at;
/// that block must be one L1 knows (`blockhash`: the last 256 blocks), or the one the previous
/// batch read at, and not older than the last settlement that applied L1 updates (its state
/// would not hold them). Its L1 storage updates are applied by `submitBoosterBatch`, which
/// calls `applyStateUpdates(changes)` on each contract they touch, as the batch settles.
///
/// Chained booster rollups (seed 000's "chaining rollups"): an upstream rollup A may hand the
/// L1 state its batch left (anchor, L1 state root, which slots it changed) to a downstream
/// rollup B instead of applying it (`handOffBoosterBatch`). B's bridge queues it as an L1
/// handoff message; the B block that consumes it reads L1 at that anchor from A's root, and
/// B's batch applies A's and its own updates to L1 once. Both ends are set once, by each
/// rollup's deployer (`setL1Upstream` on B, then `setL1Downstream` on A).
contract NativeRollup {
    IVerifier public immutable verifier;
    L1Bridge public immutable bridge;
    uint256 public immutable l2ChainId;
    uint256 public immutable inclusionDeadline; // seconds a queued message may wait
    address public immutable sequencer; // zero: anyone may submit batches
    address public immutable deployer; // may link chained booster rollups, once

    /// The last settled batch, which the next one must continue: overwritten by each
    /// settlement (three warm slot writes, not five fresh ones per batch; every batch's roots
    /// are in its BatchSettled event).
    bytes32 public stateRoot;
    bytes32 public lastBlockHash;
    uint64 public lastBlockNumber;
    uint64 public batchCount; // settled batches, genesis included

    /// What withdrawal claims need of a settled batch that made withdrawals: its withdrawals
    /// root and when it settled (a batch without withdrawals keeps nothing).
    struct Withdrawals {
        bytes32 root;
        uint64 settledAt;
    }

    mapping(uint256 => Withdrawals) private _withdrawals;

    /// Booster rollups: the L1 block the last batch reading L1 read at, and the L1 block of the
    /// last settlement that applied L1 updates.
    bytes32 public l1AnchorHash;
    uint256 public l1UpdatesAppliedAt;

    /// Chained booster rollups: the rollup whose L1 state this one goes on from, the one this
    /// one hands its L1 state to, and (plus one) the queue index of a received handoff no
    /// settled batch has consumed yet (zero: none).
    address public l1Upstream;
    address public l1Downstream;
    uint256 public l1HandoffPending;

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
    error UnknownL1Anchor(uint256 number, bytes32 hash);
    error StaleL1Anchor(uint256 number, uint256 updatesAppliedAt);
    error L1UpdatesMismatch();
    error L1UpdatesNotGiven();
    error NotDeployer();
    error AlreadyLinked();
    error NotLinked();
    error NotL1Upstream();
    error NoL1Anchor();
    error L1HandoffPending(uint256 index);

    event L1HandedOff(uint256 indexed batchIndex, address indexed downstream, bytes32 l1StateRoot);
    event L1Received(uint256 indexed queueIndex, bytes32 l1AnchorHash, bytes32 l1StateRoot);

    event L1UpdatesApplied(uint256 indexed batchIndex, uint256 contracts, bytes32 l1StateRoot);

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
        deployer = msg.sender;
        stateRoot = genesisStateRoot;
        lastBlockHash = genesisBlockHash;
        batchCount = 1;
        emit BatchSettled(0, genesisStateRoot, genesisBlockHash, 0, 0, bytes32(0), 0);
        emit RollupCreated(l2ChainId_, genesisBlockHash);
    }

    function submitBatch(BatchClaim calldata claim, bytes calldata trace, bytes calldata evidence) external {
        if (claim.l1UpdatesHash != 0) revert L1UpdatesNotGiven();
        _settle(claim, trace, evidence);
    }

    /// A booster batch with L1 storage updates: settled as `submitBatch` does, then each
    /// `contracts[i].applyStateUpdates(changes[i])` (rollupkit.l1updates).
    function submitBoosterBatch(
        BatchClaim calldata claim,
        bytes calldata trace,
        bytes calldata evidence,
        address[] calldata contracts,
        StateChange[][] calldata changes
    ) external {
        if (keccak256(abi.encode(contracts, changes)) != claim.l1UpdatesHash) revert L1UpdatesMismatch();
        _settle(claim, trace, evidence);
        for (uint256 i = 0; i < contracts.length; i++) {
            IBoosted(contracts[i]).applyStateUpdates(changes[i]);
        }
        l1UpdatesAppliedAt = block.number;
        emit L1UpdatesApplied(batchCount - 1, contracts.length, claim.l1StateRoot);
    }

    // --- chained booster rollups --------------------------------------------------------

    /// Once, by the deployer: the rollup whose L1 state this one goes on from.
    function setL1Upstream(address upstream) external {
        if (msg.sender != deployer) revert NotDeployer();
        if (l1Upstream != address(0)) revert AlreadyLinked();
        l1Upstream = upstream;
    }

    /// Once, by the deployer: the rollup this one hands its L1 state to (which must name this
    /// one as its upstream).
    function setL1Downstream(address downstream) external {
        if (msg.sender != deployer) revert NotDeployer();
        if (l1Downstream != address(0)) revert AlreadyLinked();
        if (NativeRollup(downstream).l1Upstream() != address(this)) revert NotLinked();
        l1Downstream = downstream;
    }

    /// A booster batch settled as `submitBoosterBatch` does, but its L1 state (and the list of
    /// its updates) handed to the downstream rollup, which applies them, instead of applied.
    /// This rollup's next batch reading L1 must read a block after the downstream applied.
    function handOffBoosterBatch(
        BatchClaim calldata claim,
        bytes calldata trace,
        bytes calldata evidence,
        address[] calldata contracts,
        StateChange[][] calldata changes
    ) external {
        if (l1Downstream == address(0)) revert NotLinked();
        if (claim.l1AnchorHash == 0) revert NoL1Anchor();
        if (keccak256(abi.encode(contracts, changes)) != claim.l1UpdatesHash) revert L1UpdatesMismatch();
        _settle(claim, trace, evidence);
        l1AnchorHash = 0;
        l1UpdatesAppliedAt = block.number;
        NativeRollup(l1Downstream).receiveL1(
            claim.l1AnchorNumber, claim.l1AnchorHash, claim.l1StateRoot, abi.encode(contracts, changes)
        );
        emit L1HandedOff(batchCount - 1, l1Downstream, claim.l1StateRoot);
    }

    /// From the upstream rollup: queue the L1 state it left as a handoff this rollup's chain
    /// goes on from (`updates` is `abi.encode(contracts, changes)`: which slots to apply).
    function receiveL1(uint256 anchorNumber, bytes32 anchorHash, bytes32 l1StateRoot, bytes calldata updates)
        external
    {
        if (msg.sender != l1Upstream) revert NotL1Upstream();
        if (l1HandoffPending != 0) revert L1HandoffPending(l1HandoffPending - 1);
        // The upstream read L1 without this rollup's updates applied since.
        if (anchorNumber < l1UpdatesAppliedAt) revert StaleL1Anchor(anchorNumber, l1UpdatesAppliedAt);
        uint256 index = bridge.enqueueL1Handoff(abi.encode(anchorHash, l1StateRoot, updates));
        l1HandoffPending = index + 1;
        l1AnchorHash = anchorHash; // checked by the upstream
        emit L1Received(index, anchorHash, l1StateRoot);
    }

    function _checkL1Anchor(BatchClaim calldata claim, uint256 end) private {
        if (l1HandoffPending != 0) {
            // A batch reading L1 before the handoff it must go on from would overwrite it.
            if (end < l1HandoffPending) {
                if (claim.l1AnchorHash != 0) revert L1HandoffPending(l1HandoffPending - 1);
            } else {
                l1HandoffPending = 0;
            }
        }
        if (claim.l1AnchorHash == 0) return;
        if (l1Downstream != address(0)) {
            // This rollup's last L1 state is the downstream's until it applies it.
            NativeRollup downstream = NativeRollup(l1Downstream);
            uint256 pending = downstream.l1HandoffPending();
            if (pending != 0) revert L1HandoffPending(pending - 1);
            uint256 appliedAt = downstream.l1UpdatesAppliedAt();
            if (claim.l1AnchorNumber < appliedAt) revert StaleL1Anchor(claim.l1AnchorNumber, appliedAt);
        }
        if (claim.l1AnchorHash == l1AnchorHash) return;
        if (blockhash(claim.l1AnchorNumber) != claim.l1AnchorHash) {
            revert UnknownL1Anchor(claim.l1AnchorNumber, claim.l1AnchorHash);
        }
        if (claim.l1AnchorNumber < l1UpdatesAppliedAt) {
            revert StaleL1Anchor(claim.l1AnchorNumber, l1UpdatesAppliedAt);
        }
        l1AnchorHash = claim.l1AnchorHash;
    }

    function _settle(BatchClaim calldata claim, bytes calldata trace, bytes calldata evidence) private {
        if (sequencer != address(0) && msg.sender != sequencer) revert NotSequencer();
        if (claim.chainId != l2ChainId) revert WrongChain(claim.chainId);
        if (claim.preStateRoot != stateRoot) revert WrongPreState(stateRoot);
        if (claim.parentHash != lastBlockHash) revert WrongParent(lastBlockHash);

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
        _checkL1Anchor(claim, end);
        if (!verifier.verify(claim, trace, evidence)) revert VerifierRejected();

        uint256 index = batchCount;
        stateRoot = claim.postStateRoot;
        lastBlockHash = claim.blockHash;
        lastBlockNumber = uint64(claim.blockNumber);
        batchCount = uint64(index + 1);
        if (claim.withdrawalsRoot != 0) {
            _withdrawals[index] = Withdrawals(claim.withdrawalsRoot, uint64(block.timestamp));
        }
        bridge.onBatchSettled(end);
        emit BatchSettled(
            index,
            claim.postStateRoot,
            claim.blockHash,
            claim.blockNumber,
            end,
            claim.withdrawalsRoot,
            claim.withdrawalCount
        );
    }

    // --- views -------------------------------------------------------------------------------

    /// A settled batch's withdrawals root and settlement time; (0, 0) for a batch that is not
    /// settled or made no withdrawals (nothing to claim from it).
    function withdrawalsRootOf(uint256 index) external view returns (bytes32 root, uint64 settledAt) {
        Withdrawals storage w = _withdrawals[index];
        return (w.root, w.settledAt);
    }
}
