// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {BabyBear4} from "./BabyBear4.sol";
import {StarkClear} from "./StarkClear.sol";

/// @title Where the parts of a proof's header section lie in calldata, and reading them.
abstract contract StarkHeader is StarkClear {
    using BabyBear4 for uint256;

    /// @notice Where the parts of the header section lie in calldata.
    struct Header {
        uint256 tables;
        uint256 heights; // one byte each
        uint256 mainRoot;
        uint256 clearAt; // the clear-trace count, then the traces
        uint256 start; // the header section in calldata
        uint256 length;
        uint256[] full; // log heights as the proof states them (0: absent)
        address[] evaluators; // the generated verifier's constraint evaluators
        bool hasPermRoot;
        uint256 permRoot;
        uint256 sumCount;
        uint256 sums; // 16 bytes each
        uint256 quotientRoot;
        uint256[] vectors; // 7 per table: offset of the u32 count, the values follow (0: absent)
        uint256 openedStart; // first and one past the last byte of the opened values
        uint256 openedEnd;
        uint256 friRootCount;
        uint256 friRoots;
        uint256 finalCount;
        uint256 finalPoly;
        uint256 nonce;
    }

    // --- reading ------------------------------------------------------------------------

    function _readHeader(bytes calldata header) internal pure returns (Header memory h) {
        uint256 at = _cd(header) + 6;
        h.start = _cd(header);
        h.length = header.length;
        h.tables = _u(at, 1);
        h.heights = at + 1;
        h.mainRoot = h.heights + h.tables;
        at = h.mainRoot + 32;
        h.clearAt = at;
        uint256 clearCount = _u(at, 1);
        at += 1;
        for (uint256 i = 0; i < clearCount; i++) {
            at += 6 + 4 * _u(at, 2) * _u(at + 2, 4);
        }
        h.hasPermRoot = _u(at, 1) == 1;
        at += 1;
        if (h.hasPermRoot) {
            h.permRoot = at;
            at += 32;
        }
        h.sumCount = _u(at, 4);
        h.sums = at + 4;
        h.quotientRoot = h.sums + 16 * h.sumCount;
        at = h.quotientRoot + 32;
        h.vectors = new uint256[](7 * h.tables);
        h.openedStart = at;
        for (uint256 t = 0; t < h.tables; t++) {
            if (_height(h, t) == 0) continue; // a table left out has no opened values
            for (uint256 v = 0; v < 7; v++) {
                h.vectors[7 * t + v] = at;
                at += 4 + 16 * _u(at, 4);
            }
        }
        h.openedEnd = at;
        h.friRootCount = _u(at, 1);
        h.friRoots = at + 1;
        at = h.friRoots + 32 * h.friRootCount;
        h.finalCount = _u(at, 4);
        h.finalPoly = at + 4;
        h.nonce = h.finalPoly + 16 * h.finalCount;
    }

    function _height(Header memory h, uint256 t) internal pure returns (uint256) {
        return _u(h.heights + t, 1);
    }

    /// @notice Opened value j of vector v (0 main, 1 main next, 2 fixed, 3 fixed next,
    /// 4 permutation, 5 permutation next, 6 quotient) of table t, packed.
    function _opened(Header memory h, uint256 t, uint256 v, uint256 j) internal pure returns (uint256) {
        return BabyBear4.loadCalldata(h.vectors[7 * t + v] + 4 + 16 * j);
    }

    /// @notice Extension column k of a vector of coordinates: sum_i X^i * value[4k + i].
    function _recombined(Header memory h, uint256 t, uint256 v, uint256 k) internal pure returns (uint256 r) {
        r = _opened(h, t, v, 4 * k);
        r = r.add(_opened(h, t, v, 4 * k + 1).mul(BabyBear4.X1));
        r = r.add(_opened(h, t, v, 4 * k + 2).mul(BabyBear4.X2));
        r = r.add(_opened(h, t, v, 4 * k + 3).mul(BabyBear4.X3));
    }
}
