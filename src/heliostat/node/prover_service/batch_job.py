"""The "batch" proof job: a sealed batch as the runtime sees it, proven by `Runtime.prove_batch`.

The request's payload is the batch (`BatchInput`: number, old root, priority operations, blocks
with their contexts and transaction bytes) and its state-tree witness (every account the batch
may touch with one multiproof against the old root, `state_witness.BatchWitness.encode()`).
That is all a worker needs: it holds no node state. Program accounts travel without their ELF
(the witness elides them by hash); the worker takes those bytes from the runtime's genesis.

The artifact's ``proof`` field holds the proof bytes and the exact public output bytes the
kernel published (length-prefixed, in that order); its public values are empty (the L1
statement is derived from the public output). Before the service stores an artifact it
re-executes the batch natively from the same payload — the kernel checks every account against
the old root — and requires the artifact's public output to be exactly that, then checks the
proof with `heliostat.runtime.proving.verify_batch`.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import TYPE_CHECKING

from solders.account import Account
from solders.hash import Hash
from solders.pubkey import Pubkey

from heliostat.node.prover_service.jobs import (
    JobFormatError,
    JobRejectedError,
    ProofArtifact,
    ProofRequest,
    _pack,
    _unpack,
)
from heliostat.primitives.errors import HeliostatError
from heliostat.runtime.interface import (
    BatchInput,
    BatchPublicOutput,
    Block,
    BlockContext,
    Deposit,
    ForcedTransaction,
    PriorityOperation,
)
from heliostat.runtime.kernel_input import KernelInput

if TYPE_CHECKING:
    from heliostat.runtime.runtime import Runtime

KIND = "batch"
_DEPOSIT, _FORCED = 1, 2
_BLOCK_HEAD = struct.Struct("<QqI")  # slot, unix timestamp, number of recent blockhashes


def _encode_priority(op: PriorityOperation) -> bytes:
    if isinstance(op, Deposit):
        return struct.pack("<BQ32sQ", _DEPOSIT, op.l1_index, bytes(op.recipient), op.lamports)
    return struct.pack("<BQ", _FORCED, op.l1_index) + op.transaction


def _decode_priority(data: bytes) -> PriorityOperation:
    if data[:1] == bytes([_DEPOSIT]) and len(data) == 49:
        _, index, recipient, lamports = struct.unpack("<BQ32sQ", data)
        return Deposit(index, Pubkey(recipient), lamports)
    if data[:1] == bytes([_FORCED]) and len(data) >= 9:
        (index,) = struct.unpack_from("<Q", data, 1)
        return ForcedTransaction(index, data[9:])
    raise JobFormatError("malformed priority operation in a batch payload", reason="priority")


def _encode_block(block: Block) -> bytes:
    context = block.context
    hashes = sorted(bytes(h) for h in context.recent_blockhashes)
    head = _BLOCK_HEAD.pack(context.slot, context.unix_timestamp, len(hashes)) + b"".join(hashes)
    return _pack(head, _pack(*block.transactions), struct.pack("<I", len(block.transactions)))


def _decode_block(data: bytes) -> Block:
    head, txs, count = _unpack(data, 3, "batch block")
    if len(head) < _BLOCK_HEAD.size or len(count) != 4:
        raise JobFormatError("malformed block in a batch payload", reason="block")
    slot, timestamp, n = _BLOCK_HEAD.unpack_from(head)
    if len(head) != _BLOCK_HEAD.size + 32 * n:
        raise JobFormatError("block blockhash list has the wrong length", reason="block")
    hashes = frozenset(
        Hash(head[_BLOCK_HEAD.size + 32 * i : _BLOCK_HEAD.size + 32 * (i + 1)]) for i in range(n)
    )
    (tx_count,) = struct.unpack("<I", count)
    transactions = tuple(_unpack(txs, tx_count, "block transactions"))
    return Block(BlockContext(slot, timestamp, hashes), transactions)


@dataclass(frozen=True)
class BatchPayload:
    """A batch and its state-tree witness: what a worker proves."""

    batch: BatchInput
    witness: bytes

    def to_bytes(self) -> bytes:
        """Encode as a job payload."""
        b = self.batch
        head = struct.pack("<Q32sII", b.batch_number, b.old_root,
                           len(b.priority_operations), len(b.blocks))  # fmt: skip
        ops = _pack(*(_encode_priority(op) for op in b.priority_operations))
        blocks = _pack(*(_encode_block(block) for block in b.blocks))
        return _pack(head, ops, blocks, self.witness)

    @classmethod
    def from_bytes(cls, data: bytes) -> BatchPayload:
        """Decode, or raise JobFormatError."""
        head, ops, blocks, witness = _unpack(data, 4, "batch payload")
        if len(head) != 48:
            raise JobFormatError("malformed batch payload header", reason="header")
        number, old_root, n_ops, n_blocks = struct.unpack("<Q32sII", head)
        priority = tuple(_decode_priority(op) for op in _unpack(ops, n_ops, "priority ops"))
        decoded = tuple(_decode_block(block) for block in _unpack(blocks, n_blocks, "blocks"))
        return cls(BatchInput(number, old_root, priority, decoded), witness)

    def request(self, config: str = "default") -> ProofRequest:
        """Return the proof request for this batch under STARK parameter set ``config``."""
        return ProofRequest(KIND, config, self.to_bytes())


def encode_artifact_proof(proof: bytes, public_output: bytes) -> bytes:
    """Return the artifact's ``proof`` field for a batch: proof bytes, then the public output."""
    return _pack(proof, public_output)


