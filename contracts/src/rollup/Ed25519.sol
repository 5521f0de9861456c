// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title Ed25519 signature verification with exactly Solana's acceptance rules.
/// @notice Written by hand because the EVM has no precompile for it: no ed25519 (EIP-665 was
/// never adopted) and no SHA-512, so both are implemented here. The rules are those of
/// heliostat.primitives.ed25519, i.e. Solana's sigverify (ed25519-dalek 2.1 `verify_strict`):
/// s < L; A and R decoded with dalek's rules (y taken modulo p, the sign bit allowed on
/// x = 0); A and R of small order refused; [s]B − [k]A, with k = SHA-512(R ‖ A ‖ M) mod L over
/// the bytes as received, re-encoded and compared with R's bytes. `verifyCode` returns the
/// reference's VerifyCode, checks in the same order.
/// Field inversions and the square root are exponentiations done by the modexp precompile
/// (0x05); the double scalar multiplication is Shamir's trick with 2-bit joint windows in
/// extended twisted Edwards coordinates (RFC 8032 §5.1.4 formulas).
library Ed25519 {
    uint256 internal constant VALID = 0;
    uint256 internal constant NON_CANONICAL_S = 1; // s ≥ L
    uint256 internal constant INVALID_PUBLIC_KEY = 2; // A does not decode
    uint256 internal constant SMALL_ORDER_PUBLIC_KEY = 3;
    uint256 internal constant SMALL_ORDER_R = 4;
    uint256 internal constant R_MISMATCH = 5; // R does not decode, or [s]B − [k]A ≠ R

    // RFC 8032 §5.1: p = 2^255 − 19, L = 2^252 + 27742317777372353535851937790883648493,
    // d = −121665/121666, sqrt(−1) = 2^((p−1)/4); the base point B (x even, y = 4/5).
    uint256 internal constant P = 0x7fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffed;
    uint256 internal constant L = 0x1000000000000000000000000000000014def9dea2f79cd65812631a5cf5d3ed;
    uint256 internal constant D = 0x52036cee2b6ffe738cc740797779e89800700a4d4141d8ab75eb4dca135978a3;
    uint256 internal constant D2 = 0x2406d9dc56dffce7198e80f2eef3d13000e0149a8283b156ebd69b9426b2f159;
    uint256 internal constant SQRT_M1 = 0x2b8324804fc1df0b2b4d00993dfbd7a72f431806ad2fe478c4ee1b274a0ea0b0;
    uint256 internal constant BASE_X = 0x216936d3cd6e53fec0a4e231fdd6dc5c692cc7609525a7b2c9562d608f25d51a;
    uint256 internal constant BASE_Y = 0x6666666666666666666666666666666666666666666666666666666666666658;
    uint256 internal constant P_MINUS_2 = 0x7fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffeb;
    uint256 internal constant P_MINUS_5_DIV_8 = 0x0ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffd;
    uint256 internal constant TWO_256_MOD_L = 0x0ffffffffffffffffffffffffffffffec6ef5bf4737dcf70d6ec31748d98951d;
    uint256 internal constant MASK_255 = 0x7fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff;

    // FIPS 180-4 §4.2.3: the 80 SHA-512 round constants, big-endian 64-bit words.
    bytes internal constant K512 = hex"428a2f98d728ae227137449123ef65cdb5c0fbcfec4d3b2fe9b5dba58189dbbc"
        hex"3956c25bf348b53859f111f1b605d019923f82a4af194f9bab1c5ed5da6d8118"
        hex"d807aa98a303024212835b0145706fbe243185be4ee4b28c550c7dc3d5ffb4e2"
        hex"72be5d74f27b896f80deb1fe3b1696b19bdc06a725c71235c19bf174cf692694"
        hex"e49b69c19ef14ad2efbe4786384f25e30fc19dc68b8cd5b5240ca1cc77ac9c65"
        hex"2de92c6f592b02754a7484aa6ea6e4835cb0a9dcbd41fbd476f988da831153b5"
        hex"983e5152ee66dfaba831c66d2db43210b00327c898fb213fbf597fc7beef0ee4"
        hex"c6e00bf33da88fc2d5a79147930aa72506ca6351e003826f142929670a0e6e70"
        hex"27b70a8546d22ffc2e1b21385c26c9264d2c6dfc5ac42aed53380d139d95b3df"
        hex"650a73548baf63de766a0abb3c77b2a881c2c92e47edaee692722c851482353b"
        hex"a2bfe8a14cf10364a81a664bbc423001c24b8b70d0f89791c76c51a30654be30"
        hex"d192e819d6ef5218d69906245565a910f40e35855771202a106aa07032bbd1b8"
        hex"19a4c116b8d2d0c81e376c085141ab532748774cdf8eeb9934b0bcb5e19b48a8"
        hex"391c0cb3c5c95a634ed8aa4ae3418acb5b9cca4f7763e373682e6ff3d6b2b8a3"
        hex"748f82ee5defb2fc78a5636f43172f6084c87814a1f0ab728cc702081a6439ec"
        hex"90befffa23631e28a4506cebde82bde9bef9a3f7b2c67915c67178f2e372532b"
        hex"ca273eceea26619cd186b8c721c0c207eada7dd6cde0eb1ef57d4f7fee6ed178"
        hex"06f067aa72176fba0a637dc5a2c898a6113f9804bef90dae1b710b35131c471b"
        hex"28db77f523047d8432caab7b40c724933c9ebe0a15c9bebc431d67c49c100d4c"
        hex"4cc5d4becb3e42b6597f299cfc657e2a5fcb6fab3ad6faec6c44198c4a475817";

    /// @notice Whether Solana accepts `signature` = (r ‖ s) by `publicKey` on `message`.
    function verify(bytes32 publicKey, bytes32 r, bytes32 s, bytes memory message) internal view returns (bool) {
        return verifyCode(publicKey, r, s, message) == VALID;
    }

    /// @notice VALID (0) or why the signature is rejected (heliostat.primitives.ed25519.VerifyCode).
    /// `publicKey`, `r` and `s` are the 32-byte strings as they travel (little-endian numbers).
    function verifyCode(bytes32 publicKey, bytes32 r, bytes32 s, bytes memory message)
        internal
        view
        returns (uint256)
    {
        uint256 sValue = littleEndian(s);
        if (sValue >= L) return NON_CANONICAL_S;
        (bool aOk, uint256 ax, uint256 ay) = decompress(littleEndian(publicKey));
        if (!aOk) return INVALID_PUBLIC_KEY;
        if (isSmallOrder(ax, ay)) return SMALL_ORDER_PUBLIC_KEY;
        (bool rOk, uint256 rx, uint256 ry) = decompress(littleEndian(r));
        if (!rOk) return R_MISMATCH;
        if (isSmallOrder(rx, ry)) return SMALL_ORDER_R;
        uint256 k = challenge(r, publicKey, message);
        return combination(sValue, k, ax, ay) == littleEndian(r) ? VALID : R_MISMATCH;
    }

    /// @notice k = SHA-512(R ‖ A ‖ M) read as a little-endian integer, mod L.
    function challenge(bytes32 r, bytes32 publicKey, bytes memory message) internal pure returns (uint256) {
        (bytes32 high, bytes32 low) = sha512(abi.encodePacked(r, publicKey, message));
        // digest bytes 0..31 are the low half of the little-endian number, 32..63 the high
        return addmod(mulmod(littleEndian(low), TWO_256_MOD_L, L), littleEndian(high) % L, L);
    }

    /// @notice The 32 bytes of `b` read as a little-endian integer (byte order reversed).
    function littleEndian(bytes32 b) internal pure returns (uint256 v) {
        v = uint256(b);
        v = ((v & 0xff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00) >> 8)
            | ((v & 0x00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff) << 8);
        v = ((v & 0xffff0000ffff0000ffff0000ffff0000ffff0000ffff0000ffff0000ffff0000) >> 16)
            | ((v & 0x0000ffff0000ffff0000ffff0000ffff0000ffff0000ffff0000ffff0000ffff) << 16);
        v = ((v & 0xffffffff00000000ffffffff00000000ffffffff00000000ffffffff00000000) >> 32)
            | ((v & 0x00000000ffffffff00000000ffffffff00000000ffffffff00000000ffffffff) << 32);
        v = ((v & 0xffffffffffffffff0000000000000000ffffffffffffffff0000000000000000) >> 64)
            | ((v & 0x0000000000000000ffffffffffffffff0000000000000000ffffffffffffffff) << 64);
        v = (v >> 128) | (v << 128);
    }

    /// @notice Decode a point as curve25519-dalek 4 does (the reference's `decompress`):
    /// y = bits 0..254 modulo p (so y ≥ p is accepted), x the root with the sign of bit 255,
    /// negated even when x = 0. `ok` is false when no x exists.
    function decompress(uint256 encoding) internal view returns (bool ok, uint256 x, uint256 y) {
        y = (encoding & MASK_255) % P;
        uint256 yy = mulmod(y, y, P);
        uint256 u = addmod(yy, P - 1, P);
        uint256 v = addmod(mulmod(D, yy, P), 1, P);
        uint256 v3 = mulmod(mulmod(v, v, P), v, P);
        uint256 v7 = mulmod(mulmod(v3, v3, P), v, P);
        // RFC 8032 §5.1.3: x = u·v³·(u·v⁷)^((p−5)/8), then fixed up by sqrt(−1) if needed
        x = mulmod(mulmod(u, v3, P), _expmod(mulmod(u, v7, P), P_MINUS_5_DIV_8), P);
        uint256 vxx = mulmod(v, mulmod(x, x, P), P);
        if (vxx != u) {
            if (addmod(vxx, u, P) != 0) return (false, 0, 0);
            x = mulmod(x, SQRT_M1, P);
        }
        if (x & 1 == 1) x = P - x;
        if (encoding >> 255 == 1) x = (P - x) % P;
        ok = true;
    }

    /// @notice Whether [8](x, y) is the identity (the point lies in the torsion subgroup).
    function isSmallOrder(uint256 x, uint256 y) internal pure returns (bool) {
        uint256 z = 1;
        for (uint256 i = 0; i < 3; i++) {
            (x, y, z) = _double(x, y, z);
        }
        return x == 0 && y == z;
    }

    /// @dev Doubling in projective coordinates (RFC 8032 §5.1.4, a = −1; T is not needed).
    function _double(uint256 x, uint256 y, uint256 z) private pure returns (uint256, uint256, uint256) {
        uint256 a = mulmod(x, x, P);
        uint256 b = mulmod(y, y, P);
        uint256 c = mulmod(z, z, P);
        c = addmod(c, c, P);
        uint256 h = addmod(a, b, P);
        uint256 xy = addmod(x, y, P);
        uint256 e = addmod(h, P - mulmod(xy, xy, P), P);
        uint256 g = addmod(a, P - b, P);
        uint256 f = addmod(c, g, P);
        return (mulmod(e, f, P), mulmod(g, h, P), mulmod(f, g, P));
    }

    /// @notice The encoding (as a little-endian integer: y | sign(x) << 255) of
    /// [s]B − [k]A for A = (ax, ay) on the curve; s and k below 2^254.
    function combination(uint256 s, uint256 k, uint256 ax, uint256 ay) internal view returns (uint256) {
        require(s >> 254 == 0 && k >> 254 == 0, "Ed25519: scalar of 254 bits or more");
        (uint256 X, uint256 Y, uint256 Z) = _shamir(s, k, ax, ay);
        uint256 zInv = _expmod(Z, P_MINUS_2);
        uint256 x = mulmod(X, zInv, P);
        return mulmod(Y, zInv, P) | ((x & 1) << 255);
    }

    /// @dev base^exponent mod p by the modexp precompile (EIP-198): the inversion (p − 2)
    /// and the square root's exponent ((p − 5)/8).
    function _expmod(uint256 base, uint256 exponent) private view returns (uint256 result) {
        assembly ("memory-safe") {
            let m := mload(0x40)
            mstore(m, 32)
            mstore(add(m, 32), 32)
            mstore(add(m, 64), 32)
            mstore(add(m, 96), base)
            mstore(add(m, 128), exponent)
            mstore(add(m, 160), P)
            if iszero(staticcall(gas(), 0x05, m, 192, m, 32)) { revert(0, 0) }
            result := mload(m)
        }
    }

    /// @dev [s]B + [k](−A) in extended coordinates, two bits of each scalar per step: a
    /// table of i·B + j·(−A) for i, j in 0..3 (15 points, kept in the "cached" form
    /// (Y + X, Y − X, 2d·T, 2Z) that the mixed addition takes), then 127 steps of two
    /// doublings and at most one addition.
    function _shamir(uint256 s, uint256 k, uint256 ax, uint256 ay)
        private
        pure
        returns (uint256 X, uint256 Y, uint256 Z)
    {
        // The modulus as a variable: as a literal, the optimiser rebuilds it as 2^255 − 19
        // (three instructions) at each of its uses, a third of the main loop's gas.
        uint256 prime = P;
        assembly ("memory-safe") {
            // acc: point (X, Y, Z, T) at q; the cached form of entry e at table + 128·e
            function dbl(q, p) {
                let x := mload(q)
                let y := mload(add(q, 32))
                let a := mulmod(x, x, p)
                let b := mulmod(y, y, p)
                let c := mload(add(q, 64))
                c := mulmod(c, c, p)
                c := addmod(c, c, p)
                let h := addmod(a, b, p)
                x := addmod(x, y, p)
                let e := addmod(h, sub(p, mulmod(x, x, p)), p)
                let g := addmod(a, sub(p, b), p)
                let f := addmod(c, g, p)
                mstore(q, mulmod(e, f, p))
                mstore(add(q, 32), mulmod(g, h, p))
                mstore(add(q, 64), mulmod(f, g, p))
                mstore(add(q, 96), mulmod(e, h, p))
            }
            function addCached(q, c, p) {
                let x := mload(q)
                let y := mload(add(q, 32))
                let a := mulmod(addmod(y, sub(p, x), p), mload(add(c, 32)), p)
                let b := mulmod(addmod(y, x, p), mload(c), p)
                let cc := mulmod(mload(add(q, 96)), mload(add(c, 64)), p)
                let d := mulmod(mload(add(q, 64)), mload(add(c, 96)), p)
                let e := addmod(b, sub(p, a), p)
                let h := addmod(b, a, p)
                let f := addmod(d, sub(p, cc), p)
                let g := addmod(d, cc, p)
                mstore(q, mulmod(e, f, p))
                mstore(add(q, 32), mulmod(g, h, p))
                mstore(add(q, 64), mulmod(f, g, p))
                mstore(add(q, 96), mulmod(e, h, p))
            }
            function toCached(q, c, p) {
                let x := mload(q)
                let y := mload(add(q, 32))
                let z := mload(add(q, 64))
                mstore(c, addmod(y, x, p))
                mstore(add(c, 32), addmod(y, sub(p, x), p))
                mstore(add(c, 64), mulmod(mload(add(q, 96)), D2, p))
                mstore(add(c, 96), addmod(z, z, p))
            }
            // The main loop keeps the accumulator (x, y, z, t) on the stack: the doubling and
            // the addition above, rewritten to reuse three temporaries.
            // doubling without T (the next step doubles again, which does not read T)
            function dbl3(x0, y0, z0, p) -> x, y, z {
                let u := mulmod(x0, x0, p) // A
                let v := mulmod(y0, y0, p) // B
                let w := addmod(u, v, p) // H = A + B
                u := addmod(u, sub(p, v), p) // G = A − B
                v := addmod(x0, y0, p)
                v := addmod(w, sub(p, mulmod(v, v, p)), p) // E = H − (X + Y)²
                x := mulmod(z0, z0, p)
                x := addmod(addmod(x, x, p), u, p) // F = 2Z² + G
                y := mulmod(u, w, p)
                z := mulmod(x, u, p)
                x := mulmod(v, x, p)
            }
            function dbl4(x0, y0, z0, p) -> x, y, z, t {
                let u := mulmod(x0, x0, p)
                let v := mulmod(y0, y0, p)
                let w := addmod(u, v, p)
                u := addmod(u, sub(p, v), p)
                v := addmod(x0, y0, p)
                v := addmod(w, sub(p, mulmod(v, v, p)), p)
                x := mulmod(z0, z0, p)
                x := addmod(addmod(x, x, p), u, p)
                y := mulmod(u, w, p)
                z := mulmod(x, u, p)
                t := mulmod(v, w, p)
                x := mulmod(v, x, p)
            }
            function ladder(sa, kb, table, p) -> x, y, z {
                y := 1
                z := 1
                let t := 0
                for { let bit := 254 } bit {} {
                    bit := sub(bit, 2)
                    x, y, z := dbl3(x, y, z, p)
                    x, y, z, t := dbl4(x, y, z, p)
                    let c := or(and(shr(bit, sa), 3), shl(2, and(shr(bit, kb), 3)))
                    if c {
                        c := add(table, shl(7, c))
                        let u := mulmod(addmod(y, sub(p, x), p), mload(add(c, 32)), p) // A
                        let v := mulmod(addmod(y, x, p), mload(c), p) // B
                        let w := mulmod(t, mload(add(c, 64)), p) // C
                        x := mulmod(z, mload(add(c, 96)), p) // D
                        y := addmod(v, sub(p, u), p) // E = B − A
                        v := addmod(v, u, p) // H = B + A
                        u := addmod(x, sub(p, w), p) // F = D − C
                        w := addmod(x, w, p) // G = D + C
                        x := mulmod(y, u, p)
                        z := mulmod(u, w, p)
                        t := mulmod(y, v, p)
                        y := mulmod(w, v, p)
                    }
                }
            }
            function setPoint(q, x, y, z, t) {
                mstore(q, x)
                mstore(add(q, 32), y)
                mstore(add(q, 64), z)
                mstore(add(q, 96), t)
            }
            let p := prime
            let q := mload(0x40)
            let table := add(q, 128) // entry e = i + 4j at table + 128·e (entry 0 unused)
            // column j = 0: B, 2B, 3B
            setPoint(q, BASE_X, BASE_Y, 1, mulmod(BASE_X, BASE_Y, p))
            toCached(q, add(table, 128), p)
            dbl(q, p)
            toCached(q, add(table, 256), p)
            addCached(q, add(table, 128), p)
            toCached(q, add(table, 384), p)
            // −A, then each row i·B + j·(−A) from the row above
            let nx := mod(sub(p, ax), p)
            setPoint(q, nx, ay, 1, mulmod(nx, ay, p))
            toCached(q, add(table, 512), p)
            for { let j := 1 } lt(j, 4) { j := add(j, 1) } {
                if gt(j, 1) {
                    // q holds (j−1)·(−A): add −A once more
                    addCached(q, add(table, 512), p)
                    toCached(q, add(table, mul(512, j)), p)
                }
                let row := add(q, 2176) // scratch point after the table
                for { let i := 1 } lt(i, 4) { i := add(i, 1) } {
                    mcopy(row, q, 128)
                    addCached(row, add(table, mul(128, i)), p)
                    toCached(row, add(table, mul(128, add(i, mul(4, j)))), p)
                }
            }
            X, Y, Z := ladder(s, k, table, p)
        }
    }

    /// @notice SHA-512 (FIPS 180-4) of `data`: the digest's bytes 0..31 and 32..63.
    function sha512(bytes memory data) internal pure returns (bytes32 high, bytes32 low) {
        bytes memory constants = K512;
        assembly ("memory-safe") {
            // One 1024-bit block at blk; context: W[0..79] at w (32-byte slots), the eight
            // state words after them, K at kp. The 64-bit rotations read a doubled copy
            // (x | x << 64) shifted right; results are masked when stored.
            function compress(blk, w, kp) {
                for { let j := 0 } lt(j, 16) { j := add(j, 1) } {
                    mstore(add(w, shl(5, j)), shr(192, mload(add(blk, shl(3, j)))))
                }
                for { let p := add(w, 512) } lt(p, add(w, 2560)) { p := add(p, 32) } {
                    let x := mload(sub(p, 480)) // W[t−15]
                    let xx := or(x, shl(64, x))
                    let s0 := xor(xor(shr(1, xx), shr(8, xx)), shr(7, x))
                    x := mload(sub(p, 64)) // W[t−2]
                    xx := or(x, shl(64, x))
                    let s1 := xor(xor(shr(19, xx), shr(61, xx)), shr(6, x))
                    mstore(p, and(add(add(s0, s1), add(mload(sub(p, 512)), mload(sub(p, 224)))), 0xffffffffffffffff))
                }
                rounds(add(w, 2560), w, kp)
            }
            function bigSigma0(x) -> r {
                let xx := or(x, shl(64, x))
                r := xor(xor(shr(28, xx), shr(34, xx)), shr(39, xx))
            }
            function bigSigma1(x) -> r {
                let xx := or(x, shl(64, x))
                r := xor(xor(shr(14, xx), shr(18, xx)), shr(41, xx))
            }
            function rounds(st, w, kp) {
                let a := mload(st)
                let b := mload(add(st, 32))
                let c := mload(add(st, 64))
                let d := mload(add(st, 96))
                let e := mload(add(st, 128))
                let f := mload(add(st, 160))
                let g := mload(add(st, 192))
                let h := mload(add(st, 224))
                for { let j := 0 } lt(j, 80) { j := add(j, 1) } {
                    let t1 := add(add(mload(add(w, shl(5, j))), shr(192, mload(add(kp, shl(3, j))))), h)
                    t1 := add(add(t1, bigSigma1(e)), xor(and(e, f), and(not(e), g)))
                    h := g
                    g := f
                    f := e
                    e := and(add(d, t1), 0xffffffffffffffff)
                    d := c
                    c := b
                    b := a
                    a := and(add(add(t1, bigSigma0(b)), or(and(b, c), and(d, or(b, c)))), 0xffffffffffffffff)
                }
                mstore(st, and(add(mload(st), a), 0xffffffffffffffff))
                mstore(add(st, 32), and(add(mload(add(st, 32)), b), 0xffffffffffffffff))
                mstore(add(st, 64), and(add(mload(add(st, 64)), c), 0xffffffffffffffff))
                mstore(add(st, 96), and(add(mload(add(st, 96)), d), 0xffffffffffffffff))
                mstore(add(st, 128), and(add(mload(add(st, 128)), e), 0xffffffffffffffff))
                mstore(add(st, 160), and(add(mload(add(st, 160)), f), 0xffffffffffffffff))
                mstore(add(st, 192), and(add(mload(add(st, 192)), g), 0xffffffffffffffff))
                mstore(add(st, 224), and(add(mload(add(st, 224)), h), 0xffffffffffffffff))
            }
            let len := mload(data)
            // padding: 0x80, zeros, the bit length as a 128-bit big-endian number
            let total := mul(add(div(add(len, 16), 128), 1), 128)
            let buf := mload(0x40)
            for { let i := 0 } lt(i, total) { i := add(i, 32) } { mstore(add(buf, i), 0) }
            mcopy(buf, add(data, 32), len)
            mstore8(add(buf, len), 0x80)
            let tail := add(buf, sub(total, 32))
            mstore(tail, or(mload(tail), shl(3, len)))
            let w := add(buf, total)
            let st := add(w, 2560)
            mstore(st, 0x6a09e667f3bcc908) // FIPS 180-4 §5.3.5: the initial hash value
            mstore(add(st, 32), 0xbb67ae8584caa73b)
            mstore(add(st, 64), 0x3c6ef372fe94f82b)
            mstore(add(st, 96), 0xa54ff53a5f1d36f1)
            mstore(add(st, 128), 0x510e527fade682d1)
            mstore(add(st, 160), 0x9b05688c2b3e6c1f)
            mstore(add(st, 192), 0x1f83d9abfb41bd6b)
            mstore(add(st, 224), 0x5be0cd19137e2179)
            let kp := add(constants, 32)
            for { let blk := buf } lt(blk, w) { blk := add(blk, 128) } { compress(blk, w, kp) }
            high := or(
                or(shl(192, mload(st)), shl(128, mload(add(st, 32)))),
                or(shl(64, mload(add(st, 64))), mload(add(st, 96)))
            )
            low := or(
                or(shl(192, mload(add(st, 128))), shl(128, mload(add(st, 160)))),
                or(shl(64, mload(add(st, 192))), mload(add(st, 224)))
            )
        }
    }
}
