// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Ed25519} from "../src/rollup/Ed25519.sol";

/// @notice Exposes the Ed25519 library for differential tests and gas measurements.
contract Ed25519Harness {
    function verifyCode(bytes32 publicKey, bytes calldata signature, bytes calldata message)
        external
        view
        returns (uint256)
    {
        require(signature.length == 64, "signature must be 64 bytes");
        return Ed25519.verifyCode(publicKey, bytes32(signature[:32]), bytes32(signature[32:]), message);
    }

    /// @notice The verdict and the gas the library spent on it (the call's own overhead apart).
    function measure(bytes32 publicKey, bytes calldata signature, bytes calldata message)
        external
        view
        returns (uint256 code, uint256 gasUsed)
    {
        bytes memory m = message;
        bytes32 r = bytes32(signature[:32]);
        bytes32 s = bytes32(signature[32:]);
        uint256 before = gasleft();
        code = Ed25519.verifyCode(publicKey, r, s, m);
        gasUsed = before - gasleft();
    }

    function sha512(bytes calldata data) external pure returns (bytes memory) {
        (bytes32 high, bytes32 low) = Ed25519.sha512(data);
        return abi.encodePacked(high, low);
    }

    /// @notice The forge tests' signer, exposed so that it can be checked against RFC 8032.
    function signerPublicKey(bytes32 seed) external view returns (bytes32) {
        return Ed25519Signer.publicKey(seed);
    }

    function signerSign(bytes32 seed, bytes calldata message) external view returns (bytes memory) {
        return Ed25519Signer.sign(seed, message);
    }
}

/// @notice Ed25519 signing (RFC 8032 §5.1.6) for forge tests, built on the library's own
/// SHA-512 and scalar multiplication: tests only, never for real keys (not constant time).
library Ed25519Signer {
    function secretScalar(bytes32 seed) internal pure returns (uint256 a, bytes32 prefix) {
        (bytes32 high, bytes32 low) = Ed25519.sha512(abi.encodePacked(seed));
        uint256 h = Ed25519.littleEndian(high);
        h &= ~uint256(7);
        h &= ~(uint256(1) << 255);
        h |= uint256(1) << 254;
        return (h % Ed25519.L, low);
    }

    function _baseMultiple(uint256 scalar) private view returns (bytes32) {
        uint256 enc = Ed25519.combination(scalar, 0, Ed25519.BASE_X, Ed25519.BASE_Y);
        return bytes32(Ed25519.littleEndian(bytes32(enc)));
    }

    function publicKey(bytes32 seed) internal view returns (bytes32) {
        (uint256 a,) = secretScalar(seed);
        return _baseMultiple(a);
    }

    function sign(bytes32 seed, bytes memory message) internal view returns (bytes memory) {
        (uint256 a, bytes32 prefix) = secretScalar(seed);
        bytes32 pub = _baseMultiple(a);
        (bytes32 high, bytes32 low) = Ed25519.sha512(abi.encodePacked(prefix, message));
        uint256 nonce = addmod(
            mulmod(Ed25519.littleEndian(low), Ed25519.TWO_256_MOD_L, Ed25519.L),
            Ed25519.littleEndian(high) % Ed25519.L,
            Ed25519.L
        );
        bytes32 r = _baseMultiple(nonce);
        uint256 k = Ed25519.challenge(r, pub, message);
        uint256 s = addmod(nonce, mulmod(k, a, Ed25519.L), Ed25519.L);
        return abi.encodePacked(r, bytes32(Ed25519.littleEndian(bytes32(s))));
    }
}
