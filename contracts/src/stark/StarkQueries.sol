// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {BabyBear4} from "./BabyBear4.sol";
import {Domain} from "./Domain.sol";
import {MerkleMultiProof} from "./MerkleMultiProof.sol";
import {ProofFormat} from "./ProofFormat.sol";
import {StarkErrors} from "./StarkErrors.sol";
import {StarkCommon} from "./StarkCommon.sol";
import {Transcript} from "./Transcript.sol";
import {Session, VerifyingKey} from "./StarkTypes.sol";

/// @title The query phase of heliostat.stark.verifier, one proof section at a time.
/// @notice Round sections authenticate the opened rows and add them into each query's DEEP
/// sums S(x), T(x); the FRI count section turns them into layer-0 values; each FRI layer
/// section authenticates its leaves, checks that the leaf holds the value folded into it and
/// folds. Fold and final-polynomial failures are recorded, not raised, until every section is
/// read, so that the reported failure is the one the Python verifier reports: Merkle checks
/// of all layers first, then the first failing query's first failure.
abstract contract StarkQueries is StarkCommon {
    using BabyBear4 for uint256;

    /// @notice Per transaction: the query indices (sampled again from the stored transcript
    /// state), their sorted order, and the FRI points of the layer `layer`.
    struct Queries {
        uint256[] index;
        uint256[] order;
        uint256[] xs;
        uint256[] xInvs;
        uint256 layer; // type(uint256).max until the points are computed
    }

    function _queries(VerifyingKey memory vk, Session memory s) internal pure returns (Queries memory q) {
        (, q.index) = Transcript.sampleIndices(s.queryState, vk.numQueries, s.logMax);
        uint256 n = q.index.length;
        q.order = new uint256[](n);
        for (uint256 i = 0; i < n; i++) {
            uint256 j = i;
            while (j > 0 && q.index[q.order[j - 1]] > q.index[i]) {
                q.order[j] = q.order[j - 1];
                j--;
            }
            q.order[j] = i;
        }
        q.xs = new uint256[](n);
        q.xInvs = new uint256[](n);
        q.layer = type(uint256).max;
    }

    /// @notice The sorted distinct indices i >> shift, and each query's position among them.
    function _distinct(Queries memory q, uint256 shift)
        internal
        pure
        returns (uint256[] memory distinct, uint256[] memory posOf)
    {
        uint256 n = q.index.length;
        uint256[] memory tmp = new uint256[](n);
        posOf = new uint256[](n);
        uint256 count = 0;
        for (uint256 r = 0; r < n; r++) {
            uint256 v = q.index[q.order[r]] >> shift;
            if (count == 0 || tmp[count - 1] != v) tmp[count++] = v;
            posOf[q.order[r]] = count - 1;
        }
        distinct = tmp;
        assembly ("memory-safe") {
            mstore(distinct, count)
        }
    }

    /// @notice Read one section (the one `s.nextSection` names) and advance.
    function _section(VerifyingKey memory vk, Session memory s, Queries memory q, bytes calldata sec) internal pure {
        uint256 section = s.nextSection;
        if (section == ProofFormat.SECTION_FIXED) {
            _roundSection(vk, s, q, ROUND_FIXED, sec);
        } else if (section == ProofFormat.SECTION_MAIN) {
            _roundSection(vk, s, q, ROUND_MAIN, sec);
        } else if (section == ProofFormat.SECTION_PERMUTATION) {
            _roundSection(vk, s, q, ROUND_PERMUTATION, sec);
        } else if (section == ProofFormat.SECTION_QUOTIENT) {
            _roundSection(vk, s, q, ROUND_QUOTIENT, sec);
        } else if (section == ProofFormat.SECTION_FRI_COUNT) {
            _friCountSection(vk, s, q, sec);
        } else {
            _friLayerSection(vk, s, q, section - ProofFormat.SECTION_FRI_LAYER, sec);
        }
        s.nextSection = section + 1;
    }

    function _fail(Session memory s, uint256 query, uint256 code) private pure {
        if (s.firstFailure == 0 || query + 1 < s.firstFailure >> 8) s.firstFailure = ((query + 1) << 8) | code;
    }

    // --- round openings -------------------------------------------------------------------

    function _roundSection(VerifyingKey memory vk, Session memory s, Queries memory q, uint256 rnd, bytes calldata sec)
        private
        pure
    {
        uint256 at = _cd(sec);
        if (rnd == ROUND_FIXED || rnd == ROUND_PERMUTATION) {
            bool present = _u(at, 1) == 1;
            at += 1;
            if (present != (rnd == ROUND_FIXED ? vk.hasFixed : _withLogup(vk, s.heights))) StarkErrors.shape();
            if (!present) return;
        }
        (MerkleMultiProof.Matrix[] memory mats, uint256[] memory owners, uint256 treeMax) = _roundMatrices(vk, s, rnd);
        (uint256[] memory distinct,) = _distinct(q, s.logMax - treeMax);
        if (_u(at, 1) != mats.length) StarkErrors.shape();
        at += 1;
        for (uint256 j = 0; j < mats.length; j++) {
            // a matrix opens each of its own rows once: a shorter one has fewer
            (uint256[] memory own,) = _distinct(q, s.logMax - mats[j].logHeight);
            uint256 rows = _u(at, 2);
            uint256 width = _u(at + 2, 4);
            if (rows != own.length || width != mats[j].width) StarkErrors.shape();
            mats[j].rows = at + 6;
            at += 6 + 4 * rows * width;
        }
        MerkleMultiProof.verifyMatrices(s.roots[rnd], mats, distinct, at + 4, _u(at, 4));
        for (uint256 j = 0; j < mats.length; j++) {
            if (s.heights[owners[j]] == 0) continue; // a clear table's fixed matrix: no DEEP part
            (, uint256[] memory posOf) = _distinct(q, s.logMax - mats[j].logHeight);
            _accumulate(vk, s, owners[j], rnd, mats[j], posOf);
        }
    }

    /// @notice The matrices of a round's tree, in table order (pcs.round_matrices).
    function _roundMatrices(VerifyingKey memory vk, Session memory s, uint256 rnd)
        private
        pure
        returns (MerkleMultiProof.Matrix[] memory mats, uint256[] memory owners, uint256 treeMax)
    {
        uint256 count = 0;
        for (uint256 t = 0; t < s.heights.length; t++) {
            if (_inTree(s, t, rnd) && _roundWidth(vk.tables[t], rnd) != 0) count++;
        }
        mats = new MerkleMultiProof.Matrix[](count);
        owners = new uint256[](count);
        count = 0;
        for (uint256 t = 0; t < s.heights.length; t++) {
            uint256 w = _roundWidth(vk.tables[t], rnd);
            if (w == 0 || !_inTree(s, t, rnd)) continue;
            uint256 logH = (rnd == ROUND_FIXED ? vk.tables[t].fixedLogHeight : s.heights[t]) + vk.logBlowup;
            mats[count] = MerkleMultiProof.Matrix(logH, w, 0);
            owners[count++] = t;
            if (logH > treeMax) treeMax = logH;
        }
    }

    /// @notice Whether table t has a matrix in round rnd's tree: the fixed-column tree belongs
    /// to the key and holds every table with fixed columns, clear ones included.
    function _inTree(Session memory s, uint256 t, uint256 rnd) private pure returns (bool) {
        return rnd == ROUND_FIXED || s.heights[t] != 0;
    }

    /// @notice Add sum_j alpha_fri^(offset + step j) * row_j to S of each query, and the same
    /// sum over the columns opened at zeta * omega to T.
    function _accumulate(
        VerifyingKey memory vk,
        Session memory s,
        uint256 table,
        uint256 rnd,
        MerkleMultiProof.Matrix memory m,
        uint256[] memory posOf
    ) private pure {
        (uint256 cls, uint256 offset) = _deepSlot(vk, s, table, rnd);
        (uint256[] memory evens, uint256[] memory odds) =
            _coefficients(s.alphaFri, offset, m.width, rnd != ROUND_QUOTIENT);
        uint256[] memory next = _nextColumns(vk.tables[table], rnd);
        uint256 base = 2 * cls * posOf.length;
        bool allNext = next.length == m.width;
        _addDots(s.acc, base, m, posOf, evens, odds, allNext ? 2 : 0);
        if (next.length == 0 || allNext) return;
        // T's coefficients: those of the next-row columns, zero elsewhere
        uint256[] memory nextEvens = new uint256[](m.width);
        uint256[] memory nextOdds = new uint256[](m.width);
        for (uint256 n = 0; n < next.length; n++) {
            nextEvens[next[n]] = evens[next[n]];
            nextOdds[next[n]] = odds[next[n]];
        }
        _addDots(s.acc, base, m, posOf, nextEvens, nextOdds, 1);
    }

    /// @dev For each query, add the row's dot product to S (lane 0), T (lane 1) or both (2).
    function _addDots(
        uint256[] memory acc,
        uint256 base,
        MerkleMultiProof.Matrix memory m,
        uint256[] memory posOf,
        uint256[] memory evens,
        uint256[] memory odds,
        uint256 lane
    ) private pure {
        for (uint256 i = 0; i < posOf.length; i++) {
            uint256 sum = _dot(m.rows + posOf[i] * 4 * m.width, evens, odds, m.width);
            if (lane != 1) acc[base + 2 * i] = acc[base + 2 * i].add(sum);
            if (lane != 0) acc[base + 2 * i + 1] = acc[base + 2 * i + 1].add(sum);
        }
    }

    /// @notice alpha^(offset + step j) for j < width (step 2 for two-point matrices), with the
    /// lanes split in two words (c0 | c2 << 128, c1 | c3 << 128) so that a sum of up to 2^64
    /// products with base elements stays inside its 128-bit lane.
    function _coefficients(uint256 alpha, uint256 offset, uint256 width, bool twoPoint)
        private
        pure
        returns (uint256[] memory evens, uint256[] memory odds)
    {
        evens = new uint256[](width);
        odds = new uint256[](width);
        uint256 coeff = BabyBear4.pow(alpha, offset);
        uint256 step = twoPoint ? alpha.square() : alpha;
        for (uint256 j = 0; j < width; j++) {
            evens[j] = (coeff & BabyBear4.M64) | (((coeff >> 128) & BabyBear4.M64) << 128);
            odds[j] = ((coeff >> 64) & BabyBear4.M64) | ((coeff >> 192) << 128);
            coeff = coeff.mul(step);
        }
    }

    function _dot(uint256 row, uint256[] memory evens, uint256[] memory odds, uint256 width)
        private
        pure
        returns (uint256 r)
    {
        assembly ("memory-safe") {
            let e := 0
            let o := 0
            let pe := add(evens, 32)
            let po := add(odds, 32)
            for { let j := 0 } lt(j, width) { j := add(j, 1) } {
                let v := shr(224, calldataload(add(row, mul(4, j))))
                e := add(e, mul(mload(add(pe, mul(32, j))), v))
                o := add(o, mul(mload(add(po, mul(32, j))), v))
            }
            let m := 0xffffffffffffffffffffffffffffffff
            r := or(mod(and(e, m), P), shl(64, mod(and(o, m), P)))
            r := or(r, or(shl(128, mod(shr(128, e), P)), shl(192, mod(shr(128, o), P))))
        }
    }

    // --- FRI --------------------------------------------------------------------------------

    function _layerLogSize(Session memory s, uint256 k) internal pure returns (uint256 size) {
        size = s.logMax;
        for (uint256 i = 0; i < k; i++) {
            size -= s.arities[i];
        }
    }

    /// @notice The point of every query in FRI layer k (k = number of layers: the final
    /// domain), and its inverse: shift_k * omega^rev(position).
    function _pointsAt(Session memory s, Queries memory q, uint256 k) private pure {
        uint256 logSize = _layerLogSize(s, k);
        uint256 m = s.logMax - logSize;
        uint256 shift = Domain.powTwo(Domain.GENERATOR, m);
        uint256 shiftInv = Domain.powTwo(Domain.GENERATOR_INV, m);
        uint256 omega = Domain.generator(logSize);
        uint256 omegaInv = Domain.pow(omega, (1 << logSize) - 1);
        for (uint256 i = 0; i < q.index.length; i++) {
            uint256 r = Domain.rev(q.index[i] >> m, logSize);
            q.xs[i] = mulmod(shift, Domain.pow(omega, r), P);
            q.xInvs[i] = mulmod(shiftInv, Domain.pow(omegaInv, r), P);
        }
        q.layer = k;
    }

    /// @notice ro(x) of class `cls` for every query, where x is the query's point in the
    /// class's own LDE coset g * K (the FRI layer of that size sits on another coset:
    /// x = x_layer * g^(1 - 2^m)): (S(x) - S(zeta)) / (x - zeta) + alpha (T(x) - T(zeta omega))
    /// / (x - zeta omega), with the 2 n inverses batched.
    function _reducedOpenings(VerifyingKey memory vk, Session memory s, Queries memory q, uint256 cls)
        private
        pure
        returns (uint256[] memory ro)
    {
        uint256[] memory inverses = _denominators(vk, s, q, cls);
        _batchInverse(inverses);
        uint256 nq = q.index.length;
        ro = new uint256[](nq);
        uint256[2] memory sums = [s.classSums[2 * cls], s.classSums[2 * cls + 1]];
        uint256[] memory acc = s.acc;
        uint256 base = 2 * cls * nq;
        for (uint256 i = 0; i < nq; i++) {
            uint256 first = acc[base + 2 * i].sub(sums[0]).mul(inverses[2 * i]);
            uint256 second = acc[base + 2 * i + 1].sub(sums[1]).mul(inverses[2 * i + 1]);
            ro[i] = first.add(s.alphaFri.mul(second));
        }
    }

    /// @notice x - zeta and x - zeta omega for every query, x in the class's coset.
    function _denominators(VerifyingKey memory vk, Session memory s, Queries memory q, uint256 cls)
        private
        pure
        returns (uint256[] memory dens)
    {
        uint256 nq = q.index.length;
        uint256 size = s.classLogSizes[cls];
        uint256 factor = mulmod(Domain.GENERATOR, Domain.powTwo(Domain.GENERATOR_INV, s.logMax - size), P);
        uint256 zetaNext = s.zeta.scale(Domain.generator(size - vk.logBlowup));
        dens = new uint256[](2 * nq);
        for (uint256 i = 0; i < nq; i++) {
            uint256 x = mulmod(q.xs[i], factor, P);
            dens[2 * i] = x.sub(s.zeta);
            dens[2 * i + 1] = x.sub(zetaNext);
        }
    }

    /// @notice Invert every (non-zero) element in place with one inversion.
    function _batchInverse(uint256[] memory v) private pure {
        uint256 n = v.length;
        uint256[] memory prefix = new uint256[](n);
        uint256 acc = 1;
        for (uint256 i = 0; i < n; i++) {
            prefix[i] = acc;
            acc = acc.mul(v[i]);
        }
        acc = acc.inv();
        for (uint256 i = n; i > 0; i--) {
            uint256 inverse = acc.mul(prefix[i - 1]);
            acc = acc.mul(v[i - 1]);
            v[i - 1] = inverse;
        }
    }

    function _friCountSection(VerifyingKey memory vk, Session memory s, Queries memory q, bytes calldata sec)
        private
        pure
    {
        uint256 n = _u(_cd(sec), 1);
        if (n != s.arities.length) StarkErrors.shape();
        s.friOpenings = n;
        _pointsAt(s, q, 0);
        s.values = _reducedOpenings(vk, s, q, 0);
        if (n == 0) _finalCheck(s, q);
    }

    function _friLayerSection(VerifyingKey memory vk, Session memory s, Queries memory q, uint256 k, bytes calldata sec)
        private
        pure
    {
        if (q.layer != k) _pointsAt(s, q, k);
        (uint256 leaves, uint256[] memory posOf) = _verifyLayerOpening(s, q, k, sec);
        _foldLayer(s, q, k, leaves, posOf);
        uint256 a = s.arities[k];
        uint256 logSize = _layerLogSize(s, k) - a;
        for (uint256 cls = 1; cls < s.classLogSizes.length; cls++) {
            if (s.classLogSizes[cls] == logSize) _rollIn(vk, s, q, cls, s.betas[k], a);
        }
        if (k + 1 == s.arities.length) _finalCheck(s, q);
    }

    /// @notice Shape and Merkle check of FRI layer k's opened leaves; returns where the leaves
    /// start and each query's leaf position.
    function _verifyLayerOpening(Session memory s, Queries memory q, uint256 k, bytes calldata sec)
        private
        pure
        returns (uint256 leaves, uint256[] memory posOf)
    {
        uint256 a = s.arities[k];
        uint256 logSize = _layerLogSize(s, k);
        uint256[] memory distinct;
        (distinct, posOf) = _distinct(q, s.logMax - logSize + a);
        uint256 at = _cd(sec);
        if (_u(at, 2) != distinct.length || _u(at + 2, 2) != 1 << a) StarkErrors.shape();
        leaves = at + 4;
        uint256 leafBytes = 16 << a;
        uint256[] memory digests = new uint256[](distinct.length);
        for (uint256 i = 0; i < distinct.length; i++) {
            uint256 leaf = leaves + i * leafBytes;
            uint256 d;
            assembly ("memory-safe") {
                let buf := mload(0x40)
                calldatacopy(buf, leaf, leafBytes)
                d := keccak256(buf, leafBytes)
            }
            digests[i] = d;
        }
        uint256 sib = leaves + distinct.length * leafBytes;
        uint256[] memory none = new uint256[](logSize - a + 1);
        MerkleMultiProof.climb(s.friRoots[k], logSize - a, distinct, digests, none, none, sib + 4, _u(sib, 4));
    }

    /// @notice A shorter table's reduced opening joins the folded values: += beta^(2^a) ro.
    function _rollIn(VerifyingKey memory vk, Session memory s, Queries memory q, uint256 cls, uint256 beta, uint256 a)
        private
        pure
    {
        uint256[] memory ro = _reducedOpenings(vk, s, q, cls);
        uint256 roll = beta;
        for (uint256 i = 0; i < a; i++) {
            roll = roll.square();
        }
        for (uint256 i = 0; i < ro.length; i++) {
            s.values[i] = s.values[i].add(roll.mul(ro[i]));
        }
    }

    /// @notice Check each query's value against its leaf, then fold the leaf (fri.fold_leaf):
    /// a binary folds f'(x^2) = (f(x) + f(-x))/2 + beta (f(x) - f(-x))/(2x), beta squaring.
    function _foldLayer(Session memory s, Queries memory q, uint256 k, uint256 leaves, uint256[] memory posOf)
        private
        pure
    {
        Fold memory f;
        f.a = s.arities[k];
        f.shift = s.logMax - _layerLogSize(s, k);
        f.beta = s.betas[k];
        (f.roots, f.twiddles) = _foldTables(f.a);
        f.cur = new uint256[](1 << f.a);
        for (uint256 i = 0; i < q.index.length; i++) {
            _foldQuery(s, q, f, i, leaves + posOf[i] * (16 << f.a));
        }
        q.layer = k + 1;
    }

    struct Fold {
        uint256 a;
        uint256 shift;
        uint256 beta;
        uint256[] roots;
        uint256[] twiddles;
        uint256[] cur;
    }

    function _foldQuery(Session memory s, Queries memory q, Fold memory f, uint256 i, uint256 leaf) private pure {
        uint256 a = f.a;
        uint256 t = (q.index[i] >> f.shift) & ((1 << a) - 1);
        for (uint256 j = 0; j < 1 << a; j++) {
            f.cur[j] = BabyBear4.loadCalldata(leaf + 16 * j);
        }
        if (f.cur[t] != s.values[i]) _fail(s, i, FAIL_FOLD);
        // the leaf's coset is y * <omega_a>, and the query's point is y omega_a^rev(t)
        uint256 yInv = mulmod(q.xInvs[i], f.roots[2 * t], P);
        q.xs[i] = Domain.powTwo(mulmod(q.xs[i], f.roots[2 * t + 1], P), a);
        q.xInvs[i] = Domain.powTwo(yInv, a);
        s.values[i] = _foldLeaf(f.cur, a, yInv, f.beta, f.twiddles);
    }

    /// @notice omega_a^rev(t, a) and its inverse at 2t, 2t + 1 for each position t of a leaf;
    /// for each binary step over a coset of 2^c points, omega_c^-rev(t, c - 1) at
    /// (2^(c-1) - 1) + t.
    function _foldTables(uint256 a) private pure returns (uint256[] memory roots, uint256[] memory twiddles) {
        roots = new uint256[](2 << a);
        for (uint256 t = 0; t < 1 << a; t++) {
            uint256 r = Domain.rev(t, a);
            roots[2 * t] = Domain.pow(Domain.generator(a), r);
            roots[2 * t + 1] = Domain.pow(Domain.generator(a), ((1 << a) - r) & ((1 << a) - 1));
        }
        twiddles = new uint256[](1 << a);
        for (uint256 c = 1; c <= a; c++) {
            for (uint256 t = 0; t < 1 << (c - 1); t++) {
                uint256 e = ((1 << c) - Domain.rev(t, c - 1)) & ((1 << c) - 1);
                twiddles[(1 << (c - 1)) - 1 + t] = Domain.pow(Domain.generator(c), e);
            }
        }
    }

    function _foldLeaf(uint256[] memory cur, uint256 a, uint256 yInv, uint256 beta, uint256[] memory twiddles)
        private
        pure
        returns (uint256)
    {
        uint256 betaPow = beta;
        for (uint256 c = a; c > 0; c--) {
            uint256 half = 1 << (c - 1);
            for (uint256 t = 0; t < half; t++) {
                uint256 xInv = mulmod(yInv, twiddles[half - 1 + t], P);
                uint256 lo = cur[2 * t];
                uint256 hi = cur[2 * t + 1];
                uint256 even = lo.add(hi).scale(BabyBear4.INV_TWO);
                uint256 odd = lo.sub(hi).scale(mulmod(BabyBear4.INV_TWO, xInv, P));
                cur[t] = even.add(betaPow.mul(odd));
            }
            yInv = mulmod(yInv, yInv, P);
            betaPow = betaPow.square();
        }
        return cur[0];
    }

    /// @notice The last fold must equal the final polynomial at the query's final point.
    function _finalCheck(Session memory s, Queries memory q) private pure {
        if (q.layer != s.arities.length) _pointsAt(s, q, s.arities.length);
        for (uint256 i = 0; i < q.index.length; i++) {
            uint256 x = q.xs[i];
            uint256 expected = 0;
            for (uint256 c = s.finalPoly.length; c > 0; c--) {
                expected = expected.scale(x).add(s.finalPoly[c - 1]);
            }
            if (s.values[i] != expected) _fail(s, i, FAIL_FINAL);
        }
    }
}
