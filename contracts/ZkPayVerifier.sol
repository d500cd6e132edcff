// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {BatchClaim, IVerifier} from "./IVerifier.sol";

/// The Groth16 verifier of one zkpay circuit (rendered from its verifying key by
/// rollupkit_zkpay.groth16, deployed by this contract's constructor).
interface IGroth16Verifier {
    function verifyProof(bytes calldata proof, uint256[] calldata inputs) external view returns (bool);
}

/// An L1 message as the bridge queued it (rollupkit.types.L1Message).
struct QueuedMessage {
    uint8 kind;
    uint64 index;
    address sender;
    address target;
    uint256 value;
    uint64 gasLimit;
    bytes data;
}

/// Settles zkpay batches by validity proofs: k Groth16 proofs, each of `slots` operations,
/// chained from the claim's pre-state root to its post-state root, verified in one call
/// (aggregation by chaining: the settlement's fixed cost is paid once for k proofs).
///
/// The circuit's public signals are, per proof: its state root before and after, two "effects"
/// per slot, and the chain id. Nothing of L1 is trusted to the prover: this contract rebuilds
/// every effect L1 sees from the claim and the queue,
/// - deposits: each consumed deposit must match the next deposit effect in order (target and
///   value; 1 credited, 2 bounced, 4 refunded whole (too large, carrying data, or to its
///   own sender): 2 and 4 are refunded to the depositor as withdrawals); forced transactions are no-ops on zkpay and have none; the messages'
///   rolling hash must be the claim's (which NativeRollup checks against the bridge), so no
///   deposit is skipped or invented;
/// - withdrawals: the withdrawal effects and the refunds, in order, hash to the claim's
///   withdrawals root (rollupkit.withdrawals), so none is invented or dropped.
/// The claim's block hash and number are the sequencer's word: the proof covers the accounts
/// and the messages, not the headers (which NativeRollup only chains).
contract ZkPayVerifier is IVerifier {
    uint8 internal constant KIND_DEPOSIT = 0;
    uint256 internal constant AMOUNT_LIMIT = 2 ** 93;
    /// The L2 sender of a bounced deposit's refund (rollupkit_zkpay.vm.REFUND_SENDER).
    address internal constant REFUND_SENDER = 0x4200000000000000000000000000000000007a01;

    IGroth16Verifier public immutable groth16;
    uint256 public immutable slots;

    error BadEvidence(string what);
    error ProofRejected(uint256 proof);
    error RootsMismatch();
    error DepositMismatch(uint256 message);
    error QueueMismatch();
    error UnknownEffect(uint256 slot);
    error WithdrawalsMismatch();
    error BoosterFieldsSet();

    /// `groth16Code`: the creation code of the circuit's Groth16 verifier; `slots_`: the
    /// operations per proof it was made for.
    constructor(bytes memory groth16Code, uint256 slots_) {
        address deployed;
        assembly {
            deployed := create(0, add(groth16Code, 32), mload(groth16Code))
        }
        if (deployed == address(0)) revert BadEvidence("groth16 verifier creation failed");
        groth16 = IGroth16Verifier(deployed);
        slots = slots_;
    }

    /// `evidence` = abi.encode(bytes32[] roots, bytes[] proofs, uint256[] effects,
    /// QueuedMessage[] messages): the k + 1 state roots the proofs chain through, the k
    /// proofs (256 bytes each), their 2 * slots effects each, and the messages consumed.
    function verify(BatchClaim calldata claim, bytes calldata, bytes calldata evidence) external view returns (bool) {
        if (claim.l1AnchorNumber != 0 || claim.l1AnchorHash != 0 || claim.l1StateRoot != 0) {
            revert BoosterFieldsSet();
        }
        (bytes32[] memory roots, bytes[] memory proofs, uint256[] memory effects, QueuedMessage[] memory messages) =
            abi.decode(evidence, (bytes32[], bytes[], uint256[], QueuedMessage[]));
        if (roots.length < 2) revert BadEvidence("no proof");
        uint256 k = roots.length - 1;
        if (proofs.length != k || effects.length != 2 * slots * k) revert BadEvidence("sizes");
        if (roots[0] != claim.preStateRoot || roots[k] != claim.postStateRoot) revert RootsMismatch();
        _verifyProofs(claim.chainId, roots, proofs, effects);
        _checkQueue(claim, messages);
        bytes32[] memory leaves = _effects(effects, messages);
        if (leaves.length != claim.withdrawalCount || _merkleRoot(leaves) != claim.withdrawalsRoot) {
            revert WithdrawalsMismatch();
        }
        return true;
    }

    function _verifyProofs(uint256 chainId, bytes32[] memory roots, bytes[] memory proofs, uint256[] memory effects)
        internal
        view
    {
        uint256 perProof = 2 * slots;
        uint256[] memory inputs = new uint256[](3 + perProof);
        for (uint256 p = 0; p + 1 < roots.length; p++) {
            inputs[0] = uint256(roots[p]);
            inputs[1] = uint256(roots[p + 1]);
            for (uint256 i = 0; i < perProof; i++) {
                inputs[2 + i] = effects[p * perProof + i];
            }
            inputs[2 + perProof] = chainId;
            if (!groth16.verifyProof(proofs[p], inputs)) revert ProofRejected(p);
        }
    }

    function _checkQueue(BatchClaim calldata claim, QueuedMessage[] memory messages) internal pure {
        if (messages.length != claim.messagesConsumed) revert QueueMismatch();
        bytes32 rolling = claim.queueStartHash;
        for (uint256 i = 0; i < messages.length; i++) {
            QueuedMessage memory m = messages[i];
            if (m.index != claim.queueStartIndex + i) revert QueueMismatch();
            bytes32 leaf = keccak256(
                abi.encode(m.kind, m.index, m.sender, m.target, m.value, m.gasLimit, keccak256(m.data))
            );
            rolling = keccak256(abi.encodePacked(rolling, leaf));
        }
        if (rolling != claim.queueEndHash) revert QueueMismatch();
    }

    /// Walk the effects in slot order against the deposits; return the withdrawal leaves.
    function _effects(uint256[] memory effects, QueuedMessage[] memory messages)
        internal
        pure
        returns (bytes32[] memory leaves)
    {
        leaves = new bytes32[](effects.length / 2);
        uint256 count = 0;
        uint256 next = 0; // the next message a deposit effect must match
        for (uint256 s = 0; s < effects.length / 2; s++) {
            uint256 a = effects[2 * s];
            uint256 b = effects[2 * s + 1];
            if (b == 0) {
                if (a != 0) revert UnknownEffect(s);
                continue; // a transfer, or nothing
            }
            if (b == 1 || b == 2 || b == 4) {
                while (next < messages.length && messages[next].kind != KIND_DEPOSIT) next++;
                if (next == messages.length) revert DepositMismatch(next);
                QueuedMessage memory m = messages[next];
                // Refunded whole (b = 4; rollupkit_zkpay.transition.refunded_whole): too large
                // for a balance, carrying data (zkpay has no contracts), or paid to its own
                // sender (ETH sent to the bridge: an Ethereum address no zkpay key controls).
                bool whole = m.value >= AMOUNT_LIMIT || m.data.length != 0 || m.target == m.sender;
                bool matches = b == 4
                    ? whole && a == uint256(uint160(m.target))
                    : !whole && a == uint256(uint160(m.target)) * AMOUNT_LIMIT + m.value;
                if (!matches) revert DepositMismatch(next);
                if (b != 1) leaves[count++] = _leaf(m.index, REFUND_SENDER, m.sender, m.value);
                next++;
                continue;
            }
            if (b & 3 != 3) revert UnknownEffect(s);
            uint256 tag = b >> 2; // from * 2^64 + nonce
            leaves[count++] =
                _leaf(tag & (2 ** 64 - 1), address(uint160(tag >> 64)), address(uint160(a / AMOUNT_LIMIT)), a % AMOUNT_LIMIT);
        }
        for (; next < messages.length; next++) {
            if (messages[next].kind == KIND_DEPOSIT) revert DepositMismatch(next); // skipped
        }
        assembly {
            mstore(leaves, count)
        }
    }

    function _leaf(uint256 nonce, address sender, address target, uint256 value) internal pure returns (bytes32) {
        return keccak256(abi.encode(nonce, sender, target, value, keccak256("")));
    }

    /// rollupkit.withdrawals.merkle_root: keccak pairs, leaves padded with zeros to a power of
    /// two; no leaves is 0, one leaf is itself.
    function _merkleRoot(bytes32[] memory leaves) internal pure returns (bytes32) {
        uint256 n = leaves.length;
        if (n == 0) return 0;
        uint256 width = 1;
        while (width < n) width *= 2;
        bytes32[] memory level = new bytes32[](width);
        for (uint256 i = 0; i < n; i++) {
            level[i] = leaves[i];
        }
        while (width > 1) {
            for (uint256 i = 0; i < width / 2; i++) {
                level[i] = keccak256(abi.encodePacked(level[2 * i], level[2 * i + 1]));
            }
            width /= 2;
        }
        return level[0];
    }
}
