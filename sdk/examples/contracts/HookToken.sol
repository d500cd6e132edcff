// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// An ERC-20 whose every transfer calls a hook: `hook.callIncrement(counter)`. On a `multi`
/// chain the hook can be a RISC-V contract (the guest `caller` example) and the counter a wasm
/// one, so one EVM transfer runs all three VMs. A hook that fails fails the transfer, with the
/// hook's revert data.
contract HookToken {
    mapping(address => uint256) public balanceOf;
    address public immutable hook;
    address public immutable counter;

    event Transfer(address indexed from, address indexed to, uint256 value);

    constructor(address hook_, address counter_, uint256 supply) {
        hook = hook_;
        counter = counter_;
        balanceOf[msg.sender] = supply;
    }

    function transfer(address to, uint256 amount) external returns (bool) {
        require(balanceOf[msg.sender] >= amount, "HookToken: balance too low");
        balanceOf[msg.sender] -= amount;
        balanceOf[to] += amount;
        emit Transfer(msg.sender, to, amount);
        (bool ok, bytes memory out) = hook.call(
            abi.encodeWithSignature("callIncrement(address)", counter)
        );
        if (!ok) {
            assembly {
                revert(add(out, 32), mload(out))
            }
        }
        return true;
    }
}
