// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

contract Empty {}

/// One L1 storage slot set by a booster rollup (NativeRollup's StateChange).
struct StateChange {
    bytes32 slot;
    bytes32 value;
}

/// The seed's applyStateUpdates body: each slot set to its value, in this contract's storage.
function storeChanges(StateChange[] calldata changes) {
    for (uint256 i = 0; i < changes.length; i++) {
        bytes32 slot = changes[i].slot;
        bytes32 value = changes[i].value;
        assembly {
            sstore(slot, value)
        }
    }
}

/// An L1 contract for booster rollups' tests: a counter (opted in to coprocessor mode: it takes
/// its booster rollup's storage updates), and what L1CALL must refuse.
contract L1Counter {
    uint256 public count; // slot 0
    mapping(address => uint256) public votes; // slot 1
    address public booster; // slot 2: the booster rollup's NativeRollup

    /// Once: the rollup whose updates this contract takes.
    function setBooster(address booster_) external {
        require(booster == address(0), "L1Counter: booster set");
        booster = booster_;
    }

    /// Reads `n` storage slots (from slot 1000 on): for the cap on what a block reads of L1.
    function scan(uint256 n) external view returns (uint256 sum) {
        for (uint256 i = 0; i < n; i++) {
            assembly {
                sum := add(sum, sload(add(1000, i)))
            }
        }
    }

    /// The seed's coprocessor mode: the slots as the L2 left them, from the rollup only.
    function applyStateUpdates(StateChange[] calldata changes) external {
        require(msg.sender == booster, "L1Counter: only from the booster rollup");
        storeChanges(changes);
    }

    event Counted(uint256 count);

    function increment() external returns (uint256) {
        count += 1;
        emit Counted(count);
        return count;
    }

    function vote() external returns (uint256) {
        votes[msg.sender] += 1;
        count += 1;
        return count;
    }

    function fail() external pure {
        revert("L1Counter: fail");
    }

    function pay(address to) external {
        payable(to).transfer(1);
    }

    function spawn() external returns (address) {
        return address(new Empty());
    }

    function end() external {
        selfdestruct(payable(msg.sender));
    }

    function recentHash() external view returns (bytes32) {
        return blockhash(block.number - 1);
    }
}

/// An L2 contract of a booster rollup calling L1 through the precompiles.
contract BoosterClient {
    address constant L1CALL = address(0xb001);
    address constant L1SANDBOXCALL = address(0xb002);
    address constant L1DELEGATECALL = address(0xb003);

    uint256 public count; // slot 0, as L1Counter's: L1DELEGATECALL writes it here
    bytes public last;
    uint256 public first;
    uint256 public second;

    event Result(bool ok, bytes output);

    function call(address precompile, address target, bytes memory data) public returns (bytes memory) {
        (bool ok, bytes memory out) = precompile.call(abi.encode(target, data));
        if (!ok) {
            assembly {
                revert(add(out, 32), mload(out))
            }
        }
        last = out;
        return out;
    }

    /// L1CALL `increment` twice: the second sees the first's write.
    function incrementTwice(address counter) external {
        first = abi.decode(call(L1CALL, counter, abi.encodeCall(L1Counter.increment, ())), (uint256));
        second = abi.decode(call(L1CALL, counter, abi.encodeCall(L1Counter.increment, ())), (uint256));
    }

    /// Any precompile call, its outcome logged (`Result`) instead of reverting.
    function attempt(address precompile, address target, bytes memory data) external payable {
        (bool ok, bytes memory out) = precompile.call{value: msg.value}(abi.encode(target, data));
        emit Result(ok, out);
    }

    /// L1CALL `increment`, then fail: the L1 write goes with the L2 revert.
    function incrementThenFail(address counter) external {
        call(L1CALL, counter, abi.encodeCall(L1Counter.increment, ()));
        revert("BoosterClient: fail");
    }

    function readCount(address counter) external {
        first = abi.decode(call(L1CALL, counter, abi.encodeWithSignature("count()")), (uint256));
    }
}

/// A ballot on L1 that a booster rollup can run as its coprocessor (seed 000's voting case):
/// many votes, few slots. Voting directly on L1 costs each voter a transaction and two slots;
/// through the rollup, the L2 keeps who voted (BoosterVoter) and only the tallies come back to
/// L1, as one applyStateUpdates per batch.
contract Ballot {
    mapping(uint256 => uint256) public tally; // slot 0
    mapping(address => bool) public voted; // slot 1: who voted directly on L1
    address public booster; // slot 2: the booster rollup's NativeRollup
    address public l2Voter; // slot 3: the L2 contract (as L1CALL's msg.sender) that may vote

    /// Once: the rollup whose updates this ballot takes, and its L2 voter (an address no one
    /// holds on L1, such as a predeploy's, so no L1 account can pose as it).
    function setBooster(address booster_, address l2Voter_) external {
        require(booster == address(0), "Ballot: booster set");
        booster = booster_;
        l2Voter = l2Voter_;
    }

    /// One vote, directly on L1.
    function vote(uint256 proposal) external {
        require(!voted[msg.sender], "Ballot: voted");
        voted[msg.sender] = true;
        tally[proposal] += 1;
    }

    /// One vote counted by the L2 (through L1CALL): the L2 voter checked who votes.
    function boostedVote(uint256 proposal) external {
        require(msg.sender == l2Voter, "Ballot: only the L2 voter");
        tally[proposal] += 1;
    }

    function applyStateUpdates(StateChange[] calldata changes) external {
        require(msg.sender == booster, "Ballot: only from the booster rollup");
        storeChanges(changes);
    }
}

/// The L2 side of the boosted ballot (a predeploy: the ballot's address in slot 0 at genesis):
/// one vote per L2 account, counted on L1 through L1CALL.
contract BoosterVoter {
    address constant L1CALL = address(0xb001);
    address public ballot; // slot 0, set at genesis: the Ballot on L1
    mapping(address => bool) public voted; // slot 1

    function vote(uint256 proposal) external {
        require(!voted[msg.sender], "BoosterVoter: voted");
        voted[msg.sender] = true;
        (bool ok,) = L1CALL.call(abi.encode(ballot, abi.encodeCall(Ballot.boostedVote, (proposal))));
        require(ok, "BoosterVoter: L1CALL failed");
    }
}
