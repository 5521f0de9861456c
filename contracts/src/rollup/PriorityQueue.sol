// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title The priority queue: ETH deposits to Solana addresses and forced L2 transactions,
/// each with an id, a record the runtime hashes, a rolling hash and a deadline.
/// @notice A record is what the runtime folds into a batch's priority hash (docs/runtime.md,
/// c/runtime/main.c): deposit `0x01 ‖ be64 id ‖ recipient[32] ‖ be64 lamports`, forced
/// transaction `0x02 ‖ be64 id ‖ keccak256(transaction)`. 1 lamport = 1 gwei. Operations are
/// reserved by the batch that commits them and consumed when it executes; once the oldest
/// unconsumed one is past its deadline, anyone can put the rollup in escape mode.
abstract contract PriorityQueue {
    uint256 internal constant GWEI_PER_LAMPORT = 1 gwei;
    uint8 internal constant KIND_DEPOSIT = 1;
    uint8 internal constant KIND_FORCED = 2;

    struct PriorityOp {
        bytes record;
        uint64 deadline; // unix seconds
        address sender; // the depositor (a deposit can be reclaimed in escape mode)
        uint64 lamports; // deposits only
        bool reclaimed;
    }

    /// @notice Seconds an operation may wait before escape mode can be triggered.
    uint64 public immutable PRIORITY_DEADLINE;

    PriorityOp[] internal _ops;
    /// @notice keccak256(previous ‖ record) over every operation ever queued, from zero.
    bytes32 public queueRollingHash;
    /// @notice Operations reserved by committed batches (ids below are reserved).
    uint64 public committedOps;
    /// @notice Operations consumed by executed batches (ids below are processed).
    uint64 public executedOps;
    /// @notice Set once, when an operation overran its deadline: batches stop.
    bool public escapeMode;
    /// @notice keccak256 of the first signature of every forced transaction queued: each is
    /// queued once (the runtime runs a forced transaction without a blockhash window, so the
    /// queue is its replay protection; docs/runtime.md).
    mapping(bytes32 => bool) public forcedSignatureQueued;

    event PriorityOperationQueued(
        uint64 indexed id, uint8 kind, bytes record, bytes32 rollingHash, uint64 deadline
    );
    event DepositQueued(uint64 indexed id, address indexed sender, bytes32 indexed recipient, uint64 lamports);
    event ForcedTransactionQueued(uint64 indexed id, address indexed sender, bytes transaction);
    event EscapeModeActivated(uint64 overdueId, uint64 deadline);
    event DepositReclaimed(uint64 indexed id, address indexed sender, uint64 lamports);

    constructor(uint64 priorityDeadline) {
        PRIORITY_DEADLINE = priorityDeadline;
    }

    modifier notInEscapeMode() {
        require(!escapeMode, "escape mode");
        _;
    }

    /// @notice Deposit ETH to a Solana address on L2 (a whole number of gwei = lamports).
    function depositETH(bytes32 recipient) external payable notInEscapeMode returns (uint64 id) {
        require(msg.value > 0, "empty deposit");
        require(msg.value % GWEI_PER_LAMPORT == 0, "deposit is not a whole number of lamports");
        uint256 lamports = msg.value / GWEI_PER_LAMPORT;
        require(lamports <= type(uint64).max, "deposit too large");
        id = uint64(_ops.length);
        bytes memory record = abi.encodePacked(KIND_DEPOSIT, id, recipient, uint64(lamports));
        _queue(record, msg.sender, uint64(lamports));
        emit DepositQueued(id, msg.sender, recipient, uint64(lamports));
    }

    /// @notice Queue a raw Solana transaction the sequencer must include before the deadline.
    function forceTransaction(bytes calldata transaction) external notInEscapeMode returns (uint64 id) {
        require(transaction.length > 0 && transaction.length <= 1232, "bad transaction size");
        // wire format: compact-u16 signature count (one byte below 128), then the signatures
        require(uint8(transaction[0]) > 0 && uint8(transaction[0]) < 128 && transaction.length >= 65, "forced transaction without a signature");
        bytes32 signature = keccak256(transaction[1:65]);
        require(!forcedSignatureQueued[signature], "forced transaction already queued");
        forcedSignatureQueued[signature] = true;
        id = uint64(_ops.length);
        bytes memory record = abi.encodePacked(KIND_FORCED, id, keccak256(transaction));
        _queue(record, msg.sender, 0);
        emit ForcedTransactionQueued(id, msg.sender, transaction);
    }

    function _queue(bytes memory record, address sender, uint64 lamports) private {
        uint64 id = uint64(_ops.length);
        uint64 deadline = uint64(block.timestamp) + PRIORITY_DEADLINE;
        _ops.push(PriorityOp(record, deadline, sender, lamports, false));
        queueRollingHash = keccak256(abi.encodePacked(queueRollingHash, record));
        emit PriorityOperationQueued(id, uint8(record[0]), record, queueRollingHash, deadline);
    }

    /// @notice Operations ever queued.
    function priorityQueueLength() external view returns (uint256) {
        return _ops.length;
    }

    function priorityOperation(uint64 id) external view returns (PriorityOp memory) {
        return _ops[id];
    }

    /// @notice The priority hash a batch consuming ops [first, first + count) must publish:
    /// keccak256(previous ‖ record) from 32 zero bytes (the runtime's priority_hash).
    function priorityHashOf(uint64 first, uint64 count) public view returns (bytes32 h) {
        require(uint256(first) + count <= _ops.length, "not enough priority operations queued");
        for (uint64 i = first; i < first + count; i++) {
            h = keccak256(abi.encodePacked(h, _ops[i].record));
        }
    }

    /// @notice Anyone: switch to escape mode once the oldest unprocessed operation is overdue.
    function activateEscapeMode() external notInEscapeMode {
        require(executedOps < _ops.length, "no priority operation is pending");
        PriorityOp storage oldest = _ops[executedOps];
        require(block.timestamp > oldest.deadline, "no priority operation is overdue");
        escapeMode = true;
        emit EscapeModeActivated(executedOps, oldest.deadline);
    }

    /// @notice In escape mode, a deposit no executed batch processed goes back to its sender,
    /// once.
    function reclaimDeposit(uint64 id) external {
        require(escapeMode, "not in escape mode");
        require(id < _ops.length, "no such priority operation");
        require(id >= executedOps, "deposit was processed");
        PriorityOp storage op = _ops[id];
        require(uint8(op.record[0]) == KIND_DEPOSIT, "not a deposit");
        require(!op.reclaimed, "deposit already reclaimed");
        op.reclaimed = true;
        emit DepositReclaimed(id, op.sender, op.lamports);
        _pay(op.sender, op.lamports);
    }

    function _pay(address to, uint64 lamports) internal {
        (bool ok,) = to.call{value: uint256(lamports) * GWEI_PER_LAMPORT}("");
        require(ok, "ETH transfer failed");
    }
}
