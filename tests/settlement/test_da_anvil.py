"""Chunked data availability on anvil with a real runtime batch: a transaction creates an
account with 200 KB of data, so the batch's state diff needs three 96 KiB chunks; the batch
submitter posts them (one transaction each, under the 128 KB transaction limit), commits
naming them, then proves (test verifier) and executes it. The state diff is rebuilt from the
chunks' calldata alone; an output with signature checks off cannot be committed; the
contract's parameters hash is the production runtime's."""

from __future__ import annotations

import dataclasses
import functools

import pytest
from eth_account import Account as EthAccount
from solders.keypair import Keypair
from solders.system_program import CreateAccountParams, create_account
from web3 import Web3
from web3.exceptions import ContractLogicError

from heliostat.runtime.genesis import SYSTEM_PROGRAM_ID
from heliostat.runtime.hashing import keccak256
from heliostat.runtime.interface import BatchInput, Block, BlockContext
from heliostat.runtime.kernel_output import (
    DIFF_CHUNK_BYTES,
    DIGEST_BYTES,
    KERNEL_FLAG_STATE_TREE,
    decode_public_output,
    output_head,
    state_diff_hash,
)
from heliostat.runtime.proving import production_params_hash
from heliostat.runtime.runtime import Runtime
from heliostat.runtime.sample_batch import SOL, sample_world
from heliostat.settlement import rollup
from heliostat.settlement.batch_submitter import BatchSubmitter
from heliostat.settlement.l1_sender import L1Sender

DATA_BYTES = 200_000
MAX_TX_CALLDATA = 128 * 1024


@functools.cache
def _genesis_root() -> bytes:
    """The state root of _large_diff_batch's accounts (the rollup's genesis here)."""
    return sample_world(2).tree().root()


def _large_diff_batch(*, verify_signatures: bool = True):
    world = sample_world(2)
    payer, new = world.users[0], Keypair.from_seed(bytes([7] * 32))
    params = CreateAccountParams(
        from_pubkey=payer.pubkey(), to_pubkey=new.pubkey(), lamports=2 * SOL,
        space=DATA_BYTES, owner=SYSTEM_PROGRAM_ID,
    )  # fmt: skip
    tx = world.tx(payer, [create_account(params)], new)
    context = BlockContext(10, 1_700_000_000, frozenset([world.blockhash]))
    tree = world.tree()
    batch = BatchInput(1, _genesis_root(), (), (Block(context, (tx,)),))
    runtime = Runtime()
    if verify_signatures:
        result = runtime.execute_batch(batch, world.state, tree=tree)
        assert all(o.included and o.error is None for o in result.outcomes)
        return result.public_output
    kin = runtime.batch_input(batch, world.state, tree=tree)
    kin = dataclasses.replace(kin, verify_signatures=False)
    return decode_public_output(runtime.run(kin).published)  # the kernel's test mode


@pytest.fixture(scope="module")
def deployed(w3: Web3):
    signer = EthAccount.create()
    tx = {"from": w3.eth.accounts[0], "to": signer.address, "value": 10**20}
    w3.eth.wait_for_transaction_receipt(w3.eth.send_transaction(tx))
    contract, verifier = rollup.deploy_with_test_verifier(
        w3, genesis_root=_genesis_root(), deadline_s=600
    )
    admin = w3.eth.accounts[0]
    for fn in (contract.functions.setSequencer, contract.functions.setOperator):
        fn(signer.address, True).transact({"from": admin})
    return signer, contract, verifier


def test_the_contract_requires_the_runtimes_production_parameters(deployed) -> None:
    _, contract, _ = deployed
    assert bytes(contract.functions.RUNTIME_PARAMS_HASH().call()) == production_params_hash()
    assert contract.functions.DIFF_CHUNK_BYTES().call() == DIFF_CHUNK_BYTES
    assert output_head(_large_diff_batch().encoded).params_hash == production_params_hash()


def test_a_batch_whose_diff_needs_three_chunks_settles(w3: Web3, deployed) -> None:
    signer, contract, verifier = deployed
    output = _large_diff_batch()
    diff = rollup.state_diff_bytes(output)
    chunks = rollup.state_diff_chunks(output)
    assert len(diff) > 2 * DIFF_CHUNK_BYTES and len(chunks) == 3 and rollup.is_chunked(output)
    assert output.state_diff_hash == state_diff_hash(diff)

    submitter = BatchSubmitter(L1Sender(w3, signer), contract, _genesis_root())
    start = w3.eth.block_number
    assert submitter.step({1: output}, {}) == "committed 1"
    stored = submitter.stored(1)
    assert stored.output_hash == rollup.output_hash(output)

    # every chunk went in its own transaction below the limit; they rebuild the diff alone
    posted = contract.events.DiffChunkPosted().get_logs(from_block=start)
    assert [log["args"]["index"] for log in posted] == [0, 1, 2]
    rebuilt = b""
    for log in posted:
        tx = w3.eth.get_transaction(log["transactionHash"])
        assert len(bytes(tx["input"])) < MAX_TX_CALLDATA
        _, args = contract.decode_function_input(tx["input"])
        assert args["number"] == 1 and bytes(args["chunk"]) == chunks[args["index"]]
        rebuilt += bytes(args["chunk"])
    assert rebuilt == diff
    (committed,) = contract.events.StateDiffCommitted().get_logs(from_block=start)
    assert bytes(committed["args"]["diffHash"]) == output.state_diff_hash

    # a chunk of a committed batch cannot be replaced
    with pytest.raises(ContractLogicError, match="batch already committed"):
        contract.functions.postDiffChunk(1, 0, b"other").call({"from": signer.address})

    me = w3.eth.accounts[0]
    verifier.functions.setProven(stored.output_hash).transact({"from": me})
    assert submitter.step({1: output}, {1: b"proof"}) == "proved 1"
    assert submitter.step({1: output}, {1: b"proof"}) == "executed 1"
    assert contract.functions.totalExecuted().call() == 1


def test_an_output_with_signature_checks_off_is_not_committed(w3: Web3, deployed) -> None:
    signer, contract, _ = deployed
    output = _large_diff_batch(verify_signatures=False)
    number = int(contract.functions.totalCommitted().call()) + 1
    encoded = bytearray(output.encoded)
    # the next batch, as a prover would claim (and the digest of that head)
    encoded[DIGEST_BYTES + 8 : DIGEST_BYTES + 16] = number.to_bytes(8, "little")
    encoded[:DIGEST_BYTES] = keccak256(output_head(bytes(encoded)).head(bytes(encoded)))
    assert output_head(output.encoded).kernel_flags == KERNEL_FLAG_STATE_TREE  # no signatures
    output = decode_public_output(bytes(encoded))
    sender = L1Sender(w3, signer)
    for post in rollup.post_chunk_calls(contract, output):
        sender.send(post)
    previous = BatchSubmitter(sender, contract, _genesis_root()).stored(number - 1)
    timestamp = int(w3.eth.get_block("latest")["timestamp"])
    commit = contract.functions.commitBatch(
        previous.as_tuple(), rollup.commit_input(output, timestamp)
    )
    with pytest.raises(ContractLogicError, match="signature checks off"):
        commit.call({"from": signer.address})
