// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// Storage writes, deletions, reverts and block context, for EXECUTE's tests.
contract Store {
    mapping(uint256 => uint256) public values;
    mapping(uint256 => bytes32) public hashes;

    event Set(uint256 indexed key, uint256 value);

    function set(uint256 key, uint256 value) external {
        values[key] = value;
        emit Set(key, value);
    }

    function setMany(uint256 first, uint256 count, uint256 value) external {
        for (uint256 i = 0; i < count; i++) values[first + i] = value;
    }

    /// Deleting slots makes the storage trie collapse branches: the witness must hold siblings.
    function clear(uint256 key) external {
        delete values[key];
    }

    function clearMany(uint256 first, uint256 count) external {
        for (uint256 i = 0; i < count; i++) delete values[first + i];
    }

    function fail(uint256 key) external {
        values[key] = 1;
        revert("Store: failed on purpose");
    }

    /// Records BLOCKHASH(n): the witness must carry ancestor headers back to block n.
    function recordBlockhash(uint256 n) external {
        hashes[n] = blockhash(n);
    }

    function recordContext(uint256 key) external {
        values[key] = block.timestamp ^ block.number ^ uint256(uint160(address(block.coinbase)))
            ^ block.prevrandao ^ block.gaslimit ^ block.basefee ^ block.chainid;
    }
}
