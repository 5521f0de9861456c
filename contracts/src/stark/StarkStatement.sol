// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {BabyBear4} from "./BabyBear4.sol";
import {Domain} from "./Domain.sol";
import {StarkClearRows} from "./StarkClearRows.sol";
import {StarkHeader} from "./StarkHeader.sol";
import {StarkErrors} from "./StarkErrors.sol";
import {Transcript} from "./Transcript.sol";
import {Session, TableShape, VerifyingKey} from "./StarkTypes.sol";

/// @title The statement phase of heliostat.stark.verifier: shape, transcript up to the query
/// indices, constraints at the out-of-domain point, LogUp balance and proof of work.
/// @notice Reads the proof's header section (magic ... nonce). Machine-specific parts come from
/// the generated subclass: the verifying key and the constraint evaluators.
abstract contract StarkStatement is StarkHeader, StarkClearRows {
    using BabyBear4 for uint256;

    // --- shape --------------------------------------------------------------------------

    /// @notice verifier._check_shape, for what the header holds (the two opening-presence
    /// flags are checked where their sections are read).
    function _checkHeaderShape(
        VerifyingKey memory vk,
        Header memory h,
        uint256[] memory heights,
        uint256[] calldata publics
    ) internal pure {
        if (publics.length != vk.numPublics) StarkErrors.shape();
        for (uint256 i = 0; i < publics.length; i++) {
            if (publics[i] >= P) StarkErrors.shape();
        }
        if (h.tables != vk.tables.length) StarkErrors.shape();
        for (uint256 t = 0; t < h.tables; t++) {
            uint256 logN = heights[t];
            TableShape memory table = vk.tables[t];
            if (logN == 0) {
                if (!table.mayBeAbsent) StarkErrors.shape();
                continue;
            }
            if (logN < MIN_LOG_HEIGHT || logN > vk.maxLogHeight) StarkErrors.shape();
            if (table.fixedWidth != 0 && logN != table.fixedLogHeight) StarkErrors.shape();
        }
        if (vk.publicSegments.length != 0 && !_withLogup(vk, heights)) StarkErrors.shape(); // nothing balances them
        uint256[] memory committed = _committedHeights(vk, heights);
        if (h.hasPermRoot != _withLogup(vk, committed)) StarkErrors.shape();
        uint256 sums = 0;
        for (uint256 t = 0; t < h.tables; t++) {
            if (committed[t] != 0 && vk.tables[t].permWidth != 0) sums++;
        }
        if (h.sumCount != sums) StarkErrors.shape();
        for (uint256 t = 0; t < h.tables; t++) {
            if (heights[t] == 0) continue; // encoded only for included tables; empty if clear
            TableShape memory table = vk.tables[t];
            for (uint256 v = 0; v < 7; v++) {
                uint256 rnd = _roundOfVector(v);
                uint256 expected = v % 2 == 1 && v < 6 ? _nextColumns(table, rnd).length : _roundWidth(table, rnd);
                if (committed[t] == 0) expected = 0;
                if (_u(h.vectors[7 * t + v], 4) != expected) StarkErrors.shape();
            }
        }
        _checkClearShape(vk, heights, h.clearAt);
    }

    function _roundOfVector(uint256 v) internal pure returns (uint256) {
        return v < 2 ? ROUND_MAIN : v < 4 ? ROUND_FIXED : v < 6 ? ROUND_PERMUTATION : ROUND_QUOTIENT;
    }

    // --- the statement phase --------------------------------------------------------------

    /// @notice Replay the transcript from the statement to the query indices and run every
    /// check that needs no opening: constraints at zeta, LogUp, FRI shape, proof of work.
    function _statementPhase(
        VerifyingKey memory vk,
        bytes calldata header,
        uint256[] calldata publics,
        address[] memory evaluators
    ) internal view returns (Session memory s) {
        Header memory h = _readHeader(header);
        h.evaluators = evaluators;
        uint256[] memory heights = new uint256[](h.tables);
        for (uint256 t = 0; t < h.tables; t++) {
            heights[t] = _height(h, t);
        }
        _checkHeaderShape(vk, h, heights, publics);
        h.full = heights;
        s.heights = _committedHeights(vk, heights); // what the commitment rounds hold
        bool logup = _withLogup(vk, heights); // z, beta: some included table is on a bus
        s.statement = keccak256(abi.encodePacked(publics));
        s.roots[ROUND_FIXED] = vk.fixedRoot;
        s.roots[ROUND_MAIN] = _word(h.mainRoot);
        if (h.hasPermRoot) s.roots[ROUND_PERMUTATION] = _word(h.permRoot);
        s.roots[ROUND_QUOTIENT] = _word(h.quotientRoot);

        bytes32 tr = Transcript.init();
        tr = _absorbStatement(vk, tr, h, publics);
        if (vk.hasFixed) tr = Transcript.absorbWord(tr, Transcript.PREPROCESSED_ROOT, vk.fixedRoot);
        tr = Transcript.absorbWord(tr, Transcript.MAIN_ROOT, s.roots[ROUND_MAIN]);
        if (_u(h.clearAt, 1) != 0) {
            bytes memory clearData = _clearTranscriptData(h.clearAt);
            tr = Transcript.absorbMemory(tr, Transcript.CLEAR_TRACES, _ptr(clearData), clearData.length);
        }
        uint256[2] memory challenges;
        if (logup) {
            (tr, challenges[0]) = Transcript.sampleExt(tr);
            (tr, challenges[1]) = Transcript.sampleExt(tr);
            if (h.hasPermRoot) tr = Transcript.absorbWord(tr, Transcript.PERMUTATION_ROOT, s.roots[ROUND_PERMUTATION]);
            tr = Transcript.absorbCalldata(tr, Transcript.LOGUP_SUMS, h.sums, 16 * h.sumCount);
        }
        uint256 alpha;
        (tr, alpha) = Transcript.sampleExt(tr);
        tr = Transcript.absorbWord(tr, Transcript.QUOTIENT_ROOT, s.roots[ROUND_QUOTIENT]);
        (tr, s.zeta) = Transcript.sampleExt(tr);
        tr = _absorbOpenedValues(tr, h);

        if (s.zeta.isBase()) StarkErrors.reject("ood_point_in_domain");
        _checkConstraints(vk, h, s, publics, challenges, alpha);
        _checkClearAndLogUp(vk, h, publics, challenges);

        (tr, s.alphaFri) = Transcript.sampleExt(tr);
        _planFri(vk, s, h);
        s.betas = new uint256[](h.friRootCount);
        s.friRoots = new bytes32[](h.friRootCount);
        for (uint256 k = 0; k < h.friRootCount; k++) {
            s.friRoots[k] = _word(h.friRoots + 32 * k);
            tr = Transcript.absorbWord(tr, Transcript.FRI_LAYER_ROOT, s.friRoots[k]);
            (tr, s.betas[k]) = Transcript.sampleExt(tr);
        }
        tr = Transcript.absorbCalldata(tr, Transcript.FRI_FINAL_POLY, h.finalPoly, 16 * h.finalCount);
        s.finalPoly = new uint256[](h.finalCount);
        for (uint256 k = 0; k < h.finalCount; k++) {
            s.finalPoly[k] = BabyBear4.loadCalldata(h.finalPoly + 16 * k);
        }
        tr = Transcript.absorbCalldata(tr, Transcript.POW_NONCE, h.nonce, 8);
        if (vk.powBits != 0 && uint256(tr) >> (256 - vk.powBits) != 0) {
            StarkErrors.reject("proof_of_work_invalid");
        }
        s.queryState = tr;
        _classSums(vk, h, s);
    }

    function _absorbStatement(VerifyingKey memory vk, bytes32 tr, Header memory h, uint256[] calldata publics)
        private
        pure
        returns (bytes32)
    {
        // digest(32) | config bytes (StarkConfig.to_bytes) | u8 tables | u8 heights
        // | u32 public count | u32 publics
        bytes memory config = vk.configBytes;
        uint256 head = 32 + config.length;
        bytes memory data = new bytes(head + 1 + h.tables + 4 + 4 * publics.length);
        uint256 heights = h.heights;
        uint256 tables = h.tables;
        bytes32 digest = vk.machineDigest;
        assembly ("memory-safe") {
            let p := add(data, 32)
            mstore(p, digest)
            mcopy(add(p, 32), add(config, 32), mload(config))
            p := add(p, head)
            mstore8(p, tables)
            calldatacopy(add(p, 1), heights, tables)
            p := add(p, add(1, tables))
            mstore(p, shl(224, publics.length))
            p := add(p, 4)
            for { let i := 0 } lt(i, publics.length) { i := add(i, 1) } {
                mstore(p, shl(224, calldataload(add(publics.offset, mul(32, i)))))
                p := add(p, 4)
            }
        }
        return Transcript.absorbMemory(tr, Transcript.STATEMENT, _ptr(data), data.length);
    }

    function _absorbOpenedValues(bytes32 tr, Header memory h) private pure returns (bytes32) {
        // every opened value in vector order, without the u32 counts
        uint256 counts = 0;
        for (uint256 i = 0; i < h.vectors.length; i++) {
            if (h.vectors[i] != 0) counts++;
        }
        bytes memory data = new bytes(h.openedEnd - h.openedStart - 4 * counts);
        uint256 out = _ptr(data);
        for (uint256 i = 0; i < h.vectors.length; i++) {
            uint256 at = h.vectors[i];
            if (at == 0) continue;
            uint256 len = 16 * _u(at, 4);
            assembly ("memory-safe") {
                calldatacopy(out, add(at, 4), len)
            }
            out += len;
        }
        return Transcript.absorbMemory(tr, Transcript.OPENED_VALUES, _ptr(data), data.length);
    }

    function _ptr(bytes memory data) internal pure returns (uint256 p) {
        assembly ("memory-safe") {
            p := add(data, 32)
        }
    }

    // --- constraints at zeta and LogUp ----------------------------------------------------

    /// @notice The environment a generated evaluator reads (see verifier_gen.layout), one
    /// packed word each: alpha^k per constraint | main | main next | fixed | fixed next |
    /// permutation (recombined) | next | publics | z, beta | LogUp sum | first, last,
    /// transition selectors | accumulator | scratch. The `next` parts hold only the columns
    /// the constraints read on the next row, ascending.
    function _checkConstraints(
        VerifyingKey memory vk,
        Header memory h,
        Session memory s,
        uint256[] calldata publics,
        uint256[2] memory challenges,
        uint256 alpha
    ) private view {
        uint256 sumIndex = 0;
        for (uint256 t = 0; t < h.tables; t++) {
            if (s.heights[t] == 0) continue; // a table left out is the empty instance
            uint256 logupSum = 0;
            if (vk.tables[t].permWidth != 0) logupSum = BabyBear4.loadCalldata(h.sums + 16 * sumIndex++);
            _checkTable(vk.tables[t], h, t, s, publics, [challenges[0], challenges[1], logupSum, alpha]);
        }
    }

    /// @notice sum_k alpha^k C_k(zeta) = Z_H(zeta) sum_c zeta^(c n) q_c(zeta) for table t;
    /// `values` = z, beta, the table's LogUp sum, alpha.
    function _checkTable(
        TableShape memory table,
        Header memory h,
        uint256 t,
        Session memory s,
        uint256[] calldata publics,
        uint256[4] memory values
    ) private view {
        (uint256 zH, uint256[3] memory selectors) = _selectors(s.zeta, s.heights[t]);
        if (zH == 0) StarkErrors.reject("ood_point_in_domain");
        uint256[] memory image = _environment(h, t, table, publics, values, selectors);
        uint256 folded = _runSegments(h.evaluators, table.segments, image, image.length - 1 - table.slotWords);
        if (folded != zH.mul(_quotientAt(h, t, table.quotientChunks, zH.add(1)))) {
            StarkErrors.reject("constraint_mismatch");
        }
    }

    /// @notice Q(zeta) = sum_c zeta^(c n) q_c(zeta) from the opened chunk coordinates.
    function _quotientAt(Header memory h, uint256 t, uint256 chunks, uint256 zetaN) private pure returns (uint256 q) {
        uint256 shift = 1;
        for (uint256 c = 0; c < chunks; c++) {
            q = q.add(shift.mul(_recombined(h, t, 6, c)));
            shift = shift.mul(zetaN);
        }
    }

    /// @notice Z_H(zeta) and the first-row, last-row and transition selectors at zeta.
    function _selectors(uint256 zeta, uint256 logN) internal pure returns (uint256 zH, uint256[3] memory sel) {
        uint256 n = 1 << logN;
        uint256 omegaInv = Domain.pow(Domain.generator(logN), n - 1);
        uint256 zetaN = zeta;
        for (uint256 i = 0; i < logN; i++) {
            zetaN = zetaN.square();
        }
        zH = zetaN.sub(1);
        sel[2] = zeta.sub(omegaInv);
        if (zH == 0) return (zH, sel);
        sel[0] = zH.mul(zeta.sub(1).scale(n % P).inv());
        sel[1] = zH.scale(omegaInv).mul(sel[2].scale(n % P).inv());
    }

    function _environment(
        Header memory h,
        uint256 t,
        TableShape memory table,
        uint256[] calldata publics,
        uint256[4] memory values,
        uint256[3] memory selectors
    ) private pure returns (uint256[] memory image) {
        uint256 k = table.numConstraints;
        uint256[6] memory widths = [
            table.mainWidth,
            table.mainNext.length,
            table.fixedWidth,
            table.fixedNext.length,
            table.permWidth,
            table.permNext.length / 4
        ];
        uint256 at = k + widths[0] + widths[1] + widths[2] + widths[3] + widths[4] + widths[5];
        image = new uint256[](at + publics.length + 7 + table.slotWords);
        uint256 power = 1;
        for (uint256 i = 0; i < k; i++) {
            image[i] = power;
            power = power.mul(values[3]);
        }
        at = k;
        for (uint256 v = 0; v < 6; v++) {
            _fill(image, at, h, t, v, widths[v]);
            at += widths[v];
        }
        for (uint256 j = 0; j < publics.length; j++) {
            image[at + j] = publics[j];
        }
        at += publics.length;
        image[at] = values[0];
        image[at + 1] = values[1];
        image[at + 2] = values[2];
        image[at + 3] = selectors[0];
        image[at + 4] = selectors[1];
        image[at + 5] = selectors[2];
    }

    /// @notice Copy `count` opened values of vector v into image[at..] (the permutation
    /// vectors, 4 and 5, recombined into extension columns).
    function _fill(uint256[] memory image, uint256 at, Header memory h, uint256 t, uint256 v, uint256 count)
        private
        pure
    {
        for (uint256 j = 0; j < count; j++) {
            image[at + j] = v == 4 || v == 5 ? _recombined(h, t, v, j) : _opened(h, t, v, j);
        }
    }

    /// @notice The rows of the tables sent in the clear, then the LogUp balance (if the proof
    /// has a LogUp round) with their bus sums.
    function _checkClearAndLogUp(
        VerifyingKey memory vk,
        Header memory h,
        uint256[] calldata publics,
        uint256[2] memory challenges
    ) private view {
        uint256 clearSum = 0;
        if (_u(h.clearAt, 1) != 0) clearSum = _checkClearTables(vk, h.full, h.clearAt, publics, challenges, h.evaluators);
        if (_withLogup(vk, h.full)) _checkLogUp(vk, h, publics, challenges, clearSum);
    }

    /// @notice The LogUp balance: the tables' sums plus the public interactions' terms.
    function _checkLogUp(
        VerifyingKey memory vk,
        Header memory h,
        uint256[] calldata publics,
        uint256[2] memory challenges,
        uint256 clearSum
    ) private view {
        uint256 total = clearSum;
        if (vk.publicSegments.length != 0) {
            // publics | z, beta | accumulator | "a fingerprint equals z" flag | scratch
            uint256[] memory image = new uint256[](publics.length + 4 + vk.publicSlotWords);
            for (uint256 j = 0; j < publics.length; j++) {
                image[j] = publics[j];
            }
            image[publics.length] = challenges[0];
            image[publics.length + 1] = challenges[1];
            // added to the clear tables' sums already in `total`, not in place of them
            total = total.add(_runSegments(h.evaluators, vk.publicSegments, image, publics.length + 2));
            if (image[publics.length + 3] != 0) StarkErrors.reject("logup_sum_nonzero");
        }
        for (uint256 i = 0; i < h.sumCount; i++) {
            total = total.add(BabyBear4.loadCalldata(h.sums + 16 * i));
        }
        if (total != 0) StarkErrors.reject("logup_sum_nonzero");
    }

    // --- FRI plan and the DEEP sums at zeta ---------------------------------------------------

    /// @notice The height classes (distinct LDE sizes) and the FRI schedule (fri.fri_schedule).
    function _planFri(VerifyingKey memory vk, Session memory s, Header memory h) private pure {
        uint256[] memory sizes = new uint256[](h.tables);
        uint256 count = 0;
        for (uint256 t = 0; t < h.tables; t++) {
            if (s.heights[t] == 0) continue;
            uint256 size = s.heights[t] + vk.logBlowup;
            uint256 i = 0;
            while (i < count && sizes[i] > size) i++;
            if (i < count && sizes[i] == size) continue;
            for (uint256 j = count; j > i; j--) {
                sizes[j] = sizes[j - 1];
            }
            sizes[i] = size;
            count++;
        }
        s.classLogSizes = new uint256[](count);
        for (uint256 i = 0; i < count; i++) {
            s.classLogSizes[i] = sizes[i];
        }
        s.logMax = sizes[0];
        uint256 minLogHeight = sizes[count - 1] - vk.logBlowup;
        uint256 logFinalPolyLen = vk.logFinalPolyLen < minLogHeight ? vk.logFinalPolyLen : minLogHeight;
        uint256 logFinal = logFinalPolyLen + vk.logBlowup;
        uint256[] memory arities = new uint256[](s.logMax);
        uint256 layers = 0;
        uint256 cur = s.logMax;
        while (cur > logFinal) {
            uint256 stop = logFinal;
            for (uint256 i = 0; i < count; i++) {
                if (sizes[i] < cur && sizes[i] > stop) stop = sizes[i];
            }
            uint256 a = cur - stop < vk.maxLogArity ? cur - stop : vk.maxLogArity;
            arities[layers++] = a;
            cur -= a;
        }
        s.arities = new uint256[](layers);
        for (uint256 i = 0; i < layers; i++) {
            s.arities[i] = arities[i];
        }
        if (h.friRootCount != layers) StarkErrors.shape();
        if (h.finalCount != 1 << logFinalPolyLen) StarkErrors.shape();
    }

    /// @notice S(zeta) and T(zeta omega) of every class (pcs.class_point_sums).
    function _classSums(VerifyingKey memory vk, Header memory h, Session memory s) private pure {
        s.classSums = new uint256[](2 * s.classLogSizes.length);
        for (uint256 t = 0; t < h.tables; t++) {
            if (s.heights[t] == 0) continue;
            for (uint256 rnd = 0; rnd < 4; rnd++) {
                if (_roundWidth(vk.tables[t], rnd) == 0) continue;
                (uint256 cls, uint256 offset) = _deepSlot(vk, s, t, rnd);
                uint256 v = rnd == ROUND_FIXED ? 2 : rnd == ROUND_MAIN ? 0 : rnd == ROUND_PERMUTATION ? 4 : 6;
                (uint256 sZeta, uint256 tNext) = _matrixSums(
                    h.vectors[7 * t + v] + 4,
                    rnd == ROUND_QUOTIENT ? 0 : h.vectors[7 * t + v + 1] + 4,
                    _roundWidth(vk.tables[t], rnd),
                    _nextColumns(vk.tables[t], rnd),
                    BabyBear4.pow(s.alphaFri, offset),
                    rnd == ROUND_QUOTIENT ? s.alphaFri : s.alphaFri.square()
                );
                s.classSums[2 * cls] = s.classSums[2 * cls].add(sZeta);
                s.classSums[2 * cls + 1] = s.classSums[2 * cls + 1].add(tNext);
            }
        }
    }

    /// @notice One matrix's part of S(zeta) and T(zeta omega): the `w` values opened at zeta
    /// (calldata `values`) times coeff * step^j, and those opened at zeta omega (`nextValues`,
    /// the columns `next`) times their columns' coefficients.
    function _matrixSums(
        uint256 values,
        uint256 nextValues,
        uint256 w,
        uint256[] memory next,
        uint256 coeff,
        uint256 step
    ) private pure returns (uint256 sZeta, uint256 tNext) {
        uint256 n = 0;
        for (uint256 j = 0; j < w; j++) {
            sZeta = sZeta.add(coeff.mul(BabyBear4.loadCalldata(values + 16 * j)));
            if (n < next.length && next[n] == j) {
                tNext = tNext.add(coeff.mul(BabyBear4.loadCalldata(nextValues + 16 * n)));
                n++;
            }
            coeff = coeff.mul(step);
        }
    }
}
