// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IAccountProofVerifier} from "./IBatchVerifier.sol";
import {Poseidon2} from "./Poseidon2.sol";

/// @title An account's membership in the Poseidon2 state tree (docs/state.md), for escape mode.
/// @notice The leaf is rebuilt from the account's fields (header of 120 bytes packed in four
/// 30-byte blocks of eight 30-bit limbs, then the data hash), and its 32-level path is walked
/// to the root; digests are 8 × u32 little-endian as bytes32. `proof` is abi.encode(index,
/// next key, owner, rent epoch, data length, executable, data hash, siblings[32]).
/// Only a plain system account — owned by the System Program, without data — may escape:
/// exactly the accounts whose key alone moves their lamports on L2 (a system transfer refuses
/// a source with data, e.g. a nonce account run by its authority; a program's accounts move
/// only as the program decides). The rollup checks the key's signature (HeliostatRollup).
contract StateTreeAccountVerifier is IAccountProofVerifier {
    uint256 internal constant DEPTH = 32;
    uint256 internal constant MASK30 = (1 << 30) - 1;
    bytes32 internal constant SYSTEM_PROGRAM = bytes32(0); // 11111111111111111111111111111111

    struct Leaf {
        uint64 index;
        bytes32 nextKey;
        bytes32 owner;
        uint64 rentEpoch;
        uint32 dataLength;
        bool executable;
        bytes32 dataHash;
        bytes32[32] siblings;
    }

    function verifyAccount(bytes32 root, bytes32 account, uint64 lamports, bytes calldata proof)
        external
        pure
        returns (bool)
    {
        Leaf memory leaf = abi.decode(proof, (Leaf));
        require(leaf.owner == SYSTEM_PROGRAM, "escape needs a system-owned account");
        require(leaf.dataLength == 0, "escape needs an account without data");
        return rootOf(account, lamports, leaf) == root;
    }

    /// @notice The root that `leaf` (holding `account` with `lamports`) and its path imply.
    function rootOf(bytes32 account, uint64 lamports, Leaf memory leaf) public pure returns (bytes32) {
        bytes memory header = abi.encodePacked(
            account,
            leaf.nextKey,
            leaf.owner,
            _le(lamports, 8),
            _le(leaf.rentEpoch, 8),
            _le(leaf.dataLength, 4),
            leaf.executable ? bytes1(0x01) : bytes1(0x00),
            bytes1(0x01), // leaf version
            bytes2(0)
        );
        uint256[8] memory h = Poseidon2.compress(_pack30(header, 0), _pack30(header, 1));
        h = Poseidon2.compress(h, _pack30(header, 2));
        h = Poseidon2.compress(h, _pack30(header, 3));
        h = Poseidon2.compress(h, digestOf(leaf.dataHash));
        uint256 index = leaf.index;
        for (uint256 level = 0; level < DEPTH; level++) {
            uint256[8] memory sibling = digestOf(leaf.siblings[level]);
            h = index & 1 == 1 ? Poseidon2.compress(sibling, h) : Poseidon2.compress(h, sibling);
            index >>= 1;
        }
        return bytesOf(h);
    }

    /// @notice 8 × u32 little-endian bytes → 8 field elements.
    function digestOf(bytes32 b) public pure returns (uint256[8] memory d) {
        for (uint256 i = 0; i < 8; i++) {
            uint256 word = uint32(bytes4(b << (32 * i)));
            d[i] = (word >> 24) | ((word >> 8) & 0xff00) | ((word << 8) & 0xff0000) | ((word & 0xff) << 24);
        }
    }

    function bytesOf(uint256[8] memory d) public pure returns (bytes32 b) {
        for (uint256 i = 0; i < 8; i++) {
            uint256 v = d[i];
            uint256 le = (v >> 24) | ((v >> 8) & 0xff00) | ((v << 8) & 0xff0000) | ((v & 0xff) << 24);
            b |= bytes32(le << (224 - 32 * i));
        }
    }

    /// @dev Block k (30 bytes) of the header as a 240-bit little-endian integer, in 30-bit limbs.
    function _pack30(bytes memory header, uint256 k) private pure returns (uint256[8] memory limbs) {
        uint256 x = 0;
        for (uint256 i = 0; i < 30; i++) {
            x |= uint256(uint8(header[30 * k + i])) << (8 * i);
        }
        for (uint256 j = 0; j < 8; j++) {
            limbs[j] = (x >> (30 * j)) & MASK30;
        }
    }

    function _le(uint256 v, uint256 n) private pure returns (bytes memory out) {
        out = new bytes(n);
        for (uint256 i = 0; i < n; i++) {
            out[i] = bytes1(uint8(v >> (8 * i)));
        }
    }
}
