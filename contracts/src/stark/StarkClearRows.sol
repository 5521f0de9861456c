// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Domain} from "./Domain.sol";
import {BabyBear4} from "./BabyBear4.sol";
import {StarkClear} from "./StarkClear.sol";
import {StarkErrors} from "./StarkErrors.sol";
import {TableShape, VerifyingKey} from "./StarkTypes.sol";

/// @title The row checks of tables sent in the clear, run in the shared statement-phase
/// contract with the verifier's evaluator addresses.
abstract contract StarkClearRows is StarkClear {
    using BabyBear4 for uint256;

    /// @notice Check every row of every clear table (own constraints, then fingerprints) and
    /// return the sum of their bus contributions. `at` is the offset of the clear-trace count.
    function _checkClearTables(
        VerifyingKey memory vk,
        uint256[] memory heights,
        uint256 at,
        uint256[] calldata publics,
        uint256[2] memory challenges,
        address[] memory evaluators
    ) internal view returns (uint256 total) {
        (bool[] memory clear,) = _clearTables(vk, heights);
        at += 1;
        for (uint256 t = 0; t < heights.length; t++) {
            if (!clear[t]) continue;
            uint256 rows = _u(at, 2);
            TableShape memory table = vk.tables[t];
            uint256 sum = _checkRows(table, heights[t], at + 6, rows, publics, challenges, evaluators);
            if (table.permWidth != 0) total = total.add(sum);
            at += 6 + 4 * rows * table.mainWidth;
        }
    }

    struct Rows {
        uint256 values; // calldata offset of the sent rows
        uint256 rows; // rows sent
        uint256 w; // width
        uint256 n; // 2^log_height
        uint256 sel; // image word of is_first
        uint256 omega;
        uint256 omegaInv;
        uint256 fw; // fixed columns
        uint256[] fixedValues; // the key's fixed trace, row by row
    }

    function _checkRows(
        TableShape memory table,
        uint256 logN,
        uint256 values,
        uint256 rows,
        uint256[] calldata publics,
        uint256[2] memory challenges,
        address[] memory evaluators
    ) private view returns (uint256) {
        Rows memory g;
        g.values = values;
        g.rows = rows;
        g.w = table.mainWidth;
        g.n = 1 << logN;
        g.fw = table.fixedWidth;
        g.fixedValues = table.clearFixed;
        g.sel = 2 * g.w + 2 * g.fw + publics.length;
        g.omega = Domain.generator(logN);
        g.omegaInv = Domain.pow(g.omega, g.n - 1);
        uint256[] memory image = new uint256[](g.sel + 8 + table.clearSlotWords);
        for (uint256 j = 0; j < publics.length; j++) {
            image[2 * g.w + 2 * g.fw + j] = publics[j];
        }
        image[g.sel + 3] = challenges[0];
        image[g.sel + 4] = challenges[1];
        uint256 x = 1;
        for (uint256 r = 0; r < g.n; r++) {
            _loadRow(image, 0, g, r);
            _loadRow(image, g.w, g, (r + 1) % g.n);
            _loadFixedRow(image, 2 * g.w, g, r);
            _loadFixedRow(image, 2 * g.w + g.fw, g, (r + 1) % g.n);
            image[g.sel] = r == 0 ? 1 : 0;
            image[g.sel + 1] = r == g.n - 1 ? 1 : 0;
            image[g.sel + 2] = addmod(x, P - g.omegaInv, P);
            x = mulmod(x, g.omega, P);
            _runSegments(evaluators, table.clearSegments, image, 0);
        }
        if (image[g.sel + 5] != 0) StarkErrors.reject("clear_trace_constraint");
        if (image[g.sel + 6] != 0) StarkErrors.reject("logup_sum_nonzero");
        return image[g.sel + 7];
    }

    /// @dev Fixed row r into image[at .. at + fw).
    function _loadFixedRow(uint256[] memory image, uint256 at, Rows memory g, uint256 r) private pure {
        for (uint256 j = 0; j < g.fw; j++) {
            image[at + j] = g.fixedValues[r * g.fw + j];
        }
    }

    /// @dev Row r of the clear trace into image[at .. at + w) (zero past the sent rows).
    function _loadRow(uint256[] memory image, uint256 at, Rows memory g, uint256 r) private pure {
        uint256 w = g.w;
        if (r >= g.rows) {
            for (uint256 j = 0; j < w; j++) {
                image[at + j] = 0;
            }
            return;
        }
        uint256 src = g.values + 4 * r * w;
        for (uint256 j = 0; j < w; j++) {
            image[at + j] = _u(src + 4 * j, 4);
        }
    }
}
