// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ProofFormat} from "./ProofFormat.sol";
import {StarkErrors} from "./StarkErrors.sol";
import {Session, TableShape, VerifyingKey} from "./StarkTypes.sol";

/// @title What both phases of the verifier share: constants, calldata readers, the layout of
/// the committed rounds and of the DEEP batching (heliostat.stark.pcs).
abstract contract StarkCommon {
    uint256 internal constant P = 0x78000001;
    uint256 internal constant MIN_LOG_HEIGHT = 2;
    uint256 internal constant ROUND_FIXED = 0;
    uint256 internal constant ROUND_MAIN = 1;
    uint256 internal constant ROUND_PERMUTATION = 2;
    uint256 internal constant ROUND_QUOTIENT = 3;
    uint256 internal constant FAIL_FOLD = 1;
    uint256 internal constant FAIL_FINAL = 2;


    function _u(uint256 at, uint256 bytesLen) internal pure returns (uint256 v) {
        assembly ("memory-safe") {
            v := shr(sub(256, mul(8, bytesLen)), calldataload(at))
        }
    }

    /// @notice The calldata offset of a calldata byte range.
    function _cd(bytes calldata data) internal pure returns (uint256 at) {
        assembly ("memory-safe") {
            at := data.offset
        }
    }

    function _word(uint256 at) internal pure returns (bytes32 v) {
        assembly ("memory-safe") {
            v := calldataload(at)
        }
    }

    /// @notice Base-field columns a table commits in a round (pcs.round_width).
    function _roundWidth(TableShape memory table, uint256 rnd) internal pure returns (uint256) {
        if (rnd == ROUND_FIXED) return table.fixedWidth;
        if (rnd == ROUND_MAIN) return table.mainWidth;
        if (rnd == ROUND_PERMUTATION) return 4 * table.permWidth;
        return 4 * table.quotientChunks;
    }

    /// @notice Base columns of a round opened at zeta * omega too (pcs.next_columns).
    function _nextColumns(TableShape memory table, uint256 rnd) internal pure returns (uint256[] memory) {
        if (rnd == ROUND_FIXED) return table.fixedNext;
        if (rnd == ROUND_MAIN) return table.mainNext;
        if (rnd == ROUND_PERMUTATION) return table.permNext;
        return new uint256[](0);
    }

    /// @notice Whether the proof has a LogUp round: some table of it has interactions
    /// (pcs.uses_logup; an absent table has log height 0).
    function _withLogup(VerifyingKey memory vk, uint256[] memory heights) internal pure returns (bool) {
        for (uint256 t = 0; t < heights.length; t++) {
            if (heights[t] != 0 && vk.tables[t].permWidth != 0) return true;
        }
        return false;
    }

    /// @notice The class and first power of alpha_fri of a table's matrix in a round
    /// (pcs.deep_layout: tables in order, rounds fixed, main, permutation, quotient).
    function _deepSlot(VerifyingKey memory vk, Session memory s, uint256 table, uint256 rnd)
        internal
        pure
        returns (uint256 cls, uint256 offset)
    {
        uint256 size = s.heights[table] + vk.logBlowup;
        for (uint256 t = 0; t <= table; t++) {
            if (s.heights[t] == 0 || s.heights[t] + vk.logBlowup != size) continue;
            for (uint256 r = 0; r < 4; r++) {
                if (t == table && r == rnd) break;
                uint256 w = _roundWidth(vk.tables[t], r);
                offset += r == ROUND_QUOTIENT ? w : 2 * w;
            }
        }
        while (s.classLogSizes[cls] != size) cls++;
    }

    function _done(Session memory s) internal pure returns (bool) {
        return s.nextSection == ProofFormat.SECTION_FRI_LAYER + s.friOpenings;
    }

    /// @notice Raise the recorded FRI failure, if any.
    function _finish(Session memory s) internal pure {
        uint256 code = s.firstFailure & 0xff;
        if (code == FAIL_FOLD) StarkErrors.reject("fri_fold_mismatch");
        if (code == FAIL_FINAL) StarkErrors.reject("fri_final_poly_mismatch");
    }
}
