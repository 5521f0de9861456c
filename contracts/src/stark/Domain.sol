// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title BabyBear domains: two-adic generators, bit reversal, points of bit-reversed cosets.
/// @notice As heliostat.stark.field and heliostat.stark.fri: Plonky3's generators (entry k
/// generates the subgroup of order 2^k and squares to entry k - 1), coset shift g = 31, and
/// row i of a committed matrix holding the point shift * omega^rev(i).
library Domain {
    uint256 internal constant P = 0x78000001;
    uint256 internal constant GENERATOR = 31;
    uint256 internal constant GENERATOR_INV = 64944062;
    uint256 internal constant TWO_ADICITY = 27;

    // Plonky3 baby-bear TWO_ADIC_GENERATORS, entries 0..27, eight 32-bit values per word
    uint256 private constant G0 = 0x0000000178000000_67055c215ee99486_0bb4c4e42d4cc4da_669d609017b56c64;
    uint256 private constant G1 = 0x67456167688442f9_145e952d4fe61226_4c73471511c33e2a_62c3d2b177cad399;
    uint256 private constant G2 = 0x54c131f44cabd6a6_5cf5713f3e9430e8_0ba067a318adc27d_21fd55bc4b859b3d;
    uint256 private constant G3 = 0x3bd579964483d85a_3a26eef81a427a41_0000000000000000_0000000000000000;

    /// @notice The generator of the subgroup of order 2^k (k <= 27).
    function generator(uint256 k) internal pure returns (uint256) {
        uint256 word = k < 8 ? G0 : k < 16 ? G1 : k < 24 ? G2 : G3;
        return (word >> (32 * (7 - (k & 7)))) & 0xffffffff;
    }

    /// @notice Reverse the low `bits` bits of x (x < 2^bits <= 2^32).
    function rev(uint256 x, uint256 bits) internal pure returns (uint256 r) {
        if (bits == 0) return 0;
        assembly ("memory-safe") {
            r := or(and(shr(1, x), 0x55555555), shl(1, and(x, 0x55555555)))
            r := or(and(shr(2, r), 0x33333333), shl(2, and(r, 0x33333333)))
            r := or(and(shr(4, r), 0x0f0f0f0f), shl(4, and(r, 0x0f0f0f0f)))
            r := or(and(shr(8, r), 0x00ff00ff), shl(8, and(r, 0x00ff00ff)))
            r := or(shr(16, r), shl(16, and(r, 0xffff)))
            r := shr(sub(32, bits), r)
        }
    }

    /// @notice b^e mod p.
    function pow(uint256 b, uint256 e) internal pure returns (uint256 r) {
        assembly ("memory-safe") {
            r := 1
            for {} e {} {
                if and(e, 1) { r := mulmod(r, b, P) }
                b := mulmod(b, b, P)
                e := shr(1, e)
            }
        }
    }

    /// @notice b^(2^n) mod p.
    function powTwo(uint256 b, uint256 n) internal pure returns (uint256 r) {
        assembly ("memory-safe") {
            r := b
            for { let i := 0 } lt(i, n) { i := add(i, 1) } { r := mulmod(r, r, P) }
        }
    }

    /// @notice The point at bit-reversed position `index` of shift * K, |K| = 2^logSize.
    function point(uint256 logSize, uint256 index, uint256 shift) internal pure returns (uint256) {
        return mulmod(shift, pow(generator(logSize), rev(index, logSize)), P);
    }
}
