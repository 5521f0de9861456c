// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @notice One table of the machine, as the generator reads it from the compiled AIR.
struct TableShape {
    uint256 mainWidth; // base columns of the main trace
    uint256 fixedWidth; // fixed (preprocessed) columns, 0 if none
    uint256 fixedLogHeight; // log2 height of the fixed columns (0 if none)
    uint256 permWidth; // extension columns of the permutation trace (0 without interactions)
    uint256 quotientChunks; // max_degree - 1
    uint256 numConstraints; // outputs of the constraint program
    uint256 slotWords; // scratch words the generated evaluator needs after the environment
    uint256[] segments; // (evaluator index << 128 | segment id), run in order
    bool mayBeAbsent; // a proof may leave the table out (log height 0)
    uint256[] mainNext; // main columns opened at zeta * omega (read on the next row), ascending
    uint256[] fixedNext; // fixed columns opened at zeta * omega
    uint256[] permNext; // permutation base coordinates (4 e + k) opened at zeta * omega
    uint256[] clearSegments; // the row check when the table is sent in the clear (empty: never)
    uint256 clearSlotWords; // scratch words of the row check
    uint256[] clearFixed; // the fixed columns, row by row, of a table that may go in the clear
}

/// @notice What the verifier knows besides the proof: the compiled machine and the parameters.
struct VerifyingKey {
    bytes32 machineDigest; // CompiledMachine.digest
    bytes configBytes; // StarkConfig.to_bytes(): what the statement absorbs of the parameters
    uint256 logBlowup;
    uint256 powBits;
    uint256 maxLogArity;
    uint256 logFinalPolyLen;
    uint256 numQueries;
    uint256 maxClearLogHeight; // tables of at most 2^this rows without fixed columns go in the clear
    uint256 maxLogHeight;
    uint256 numPublics;
    bool usesLogup; // the machine has interactions (a proof has a LogUp round if a table
    // with interactions is present)
    bool hasFixed;
    bytes32 fixedRoot; // root of the fixed columns' tree (keys.verifying_key)
    TableShape[] tables;
    uint256 publicSlotWords; // scratch of the public-interaction program (0: none)
    uint256[] publicSegments; // empty when the machine has no public interactions
}

/// @notice The verifier's state between the steps of a proof, in memory and, when a proof is
/// verified over several transactions, hashed into storage between them (`abi.encode`).
/// Extension elements are packed words (BabyBear4).
struct Session {
    uint256 nextSection; // the next proof section to read (SECTION_* in StarkVerifier)
    uint256 friOpenings; // FRI layer openings announced by the proof (read with the count)
    bytes32 statement; // keccak256 of the public values: what a verified proof certifies
    uint256[] heights; // log2 heights of the tables
    bytes32[4] roots; // fixed, main, permutation, quotient (zero when absent)
    uint256 zeta;
    uint256 alphaFri;
    uint256 logMax; // log2 of the largest LDE = FRI layer 0
    uint256[] arities; // FRI log arities, one per committed layer
    bytes32[] friRoots;
    uint256[] betas;
    uint256[] finalPoly;
    bytes32 queryState; // the transcript state the query indices are sampled from
    uint256[] classLogSizes; // the LDE sizes (log2) that FRI takes inputs at, descending
    uint256[] classSums; // per class: S(zeta), T(zeta * omega)
    uint256[] acc; // per class, per query: running S(x), T(x) over the opened rows
    uint256[] values; // per query: the FRI value entering the next layer
    uint256 firstFailure; // (query + 1) << 8 | FAIL_*: the first failing query's first failure
}
