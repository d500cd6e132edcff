// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

interface ISettlement {
    function withdrawalsRootOf(uint256 batchIndex) external view returns (bytes32 root, uint64 settledAt);
}

/// The L1 side of the bridge: the L1 -> L2 message queue (deposits and forced transactions)
/// and withdrawal claims.
///
/// Every message is hashed as keccak256(abi.encode(kind, index, sender, target, value,
/// gasLimit, keccak256(data))) into a rolling hash H[i+1] = keccak256(H[i], messageHash).
/// The settlement contract accepts a batch only if what it consumed matches H at both ends.
contract L1Bridge {
    uint8 public constant KIND_DEPOSIT = 0;
    uint8 public constant KIND_FORCED_TX = 1;
    /// Contracts are aliased on L2 so an L1 contract cannot pose as the L2 account at its address.
    uint160 public constant ALIAS_OFFSET = uint160(0x1111000000000000000000000000000000001111);
    /// The most data a message may carry: what an L2 trace can hold (rollupkit.trace.LIMITS).
    /// A bigger message could never be consumed, and would halt the chain once overdue.
    uint256 public constant MAX_MESSAGE_DATA = 131072;
    /// L2 accounts that could never spend value deposited to them: the L2 bridge (a plain
    /// credit to it is stuck; a deposit with data calling it is a round trip and allowed)
    /// and the system account (nothing runs as it).
    address public constant L2_BRIDGE = 0x4200000000000000000000000000000000000010;
    address public constant L2_SYSTEM = 0x4200000000000000000000000000000000000001;
    /// The booster account on L2 (rollupkit_booster.BOOSTER_CONFIG_ADDRESS): sender and target
    /// of an L1 handoff, which only the settlement contract enqueues. No L1 account can be
    /// this sender (no one holds its key, and no contract aliases to it).
    address public constant L2_BOOSTER = 0x000000000000000000000000000000000000b000;

    address public immutable deployer;
    uint64 public immutable maxMessageGas;
    uint256 public immutable finalityDelay;
    address public settlement;

    bytes32[] private _rollingHashes; // _rollingHashes[i] = H[i]
    uint64[] private _enqueuedAt; // block timestamp of message i
    uint256 public consumed; // messages consumed by settled batches
    mapping(bytes32 => bool) public claimed; // withdrawal leaf -> claimed

    event MessageQueued(
        uint256 indexed index,
        uint8 kind,
        address indexed sender,
        address indexed target,
        uint256 value,
        uint64 gasLimit,
        bytes data,
        bytes32 rollingHash
    );
    event WithdrawalClaimed(bytes32 indexed leaf, uint256 indexed batchIndex, address indexed target, uint256 value);

    error OnlySettlement();
    error AlreadyInitialized();
    error GasLimitTooHigh(uint64 gasLimit, uint64 max);
    error EmptyTransaction();
    error MessageTooLarge(uint256 size, uint256 max);
    error BatchNotSettled(uint256 batchIndex);
    error NotFinal(uint256 finalAt);
    error AlreadyClaimed(bytes32 leaf);
    error BadWithdrawalProof();
    error WithdrawalCallFailed();
    error UnusableDeposit(address target);

    event GenesisBacked(uint256 amount);

    constructor(uint64 maxMessageGas_, uint256 finalityDelay_) {
        deployer = msg.sender;
        maxMessageGas = maxMessageGas_;
        finalityDelay = finalityDelay_;
        _rollingHashes.push(bytes32(0));
    }

    /// Called once, by the deployer, with the settlement contract that consumes the queue.
    function initialize(address settlement_) external {
        if (msg.sender != deployer || settlement != address(0)) revert AlreadyInitialized();
        settlement = settlement_;
    }

    /// Lock the ETH that backs the L2's genesis balances (dev chains only), before the bridge
    /// is initialized: every L2 balance is then backed by ETH here, and withdrawals of genesis
    /// money cannot take other users' deposits.
    function backGenesis() external payable {
        if (msg.sender != deployer || settlement != address(0)) revert AlreadyInitialized();
        emit GenesisBacked(msg.value);
    }

    // --- the queue ------------------------------------------------------------------------

    /// Deposit msg.value to `target` on L2, and (if `data` is not empty) call it there with
    /// `gasLimit` gas.
    function deposit(address target, uint64 gasLimit, bytes calldata data) public payable returns (uint256) {
        if (gasLimit > maxMessageGas) revert GasLimitTooHigh(gasLimit, maxMessageGas);
        if (data.length > MAX_MESSAGE_DATA) revert MessageTooLarge(data.length, MAX_MESSAGE_DATA);
        if (target == L2_SYSTEM || (target == L2_BRIDGE && data.length == 0)) {
            revert UnusableDeposit(target);
        }
        return _enqueue(KIND_DEPOSIT, _l2Sender(), target, msg.value, gasLimit, data);
    }

    receive() external payable {
        _enqueue(KIND_DEPOSIT, _l2Sender(), _l2Sender(), msg.value, 0, "");
    }

    /// Force a signed L2 transaction into the chain: it must be included (as applied or, if
    /// invalid, as a no-op) before the settlement contract's deadline passes.
    function forceTransaction(bytes calldata signedTransaction) external returns (uint256) {
        if (signedTransaction.length == 0) revert EmptyTransaction();
        if (signedTransaction.length > MAX_MESSAGE_DATA) {
            revert MessageTooLarge(signedTransaction.length, MAX_MESSAGE_DATA);
        }
        return _enqueue(KIND_FORCED_TX, msg.sender, address(0), 0, 0, signedTransaction);
    }

    /// A chained booster rollup's L1 handoff (NativeRollup.receiveL1): a deposit of nothing
    /// from and to the L2's booster account, whose data is the L1 state the L2 goes on from.
    function enqueueL1Handoff(bytes calldata data) external returns (uint256) {
        if (msg.sender != settlement) revert OnlySettlement();
        if (data.length > MAX_MESSAGE_DATA) revert MessageTooLarge(data.length, MAX_MESSAGE_DATA);
        return _enqueue(KIND_DEPOSIT, L2_BOOSTER, L2_BOOSTER, 0, 0, data);
    }

    function _l2Sender() private view returns (address) {
        if (msg.sender == tx.origin) return msg.sender;
        unchecked {
            return address(uint160(msg.sender) + ALIAS_OFFSET);
        }
    }

    function _enqueue(uint8 kind, address sender, address target, uint256 value, uint64 gasLimit, bytes memory data)
        private
        returns (uint256 index)
    {
        index = _enqueuedAt.length;
        bytes32 messageHash =
            keccak256(abi.encode(kind, uint64(index), sender, target, value, gasLimit, keccak256(data)));
        bytes32 rolling = keccak256(abi.encodePacked(_rollingHashes[index], messageHash));
        _rollingHashes.push(rolling);
        _enqueuedAt.push(uint64(block.timestamp));
        emit MessageQueued(index, kind, sender, target, value, gasLimit, data, rolling);
    }

    function queueLength() external view returns (uint256) {
        return _enqueuedAt.length;
    }

    /// H[i]: the rolling hash of the first i messages (H[0] = 0).
    function rollingHashAt(uint256 i) external view returns (bytes32) {
        return _rollingHashes[i];
    }

    function enqueuedAt(uint256 i) external view returns (uint64) {
        return _enqueuedAt[i];
    }

    function onBatchSettled(uint256 newConsumed) external {
        if (msg.sender != settlement) revert OnlySettlement();
        consumed = newConsumed;
    }

    // --- withdrawals ------------------------------------------------------------------------

    /// Claim a withdrawal made on L2, proven against the withdrawals root of a settled batch
    /// once the finality delay has passed. Each withdrawal can be claimed once.
    function claimWithdrawal(
        uint256 batchIndex,
        uint256 nonce,
        address sender,
        address target,
        uint256 value,
        bytes calldata data,
        uint256 leafIndex,
        bytes32[] calldata proof
    ) external {
        (bytes32 root, uint64 settledAt) = ISettlement(settlement).withdrawalsRootOf(batchIndex);
        if (settledAt == 0) revert BatchNotSettled(batchIndex);
        if (block.timestamp < settledAt + finalityDelay) revert NotFinal(settledAt + finalityDelay);
        bytes32 leaf = keccak256(abi.encode(nonce, sender, target, value, keccak256(data)));
        if (claimed[leaf]) revert AlreadyClaimed(leaf);
        if (!_verify(root, leaf, leafIndex, proof)) revert BadWithdrawalProof();
        claimed[leaf] = true;
        emit WithdrawalClaimed(leaf, batchIndex, target, value);
        (bool ok,) = target.call{value: value}(data);
        if (!ok) revert WithdrawalCallFailed();
    }

    function _verify(bytes32 root, bytes32 leaf, uint256 index, bytes32[] calldata proof) private pure returns (bool) {
        bytes32 node = leaf;
        for (uint256 i = 0; i < proof.length; i++) {
            node = index % 2 == 0 ? keccak256(abi.encodePacked(node, proof[i])) : keccak256(abi.encodePacked(proof[i], node));
            index /= 2;
        }
        return index == 0 && node == root;
    }
}
