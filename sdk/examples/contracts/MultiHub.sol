// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// The EVM side of rollupkit's multi-VM examples (the `multi` VM): a counter with the guest
/// examples' counter ABI, so RISC-V and wasm contracts can call back into the EVM, and calls
/// from the EVM into guest contracts: plain, with value, static, and undone by a revert.
contract MultiHub {
    uint256 public count;

    event Incremented(uint256 count);

    function increment() external returns (uint256) {
        count += 1;
        emit Incremented(count);
        return count;
    }

    function fail() external pure {
        revert("MultiHub: fail");
    }

    /// `counter.increment()`, its result returned: the guest caller example's function, so a
    /// caller in any VM has the same ABI.
    function callIncrement(address counter) external returns (uint256) {
        (bool ok, bytes memory out) = counter.call(abi.encodeWithSignature("increment()"));
        require(ok, "the counter failed");
        return abi.decode(out, (uint256));
    }

    /// `caller_.callIncrement(counter)` on a guest caller example, with this call's value;
    /// its revert data comes back as this call's.
    function viaCaller(address caller_, address counter) external payable returns (uint256) {
        (bool ok, bytes memory out) = caller_.call{value: msg.value}(
            abi.encodeWithSignature("callIncrement(address)", counter)
        );
        if (!ok) {
            assembly {
                revert(add(out, 32), mload(out))
            }
        }
        return abi.decode(out, (uint256));
    }

    /// STATICCALL `target.increment()`: whether it succeeded (a write in it cannot).
    function staticIncrement(address target) external view returns (bool ok) {
        (ok, ) = target.staticcall(abi.encodeWithSignature("increment()"));
    }

    /// STATICCALL `target.count()`: reads work in every VM.
    function staticCount(address target) external view returns (uint256) {
        (bool ok, bytes memory out) = target.staticcall(abi.encodeWithSignature("count()"));
        require(ok, "MultiHub: count failed");
        return abi.decode(out, (uint256));
    }

    /// Count here, call `target.increment()` with `gas`, and carry on whether it worked: a
    /// callee that reverts or runs out of gas loses only its own writes.
    function tryIncrement(address target, uint256 gas) external returns (bool ok) {
        count += 1;
        (ok, ) = target.call{gas: gas}(abi.encodeWithSignature("increment()"));
    }

    /// Count here and try `viaCaller(caller_, counter)` (through this contract, so a revert
    /// in the guest caller is caught here): the revert data comes back as the result.
    function tryVia(address caller_, address counter) external returns (bool ok, bytes memory out) {
        count += 1;
        (ok, out) = caller_.call(abi.encodeWithSignature("callIncrement(address)", counter));
    }

    /// `target.increment()`, then revert: the callee's writes, in any VM, are undone.
    function incrementThenRevert(address target) external {
        (bool ok, ) = target.call(abi.encodeWithSignature("increment()"));
        require(ok, "MultiHub: increment failed");
        revert("MultiHub: undone");
    }
}
