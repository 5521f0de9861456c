// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @notice What the rollup asks of a proof system: is the batch whose public output hashes to
/// `outputHash` proven? The rollup derives `outputHash` from what was committed.
interface IBatchVerifier {
    function verifyBatch(bytes32 outputHash, bytes calldata proof) external view returns (bool);
}

/// @notice What escape mode asks of the state tree: does `root` hold `account` with
/// `lamports`, and may that account escape? (The Poseidon2 account-tree proof of
/// docs/state.md; the owner's signature is checked by the rollup.)
interface IAccountProofVerifier {
    function verifyAccount(bytes32 root, bytes32 account, uint64 lamports, bytes calldata proof)
        external
        view
        returns (bool);
}

/// @notice The facts a generated STARK verifier records (StarkVerifier.verified).
interface IStarkFacts {
    function verified(bytes32 statement) external view returns (bool);
}
