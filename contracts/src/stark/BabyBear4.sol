// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title BabyBear (p = 2^31 - 2^27 + 1) and its quartic extension F_p[X]/(X^4 - 11).
/// @notice An extension element c0 + c1 X + c2 X^2 + c3 X^3 travels as ONE word: coefficient i
/// in bits [64 i, 64 i + 64), each canonical (< p). A base element is the word c0 itself.
/// Lanes are 64 bits wide so that sums (< 2^32) and base-scalar products (< 2^62) of
/// canonical lanes never carry into the next lane: additions reduce all four lanes at once.
/// The Python reference is heliostat.stark.extension.Ext4.
library BabyBear4 {
    uint256 internal constant P = 0x78000001;
    uint256 internal constant W = 11; // X^4 = W
    uint256 internal constant INV_TWO = 0x3c000001;
    uint256 internal constant M64 = 0xffffffffffffffff;
    uint256 internal constant M32 = 0xffffffff;
    // p in every lane; 2^32 - p in every lane; 1 in every lane
    uint256 internal constant P4 = 0x0000000078000001000000007800000100000000780000010000000078000001;
    uint256 internal constant C4 = 0x0000000087ffffff0000000087ffffff0000000087ffffff0000000087ffffff;
    uint256 internal constant ONES4 = 0x0000000000000001000000000000000100000000000000010000000000000001;
    uint256 internal constant X1 = 1 << 64; // the element X
    uint256 internal constant X2 = 1 << 128;
    uint256 internal constant X3 = 1 << 192;

    function add(uint256 a, uint256 b) internal pure returns (uint256 r) {
        assembly ("memory-safe") {
            let s := add(a, b)
            r := sub(s, mul(and(shr(32, add(s, C4)), ONES4), P))
        }
    }

    function sub(uint256 a, uint256 b) internal pure returns (uint256 r) {
        assembly ("memory-safe") {
            let s := sub(add(a, P4), b)
            r := sub(s, mul(and(shr(32, add(s, C4)), ONES4), P))
        }
    }

    function neg(uint256 a) internal pure returns (uint256 r) {
        assembly ("memory-safe") {
            let s := sub(P4, a)
            r := sub(s, mul(and(shr(32, add(s, C4)), ONES4), P))
        }
    }

    function mul(uint256 a, uint256 b) internal pure returns (uint256 r) {
        assembly ("memory-safe") {
            let a0 := and(a, M64)
            let a1 := and(shr(64, a), M64)
            let a2 := and(shr(128, a), M64)
            let a3 := shr(192, a)
            let b0 := and(b, M64)
            let b1 := and(shr(64, b), M64)
            let b2 := and(shr(128, b), M64)
            let b3 := shr(192, b)
            // every product < 2^62: the sums below stay far from 2^256, one mod per lane
            r := mod(add(mul(a0, b0), mul(W, add(add(mul(a1, b3), mul(a2, b2)), mul(a3, b1)))), P)
            r := or(r, shl(64, mod(add(add(mul(a0, b1), mul(a1, b0)), mul(W, add(mul(a2, b3), mul(a3, b2)))), P)))
            r := or(r, shl(128, mod(add(add(add(mul(a0, b2), mul(a1, b1)), mul(a2, b0)), mul(W, mul(a3, b3))), P)))
            r := or(r, shl(192, mod(add(add(add(mul(a0, b3), mul(a1, b2)), mul(a2, b1)), mul(a3, b0)), P)))
        }
    }

    /// @notice a * s for a base-field scalar s < p.
    function scale(uint256 a, uint256 s) internal pure returns (uint256 r) {
        assembly ("memory-safe") {
            let t := mul(a, s) // lane products < 2^62: no carry between lanes
            r := mod(and(t, M64), P)
            r := or(r, shl(64, mod(and(shr(64, t), M64), P)))
            r := or(r, shl(128, mod(and(shr(128, t), M64), P)))
            r := or(r, shl(192, mod(shr(192, t), P)))
        }
    }

    function square(uint256 a) internal pure returns (uint256) {
        return mul(a, a);
    }

    /// @notice a^e for a small exponent (square and multiply).
    function pow(uint256 a, uint256 e) internal pure returns (uint256 r) {
        r = 1;
        while (e != 0) {
            if (e & 1 == 1) r = mul(r, a);
            a = mul(a, a);
            e >>= 1;
        }
    }

    function isBase(uint256 a) internal pure returns (bool) {
        return a >> 64 == 0;
    }

    /// @notice 1/a for a != 0 (a = 0 gives 0). Through the tower F_p[Y]/(Y^2 - 11), Y = X^2:
    /// a = A0 + X A1 has a * (A0 - X A1) = A0^2 - Y A1^2 = n0 + n1 Y, whose norm n0^2 - 11 n1^2
    /// lies in F_p; one base-field inversion.
    function inv(uint256 a) internal pure returns (uint256 r) {
        uint256 a0 = a & M64;
        uint256 a1 = (a >> 64) & M64;
        uint256 a2 = (a >> 128) & M64;
        uint256 a3 = a >> 192;
        uint256 n0 = addmod(mulmod(a0, a0, P) + W * mulmod(a2, a2, P), 22 * (P - mulmod(a1, a3, P)), P);
        uint256 n1 = addmod(2 * mulmod(a0, a2, P), 2 * P - mulmod(a1, a1, P) - mulmod(W * a3, a3, P), P);
        uint256 d = baseInv(addmod(mulmod(n0, n0, P), P - mulmod(W * n1, n1, P), P));
        uint256 m0 = mulmod(n0, d, P);
        uint256 m1 = P - mulmod(n1, d, P); // in [1, p]; only ever multiplied below
        uint256 c0 = addmod(mulmod(a0, m0, P), mulmod(W * a2, m1, P), P);
        uint256 c1 = addmod(mulmod(a1, m0, P), mulmod(W * a3, m1, P), P);
        uint256 c2 = addmod(mulmod(a0, m1, P), mulmod(a2, m0, P), P);
        uint256 c3 = addmod(mulmod(a1, m1, P), mulmod(a3, m0, P), P);
        c1 = c1 == 0 ? 0 : P - c1;
        c3 = c3 == 0 ? 0 : P - c3;
        r = c0 | (c1 << 64) | (c2 << 128) | (c3 << 192);
    }

    /// @notice x^(p-2) = 1/x in F_p (0 for x = 0): p - 2 = 0x77ffffff by an addition chain.
    function baseInv(uint256 x) internal pure returns (uint256 r) {
        assembly ("memory-safe") {
            function sqn(v, n) -> out {
                out := v
                for { let i := 0 } lt(i, n) { i := add(i, 1) } { out := mulmod(out, out, P) }
            }
            let t3 := mulmod(mulmod(mulmod(x, x, P), x, P), mulmod(mulmod(x, x, P), x, P), P)
            t3 := mulmod(t3, x, P) // x^7
            let t6 := mulmod(sqn(t3, 3), t3, P) // x^(2^6 - 1)
            let t12 := mulmod(sqn(t6, 6), t6, P)
            let t24 := mulmod(sqn(t12, 12), t12, P) // x^(2^24 - 1)
            let u := mulmod(sqn(t3, 4), t3, P) // x^0x77
            r := mulmod(sqn(u, 24), t24, P)
        }
    }

    /// @notice The 16 bytes c0||c1||c2||c3 (4-byte big-endian each) at calldata offset
    /// `ptr`, as a packed word. The caller has checked the coefficients are canonical.
    function loadCalldata(uint256 ptr) internal pure returns (uint256 r) {
        assembly ("memory-safe") {
            let w := shr(128, calldataload(ptr))
            r := or(
                or(shr(96, w), shl(64, and(shr(64, w), M32))),
                or(shl(128, and(shr(32, w), M32)), shl(192, and(w, M32)))
            )
        }
    }
}
