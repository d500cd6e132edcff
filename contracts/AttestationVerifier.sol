// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {BatchClaim, IVerifier} from "./IVerifier.sol";
import {checkSignatures} from "./Signatures.sol";

/// Verifies a batch by k-of-n attestations: independent verifier clients re-execute the trace
/// off-chain (rollupkit's EXECUTE, or another client) and sign the claim when it holds.
/// For L1s without the EXECUTE precompile.
contract AttestationVerifier is IVerifier {
    bytes32 public constant DOMAIN = keccak256("rollupkit.attestation.v1");

    mapping(address => bool) public isSigner;
    uint256 public immutable threshold;
    uint256 public immutable signerCount;

    constructor(address[] memory signers, uint256 threshold_) {
        require(threshold_ > 0 && threshold_ <= signers.length, "bad threshold");
        for (uint256 i = 0; i < signers.length; i++) {
            require(signers[i] != address(0) && !isSigner[signers[i]], "bad signer set");
            isSigner[signers[i]] = true;
        }
        threshold = threshold_;
        signerCount = signers.length;
    }

    /// The 32-byte digest each verifier signs (raw ECDSA over it, no prefix).
    function digest(BatchClaim calldata claim, bytes32 traceHash) public view returns (bytes32) {
        return keccak256(abi.encode(DOMAIN, block.chainid, address(this), claim, traceHash));
    }

    /// evidence = abi.encode(bytes[] signatures), each 65 bytes (r, s, v), sorted by signer
    /// address, strictly ascending.
    function verify(BatchClaim calldata claim, bytes calldata trace, bytes calldata evidence)
        external
        view
        returns (bool)
    {
        bytes[] memory signatures = abi.decode(evidence, (bytes[]));
        checkSignatures(digest(claim, keccak256(trace)), signatures, isSigner, threshold);
        return true;
    }
}
