// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {BatchClaim, IVerifier, VERDICT_FIELDS, firstMismatch} from "./IVerifier.sol";

/// Verifies a batch by re-execution: the L1's EXECUTE precompile at 0x…0101.
contract ExecuteVerifier is IVerifier {
    address public constant EXECUTE = address(0x0101);

    string public vm;
    string public stateModel;

    error ExecuteFailed(); // the precompile refused: bad input, out of gas, or over the block's EXECUTE gas
    error TraceRejected(uint8 reason); // EXECUTE said false (reason: rollupkit RejectReason code)
    error OutputsMismatch(uint256 field); // EXECUTE said true, but not for what the claim says

    constructor(string memory vm_, string memory stateModel_) {
        vm = vm_;
        stateModel = stateModel_;
    }

    function verify(BatchClaim calldata claim, bytes calldata trace, bytes calldata)
        external
        returns (bool)
    {
        bytes memory input =
            abi.encode(claim.preStateRoot, claim.postStateRoot, claim.gasUsed, vm, stateModel, trace);
        (bool success, bytes memory output) = EXECUTE.call(input);
        if (!success || output.length != (2 + VERDICT_FIELDS) * 32) revert ExecuteFailed();
        (bool ok, uint8 reason) = abi.decode(output, (bool, uint8));
        if (!ok) revert TraceRejected(reason);
        uint256 field = firstMismatch(claim, output);
        if (field < VERDICT_FIELDS) revert OutputsMismatch(field);
        return true;
    }
}
