// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// The L2 side of the bridge, predeployed at 0x4200000000000000000000000000000000000010.
///
/// `withdraw` locks the value sent (it leaves L2 circulation) and emits WithdrawalInitiated.
/// EXECUTE recognises these events as withdrawals and commits to them in its withdrawals root;
/// the hash of each is also stored so a withdrawal can be proven against the L2 state root.
contract L2Bridge {
    uint256 public withdrawalCount;
    mapping(bytes32 => bool) public sentWithdrawals;

    event WithdrawalInitiated(
        uint256 indexed nonce, address indexed sender, address indexed target, uint256 value, bytes data
    );

    function withdraw(address target, bytes calldata data) external payable returns (uint256 nonce) {
        nonce = withdrawalCount++;
        bytes32 leaf = keccak256(abi.encode(nonce, msg.sender, target, msg.value, keccak256(data)));
        sentWithdrawals[leaf] = true;
        emit WithdrawalInitiated(nonce, msg.sender, target, msg.value, data);
    }

    receive() external payable {
        uint256 nonce = withdrawalCount++;
        bytes32 leaf = keccak256(abi.encode(nonce, msg.sender, msg.sender, msg.value, keccak256("")));
        sentWithdrawals[leaf] = true;
        emit WithdrawalInitiated(nonce, msg.sender, msg.sender, msg.value, "");
    }
}
