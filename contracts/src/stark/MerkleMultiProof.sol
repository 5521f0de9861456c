// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {StarkErrors} from "./StarkErrors.sol";

/// @title Keccak-256 mixed-height Merkle multi-openings (heliostat.stark.merkle).
/// @notice Matrices are taken tallest first (stable). A leaf is keccak256 of the opened rows of
/// the tallest matrices side by side (4-byte big-endian elements); a node is
/// keccak256(left || right), and at the level whose size is the height of shorter matrices it
/// becomes keccak256(node || keccak256(their rows)). The proof lists the siblings the opened
/// indices cannot compute, level by level from the leaves, for the sorted distinct indices in
/// ascending order.
library MerkleMultiProof {
    /// @notice One matrix of a tree: log2 height, width, and where its opened rows start in
    /// calldata: one row per distinct index shifted to the matrix's height (index >> (tree
    /// height - its height)), ascending, `width` elements each.
    struct Matrix {
        uint256 logHeight;
        uint256 width;
        uint256 rows;
    }

    /// @notice Verify rows of `matrices` opened at the sorted distinct `indices` (in the
    /// tallest matrix's index space) against `root`; `siblings` is the calldata offset of the
    /// first of `siblingCount` digests. Reverts with `merkle_path_invalid` and the Python
    /// reason (`proof_too_short`, `proof_too_long`,
    /// `root_mismatch`).
    function verifyMatrices(
        bytes32 root,
        Matrix[] memory matrices,
        uint256[] memory indices,
        uint256 siblings,
        uint256 siblingCount
    ) internal pure {
        uint256 n = indices.length;
        uint256 treeMax = 0;
        for (uint256 j = 0; j < matrices.length; j++) {
            if (matrices[j].logHeight > treeMax) treeMax = matrices[j].logHeight;
        }
        // group digests: for each height present, keccak of the rows of its matrices, per index
        uint256[] memory groupAtLevel = new uint256[](treeMax + 1); // 1 + group, 0 if none
        uint256[] memory rowBytesAt = new uint256[](treeMax + 1);
        uint256 groups = 0;
        for (uint256 j = 0; j < matrices.length; j++) {
            if (rowBytesAt[matrices[j].logHeight] == 0) groups++;
            rowBytesAt[matrices[j].logHeight] += 4 * matrices[j].width;
        }
        uint256[] memory groupDigests = new uint256[](n * groups);
        groups = 0;
        for (uint256 level = treeMax + 1; level > 0; level--) {
            uint256 h = level - 1;
            uint256 rowBytes = rowBytesAt[h];
            if (rowBytes == 0) continue;
            groupAtLevel[h] = groups + 1;
            _hashGroup(matrices, h, indices, treeMax - h, rowBytes, groupDigests, groups * n);
            groups++;
        }
        uint256[] memory digests = new uint256[](n);
        for (uint256 k = 0; k < n; k++) {
            digests[k] = groupDigests[k]; // the tallest group comes first: the leaves
        }
        climb(root, treeMax, indices, digests, groupAtLevel, groupDigests, siblings, siblingCount);
    }

    /// @dev keccak256 of the row at index k of every matrix of height 2^h, side by side, for
    /// each distinct tree index k (indices sharing a shorter matrix's row share its digest).
    function _hashGroup(
        Matrix[] memory matrices,
        uint256 h,
        uint256[] memory indices,
        uint256 shift,
        uint256 rowBytes,
        uint256[] memory out,
        uint256 outAt
    ) private pure {
        uint256 buf;
        assembly ("memory-safe") {
            buf := mload(0x40) // scratch above the free pointer; nothing is allocated meanwhile
        }
        uint256 pos = 0; // the matrix row of index k: its rank among the distinct shifted indices
        for (uint256 k = 0; k < indices.length; k++) {
            if (k > 0 && indices[k] >> shift != indices[k - 1] >> shift) pos++;
            uint256 at = buf;
            for (uint256 j = 0; j < matrices.length; j++) {
                Matrix memory m = matrices[j];
                if (m.logHeight != h) continue;
                uint256 len = 4 * m.width;
                uint256 src = m.rows + pos * len;
                assembly ("memory-safe") {
                    calldatacopy(at, src, len)
                }
                at += len;
            }
            uint256 d;
            assembly ("memory-safe") {
                d := keccak256(buf, rowBytes)
            }
            out[outAt + k] = d;
        }
    }

    /// @notice Climb from the leaf digests at sorted distinct `indices` to the root, injecting
    /// group digests (`groupAtLevel[level]` = 1 + group, digests of group g at g * n + k) at
    /// the levels of shorter matrices. Consumes `indices` and `digests`.
    function climb(
        bytes32 root,
        uint256 logN,
        uint256[] memory indices,
        uint256[] memory digests,
        uint256[] memory groupAtLevel,
        uint256[] memory groupDigests,
        uint256 siblings,
        uint256 siblingCount
    ) internal pure {
        Tree memory tree = Tree(root, logN, indices, digests, groupAtLevel, groupDigests, siblings, siblingCount);
        uint256 status = _climb(tree);
        if (status == 1) StarkErrors.reject("merkle_path_invalid", "proof_too_short");
        if (status == 2) StarkErrors.reject("merkle_path_invalid", "proof_too_long");
        if (status == 3) StarkErrors.reject("merkle_path_invalid", "root_mismatch");
    }

    struct Tree {
        bytes32 root;
        uint256 logN;
        uint256[] indices;
        uint256[] digests;
        uint256[] groupAtLevel;
        uint256[] groupDigests;
        uint256 siblings;
        uint256 siblingCount;
    }

    /// @dev 0 ok, 1 too few siblings, 2 unused siblings, 3 root mismatch.
    function _climb(Tree memory tree) private pure returns (uint256 status) {
        assembly ("memory-safe") {
            // One level: pair each known node with its neighbour (the next known node or the
            // next sibling of the proof), hash, inject the group rows of the level above.
            // Entries are (first original position << 128 | index); `group` is the address of
            // the injected digests by original position, or 0.
            function climbLevel(nodes, dig, count, sib, sibEnd, group) -> out, sibOut {
                let low := 0xffffffffffffffffffffffffffffffff
                sibOut := sib
                for { let j := 0 } lt(j, count) {} {
                    let e := mload(add(nodes, shl(5, j)))
                    let other := 0
                    let step := 1
                    if and(iszero(and(e, 1)), lt(add(j, 1), count)) {
                        if eq(and(mload(add(nodes, shl(5, add(j, 1)))), low), add(and(e, low), 1)) {
                            other := mload(add(dig, shl(5, add(j, 1))))
                            step := 2
                        }
                    }
                    if eq(step, 1) {
                        if eq(sibOut, sibEnd) {
                            out := not(0)
                            leave
                        }
                        other := calldataload(sibOut)
                        sibOut := add(sibOut, 32)
                    }
                    let d := mload(add(dig, shl(5, j)))
                    switch and(e, 1)
                    case 0 {
                        mstore(0, d)
                        mstore(32, other)
                    }
                    default {
                        mstore(0, other)
                        mstore(32, d)
                    }
                    d := keccak256(0, 64)
                    if group {
                        mstore(0, d)
                        mstore(32, mload(add(group, shl(5, shr(128, e)))))
                        d := keccak256(0, 64)
                    }
                    mstore(add(nodes, shl(5, out)), or(and(e, not(low)), shr(1, and(e, low))))
                    mstore(add(dig, shl(5, out)), d)
                    out := add(out, 1)
                    j := add(j, step)
                }
            }
            let indices := mload(add(tree, 64))
            let digests := add(mload(add(tree, 96)), 32)
            let n := mload(indices)
            let nodes := mload(0x40) // scratch: nothing is allocated while climbing
            for { let k := 0 } lt(k, n) { k := add(k, 1) } {
                mstore(add(nodes, shl(5, k)), or(shl(128, k), mload(add(indices, shl(5, add(k, 1))))))
            }
            let sib := mload(add(tree, 192))
            let sibEnd := add(sib, shl(5, mload(add(tree, 224))))
            let count := n
            for { let level := mload(add(tree, 32)) } gt(level, 0) { level := sub(level, 1) } {
                let g := mload(add(mload(add(tree, 128)), shl(5, level))) // groupAtLevel[level - 1]
                let gp := 0
                if g { gp := add(mload(add(tree, 160)), shl(5, add(1, mul(sub(g, 1), n)))) }
                count, sib := climbLevel(nodes, digests, count, sib, sibEnd, gp)
                if eq(count, not(0)) {
                    status := 1
                    break
                }
            }
            if iszero(status) {
                switch eq(sib, sibEnd)
                case 0 { status := 2 }
                default { if iszero(eq(mload(digests), mload(tree))) { status := 3 } }
            }
        }
    }
}
