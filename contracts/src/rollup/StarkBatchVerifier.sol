// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IBatchVerifier, IStarkFacts} from "./IBatchVerifier.sol";

/// @title A batch is proven when the generated zkVM verifier has recorded a proof of the
/// runtime kernel's run whose statement shows the batch's output hash.
/// @notice The statement (the zkVM's public values, heliostat.zkvm.public_values) is built
/// here; the caller never supplies it. `_template` holds what every batch's statement says:
/// the kernel's code image (the rollup's state transition function), the proof's meter
/// budget, the initial registers, exit status EXITED, a read-only input, no further images,
/// and an output whose first 32 bytes are shown. Those 32 bytes are `outputHash` itself: the
/// kernel publishes keccak256 of its output's head first, and the rollup computes the same
/// hash from the committed batch. What only the proof fixes (the input's commitment and
/// length, the heap, where the run ended, its meter and r0, the output's commitment and
/// length) comes in `proof` as `Facts`, and the fields derived from them are derived here as
/// PublicValues.to_fields derives them.
contract StarkBatchVerifier is IBatchVerifier {
    uint256 internal constant P = 2013265921; // BabyBear
    uint256 internal constant MAX_CU = 1 << 30; // the verifier requires the final meter below
    uint256 internal constant MAX_OUTPUT = 1 << 19; // bytes
    uint256 internal constant PREFIX_BYTES = 32;

    /// @notice A batch proof's own values (heliostat.runtime.proving.InputFacts + the output's).
    struct Facts {
        uint32[8] inputHash;
        uint64 inputDepth;
        uint64 inputLen;
        uint64 heapSize;
        uint64 finalPc;
        uint64 cuFinal;
        uint64 r0;
        uint32[8] outputCommitment;
        uint64 outputDepth;
        uint64 outputLen;
    }

    /// @notice Where fields sit in the statement (heliostat.zkvm.public_values.FIELDS); runs
    /// of consecutive fields by their first position.
    struct Positions {
        uint16 inputHash; // 8
        uint16 inputDepth;
        uint16 heapSize;
        uint16 inputLast;
        uint16 inputTail;
        uint16 finalPc;
        uint16 cuFinal;
        uint16 r0; // 4 limbs
        uint16 outputHash; // 8
        uint16 outputDepth;
        uint16 outputLen; // 2 limbs
        uint16 outputLast;
        uint16 prefix; // 16 limbs
    }

    IStarkFacts public immutable STARK;
    uint256[] internal _template;
    Positions internal _at;

    constructor(IStarkFacts stark, uint256[] memory template, Positions memory at) {
        STARK = stark;
        _template = template;
        _at = at;
    }

    /// @notice The statement a proof of the batch whose output hashes to `outputHash` proves.
    function statementOf(bytes32 outputHash, Facts memory f) public view returns (uint256[] memory v) {
        require(f.cuFinal < MAX_CU, "final meter out of range");
        require(f.outputLen >= PREFIX_BYTES && f.outputLen <= MAX_OUTPUT, "output length out of range");
        Positions memory at = _at;
        v = _template;
        for (uint256 k = 0; k < 8; k++) {
            v[at.inputHash + k] = uint256(f.inputHash[k]) % P;
            v[at.outputHash + k] = uint256(f.outputCommitment[k]) % P;
        }
        v[at.inputDepth] = f.inputDepth % P;
        v[at.heapSize] = f.heapSize % P;
        // the last input word and its valid bytes (an empty input: word −1, 8 bytes)
        uint256 last = f.inputLen == 0 ? P - 1 : (uint256(f.inputLen) - 1) / 8;
        v[at.inputLast] = last;
        v[at.inputTail] = f.inputLen == 0 ? 8 : uint256(f.inputLen) - 8 * last;
        v[at.finalPc] = f.finalPc % P;
        v[at.cuFinal] = f.cuFinal;
        for (uint256 k = 0; k < 4; k++) {
            v[at.r0 + k] = (f.r0 >> (16 * k)) & 0xffff;
        }
        v[at.outputDepth] = f.outputDepth % P;
        v[at.outputLen] = f.outputLen & 0xffff;
        v[at.outputLen + 1] = f.outputLen >> 16;
        v[at.outputLast] = (uint256(f.outputLen) - 1) / 8;
        // the output's first 32 bytes as 16-bit little-endian limbs, in byte order
        for (uint256 j = 0; j < 16; j++) {
            v[at.prefix + j] = uint256(uint8(outputHash[2 * j])) | (uint256(uint8(outputHash[2 * j + 1])) << 8);
        }
    }

    function verifyBatch(bytes32 outputHash, bytes calldata proof) external view returns (bool) {
        if (proof.length != 24 * 32) return false; // abi.encode(Facts): 24 static words
        Facts memory f = abi.decode(proof, (Facts));
        if (f.cuFinal >= MAX_CU || f.outputLen < PREFIX_BYTES || f.outputLen > MAX_OUTPUT) return false;
        return STARK.verified(keccak256(abi.encodePacked(statementOf(outputHash, f))));
    }
}
