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

/// @title A batch is proven when the STARK verifier has recorded a proof (in one transaction
/// or several) whose public values are the output hash as sixteen 16-bit limbs, most
/// significant first: the limbs are canonical BabyBear elements.
contract StarkBatchVerifier is IBatchVerifier {
    IStarkFacts public immutable STARK;

    constructor(IStarkFacts stark) {
        STARK = stark;
    }

    /// @notice The public values a batch proof must carry for `outputHash`.
    function publicsOf(bytes32 outputHash) public pure returns (uint256[] memory publics) {
        publics = new uint256[](16);
        for (uint256 i = 0; i < 16; i++) {
            publics[i] = uint16(uint256(outputHash) >> (240 - 16 * i));
        }
    }

    function verifyBatch(bytes32 outputHash, bytes calldata) external view returns (bool) {
        return STARK.verified(keccak256(abi.encodePacked(publicsOf(outputHash))));
    }
}
