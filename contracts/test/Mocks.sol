// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IAccountProofVerifier, IBatchVerifier} from "../src/rollup/IBatchVerifier.sol";
import {Poseidon2} from "../src/rollup/Poseidon2.sol";

/// @notice Accepts exactly the output hashes it was told are proven.
contract MockBatchVerifier is IBatchVerifier {
    mapping(bytes32 => bool) public proven;

    function setProven(bytes32 outputHash) external {
        proven[outputHash] = true;
    }

    function verifyBatch(bytes32 outputHash, bytes calldata) external view returns (bool) {
        return proven[outputHash];
    }
}

/// @notice Accepts an account proof equal to keccak256(root, account, lamports) (a stand-in
/// for the Poseidon2 tree proof).
contract MockAccountVerifier is IAccountProofVerifier {
    function verifyAccount(bytes32 root, bytes32 account, uint64 lamports, bytes calldata proof)
        external
        pure
        returns (bool)
    {
        return proof.length == 32 && bytes32(proof) == keccak256(abi.encode(root, account, lamports));
    }
}

contract Recipient {
    receive() external payable {}
}

/// @notice Exposes the generated Poseidon2 permutation for differential tests.
contract Poseidon2Harness {
    function permute(uint256[16] memory state) external pure returns (uint256[16] memory) {
        Poseidon2.permute(state);
        return state;
    }
}
