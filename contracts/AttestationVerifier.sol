// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {BatchClaim, IVerifier} from "./IVerifier.sol";

/// Verifies a batch by k-of-n attestations: independent verifier clients re-execute the trace
/// off-chain (rollupkit's EXECUTE, or another client) and sign the claim when it holds.
/// For L1s without the EXECUTE precompile.
contract AttestationVerifier is IVerifier {
    bytes32 public constant DOMAIN = keccak256("rollupkit.attestation.v1");
    // secp256k1 n / 2: higher s values are malleable copies of valid signatures.
    uint256 private constant HALF_N = 0x7FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF5D576E7357A4501DDFE92F46681B20A0;

    mapping(address => bool) public isSigner;
    uint256 public immutable threshold;
    uint256 public immutable signerCount;

    error BadSignature(uint256 index);
    error UnknownSigner(address signer);
    error SignersNotAscending(address signer); // also catches one signer counted twice
    error NotEnoughSignatures(uint256 got, uint256 needed);

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
        bytes32 hash = digest(claim, keccak256(trace));
        address previous = address(0);
        for (uint256 i = 0; i < signatures.length; i++) {
            address signer = _recover(hash, signatures[i], i);
            if (!isSigner[signer]) revert UnknownSigner(signer);
            if (signer <= previous) revert SignersNotAscending(signer);
            previous = signer;
        }
        if (signatures.length < threshold) revert NotEnoughSignatures(signatures.length, threshold);
        return true;
    }

    function _recover(bytes32 hash, bytes memory signature, uint256 index) private pure returns (address) {
        if (signature.length != 65) revert BadSignature(index);
        bytes32 r;
        bytes32 s;
        uint8 v;
        assembly {
            r := mload(add(signature, 32))
            s := mload(add(signature, 64))
            v := byte(0, mload(add(signature, 96)))
        }
        if (v < 27) v += 27;
        if ((v != 27 && v != 28) || uint256(s) > HALF_N) revert BadSignature(index);
        address signer = ecrecover(hash, v, r, s);
        if (signer == address(0)) revert BadSignature(index);
        return signer;
    }
}
