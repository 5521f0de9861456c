// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Ed25519} from "./Ed25519.sol";
import {IAccountProofVerifier, IBatchVerifier} from "./IBatchVerifier.sol";
import {PriorityQueue} from "./PriorityQueue.sol";

/// @title Heliostat's settlement contract: the batch lifecycle, the ETH bridge and escape mode.
/// @notice commit → prove → execute, each checked the way ZK Stack's Executor checks it and
/// reverting with the name of the failed check. The head of a batch's public output
/// (docs/runtime.md, "Public output") is rebuilt here from what was committed — the previous
/// batch's root, the priority operations taken from the queue, the withdrawals, the kernel's
/// flags (signature checks and the state tree on) and the production parameters hash, the hash of the state
/// diff — and its keccak256 is what the proof must attest; the caller never supplies public
/// inputs. Executed batches make their withdrawals claimable once, by Merkle proof.
/// Data availability: a batch's state diff travels inline in commitBatch (up to one chunk) or,
/// larger, as chunks posted beforehand with postDiffChunk, each in its own transaction; the
/// output's diff hash is keccak256 over the chunks' keccak256 hashes, which L1 keeps.
contract HeliostatRollup is PriorityQueue {
    bytes8 internal constant OUTPUT_MAGIC = "HLSTOUT3";
    /// @notice A state diff is hashed, and posted, in chunks of this many bytes (the last one
    /// shorter): a chunk and its call fit one L1 transaction (c/runtime/output.c DIFF_CHUNK).
    uint256 public constant DIFF_CHUNK_BYTES = 96 * 1024;
    /// @notice The runtime's switches in the output head: signature checks on (required) and
    /// the state tree (the witness is checked against the old root).
    uint64 public constant KERNEL_FLAG_VERIFY_SIGNATURES = 1;
    uint64 public constant KERNEL_FLAG_STATE_TREE = 2;
    /// @notice keccak256(lamports per signature ‖ rent per byte ‖ sysvar section) of the
    /// production runtime (heliostat.runtime.proving.production_params_hash(); a test keeps
    /// them equal): a batch run with other fees, rent or sysvars cannot be committed.
    bytes32 public constant RUNTIME_PARAMS_HASH = 0xb8d018d1d2db80f9d6f7c9cd62b0bfeae0988b4a92c561a6cdc0f9e00310699b;
    uint256 public constant MAX_WITHDRAWALS = 1024;
    uint256 public constant MAX_TIMESTAMP_DRIFT = 1 hours;
    /// @notice The first 16 bytes of every escape authorisation (escapeMessage).
    bytes16 public constant ESCAPE_DOMAIN = "heliostat-escape";

    /// @notice What the contract remembers of a committed batch (stored as its hash).
    struct StoredBatch {
        uint64 number;
        bytes32 newRoot;
        uint64 priorityOpsEnd; // queue ids below this are consumed once it executes
        uint64 timestamp;
        bytes32 withdrawalsRoot;
        bytes32 outputHash; // keccak256 of the batch's public output head
    }

    /// @notice A withdrawal as the runtime publishes it: the L2 sender, the L1 recipient.
    struct Withdrawal {
        bytes32 sender;
        address recipient;
        uint64 lamports;
    }

    struct CommitInput {
        uint64 number;
        uint64 timestamp;
        bytes32 newRoot;
        uint64 priorityOps; // operations this batch processes, from the queue's next one
        bytes32 priorityHash; // the runtime's priority hash over them
        Withdrawal[] withdrawals;
        uint64 kernelFlags; // the runtime's switches: signature checks and the state tree on
        bytes stateDiff; // inline data availability: the whole state diff (else empty)
        bytes32[] diffChunks; // chunked: keccak256 of each chunk posted (postDiffChunk), in order
    }

    address public admin;
    mapping(address => bool) public isSequencer; // may commit
    mapping(address => bool) public isOperator; // may prove, execute and revert
    IBatchVerifier public immutable VERIFIER;
    IAccountProofVerifier public immutable ACCOUNT_VERIFIER;

    uint64 public totalCommitted;
    uint64 public totalProven;
    uint64 public totalExecuted;
    bytes32 public lastExecutedRoot;
    mapping(uint256 => bytes32) public batchHashes;
    mapping(uint256 => uint64) internal _opsEnd;
    mapping(uint256 => bytes32) public withdrawalRoots; // set when the batch executes
    mapping(uint256 => mapping(uint256 => bool)) public withdrawalClaimed;
    mapping(bytes32 => bool) public escapeClaimed;
    /// @notice keccak256 of state-diff chunk `index` of batch `number` (posted, not committed
    /// yet: a later post replaces it; committed: fixed).
    mapping(uint256 => mapping(uint256 => bytes32)) public diffChunkHash;

    event RoleChanged(string role, address indexed account, bool granted);
    event AdminChanged(address indexed admin);
    /// @notice `batch` is what prove and execute take back (a restarted sender reads it here).
    event BatchCommitted(uint64 indexed number, bytes32 batchHash, StoredBatch batch);
    /// @notice The chunk's bytes are the calldata of the transaction that emitted this.
    event DiffChunkPosted(uint64 indexed number, uint64 indexed index, bytes32 chunkHash);
    event StateDiffCommitted(uint64 indexed number, bytes32 diffHash, uint256 chunks);
    event BatchProven(uint64 indexed number, bytes32 outputHash);
    event BatchExecuted(uint64 indexed number, bytes32 newRoot, bytes32 withdrawalsRoot);
    event BatchesReverted(uint64 totalCommitted, uint64 totalProven);
    event WithdrawalClaimed(uint64 indexed batch, uint64 indexed index, address indexed recipient, uint64 lamports);
    event EscapeWithdrawal(bytes32 indexed account, address indexed recipient, uint64 lamports);

    constructor(
        IBatchVerifier verifier,
        IAccountProofVerifier accountVerifier,
        bytes32 genesisRoot,
        uint64 priorityDeadline
    ) PriorityQueue(priorityDeadline) {
        VERIFIER = verifier;
        ACCOUNT_VERIFIER = accountVerifier;
        admin = msg.sender;
        lastExecutedRoot = genesisRoot;
        StoredBatch memory genesis = StoredBatch(0, genesisRoot, 0, 0, bytes32(0), bytes32(0));
        batchHashes[0] = keccak256(abi.encode(genesis));
        emit AdminChanged(msg.sender);
    }

    // --- roles ------------------------------------------------------------------------------

    modifier onlyAdmin() {
        require(msg.sender == admin, "caller is not the admin");
        _;
    }

    function setAdmin(address next) external onlyAdmin {
        admin = next;
        emit AdminChanged(next);
    }

    function setSequencer(address account, bool granted) external onlyAdmin {
        isSequencer[account] = granted;
        emit RoleChanged("sequencer", account, granted);
    }

    function setOperator(address account, bool granted) external onlyAdmin {
        isOperator[account] = granted;
        emit RoleChanged("operator", account, granted);
    }

    // --- commit -----------------------------------------------------------------------------

    /// @notice Post chunk `index` of the state diff of batch `number` (not committed yet) for
    /// data availability; a later post of the same index replaces it until the commit.
    function postDiffChunk(uint64 number, uint64 index, bytes calldata chunk) external notInEscapeMode {
        require(isSequencer[msg.sender], "caller is not a sequencer");
        require(number > totalCommitted, "batch already committed");
        require(chunk.length > 0 && chunk.length <= DIFF_CHUNK_BYTES, "diff chunk size");
        bytes32 h = keccak256(chunk);
        diffChunkHash[number][index] = h;
        emit DiffChunkPosted(number, index, h);
    }

    /// @notice The state diff's hash: keccak256 over the keccak256 of each chunk — of the
    /// inline diff, or of the chunks posted for this batch, which must match `diffChunks`.
    function stateDiffHash(CommitInput calldata batch) public view returns (bytes32) {
        uint256 n = batch.diffChunks.length;
        if (n == 0) {
            bytes calldata diff = batch.stateDiff;
            require(diff.length > 0, "no state diff");
            bytes memory hashes = new bytes(32 * ((diff.length + DIFF_CHUNK_BYTES - 1) / DIFF_CHUNK_BYTES));
            for (uint256 at = 0; at < diff.length; at += DIFF_CHUNK_BYTES) {
                uint256 end = at + DIFF_CHUNK_BYTES < diff.length ? at + DIFF_CHUNK_BYTES : diff.length;
                bytes32 h = keccak256(diff[at:end]);
                uint256 slot = at / DIFF_CHUNK_BYTES;
                assembly {
                    mstore(add(add(hashes, 32), mul(slot, 32)), h)
                }
            }
            return keccak256(hashes);
        }
        require(batch.stateDiff.length == 0, "state diff both inline and in chunks");
        for (uint256 i = 0; i < n; i++) {
            bytes32 posted = diffChunkHash[batch.number][i];
            require(posted != bytes32(0), "diff chunk missing");
            require(posted == batch.diffChunks[i], "wrong diff chunk");
        }
        return keccak256(abi.encodePacked(batch.diffChunks));
    }

    /// @notice Commit the next batch on top of `previous` (the last committed batch).
    function commitBatch(StoredBatch calldata previous, CommitInput calldata batch)
        external
        notInEscapeMode
        returns (StoredBatch memory stored)
    {
        require(isSequencer[msg.sender], "caller is not a sequencer");
        require(batch.number == totalCommitted + 1, "batch number is not the next one");
        require(previous.number == totalCommitted, "previous batch is not the last committed one");
        require(keccak256(abi.encode(previous)) == batchHashes[previous.number], "wrong previous batch hash");
        require(batch.timestamp >= previous.timestamp, "timestamp before the previous batch");
        require(batch.timestamp <= block.timestamp + MAX_TIMESTAMP_DRIFT, "timestamp in the future");
        require(uint256(committedOps) + batch.priorityOps <= _ops.length, "not enough priority operations queued");
        require(priorityHashOf(committedOps, batch.priorityOps) == batch.priorityHash, "wrong priority hash");
        require(batch.withdrawals.length <= MAX_WITHDRAWALS, "too many withdrawals");
        require(batch.kernelFlags & KERNEL_FLAG_VERIFY_SIGNATURES != 0, "signature checks off");
        // without the tree the kernel neither checks what it reads nor publishes a new root
        require(batch.kernelFlags & KERNEL_FLAG_STATE_TREE != 0, "state tree off");
        require(batch.kernelFlags & ~(KERNEL_FLAG_VERIFY_SIGNATURES | KERNEL_FLAG_STATE_TREE) == 0, "unknown kernel flags");
        bytes32 diffHash = stateDiffHash(batch);

        stored = StoredBatch({
            number: batch.number,
            newRoot: batch.newRoot,
            priorityOpsEnd: committedOps + batch.priorityOps,
            timestamp: batch.timestamp,
            withdrawalsRoot: withdrawalsRoot(batch.withdrawals),
            outputHash: keccak256(_publicOutput(previous.newRoot, batch, diffHash))
        });
        bytes32 h = keccak256(abi.encode(stored));
        batchHashes[batch.number] = h;
        _opsEnd[batch.number] = stored.priorityOpsEnd;
        committedOps = stored.priorityOpsEnd;
        totalCommitted = batch.number;
        emit StateDiffCommitted(batch.number, diffHash, batch.diffChunks.length);
        emit BatchCommitted(batch.number, h, stored);
    }

    /// @notice The head of the batch's public output as the runtime publishes it (little-endian
    /// integers), ending with the state diff's hash: its keccak256 is what a proof attests.
    /// The kernel's parameters hash is the production one, fixed here.
    function publicOutput(bytes32 oldRoot, CommitInput calldata batch) public view returns (bytes memory) {
        return _publicOutput(oldRoot, batch, stateDiffHash(batch));
    }

    function _publicOutput(bytes32 oldRoot, CommitInput calldata batch, bytes32 diffHash)
        internal
        pure
        returns (bytes memory out)
    {
        out = abi.encodePacked(
            OUTPUT_MAGIC,
            _le64(batch.number),
            oldRoot,
            batch.newRoot,
            batch.priorityHash,
            _le64(batch.priorityOps),
            _le64(uint64(batch.withdrawals.length))
        );
        for (uint256 i = 0; i < batch.withdrawals.length; i++) {
            Withdrawal calldata w = batch.withdrawals[i];
            out = abi.encodePacked(out, w.sender, w.recipient, bytes4(0), _le64(w.lamports));
        }
        out = abi.encodePacked(out, _le64(batch.kernelFlags), RUNTIME_PARAMS_HASH, diffHash);
    }

    function _le64(uint64 v) internal pure returns (bytes8) {
        uint64 r = 0;
        for (uint256 i = 0; i < 8; i++) {
            r = (r << 8) | (v & 0xff);
            v >>= 8;
        }
        return bytes8(r);
    }

    // --- prove, execute, revert --------------------------------------------------------------

    function _checkStored(StoredBatch calldata batch) private view {
        require(keccak256(abi.encode(batch)) == batchHashes[batch.number], "stored batch mismatch");
    }

    /// @notice Prove the next committed batch: the proof must attest its output hash.
    function proveBatch(StoredBatch calldata batch, bytes calldata proof) external notInEscapeMode {
        require(isOperator[msg.sender], "caller is not an operator");
        require(batch.number >= 1 && batch.number <= totalCommitted, "batch not committed");
        require(batch.number == totalProven + 1, "batch is not the next to prove");
        _checkStored(batch);
        require(VERIFIER.verifyBatch(batch.outputHash, proof), "proof rejected");
        totalProven = batch.number;
        emit BatchProven(batch.number, batch.outputHash);
    }

    /// @notice Execute the next proven batch: its root becomes canonical, its priority
    /// operations are consumed, its withdrawals become claimable.
    function executeBatch(StoredBatch calldata batch) external notInEscapeMode {
        require(isOperator[msg.sender], "caller is not an operator");
        require(batch.number >= 1 && batch.number <= totalProven, "batch not proven");
        require(batch.number == totalExecuted + 1, "batch is not the next to execute");
        _checkStored(batch);
        totalExecuted = batch.number;
        lastExecutedRoot = batch.newRoot;
        executedOps = batch.priorityOpsEnd;
        withdrawalRoots[batch.number] = batch.withdrawalsRoot;
        emit BatchExecuted(batch.number, batch.newRoot, batch.withdrawalsRoot);
    }

    /// @notice Forget the committed (and proven) batches after `newTotalCommitted`; their
    /// priority operations go back to the queue. Executed batches cannot be reverted.
    function revertBatches(uint64 newTotalCommitted) external {
        require(isOperator[msg.sender], "caller is not an operator");
        require(newTotalCommitted >= totalExecuted, "cannot revert an executed batch");
        require(newTotalCommitted < totalCommitted, "no batch to revert");
        for (uint64 n = newTotalCommitted + 1; n <= totalCommitted; n++) {
            delete batchHashes[n];
            delete _opsEnd[n];
        }
        committedOps = _opsEnd[newTotalCommitted];
        totalCommitted = newTotalCommitted;
        if (totalProven > newTotalCommitted) totalProven = newTotalCommitted;
        emit BatchesReverted(totalCommitted, totalProven);
    }

    // --- withdrawals -------------------------------------------------------------------------

    /// @notice Leaf of withdrawal `index` of a batch.
    function withdrawalLeaf(uint64 index, Withdrawal memory w) public pure returns (bytes32) {
        return keccak256(abi.encodePacked(index, w.sender, w.recipient, w.lamports));
    }

    /// @notice Binary keccak tree over the leaves in order; an odd node pairs with zero.
    function withdrawalsRoot(Withdrawal[] calldata ws) public pure returns (bytes32) {
        if (ws.length == 0) return bytes32(0);
        bytes32[] memory level = new bytes32[](ws.length);
        for (uint256 i = 0; i < ws.length; i++) {
            level[i] = withdrawalLeaf(uint64(i), ws[i]);
        }
        for (uint256 n = ws.length; n > 1; n = (n + 1) / 2) {
            for (uint256 i = 0; i < (n + 1) / 2; i++) {
                bytes32 right = 2 * i + 1 < n ? level[2 * i + 1] : bytes32(0);
                level[i] = keccak256(abi.encodePacked(level[2 * i], right));
            }
        }
        return level[0];
    }

    /// @notice Claim withdrawal `index` of an executed batch, once; pays the recipient.
    function claimWithdrawal(uint64 batchNumber, uint64 index, Withdrawal calldata w, bytes32[] calldata proof)
        external
    {
        require(batchNumber >= 1 && batchNumber <= totalExecuted, "batch not executed");
        require(!withdrawalClaimed[batchNumber][index], "withdrawal already claimed");
        bytes32 node = withdrawalLeaf(index, w);
        uint256 position = index;
        for (uint256 i = 0; i < proof.length; i++) {
            node = position & 1 == 0
                ? keccak256(abi.encodePacked(node, proof[i]))
                : keccak256(abi.encodePacked(proof[i], node));
            position >>= 1;
        }
        require(position == 0 && node == withdrawalRoots[batchNumber], "invalid withdrawal proof");
        withdrawalClaimed[batchNumber][index] = true;
        emit WithdrawalClaimed(batchNumber, index, w.recipient, w.lamports);
        _pay(w.recipient, w.lamports);
    }

    // --- escape mode -------------------------------------------------------------------------

    /// @notice The 128 bytes the key of L2 account `account` signs (ed25519) to send its
    /// escape withdrawal of `lamports` to `recipient` on this rollup:
    /// "heliostat-escape" ‖ be256 chain id ‖ this contract ‖ account ‖ be64 lamports ‖ recipient.
    function escapeMessage(bytes32 account, uint64 lamports, address recipient) public view returns (bytes memory) {
        return abi.encodePacked(ESCAPE_DOMAIN, block.chainid, address(this), account, lamports, recipient);
    }

    /// @notice In escape mode, withdraw an L2 account's lamports once to `recipient`: the
    /// account's key (a system account's address is its ed25519 public key) must have signed
    /// escapeMessage(account, lamports, recipient) — Solana's acceptance rules — and `proof`
    /// must show the account with `lamports` under the last executed state root.
    function escapeWithdraw(
        bytes32 account,
        uint64 lamports,
        address recipient,
        bytes calldata signature,
        bytes calldata proof
    ) external {
        require(escapeMode, "not in escape mode");
        require(!escapeClaimed[account], "escape withdrawal already made");
        require(signature.length == 64, "signature must be 64 bytes");
        bytes memory message = escapeMessage(account, lamports, recipient);
        require(
            Ed25519.verify(account, bytes32(signature[:32]), bytes32(signature[32:]), message),
            "invalid owner signature"
        );
        require(ACCOUNT_VERIFIER.verifyAccount(lastExecutedRoot, account, lamports, proof), "invalid account proof");
        escapeClaimed[account] = true;
        emit EscapeWithdrawal(account, recipient, lamports);
        _pay(recipient, lamports);
    }
}
