"""A batch proven by a real STARK on chain: the rollup's StarkBatchVerifier accepts a batch
once the generated verifier has recorded a proof whose public values are the batch's output
hash (sixteen 16-bit limbs), and refuses it before.

The proven machine here is a stand-in for the zkVM (which does not yet expose the output hash
as public values): one table whose first row must equal the sixteen limbs. What is real is the
path: the contract derives the output hash from the committed batch (the runtime's bytes), the
STARK verifier checks a proof of exactly those public values, the rollup reads that fact.
"""

from __future__ import annotations

import numpy as np
import pytest
from web3 import Web3
from web3.exceptions import ContractLogicError

from heliostat.runtime.interface import Deposit
from heliostat.runtime.runtime import Runtime
from heliostat.runtime.sample_batch import sample_batch, sample_world
from heliostat.settlement import rollup
from heliostat.settlement.rollup import StoredBatch
from heliostat.settlement.stark_verifier import OnChainVerifier
from heliostat.settlement.verifier_gen.generator import generate_verifier
from heliostat.stark.air import AirBuilder, compile_machine
from heliostat.stark.config import DEFAULT
from heliostat.stark.prover import prove, setup

LIMBS = 16
GWEI = 10**9


class OutputHashAir:
    """Sixteen columns whose first row is the public values (the output hash's limbs)."""

    name = "output hash"
    width = LIMBS

    def preprocessed_trace(self) -> None:
        return None

    def eval(self, ab: AirBuilder) -> None:
        first = ab.when_first_row()
        for i, column in enumerate(ab.main.local):
            first.assert_eq(column, ab.public(i), f"limb {i}")


def limbs(output_hash: bytes) -> list[int]:
    """The public values StarkBatchVerifier.publicsOf gives: 16-bit limbs, most significant
    first."""
    return [int.from_bytes(output_hash[2 * i : 2 * i + 2], "big") for i in range(LIMBS)]


def _send(w3: Web3, fn, **tx):
    receipt = w3.eth.wait_for_transaction_receipt(fn.transact({"from": w3.eth.accounts[0], **tx}))
    assert receipt["status"] == 1
    return receipt


def test_a_batch_is_proven_by_a_stark_verified_on_chain(w3: Web3) -> None:
    world = sample_world()
    tree = world.tree()
    batch = sample_batch(world, old_root=tree.root())
    output = Runtime().execute_batch(batch, world.state, tree=tree).public_output

    pk = setup(compile_machine([OutputHashAir()], LIMBS), DEFAULT)
    stark = OnChainVerifier.deploy(w3, generate_verifier(pk.vk, "OutputHash"))
    artifacts = rollup.compile_rollup(with_mocks=True)
    batch_verifier = rollup.deploy(w3, artifacts["StarkBatchVerifier"], stark.contract.address)
    accounts = rollup.deploy(w3, artifacts["MockAccountVerifier"])
    contract = rollup.deploy(
        w3, artifacts["HeliostatRollup"], batch_verifier.address, accounts.address, tree.root(), 600
    )
    me = w3.eth.accounts[0]
    _send(w3, contract.functions.setSequencer(me, True))
    _send(w3, contract.functions.setOperator(me, True))
    for op in batch.priority_operations:  # the queue the batch consumes
        if isinstance(op, Deposit):
            _send(w3, contract.functions.depositETH(bytes(op.recipient)), value=op.lamports * GWEI)
        else:
            _send(w3, contract.functions.forceTransaction(op.transaction))

    timestamp = w3.eth.get_block("latest")["timestamp"]
    commit = contract.functions.commitBatch(
        rollup.genesis(tree.root()).as_tuple(), rollup.commit_input(output, timestamp)
    )
    stored = StoredBatch.from_tuple(commit.call({"from": me}))
    _send(w3, commit)
    publics = limbs(stored.output_hash)
    assert batch_verifier.functions.publicsOf(stored.output_hash).call() == publics

    prove_batch = contract.functions.proveBatch(stored.as_tuple(), b"")
    with pytest.raises(ContractLogicError, match="proof rejected"):  # no STARK verified yet
        prove_batch.call({"from": me})

    trace = np.zeros((4, LIMBS), dtype=np.uint32)
    trace[0] = publics
    proof = prove(pk, [trace], publics).to_bytes()
    stark.verify_in_one(proof, publics)  # records the fact on chain
    _send(w3, prove_batch)
    _send(w3, contract.functions.executeBatch(stored.as_tuple()))
    assert contract.functions.totalExecuted().call() == 1
    assert contract.functions.lastExecutedRoot().call() == output.new_root
