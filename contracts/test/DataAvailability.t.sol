// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {HeliostatRollup} from "../src/rollup/HeliostatRollup.sol";
import {MockAccountVerifier, MockBatchVerifier} from "./Mocks.sol";
import {Vm} from "./Vm.sol";

/// @notice Chunked data availability (postDiffChunk, then commitBatch naming the chunks) and the
/// kernel's switches and parameters in the output head.
contract DataAvailabilityTest {
    Vm internal constant vm = Vm(address(uint160(uint256(keccak256("hevm cheat code")))));
    bytes32 internal constant GENESIS = bytes32(uint256(0x6e6e));
    address internal constant SEQUENCER = address(0x5e9);
    address internal constant OPERATOR = address(0x0be);

    HeliostatRollup internal rollup;
    MockBatchVerifier internal verifier;
    HeliostatRollup.StoredBatch internal genesis;

    function setUp() public {
        vm.warp(1_700_000_000);
        verifier = new MockBatchVerifier();
        rollup = new HeliostatRollup(verifier, new MockAccountVerifier(), GENESIS, 3600);
        rollup.setSequencer(SEQUENCER, true);
        rollup.setOperator(OPERATOR, true);
        genesis = HeliostatRollup.StoredBatch(0, GENESIS, 0, 0, bytes32(0), bytes32(0));
    }

    // --- helpers ------------------------------------------------------------------------------

    /// A diff of `length` bytes, every byte depending on `seed` and its position.
    function _diff(uint256 length, uint8 seed) internal pure returns (bytes memory d) {
        d = new bytes(length);
        for (uint256 i = 0; i < length; i++) {
            d[i] = bytes1(uint8(i * 31 + seed));
        }
    }

    function _slice(bytes memory d, uint256 from, uint256 to) internal pure returns (bytes memory s) {
        s = new bytes(to - from);
        for (uint256 i = from; i < to; i++) {
            s[i - from] = d[i];
        }
    }

    function _chunks(bytes memory d) internal view returns (bytes[] memory cs) {
        uint256 size = rollup.DIFF_CHUNK_BYTES();
        cs = new bytes[]((d.length + size - 1) / size);
        for (uint256 i = 0; i < cs.length; i++) {
            uint256 end = (i + 1) * size < d.length ? (i + 1) * size : d.length;
            cs[i] = _slice(d, i * size, end);
        }
    }

    function _hashes(bytes[] memory cs) internal pure returns (bytes32[] memory hs) {
        hs = new bytes32[](cs.length);
        for (uint256 i = 0; i < cs.length; i++) {
            hs[i] = keccak256(cs[i]);
        }
    }

    function _input() internal view returns (HeliostatRollup.CommitInput memory b) {
        b.number = 1;
        b.timestamp = uint64(block.timestamp);
        b.newRoot = keccak256("root");
        b.priorityHash = rollup.priorityHashOf(0, 0);
        b.withdrawals = new HeliostatRollup.Withdrawal[](0);
        b.kernelFlags = rollup.KERNEL_FLAG_VERIFY_SIGNATURES() | rollup.KERNEL_FLAG_STATE_TREE();
    }

    function _post(uint64 number, uint64 index, bytes memory chunk) internal {
        vm.prank(SEQUENCER);
        rollup.postDiffChunk(number, index, chunk);
    }

    function _postAll(bytes[] memory cs) internal {
        for (uint256 i = 0; i < cs.length; i++) {
            _post(1, uint64(i), cs[i]);
        }
    }

    function _commit(HeliostatRollup.CommitInput memory b) internal returns (HeliostatRollup.StoredBatch memory) {
        vm.prank(SEQUENCER);
        return rollup.commitBatch(genesis, b);
    }

    function _expectCommitRevert(HeliostatRollup.CommitInput memory b, string memory why) internal {
        vm.prank(SEQUENCER);
        vm.expectRevert(bytes(why));
        rollup.commitBatch(genesis, b);
    }

    // --- chunked commit -----------------------------------------------------------------------

    function test_chunked_batch_commits_proves_and_executes() public {
        bytes[] memory cs = _chunks(_diff(2 * rollup.DIFF_CHUNK_BYTES() + 1000, 7));
        require(cs.length == 3, "three chunks");
        _postAll(cs);
        HeliostatRollup.CommitInput memory b = _input();
        b.diffChunks = _hashes(cs);
        HeliostatRollup.StoredBatch memory s = _commit(b);
        bytes memory head = rollup.publicOutput(GENESIS, b);
        require(s.outputHash == keccak256(head), "output hash is keccak256 of the head");
        verifier.setProven(s.outputHash);
        vm.prank(OPERATOR);
        rollup.proveBatch(s, "proof");
        vm.prank(OPERATOR);
        rollup.executeBatch(s);
        require(rollup.totalExecuted() == 1, "executed");
    }

    function test_inline_and_chunked_diffs_hash_alike() public {
        bytes memory d = _diff(rollup.DIFF_CHUNK_BYTES() + 100, 3);
        bytes[] memory cs = _chunks(d);
        HeliostatRollup.CommitInput memory inlined = _input();
        inlined.stateDiff = d;
        bytes32 expected = keccak256(abi.encodePacked(keccak256(cs[0]), keccak256(cs[1])));
        require(rollup.stateDiffHash(inlined) == expected, "inline: hash of the chunk hashes");
        _postAll(cs);
        HeliostatRollup.CommitInput memory chunked = _input();
        chunked.diffChunks = _hashes(cs);
        require(rollup.stateDiffHash(chunked) == expected, "chunked: the same hash");
        require(keccak256(rollup.publicOutput(GENESIS, inlined)) == _commit(chunked).outputHash, "same output");
    }

    function test_small_inline_diff_hash_is_the_hash_of_its_one_chunk_hash() public view {
        HeliostatRollup.CommitInput memory b = _input();
        b.stateDiff = "diff";
        require(rollup.stateDiffHash(b) == keccak256(abi.encodePacked(keccak256("diff"))), "one chunk");
    }

    function test_chunk_posted_by_a_non_sequencer_is_refused() public {
        vm.prank(OPERATOR);
        vm.expectRevert(bytes("caller is not a sequencer"));
        rollup.postDiffChunk(1, 0, "chunk");
    }

    function test_commit_before_all_chunks_are_posted_is_refused() public {
        bytes[] memory cs = _chunks(_diff(2 * rollup.DIFF_CHUNK_BYTES(), 1));
        _post(1, 0, cs[0]);
        HeliostatRollup.CommitInput memory b = _input();
        b.diffChunks = _hashes(cs);
        _expectCommitRevert(b, "diff chunk missing");
        _post(1, 1, cs[1]); // once posted, the same commit goes through
        _commit(b);
    }

    function test_a_missing_middle_chunk_is_refused() public {
        bytes[] memory cs = _chunks(_diff(2 * rollup.DIFF_CHUNK_BYTES() + 1, 2));
        _post(1, 0, cs[0]);
        _post(1, 2, cs[2]);
        HeliostatRollup.CommitInput memory b = _input();
        b.diffChunks = _hashes(cs);
        _expectCommitRevert(b, "diff chunk missing");
    }

    function test_a_wrong_chunk_is_refused() public {
        bytes[] memory cs = _chunks(_diff(rollup.DIFF_CHUNK_BYTES() + 10, 4));
        _post(1, 0, cs[0]);
        _post(1, 1, "not the diff's second chunk");
        HeliostatRollup.CommitInput memory b = _input();
        b.diffChunks = _hashes(cs);
        _expectCommitRevert(b, "wrong diff chunk");
    }

    function test_a_reposted_chunk_replaces_the_first_until_the_commit_then_is_refused() public {
        _post(1, 0, "first bytes");
        _post(1, 0, "other bytes");
        require(rollup.diffChunkHash(1, 0) == keccak256("other bytes"), "replaced");
        HeliostatRollup.CommitInput memory b = _input();
        b.diffChunks = new bytes32[](1);
        b.diffChunks[0] = keccak256("first bytes");
        _expectCommitRevert(b, "wrong diff chunk");
        b.diffChunks[0] = keccak256("other bytes");
        _commit(b);
        vm.prank(SEQUENCER);
        vm.expectRevert(bytes("batch already committed"));
        rollup.postDiffChunk(1, 0, "third bytes");
        require(rollup.diffChunkHash(1, 0) == keccak256("other bytes"), "committed chunk fixed");
    }

    function test_chunk_sizes_are_bounded() public {
        vm.prank(SEQUENCER);
        vm.expectRevert(bytes("diff chunk size"));
        rollup.postDiffChunk(1, 0, "");
        bytes memory big = new bytes(rollup.DIFF_CHUNK_BYTES() + 1);
        vm.prank(SEQUENCER);
        vm.expectRevert(bytes("diff chunk size"));
        rollup.postDiffChunk(1, 0, big);
    }

    function test_diff_both_inline_and_chunked_or_absent_is_refused() public {
        _post(1, 0, "chunk");
        HeliostatRollup.CommitInput memory b = _input();
        _expectCommitRevert(b, "no state diff");
        b.stateDiff = "chunk";
        b.diffChunks = new bytes32[](1);
        b.diffChunks[0] = keccak256("chunk");
        _expectCommitRevert(b, "state diff both inline and in chunks");
    }

    // --- the kernel's switches and parameters ------------------------------------------------

    function test_an_output_with_signature_checks_off_is_refused() public {
        HeliostatRollup.CommitInput memory b = _input();
        b.stateDiff = "diff";
        b.kernelFlags = rollup.KERNEL_FLAG_STATE_TREE();
        _expectCommitRevert(b, "signature checks off");
        b.kernelFlags = rollup.KERNEL_FLAG_VERIFY_SIGNATURES() | 4;
        _expectCommitRevert(b, "state tree off");
        b.kernelFlags = rollup.KERNEL_FLAG_VERIFY_SIGNATURES() | rollup.KERNEL_FLAG_STATE_TREE() | 4;
        _expectCommitRevert(b, "unknown kernel flags");
    }

    function test_an_output_run_without_the_state_tree_is_refused() public {
        HeliostatRollup.CommitInput memory b = _input();
        b.stateDiff = "diff";
        b.kernelFlags = rollup.KERNEL_FLAG_VERIFY_SIGNATURES();
        _expectCommitRevert(b, "state tree off");
    }

    function test_output_head_ends_with_flags_parameters_and_diff_hash() public view {
        HeliostatRollup.CommitInput memory b = _input();
        b.stateDiff = "diff";
        bytes memory head = rollup.publicOutput(GENESIS, b);
        require(head.length == 8 + 8 + 32 * 3 + 8 + 8 + 8 + 32 + 32, "head length");
        bytes memory tail = _slice(head, head.length - 72, head.length);
        bytes memory expected = abi.encodePacked(
            bytes8(0x0300000000000000), // flags 3, little-endian
            rollup.RUNTIME_PARAMS_HASH(),
            keccak256(abi.encodePacked(keccak256("diff")))
        );
        require(keccak256(tail) == keccak256(expected), "tail");
        require(bytes8(head[0]) | (bytes8(head[1]) >> 8) == bytes8("HL"), "magic");
    }
}
