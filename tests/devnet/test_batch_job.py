"""The "batch" proof job and the batch builder: node batches become runtime batches whose
kernel run reproduces the node's sealed root (deposits and forced transactions included);
payloads round-trip; a wrong root, a corrupt payload or a public output that is not the
batch's are refused; a node's stored history replays."""

from __future__ import annotations

import asyncio
import dataclasses

import pytest
from solders.hash import Hash
from solders.keypair import Keypair
from solders.message import Message
from solders.system_program import TransferParams, transfer
from solders.transaction import VersionedTransaction

from heliostat.node.app import Node, genesis_from_config, save_keypair
from heliostat.node.config import load_config
from heliostat.node.prover_service.batch_builder import BatchBuilder, BatchMismatchError
from heliostat.node.prover_service.batch_job import (
    BatchPayload,
    encode_artifact_proof,
    native_public_output,
    verify,
)
from heliostat.node.prover_service.jobs import JobFormatError, JobRejectedError, ProofArtifact
from heliostat.node.replay import replay
from heliostat.node.runtime_executor import RuntimeExecutor
from heliostat.node.sequencer.entries import Deposit
from heliostat.node.storage.sqlite import SqliteStorage
from heliostat.runtime import bridge
from heliostat.runtime.interface import FORCED_BLOCKHASH, ForcedTransaction
from heliostat.settlement.anvil import free_port


@pytest.fixture(scope="module")
def sealed(tmp_path_factory: pytest.TempPathFactory):
    """A node that ran a deposit, three forced transactions (one good, one with a recent
    blockhash, one garbage), transfers to fresh accounts and a withdrawal, then stopped."""
    data = tmp_path_factory.mktemp("node")
    faucet = Keypair()
    save_keypair(faucet, data / "faucet.json")
    config = load_config(environ={}, overrides={
        "data_dir": str(data), "port": free_port(), "slot_ms": 50, "batch_max_age_s": 0.2,
        "faucet_key": str(data / "faucet.json"), "faucet_lamports": 10**15,
        "log_level": "WARNING",
    })  # fmt: skip
    users = [Keypair() for _ in range(3)]

    async def run() -> None:
        node = Node.from_config(config)
        await node.start()
        await node.sequencer.submit_deposit(Deposit(0, users[0].pubkey(), 5 * 10**9))
        pay = transfer(TransferParams(from_pubkey=users[0].pubkey(), to_pubkey=users[1].pubkey(),
                                      lamports=10**7))  # fmt: skip
        recent = Hash(node.durable_blockhash().blockhash)

        def signed(blockhash: Hash) -> bytes:
            message = Message.new_with_blockhash([pay], users[0].pubkey(), blockhash)
            return bytes(VersionedTransaction(message, [users[0]]))

        forced = [signed(FORCED_BLOCKHASH), signed(recent), b"\x01garbage"]
        errors = []
        for index, raw in enumerate(forced, start=1):
            confirmation = await node.sequencer.submit_forced(ForcedTransaction(index, raw))
            errors.append(confirmation.entry.err)
        assert errors[0] is None and errors[1] == '"BlockhashNotFound"', errors
        assert errors[2] is not None
        for i, (payer, ix) in enumerate([
            (faucet, transfer(TransferParams(from_pubkey=faucet.pubkey(),
                                             to_pubkey=users[1].pubkey(), lamports=10**9))),
            (users[0], transfer(TransferParams(from_pubkey=users[0].pubkey(),
                                               to_pubkey=users[2].pubkey(), lamports=10**8))),
            (users[0], bridge.withdraw(users[0].pubkey(), 10**8, bytes(range(20)))),
        ]):  # fmt: skip
            blockhash = node.durable_blockhash().blockhash
            message = Message.new_with_blockhash([ix], payer.pubkey(), Hash(blockhash))
            tx = VersionedTransaction(message, [payer])
            confirmation = await node.submit(tx, bytes(tx), preflight=True)
            assert confirmation.entry.err is None, i
            await asyncio.sleep(0.3 * (i == 0))  # the deposit and first transfer: one batch
        await asyncio.sleep(0.6)
        await node.stop()

    asyncio.run(run())
    storage = SqliteStorage(data / "node.sqlite")
    yield storage, genesis_from_config(config, faucet)
    storage.close()


def _records(storage):
    last = storage.last_batch()
    return [storage.batch(n) for n in range(1, last.number + 1)]


def test_built_batches_reproduce_the_node_roots(sealed) -> None:
    storage, genesis = sealed
    builder = BatchBuilder(storage, genesis)
    built = builder.build_all(_records(storage))
    assert sum(b.transactions for b in built) == 3
    assert sum(b.public_output.priority_count for b in built) == 1 + 3  # deposit, 3 forced
    assert sum(len(b.public_output.withdrawals) for b in built) == 1
    for batch in built:
        assert batch.public_output.new_root == batch.record.state_root
        # the payload alone (no node state) gives the same output, checked against the old root
        again = BatchPayload.from_bytes(batch.payload.to_bytes())
        assert again == batch.payload
        assert native_public_output(again).encoded == batch.public_output.encoded


def test_a_root_the_runtime_does_not_reproduce_is_refused(sealed) -> None:
    storage, genesis = sealed
    record = _records(storage)[0]
    forged = dataclasses.replace(record, state_root=bytes(32))
    with pytest.raises(BatchMismatchError, match=f"batch {record.number}"):
        BatchBuilder(storage, genesis).build(forged)


def test_a_payload_with_a_forged_witness_does_not_execute(sealed) -> None:
    storage, genesis = sealed
    built = BatchBuilder(storage, genesis).build(_records(storage)[0])
    witness = bytearray(built.payload.witness)
    witness[-1] ^= 1  # a multiproof sibling: the witness no longer hashes to the old root
    forged = dataclasses.replace(built.payload, witness=bytes(witness))
    artifact = ProofArtifact(encode_artifact_proof(b"", built.public_output.encoded), ())
    with pytest.raises(JobRejectedError) as refused:
        verify(forged.request(), artifact)
    assert refused.value.reason == "unverifiable"
    assert "does not match the old root" in str(refused.value)


def test_an_artifact_with_another_public_output_is_rejected(sealed) -> None:
    storage, genesis = sealed
    built = BatchBuilder(storage, genesis).build(_records(storage)[0])
    output = bytearray(built.public_output.encoded)
    output[20] ^= 1  # inside the old root
    artifact = ProofArtifact(encode_artifact_proof(b"proof", bytes(output)), ())
    with pytest.raises(JobRejectedError) as refused:
        verify(built.payload.request(), artifact)
    assert refused.value.reason == "public_output"


@pytest.mark.parametrize("cut", [1, 10, 100])
def test_truncated_and_padded_payloads_are_refused(sealed, cut: int) -> None:
    storage, genesis = sealed
    data = BatchBuilder(storage, genesis).build(_records(storage)[0]).payload.to_bytes()
    with pytest.raises(JobFormatError):
        BatchPayload.from_bytes(data[:-cut])
    with pytest.raises(JobFormatError):
        BatchPayload.from_bytes(data + bytes(cut))


def test_the_stored_history_replays_forced_transactions_included(sealed) -> None:
    storage, genesis = sealed
    result = replay(storage, RuntimeExecutor(genesis))
    last = storage.last_entry()
    assert result.entries == last.seq + 1 and result.running_hash == last.running_hash