def decode_artifact_proof(artifact: ProofArtifact) -> tuple[bytes, bytes]:
    """Return (proof bytes, public output bytes) of a batch artifact."""
    proof, output = _unpack(artifact.proof, 2, "batch artifact")
    return proof, output


def witness_state(witness: bytes) -> dict[Pubkey, Account]:
    """Return the accounts the witness holds (present ones), elided ELF bytes from genesis.

    Raises JobFormatError for a witness that does not decode or names a program whose bytes
    the runtime does not ship.
    """
    from heliostat.runtime import genesis, state_witness
    from heliostat.runtime.state_tree import data_hash

    try:
        decoded = state_witness.decode(witness)
    except HeliostatError as err:
        raise JobFormatError(f"batch witness does not decode: {err}", reason="witness") from err
    known = {bytes(k): a for k, a in genesis.genesis_accounts()}
    accounts: dict[Pubkey, Account] = {}
    for record in decoded.records:
        if not isinstance(record, state_witness.PresentRecord) or not record.lamports:
            continue
        data = record.data
        if data is None:
            source = known.get(record.key)
            if source is None or tuple(data_hash(bytes(source.data))) != tuple(
                record.data_hash or ()
            ):
                raise JobFormatError(
                    f"account {Pubkey(record.key)} is elided but is no genesis program",
                    reason="elided",
                )
            data = bytes(source.data)
        accounts[Pubkey(record.key)] = Account(
            record.lamports, data, Pubkey(record.owner), record.executable, record.rent_epoch
        )
    return accounts


def kernel_input(payload: BatchPayload) -> tuple[Runtime, KernelInput]:
    """Return a runtime and the kernel input of a payload: the batch over its tree witness.

    The tree's witness replaces the plain one, every record as `Runtime._tree_witness` builds
    it from the node's tree (each program named by its data hash), so the kernel checks every
    account against the old root, in native and in proving mode alike.
    """
    import dataclasses

    from heliostat.runtime import state_witness
    from heliostat.runtime.executor import DictState
    from heliostat.runtime.kernel_input import WitnessAccount, sorted_witness
    from heliostat.runtime.programs import elf_of
    from heliostat.runtime.runtime import Runtime
    from heliostat.runtime.state_tree import digest_bytes

    runtime = Runtime()
    accounts = witness_state(payload.witness)
    kin = runtime.batch_input(payload.batch, DictState(accounts))
    records = []
    empty = Account(0, b"", Pubkey.default(), False, 0)
    for record in state_witness.decode(payload.witness).records:
        key = Pubkey(record.key)
        if isinstance(record, state_witness.PresentRecord) and record.data_hash is not None:
            account = accounts.get(key, empty)
            image = digest_bytes(record.data_hash)
            elf = elf_of(account)
            if elf is not None:
                runtime.images.register(image, elf)
            records.append(WitnessAccount(key, account, image, True))
        else:
            records.append(WitnessAccount(key, accounts.get(key, empty)))
    kin = dataclasses.replace(kin, witness=sorted_witness(records), state_witness=payload.witness)
    return runtime, kin


def native_public_output(payload: BatchPayload) -> BatchPublicOutput:
    """Run the batch natively over its witness (checked against the old root by the kernel)."""
    from heliostat.runtime.kernel_output import decode_public_output

    runtime, kin = kernel_input(payload)
    return decode_public_output(runtime.run(kin).published)


def prove(request: ProofRequest) -> ProofArtifact:
    """Prove a batch request with the runtime's prover (a worker's side).

    `heliostat.runtime.proving` proves K's run over exactly the kernel input
    `Runtime.prove_batch` builds — here from the payload's witness instead of a whole tree.
    """
    from heliostat.runtime.proving import prove_kernel_input
    from heliostat.stark.config import get_config

    runtime, kin = kernel_input(BatchPayload.from_bytes(request.payload))
    proof = prove_kernel_input(runtime, kin, config=get_config(request.config))
    return ProofArtifact(encode_artifact_proof(proof.proof, proof.public_output.encoded), ())


def verify(request: ProofRequest, artifact: ProofArtifact) -> None:
    """Check a worker's batch artifact: the native public output, then the proof itself."""
    from heliostat.runtime.proving import verify_batch
    from heliostat.stark.config import get_config

    try:
        payload = BatchPayload.from_bytes(request.payload)
        proof, output = decode_artifact_proof(artifact)
        expected = native_public_output(payload)
        config = get_config(request.config)
    except JobFormatError as err:
        raise JobRejectedError(
            f"cannot check the batch proof: {err}", reason="unverifiable"
        ) from err
    except HeliostatError as err:
        raise JobRejectedError(f"the batch does not execute: {err}", reason="unverifiable") from err
    if output != expected.encoded:
        raise JobRejectedError(
            f"the proof's public output ({len(output)} bytes) is not the batch's "
            f"({len(expected.encoded)} bytes)",
            reason="public_output",
        )
    try:
        verify_batch(proof, expected, config)
    except HeliostatError as err:
        raise JobRejectedError(f"worker's batch proof rejected: {err}", reason="rejected") from err
