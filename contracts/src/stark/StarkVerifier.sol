// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ProofFormat} from "./ProofFormat.sol";
import {ProofRejected, StarkErrors} from "./StarkErrors.sol";
import {IStarkQueryPhase, IStarkStatementPhase} from "./StarkPhases.sol";
import {StarkClear} from "./StarkClear.sol";
import {Session, TableShape, VerifyingKey} from "./StarkTypes.sol";

/// @title On-chain verification of Heliostat STARK proofs, in one transaction or several.
/// @notice A generated subclass (heliostat.settlement.verifier_gen) supplies the machine: its
/// verifying key and the contracts that evaluate its constraints. Proofs travel as calldata in
/// their own byte encoding (heliostat.stark.proof). A proof that fits one transaction goes
/// through `verifyAndRecord`; a larger one is cut at section boundaries: `beginVerification`
/// takes the header section, each `continueVerification` takes the next whole sections and
/// the session state the previous step emitted (its hash is kept in storage), and the last
/// one records the statement as verified. `verified(statementOf(publics))` is the fact other
/// contracts read.
abstract contract StarkVerifier is StarkClear {
    /// @notice The shared query-phase contract.
    IStarkQueryPhase public immutable QUERY_PHASE;
    /// @notice The shared statement-phase contract.
    IStarkStatementPhase public immutable STATEMENT_PHASE;

    /// @notice Statements (keccak256 of the public values) whose proof has been verified.
    mapping(bytes32 => bool) public verified;
    /// @notice Open multi-transaction sessions: id => keccak256 of the encoded session state.
    mapping(bytes32 => bytes32) public sessions;

    event ProofVerified(bytes32 indexed statement);
    event SessionAdvanced(bytes32 indexed id, uint256 nextSection, bytes state);

    constructor(IStarkQueryPhase queryPhase, IStarkStatementPhase statementPhase) {
        QUERY_PHASE = queryPhase;
        STATEMENT_PHASE = statementPhase;
    }

    /// @notice The statement a proof for `publics` certifies.
    function statementOf(uint256[] calldata publics) external pure returns (bytes32) {
        return keccak256(abi.encodePacked(publics));
    }

    /// @notice Verify a whole proof; revert with ProofRejected(check, reason) if it fails.
    /// Checks run in the order of heliostat.stark.verifier.verify, so both name the same
    /// failure.
    function verifyProof(bytes calldata proof, uint256[] calldata publics) public view returns (bytes32) {
        VerifyingKey memory vk = _verifyingKey();
        (uint256[] memory starts, uint256 count,) = ProofFormat.walk(proof, ProofFormat.SECTION_HEADER, 0, true);
        _checkOpeningPresence(vk, proof, starts);
        Session memory s = STATEMENT_PHASE.run(vk, proof[starts[0]:starts[1]], publics, _evaluators());
        _initQueryPhase(vk, s);
        s = _sections(vk, s, proof, starts, 1, count);
        _finish(s);
        return s.statement;
    }

    /// @notice Verify a whole proof and record its statement.
    function verifyAndRecord(bytes calldata proof, uint256[] calldata publics) external returns (bytes32 statement) {
        statement = verifyProof(proof, publics);
        verified[statement] = true;
        emit ProofVerified(statement);
    }

    /// @notice Start a multi-transaction verification with the proof's first sections (the
    /// header and possibly more). Returns the session id; the state to continue from is in
    /// the SessionAdvanced event.
    function beginVerification(bytes calldata sections, uint256[] calldata publics) external returns (bytes32 id) {
        VerifyingKey memory vk = _verifyingKey();
        (uint256[] memory starts, uint256 count,) = ProofFormat.walk(sections, ProofFormat.SECTION_HEADER, 0, false);
        Session memory s = STATEMENT_PHASE.run(vk, sections[starts[0]:starts[1]], publics, _evaluators());
        _initQueryPhase(vk, s);
        id = keccak256(abi.encode(msg.sender, keccak256(sections[starts[0]:starts[1]]), s.statement));
        _advance(id, vk, s, sections, starts, 1, count);
    }

    /// @notice Feed the next whole sections of the proof; `state` is what the previous step
    /// emitted. Returns true (and records the statement) once the last section is checked.
    function continueVerification(bytes32 id, bytes calldata state, bytes calldata sections)
        external
        returns (bool done)
    {
        bytes32 stored = sessions[id];
        if (stored == 0 || keccak256(state) != stored) StarkErrors.reject("session", "unknown_state");
        Session memory s = abi.decode(state, (Session));
        VerifyingKey memory vk = _verifyingKey();
        (uint256[] memory starts, uint256 count,) = ProofFormat.walk(sections, s.nextSection, s.friOpenings, false);
        return _advance(id, vk, s, sections, starts, 0, count);
    }

    /// @notice Read sections, then either save the session or finish and record the proof.
    function _advance(
        bytes32 id,
        VerifyingKey memory vk,
        Session memory s,
        bytes calldata data,
        uint256[] memory starts,
        uint256 from,
        uint256 count
    ) private returns (bool done) {
        s = _sections(vk, s, data, starts, from, count);
        if (!_done(s)) {
            _save(id, s);
            return false;
        }
        _finish(s);
        delete sessions[id];
        verified[s.statement] = true;
        emit ProofVerified(s.statement);
        return true;
    }

    function _save(bytes32 id, Session memory s) private {
        bytes memory state = abi.encode(s);
        sessions[id] = keccak256(state);
        emit SessionAdvanced(id, s.nextSection, state);
    }

    function _initQueryPhase(VerifyingKey memory vk, Session memory s) private pure {
        s.nextSection = ProofFormat.SECTION_FIXED;
        s.acc = new uint256[](2 * s.classLogSizes.length * vk.numQueries);
        s.values = new uint256[](vk.numQueries);
    }

    function _sections(
        VerifyingKey memory vk,
        Session memory s,
        bytes calldata data,
        uint256[] memory starts,
        uint256 from,
        uint256 count
    ) private view returns (Session memory) {
        if (from >= count) return s;
        return QUERY_PHASE.run(vk, s, data, starts, from, count);
    }

    /// @notice The generated machine description.
    function _verifyingKey() internal pure virtual returns (VerifyingKey memory);

    /// @notice Unpack big-endian integers of `size` bytes each: the generator packs the key's
    /// arrays so that a large machine's key stays small as code.
    function _unpack(bytes memory packed, uint256 size) internal pure returns (uint256[] memory out) {
        uint256 n = packed.length / size;
        out = new uint256[](n);
        for (uint256 i = 0; i < n; i++) {
            uint256 word;
            assembly ("memory-safe") {
                word := mload(add(add(packed, 32), mul(i, size)))
            }
            out[i] = word >> (256 - 8 * size);
        }
    }

    /// @notice One table of the key from its packed parts (see verifier_gen.generator).
    function _shape(
        bytes memory scalars,
        bytes memory segments,
        bytes memory mainNext,
        bytes memory fixedNext,
        bytes memory permNext,
        bytes memory clearSegments,
        bytes memory clearFixed
    ) internal pure returns (TableShape memory t) {
        uint256[] memory v = _unpack(scalars, 4);
        t.mainWidth = v[0];
        t.fixedWidth = v[1];
        t.fixedLogHeight = v[2];
        t.permWidth = v[3];
        t.quotientChunks = v[4];
        t.numConstraints = v[5];
        t.slotWords = v[6];
        t.mayBeAbsent = v[7] != 0;
        t.clearSlotWords = v[8];
        t.segments = _segmentWords(segments);
        t.mainNext = _unpack(mainNext, 2);
        t.fixedNext = _unpack(fixedNext, 2);
        t.permNext = _unpack(permNext, 2);
        t.clearSegments = _segmentWords(clearSegments);
        t.clearFixed = _unpack(clearFixed, 4);
    }

    /// @notice Segment words (evaluator << 128 | segment id) from 2-byte pairs.
    function _segmentWords(bytes memory packed) internal pure returns (uint256[] memory out) {
        out = _unpack(packed, 4);
        for (uint256 i = 0; i < out.length; i++) {
            out[i] = ((out[i] >> 16) << 128) | (out[i] & 0xffff);
        }
    }

    /// @notice The generated evaluators' addresses, in order.
    function _evaluators() internal view virtual returns (address[] memory);

    /// @notice verifier._check_shape's opening-presence checks, which the Python verifier
    /// runs before anything else (the sections check them again when they are read).
    function _checkOpeningPresence(VerifyingKey memory vk, bytes calldata proof, uint256[] memory starts)
        private
        pure
    {
        bool permutation = _u(_cd(proof) + starts[ProofFormat.SECTION_PERMUTATION], 1) == 1;
        bool fixedColumns = _u(_cd(proof) + starts[ProofFormat.SECTION_FIXED], 1) == 1;
        uint256 tables = _u(_cd(proof) + 6, 1);
        if (tables != vk.tables.length) StarkErrors.shape();
        uint256[] memory heights = new uint256[](tables);
        for (uint256 t = 0; t < tables; t++) {
            heights[t] = _u(_cd(proof) + 7 + t, 1);
        }
        heights = _committedHeights(vk, heights);
        if (permutation != _withLogup(vk, heights) || fixedColumns != vk.hasFixed) StarkErrors.shape();
    }
}
