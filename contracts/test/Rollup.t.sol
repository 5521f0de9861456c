// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {HeliostatRollup} from "../src/rollup/HeliostatRollup.sol";
import {PriorityQueue} from "../src/rollup/PriorityQueue.sol";
import {MockAccountVerifier, MockBatchVerifier, Recipient} from "./Mocks.sol";
import {Vm} from "./Vm.sol";

contract RollupTest {
    Vm internal constant vm = Vm(address(uint160(uint256(keccak256("hevm cheat code")))));
    uint64 internal constant DEADLINE = 3600;
    bytes32 internal constant GENESIS = bytes32(uint256(0x6e6e));
    address internal constant SEQUENCER = address(0x5e9);
    address internal constant OPERATOR = address(0x0be);
    address internal constant USER = address(0x05e4);

    HeliostatRollup internal rollup;
    MockBatchVerifier internal verifier;
    HeliostatRollup.StoredBatch internal last;

    function setUp() public {
        vm.warp(1_700_000_000);
        verifier = new MockBatchVerifier();
        rollup = new HeliostatRollup(verifier, new MockAccountVerifier(), GENESIS, DEADLINE);
        rollup.setSequencer(SEQUENCER, true);
        rollup.setOperator(OPERATOR, true);
        last = HeliostatRollup.StoredBatch(0, GENESIS, 0, 0, bytes32(0), bytes32(0));
        vm.deal(USER, 100 ether);
    }

    // --- helpers ------------------------------------------------------------------------------

    function _input(uint64 number, uint64 ops, HeliostatRollup.Withdrawal[] memory ws)
        internal
        view
        returns (HeliostatRollup.CommitInput memory b)
    {
        b.number = number;
        b.timestamp = uint64(block.timestamp);
        b.newRoot = keccak256(abi.encode("root", number));
        b.priorityOps = ops;
        b.priorityHash = rollup.priorityHashOf(rollup.committedOps(), ops);
        b.withdrawals = ws;
        b.kernelFlags = rollup.KERNEL_FLAG_VERIFY_SIGNATURES() | rollup.KERNEL_FLAG_STATE_TREE();
        b.stateDiff = abi.encodePacked("diff", number);
    }

    function _noWithdrawals() internal pure returns (HeliostatRollup.Withdrawal[] memory) {
        return new HeliostatRollup.Withdrawal[](0);
    }

    function _commit(HeliostatRollup.CommitInput memory b) internal returns (HeliostatRollup.StoredBatch memory s) {
        vm.prank(SEQUENCER);
        s = rollup.commitBatch(last, b);
        last = s;
    }

    function _proveAndExecute(HeliostatRollup.StoredBatch memory s) internal {
        verifier.setProven(s.outputHash);
        vm.prank(OPERATOR);
        rollup.proveBatch(s, "proof");
        vm.prank(OPERATOR);
        rollup.executeBatch(s);
    }

    function _deposit(uint256 amount) internal returns (uint64 id) {
        vm.prank(USER);
        id = rollup.depositETH{value: amount}(bytes32(uint256(0xa11ce)));
    }

    function _eq(uint256 a, uint256 b, string memory what) internal pure {
        require(a == b, what);
    }

    // --- lifecycle ---------------------------------------------------------------------------

    function test_commit_prove_execute() public {
        _deposit(5 gwei);
        HeliostatRollup.StoredBatch memory s = _commit(_input(1, 1, _noWithdrawals()));
        _eq(rollup.totalCommitted(), 1, "committed");
        _proveAndExecute(s);
        _eq(rollup.totalExecuted(), 1, "executed");
        require(rollup.lastExecutedRoot() == s.newRoot, "root");
        _eq(rollup.executedOps(), 1, "ops consumed");
    }

    function test_out_of_order_batch_is_refused() public {
        HeliostatRollup.CommitInput memory b = _input(2, 0, _noWithdrawals());
        vm.prank(SEQUENCER);
        vm.expectRevert(bytes("batch number is not the next one"));
        rollup.commitBatch(last, b);
    }

    function test_duplicate_batch_is_refused() public {
        HeliostatRollup.CommitInput memory b = _input(1, 0, _noWithdrawals());
        HeliostatRollup.StoredBatch memory genesis = last;
        _commit(b);
        vm.prank(SEQUENCER);
        vm.expectRevert(bytes("batch number is not the next one"));
        rollup.commitBatch(genesis, b);
    }

    function test_wrong_previous_hash_is_refused() public {
        HeliostatRollup.StoredBatch memory forged = last;
        forged.newRoot = bytes32(uint256(1));
        HeliostatRollup.CommitInput memory b = _input(1, 0, _noWithdrawals());
        vm.prank(SEQUENCER);
        vm.expectRevert(bytes("wrong previous batch hash"));
        rollup.commitBatch(forged, b);
    }

    function test_wrong_priority_hash_is_refused() public {
        _deposit(1 gwei);
        HeliostatRollup.CommitInput memory b = _input(1, 1, _noWithdrawals());
        b.priorityHash = keccak256("not the queue");
        vm.prank(SEQUENCER);
        vm.expectRevert(bytes("wrong priority hash"));
        rollup.commitBatch(last, b);
    }

    function test_more_priority_operations_than_queued_is_refused() public {
        _deposit(1 gwei);
        HeliostatRollup.CommitInput memory b = _input(1, 1, _noWithdrawals());
        b.priorityOps = 2;
        vm.prank(SEQUENCER);
        vm.expectRevert(bytes("not enough priority operations queued"));
        rollup.commitBatch(last, b);
    }

    function test_timestamps_are_checked() public {
        HeliostatRollup.CommitInput memory b = _input(1, 0, _noWithdrawals());
        b.timestamp = uint64(block.timestamp + 2 hours);
        vm.prank(SEQUENCER);
        vm.expectRevert(bytes("timestamp in the future"));
        rollup.commitBatch(last, b);
        _commit(_input(1, 0, _noWithdrawals()));
        HeliostatRollup.CommitInput memory c = _input(2, 0, _noWithdrawals());
        c.timestamp = last.timestamp - 1;
        vm.prank(SEQUENCER);
        vm.expectRevert(bytes("timestamp before the previous batch"));
        rollup.commitBatch(last, c);
    }

    function test_proving_an_uncommitted_batch_is_refused() public {
        HeliostatRollup.StoredBatch memory s = last;
        s.number = 1;
        vm.prank(OPERATOR);
        vm.expectRevert(bytes("batch not committed"));
        rollup.proveBatch(s, "proof");
    }

    function test_a_rejected_proof_is_refused() public {
        HeliostatRollup.StoredBatch memory s = _commit(_input(1, 0, _noWithdrawals()));
        vm.prank(OPERATOR);
        vm.expectRevert(bytes("proof rejected"));
        rollup.proveBatch(s, "proof");
    }

    function test_proving_with_altered_batch_data_is_refused() public {
        HeliostatRollup.StoredBatch memory s = _commit(_input(1, 0, _noWithdrawals()));
        s.outputHash = keccak256("another output");
        verifier.setProven(s.outputHash);
        vm.prank(OPERATOR);
        vm.expectRevert(bytes("stored batch mismatch"));
        rollup.proveBatch(s, "proof");
    }

    function test_executing_an_unproven_batch_is_refused() public {
        HeliostatRollup.StoredBatch memory s = _commit(_input(1, 0, _noWithdrawals()));
        vm.prank(OPERATOR);
        vm.expectRevert(bytes("batch not proven"));
        rollup.executeBatch(s);
    }

    function test_reverting_an_executed_batch_is_refused() public {
        _proveAndExecute(_commit(_input(1, 0, _noWithdrawals())));
        vm.prank(OPERATOR);
        vm.expectRevert(bytes("cannot revert an executed batch"));
        rollup.revertBatches(0);
    }

    function test_revert_returns_priority_operations_to_the_queue() public {
        HeliostatRollup.StoredBatch memory genesis = last;
        _deposit(1 gwei);
        _commit(_input(1, 1, _noWithdrawals()));
        _eq(rollup.committedOps(), 1, "reserved");
        vm.prank(OPERATOR);
        rollup.revertBatches(0);
        _eq(rollup.totalCommitted(), 0, "reverted");
        _eq(rollup.committedOps(), 0, "returned");
        last = genesis;
        _proveAndExecute(_commit(_input(1, 1, _noWithdrawals())));
        _eq(rollup.executedOps(), 1, "processed after recommit");
    }

    function test_roles_are_enforced() public {
        HeliostatRollup.CommitInput memory b = _input(1, 0, _noWithdrawals());
        vm.expectRevert(bytes("caller is not a sequencer"));
        rollup.commitBatch(last, b);
        HeliostatRollup.StoredBatch memory s = _commit(b);
        vm.expectRevert(bytes("caller is not an operator"));
        rollup.proveBatch(s, "proof");
        vm.prank(USER);
        vm.expectRevert(bytes("caller is not the admin"));
        rollup.setOperator(USER, true);
    }

    // --- priority queue ----------------------------------------------------------------------

    function test_deposit_record_and_priority_hash_match_the_runtime() public {
        uint64 id = _deposit(7 gwei);
        bytes memory expected = abi.encodePacked(uint8(1), uint64(id), bytes32(uint256(0xa11ce)), uint64(7));
        _eq(expected.length, 49, "record size");
        PriorityQueue.PriorityOp memory op = rollup.priorityOperation(id);
        require(keccak256(op.record) == keccak256(expected), "record layout");
        require(rollup.priorityHashOf(0, 1) == keccak256(abi.encodePacked(bytes32(0), expected)), "hash");
        _eq(op.deadline, block.timestamp + DEADLINE, "deadline");
        bytes memory tx_ = _forcedTx(1);
        vm.prank(USER);
        uint64 forced = rollup.forceTransaction(tx_);
        _eq(forced, 1, "ids count up");
        bytes memory record = abi.encodePacked(uint8(2), uint64(1), keccak256(tx_));
        require(keccak256(rollup.priorityOperation(1).record) == keccak256(record), "forced record");
        bytes32 rolling = keccak256(abi.encodePacked(keccak256(abi.encodePacked(bytes32(0), expected)), record));
        require(rollup.queueRollingHash() == rolling, "rolling hash");
    }

    /// A transaction's wire shape as far as L1 reads it: one signature, then a message.
    function _forcedTx(uint256 tag) internal pure returns (bytes memory) {
        return abi.encodePacked(uint8(1), bytes32(tag), bytes32(0), hex"800100");
    }

    function test_a_forced_transaction_is_queued_once() public {
        vm.prank(USER);
        rollup.forceTransaction(_forcedTx(7));
        vm.prank(USER);
        vm.expectRevert(bytes("forced transaction already queued"));
        rollup.forceTransaction(_forcedTx(7));
        vm.prank(USER);
        rollup.forceTransaction(_forcedTx(8)); // another signature
        bytes memory unsigned = _forcedTx(9);
        unsigned[0] = 0x00; // zero signatures
        bytes[3] memory bad = [bytes(hex"00aa"), unsigned, bytes(hex"01aa")]; // the last: too short
        for (uint256 i = 0; i < bad.length; i++) {
            vm.prank(USER);
            vm.expectRevert(bytes("forced transaction without a signature"));
            rollup.forceTransaction(bad[i]);
        }
        _eq(rollup.priorityQueueLength(), 2, "queued");
    }

    function test_deposits_must_be_whole_lamports() public {
        vm.prank(USER);
        vm.expectRevert(bytes("deposit is not a whole number of lamports"));
        rollup.depositETH{value: 1 gwei + 1}(bytes32(0));
    }

    function test_escape_mode_needs_an_overdue_operation() public {
        vm.expectRevert(bytes("no priority operation is pending"));
        rollup.activateEscapeMode();
        vm.prank(USER);
        rollup.forceTransaction(_forcedTx(1));
        vm.warp(block.timestamp + DEADLINE);
        vm.expectRevert(bytes("no priority operation is overdue"));
        rollup.activateEscapeMode();
    }

    function test_deadline_passed_enters_escape_mode_and_batches_stop() public {
        vm.prank(USER);
        rollup.forceTransaction(_forcedTx(1)); // the sequencer ignores it
        HeliostatRollup.StoredBatch memory s = _commit(_input(1, 0, _noWithdrawals()));
        vm.warp(block.timestamp + DEADLINE + 1);
        vm.prank(USER);
        rollup.activateEscapeMode();
        require(rollup.escapeMode(), "escape mode");
        verifier.setProven(s.outputHash);
        vm.prank(OPERATOR);
        vm.expectRevert(bytes("escape mode"));
        rollup.proveBatch(s, "proof");
        HeliostatRollup.CommitInput memory b = _input(2, 0, _noWithdrawals());
        vm.prank(SEQUENCER);
        vm.expectRevert(bytes("escape mode"));
        rollup.commitBatch(last, b);
        vm.prank(USER);
        vm.expectRevert(bytes("escape mode"));
        rollup.depositETH{value: 1 gwei}(bytes32(0));
    }

    function test_unprocessed_deposit_is_reclaimed_once_in_escape_mode() public {
        uint64 id = _deposit(3 gwei);
        vm.expectRevert(bytes("not in escape mode"));
        rollup.reclaimDeposit(id);
        vm.warp(block.timestamp + DEADLINE + 1);
        rollup.activateEscapeMode();
        uint256 before = USER.balance;
        rollup.reclaimDeposit(id);
        _eq(USER.balance - before, 3 gwei, "refunded");
        vm.expectRevert(bytes("deposit already reclaimed"));
        rollup.reclaimDeposit(id);
    }

    // --- withdrawals -------------------------------------------------------------------------

    function _withdrawals(address to) internal pure returns (HeliostatRollup.Withdrawal[] memory ws) {
        ws = new HeliostatRollup.Withdrawal[](3);
        ws[0] = HeliostatRollup.Withdrawal(bytes32(uint256(1)), to, 4);
        ws[1] = HeliostatRollup.Withdrawal(bytes32(uint256(2)), to, 5);
        ws[2] = HeliostatRollup.Withdrawal(bytes32(uint256(3)), to, 6);
    }

    function _executedWithWithdrawals(address to) internal returns (HeliostatRollup.Withdrawal[] memory ws) {
        _deposit(15 gwei); // the bridge holds the ETH the withdrawals pay out
        ws = _withdrawals(to);
        _proveAndExecute(_commit(_input(1, 1, ws)));
    }

    function _proofFor(HeliostatRollup.Withdrawal[] memory ws, uint64 index) internal view returns (bytes32[] memory p) {
        bytes32 l0 = rollup.withdrawalLeaf(0, ws[0]);
        bytes32 l1 = rollup.withdrawalLeaf(1, ws[1]);
        bytes32 l2 = rollup.withdrawalLeaf(2, ws[2]);
        p = new bytes32[](2);
        if (index == 2) {
            p[0] = bytes32(0);
            p[1] = keccak256(abi.encodePacked(l0, l1));
        } else {
            p[0] = index == 0 ? l1 : l0;
            p[1] = keccak256(abi.encodePacked(l2, bytes32(0)));
        }
    }

    function test_withdrawal_claimed_once() public {
        Recipient to = new Recipient();
        HeliostatRollup.Withdrawal[] memory ws = _executedWithWithdrawals(address(to));
        bytes32[] memory proof = _proofFor(ws, 2);
        rollup.claimWithdrawal(1, 2, ws[2], proof);
        _eq(address(to).balance, 6 gwei, "paid");
        vm.expectRevert(bytes("withdrawal already claimed"));
        rollup.claimWithdrawal(1, 2, ws[2], proof);
        rollup.claimWithdrawal(1, 0, ws[0], _proofFor(ws, 0));
        _eq(address(to).balance, 10 gwei, "paid twice");
    }

    function test_withdrawal_with_a_wrong_proof_is_refused() public {
        Recipient to = new Recipient();
        HeliostatRollup.Withdrawal[] memory ws = _executedWithWithdrawals(address(to));
        HeliostatRollup.Withdrawal memory more = ws[1];
        more.lamports = 500;
        bytes32[] memory proof = _proofFor(ws, 1);
        vm.expectRevert(bytes("invalid withdrawal proof"));
        rollup.claimWithdrawal(1, 1, more, proof);
        vm.expectRevert(bytes("invalid withdrawal proof"));
        rollup.claimWithdrawal(1, 0, ws[1], proof); // the right leaf at the wrong index
    }

    function test_withdrawal_of_an_unexecuted_batch_is_refused() public {
        Recipient to = new Recipient();
        HeliostatRollup.Withdrawal[] memory ws = _withdrawals(address(to));
        _commit(_input(1, 0, ws));
        bytes32[] memory proof = _proofFor(ws, 0);
        vm.expectRevert(bytes("batch not executed"));
        rollup.claimWithdrawal(1, 0, ws[0], proof);
    }
}
