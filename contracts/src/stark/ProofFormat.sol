// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {StarkErrors} from "./StarkErrors.sol";

/// @title The proof's byte encoding (version 2), checked exactly as Proof.from_bytes does.
/// @notice A proof is a sequence of sections, and a transaction carries whole sections:
///   header (magic, version, heights, main root, clear traces, ... nonce) | fixed (flag, opening) | main opening | permutation (flag,
///   opening) | quotient opening | FRI opening count | FRI layer 0 | ... | FRI layer L-1.
/// `walk` checks the sections of one byte range in order — every count bounded, every field
/// element canonical, nothing truncated, nothing trailing — with the failure reasons of the
/// Python decoder, and returns where each section starts. Later code reads without checks.
library ProofFormat {
    uint256 internal constant SECTION_HEADER = 0;
    uint256 internal constant SECTION_FIXED = 1;
    uint256 internal constant SECTION_MAIN = 2;
    uint256 internal constant SECTION_PERMUTATION = 3;
    uint256 internal constant SECTION_QUOTIENT = 4;
    uint256 internal constant SECTION_FRI_COUNT = 5;
    uint256 internal constant SECTION_FRI_LAYER = 6; // layer k is section 6 + k

    // bounds of heliostat.stark.proof and heliostat.stark.config
    uint256 internal constant MAX_TABLES = 255;
    uint256 internal constant MAX_VECTOR = 1 << 20;
    uint256 internal constant MAX_SIBLINGS = 1 << 16;
    uint256 internal constant MAX_FRI_LAYERS = 32;
    uint256 internal constant MAX_FINAL_POLY = 1 << 16;
    uint256 internal constant MAX_LEAF_VALUES = 1 << 8;
    uint256 internal constant MAX_QUERIES = 256;
    uint256 internal constant VERSION = 2;
    uint256 internal constant MAX_CLEAR_ROWS = 1 << 10; // config.MAX_CLEAR_LOG_HEIGHT

    uint256 private constant EVEN_LANES = 0x00000000ffffffff00000000ffffffff00000000ffffffff00000000ffffffff;
    uint256 private constant C4 = 0x0000000087ffffff0000000087ffffff0000000087ffffff0000000087ffffff;
    uint256 private constant CARRY4 = 0x0000000100000000000000010000000000000001000000000000000100000000;

    struct Walk {
        uint256 base; // calldata offset of the range
        uint256 len;
        uint256 pos; // relative to base
    }

    /// @notice Check the sections in `data`, which starts with section `first`. With
    /// `toEnd`, the range must hold every remaining section and nothing after them; otherwise
    /// it may stop at any section boundary. Returns the start of each section read (relative
    /// to `data`, plus a final entry at the end of the last one) and the FRI opening count
    /// (`friOpenings` in, updated when the count section is read).
    function walk(bytes calldata data, uint256 first, uint256 friOpenings, bool toEnd)
        internal
        pure
        returns (uint256[] memory starts, uint256 count, uint256 friOut)
    {
        Walk memory w = Walk(0, data.length, 0);
        assembly ("memory-safe") {
            mstore(w, data.offset)
        }
        starts = new uint256[](MAX_FRI_LAYERS + 8);
        friOut = friOpenings;
        uint256 section = first;
        while (true) {
            bool finished = section >= SECTION_FRI_LAYER && section - SECTION_FRI_LAYER >= friOut;
            if (finished) {
                if (w.pos != w.len) StarkErrors.format("trailing_bytes");
                break;
            }
            if (w.pos == w.len && !toEnd && count > 0) break;
            starts[count++] = w.pos;
            if (section == SECTION_HEADER) {
                _header(w);
            } else if (section == SECTION_FIXED || section == SECTION_PERMUTATION) {
                if (_flag(w)) _treeOpening(w);
            } else if (section == SECTION_MAIN || section == SECTION_QUOTIENT) {
                _treeOpening(w);
            } else if (section == SECTION_FRI_COUNT) {
                friOut = _u(w, 1);
                if (friOut > MAX_FRI_LAYERS) StarkErrors.format("bad_count");
            } else {
                _friLayer(w);
            }
            section++;
        }
        starts[count] = w.pos;
        if (w.pos != w.len) StarkErrors.format("trailing_bytes");
    }

    function _header(Walk memory w) private pure {
        if (w.len < 4) StarkErrors.format("truncated");
        if (_u(w, 4) != 0x4853544b) StarkErrors.format("bad_magic"); // "HSTK"
        if (_u(w, 2) != VERSION) StarkErrors.format("bad_version");
        uint256 tables = _u(w, 1);
        if (tables == 0) StarkErrors.format("bad_count");
        uint256 present = 0; // tables the proof includes (log height 0: left out)
        for (uint256 t = 0; t < tables; t++) {
            if (_u(w, 1) != 0) present++;
        }
        if (present == 0) StarkErrors.format("bad_count");
        _take(w, 32); // main root
        uint256 clear = _u(w, 1); // traces of tables sent in the clear: rows, width, values
        for (uint256 i = 0; i < clear; i++) {
            uint256 rows = _u(w, 2);
            uint256 width = _u(w, 4);
            if (rows > MAX_CLEAR_ROWS || width < 1 || width > MAX_VECTOR) StarkErrors.format("bad_count");
            uint256 end = w.base + w.pos + 4 * rows * width;
            _elements(w, rows * width);
            if (rows != 0 && _zeroRow(end - 4 * width, width)) StarkErrors.format("not_canonical");
        }
        if (_flag(w)) _take(w, 32);
        _extVector(w, MAX_TABLES);
        _take(w, 32);
        for (uint256 i = 0; i < 7 * present; i++) {
            _extVector(w, MAX_VECTOR);
        }
        uint256 layers = _u(w, 1);
        if (layers > MAX_FRI_LAYERS) StarkErrors.format("bad_count");
        _take(w, 32 * layers);
        _extVector(w, MAX_FINAL_POLY);
        _take(w, 8);
    }

    /// @dev Matrices, then per matrix its row count (its distinct rows at the queries), width
    /// and rows, then the siblings.
    function _treeOpening(Walk memory w) private pure {
        uint256 matrices = _u(w, 1);
        if (matrices < 1) StarkErrors.format("bad_count");
        for (uint256 j = 0; j < matrices; j++) {
            uint256 rows = _u(w, 2);
            if (rows < 1 || rows > MAX_QUERIES) StarkErrors.format("bad_count");
            uint256 width = _u(w, 4);
            if (width > MAX_VECTOR) StarkErrors.format("bad_count");
            _elements(w, rows * width);
        }
        _siblings(w);
    }

    /// @dev Whether the `width` elements at calldata `at` are all zero (trailing zero rows of
    /// a clear trace are never sent).
    function _zeroRow(uint256 at, uint256 width) private pure returns (bool zero) {
        zero = true;
        for (uint256 j = 0; j < width; j++) {
            uint256 v;
            assembly ("memory-safe") {
                v := shr(224, calldataload(add(at, mul(4, j))))
            }
            if (v != 0) return false;
        }
    }

    function _friLayer(Walk memory w) private pure {
        uint256 leaves = _u(w, 2);
        uint256 leafLen = _u(w, 2);
        if (leaves < 1 || leaves > MAX_QUERIES || leafLen < 1 || leafLen > MAX_LEAF_VALUES) {
            StarkErrors.format("bad_count");
        }
        _elements(w, leaves * leafLen * 4);
        _siblings(w);
    }

    function _siblings(Walk memory w) private pure {
        uint256 n = _u(w, 4);
        if (n > MAX_SIBLINGS) StarkErrors.format("bad_count");
        _take(w, 32 * n);
    }

    function _extVector(Walk memory w, uint256 limit) private pure {
        uint256 n = _u(w, 4);
        if (n > limit) StarkErrors.format("bad_count");
        _elements(w, 4 * n);
    }

    function _flag(Walk memory w) private pure returns (bool) {
        uint256 v = _u(w, 1);
        if (v > 1) StarkErrors.format("bad_flag");
        return v == 1;
    }

    function _take(Walk memory w, uint256 n) private pure returns (uint256 at) {
        at = w.pos;
        if (n > w.len - w.pos) StarkErrors.format("truncated");
        w.pos += n;
    }

    /// @dev Read an n-byte big-endian unsigned integer.
    function _u(Walk memory w, uint256 n) private pure returns (uint256 v) {
        uint256 at = w.base + _take(w, n);
        assembly ("memory-safe") {
            v := shr(sub(256, mul(8, n)), calldataload(at))
        }
    }

    /// @dev `count` 4-byte field elements: all present (else truncated), all < p.
    function _elements(Walk memory w, uint256 count) private pure {
        if (count > (w.len - w.pos) / 4) StarkErrors.format("truncated");
        uint256 at = w.base + _take(w, 4 * count);
        bool bad;
        assembly ("memory-safe") {
            // eight elements per word: check the even and the odd lanes, each spread to 64 bits,
            // for x + (2^32 - p) >= 2^32, i.e. x >= p
            let end := add(at, mul(4, count))
            let acc := 0
            for {} lt(add(at, 32), add(end, 1)) { at := add(at, 32) } {
                let v := calldataload(at)
                acc := or(acc, or(and(add(and(v, EVEN_LANES), C4), CARRY4), and(add(and(shr(32, v), EVEN_LANES), C4), CARRY4)))
            }
            if lt(at, end) {
                let v := and(calldataload(at), not(shr(mul(8, sub(end, at)), not(0))))
                acc := or(acc, or(and(add(and(v, EVEN_LANES), C4), CARRY4), and(add(and(shr(32, v), EVEN_LANES), C4), CARRY4)))
            }
            bad := iszero(iszero(acc))
        }
        if (bad) StarkErrors.format("not_canonical");
    }
}
