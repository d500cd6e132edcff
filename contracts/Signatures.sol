// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// k-of-n ECDSA signatures over one 32-byte digest (raw, no prefix): what AttestationVerifier
/// and OptimisticVerifier's step committee check.

error BadSignature(uint256 index);
error UnknownSigner(address signer);
error SignersNotAscending(address signer); // also catches one signer counted twice
error NotEnoughSignatures(uint256 got, uint256 needed);

// secp256k1 n / 2: higher s values are malleable copies of valid signatures.
uint256 constant HALF_N = 0x7FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF5D576E7357A4501DDFE92F46681B20A0;

/// Reverts unless `signatures` (65 bytes each: r, s, v; sorted by signer address, strictly
/// ascending) are at least `threshold` signatures of `hash` by signers `isSigner` holds.
function checkSignatures(
    bytes32 hash,
    bytes[] memory signatures,
    mapping(address => bool) storage isSigner,
    uint256 threshold
) view {
    address previous = address(0);
    for (uint256 i = 0; i < signatures.length; i++) {
        address signer = recoverSigner(hash, signatures[i], i);
        if (!isSigner[signer]) revert UnknownSigner(signer);
        if (signer <= previous) revert SignersNotAscending(signer);
        previous = signer;
    }
    if (signatures.length < threshold) revert NotEnoughSignatures(signatures.length, threshold);
}

function recoverSigner(bytes32 hash, bytes memory signature, uint256 index) pure returns (address) {
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
