// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {BabyBear4} from "./BabyBear4.sol";
import {StarkCommon} from "./StarkCommon.sol";
import {StarkErrors} from "./StarkErrors.sol";
import {TableShape, VerifyingKey} from "./StarkTypes.sol";

/// @title Tables sent in the clear (heliostat.stark.clear): which they are, and the check of
/// every row of their traces with their bus sums.
/// @notice A clear trace is encoded right after the main root as u16 rows ‖ u32 width ‖ the
/// rows (up to the last non-zero one; zero rows follow up to 2^log_height). Each row is
/// checked by the generated row segments (verifier_gen.clear_rows) over the image: main row r
/// | row r + 1 | publics | is_first, is_last, is_transition | z, beta | constraint flag |
/// fingerprint flag | bus accumulator | scratch.
abstract contract StarkClear is StarkCommon {
    using BabyBear4 for uint256;

    /// @notice Which tables of a proof go in the clear (clear.clear_tables): included, at most
    /// 2^maxClearLogHeight rows — none if that would be every included table.
    function _clearTables(VerifyingKey memory vk, uint256[] memory heights)
        internal
        pure
        returns (bool[] memory clear, uint256 count)
    {
        clear = new bool[](heights.length);
        uint256 present = 0;
        for (uint256 t = 0; t < heights.length; t++) {
            if (heights[t] == 0) continue;
            present++;
            if (heights[t] <= vk.maxClearLogHeight) {
                clear[t] = true;
                count++;
            }
        }
        if (count == present) {
            clear = new bool[](heights.length);
            count = 0;
        }
    }

    /// @notice The heights the commitment rounds see: clear tables marked absent.
    function _committedHeights(VerifyingKey memory vk, uint256[] memory heights)
        internal
        pure
        returns (uint256[] memory committed)
    {
        (bool[] memory clear,) = _clearTables(vk, heights);
        committed = new uint256[](heights.length);
        for (uint256 t = 0; t < heights.length; t++) {
            committed[t] = clear[t] ? 0 : heights[t];
        }
    }

    /// @notice verifier._check_clear_shape: one trace per clear table, of its width, with at
    /// most 2^log_height rows. `at` is the calldata offset of the clear-trace count.
    function _checkClearShape(VerifyingKey memory vk, uint256[] memory heights, uint256 at) internal pure {
        (bool[] memory clear, uint256 count) = _clearTables(vk, heights);
        if (_u(at, 1) != count) StarkErrors.shape();
        at += 1;
        for (uint256 t = 0; t < heights.length; t++) {
            if (!clear[t]) continue;
            uint256 rows = _u(at, 2);
            uint256 width = _u(at + 2, 4);
            if (width != vk.tables[t].mainWidth || rows > 1 << heights[t]) StarkErrors.shape();
            at += 6 + 4 * rows * width;
        }
    }

    /// @notice What the transcript absorbs of the clear traces: per trace u16 rows ‖ values.
    function _clearTranscriptData(uint256 at) internal pure returns (bytes memory data) {
        uint256 count = _u(at, 1);
        uint256 p = at + 1;
        uint256 len = 0;
        for (uint256 i = 0; i < count; i++) {
            uint256 bytesLen = 4 * _u(p, 2) * _u(p + 2, 4);
            len += 2 + bytesLen;
            p += 6 + bytesLen;
        }
        data = new bytes(len);
        p = at + 1;
        uint256 out;
        assembly ("memory-safe") {
            out := add(data, 32)
        }
        for (uint256 i = 0; i < count; i++) {
            uint256 bytesLen = 4 * _u(p, 2) * _u(p + 2, 4);
            uint256 src = p;
            assembly ("memory-safe") {
                calldatacopy(out, src, 2)
                calldatacopy(add(out, 2), add(src, 6), bytesLen)
            }
            out += 2 + bytesLen;
            p += 6 + bytesLen;
        }
    }

    /// @notice Run generated evaluator segments over `image` in place; return image[accIndex].
    function _runSegments(
        address[] memory evaluators,
        uint256[] memory segments,
        uint256[] memory image,
        uint256 accIndex
    ) internal view returns (uint256) {
        uint256 words = image.length;
        for (uint256 i = 0; i < segments.length; i++) {
            address evaluator = evaluators[segments[i] >> 128];
            uint256 id = segments[i] & type(uint128).max;
            assembly ("memory-safe") {
                // the length word of `image` holds the segment id for the call, then is restored
                mstore(image, id)
                let ok := staticcall(gas(), evaluator, image, mul(32, add(words, 1)), add(image, 32), mul(32, words))
                if iszero(ok) {
                    returndatacopy(0, 0, returndatasize())
                    revert(0, returndatasize())
                }
                mstore(image, words)
                if iszero(eq(returndatasize(), mul(32, words))) { revert(0, 0) }
            }
        }
        return image[accIndex];
    }
}
