// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title The Fiat-Shamir transcript (heliostat.stark.transcript), byte for byte.
/// @notice state0 = keccak256("heliostat-stark-v1"); absorb(tag, data): state =
/// keccak256(state || tag || data); squeeze: state = keccak256(state || 0x80). An extension
/// challenge is the four big-endian 64-bit words of one squeeze, each mod p (word i is
/// coefficient i); query indices are the low bits of the words, four per squeeze.
library Transcript {
    uint256 internal constant P = 0x78000001;
    uint8 internal constant STATEMENT = 0x01;
    uint8 internal constant PREPROCESSED_ROOT = 0x02;
    uint8 internal constant MAIN_ROOT = 0x03;
    uint8 internal constant PERMUTATION_ROOT = 0x04;
    uint8 internal constant LOGUP_SUMS = 0x05;
    uint8 internal constant QUOTIENT_ROOT = 0x06;
    uint8 internal constant OPENED_VALUES = 0x07;
    uint8 internal constant FRI_LAYER_ROOT = 0x08;
    uint8 internal constant FRI_FINAL_POLY = 0x09;
    uint8 internal constant POW_NONCE = 0x0a;
    uint8 internal constant CLEAR_TRACES = 0x0b;
    uint8 internal constant SQUEEZE = 0x80;

    function init() internal pure returns (bytes32) {
        return keccak256("heliostat-stark-v1");
    }

    /// @notice Absorb `len` bytes of calldata at offset `data`.
    function absorbCalldata(bytes32 state, uint8 tag, uint256 data, uint256 len) internal pure returns (bytes32 out) {
        assembly ("memory-safe") {
            let buf := mload(0x40)
            mstore(buf, state)
            mstore8(add(buf, 32), tag)
            calldatacopy(add(buf, 33), data, len)
            out := keccak256(buf, add(33, len))
        }
    }

    /// @notice Absorb `len` bytes of allocated memory at `data`.
    function absorbMemory(bytes32 state, uint8 tag, uint256 data, uint256 len) internal pure returns (bytes32 out) {
        assembly ("memory-safe") {
            let buf := mload(0x40)
            mstore(buf, state)
            mstore8(add(buf, 32), tag)
            mcopy(add(buf, 33), data, len)
            out := keccak256(buf, add(33, len))
        }
    }

    function absorbWord(bytes32 state, uint8 tag, bytes32 word) internal pure returns (bytes32 out) {
        assembly ("memory-safe") {
            let buf := mload(0x40)
            mstore(buf, state)
            mstore8(add(buf, 32), tag)
            mstore(add(buf, 33), word)
            out := keccak256(buf, 65)
        }
    }

    function squeeze(bytes32 state) internal pure returns (bytes32 out) {
        assembly ("memory-safe") {
            mstore(0, state)
            mstore8(32, SQUEEZE)
            out := keccak256(0, 33)
        }
    }

    /// @notice Squeeze once; return the new state and the extension element (packed).
    function sampleExt(bytes32 state) internal pure returns (bytes32 out, uint256 e) {
        out = squeeze(state);
        uint256 s = uint256(out);
        e = ((s >> 192) % P) | ((((s >> 128) & 0xffffffffffffffff) % P) << 64)
            | ((((s >> 64) & 0xffffffffffffffff) % P) << 128) | (((s & 0xffffffffffffffff) % P) << 192);
    }

    /// @notice `count` indices in [0, 2^logDomain), four per squeeze.
    function sampleIndices(bytes32 state, uint256 count, uint256 logDomain)
        internal
        pure
        returns (bytes32 out, uint256[] memory indices)
    {
        indices = new uint256[](count);
        uint256 mask = (1 << logDomain) - 1;
        out = state;
        for (uint256 i = 0; i < count; i += 4) {
            out = squeeze(out);
            uint256 s = uint256(out);
            for (uint256 k = 0; k < 4 && i + k < count; k++) {
                indices[i + k] = (s >> (192 - 64 * k)) & mask;
            }
        }
    }
}
