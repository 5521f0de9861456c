"""The L1 sender on anvil: nonces across restarts, stuck transactions replaced, reverts; the
batch submitter driving commit, prove and execute across a restart."""

from __future__ import annotations

import threading
import time

import pytest
from eth_account import Account
from web3 import Web3

from heliostat.runtime.interface import Deposit
from heliostat.runtime.runtime import Runtime
from heliostat.runtime.sample_batch import sample_batch, sample_world
from heliostat.settlement import rollup
from heliostat.settlement.batch_submitter import BatchSubmitter
from heliostat.settlement.errors import ChainError
from heliostat.settlement.l1_sender import FeePolicy, L1Sender

GWEI = 10**9


@pytest.fixture
def setup(w3: Web3):
    """A fresh funded key (made here, for this test only) and a rollup it is admin of."""
    signer = Account.create()
    tx = {"from": w3.eth.accounts[0], "to": signer.address, "value": 10**20}
    w3.eth.wait_for_transaction_receipt(w3.eth.send_transaction(tx))
    genesis = sample_world().tree().root()  # the sample batch's accounts
    contract, _ = rollup.deploy_with_test_verifier(w3, genesis_root=genesis, deadline_s=600)
    contract.functions.setAdmin(signer.address).transact({"from": w3.eth.accounts[0]})
    return signer, contract


def _automine(w3: Web3, on: bool) -> None:
    w3.provider.make_request("evm_setAutomine", [on])


def test_sends_and_continues_after_a_restart(w3: Web3, setup) -> None:
    signer, contract = setup
    sender = L1Sender(w3, signer)
    first = sender.send(contract.functions.setOperator(w3.eth.accounts[5], True))
    assert first.receipt["status"] == 1 and contract.functions.isOperator(w3.eth.accounts[5]).call()
    _automine(w3, False)
    try:
        queued = sender.submit(contract.functions.setOperator(w3.eth.accounts[6], True))
        restarted = L1Sender(w3, signer)  # a new process: only the chain knows the nonce
        later = restarted.submit(contract.functions.setSequencer(w3.eth.accounts[6], True))
        assert later.nonce == queued.nonce + 1 == first.nonce + 2
    finally:
        _automine(w3, True)
    w3.provider.make_request("evm_mine", [])
    assert contract.functions.isSequencer(w3.eth.accounts[6]).call()
    assert contract.functions.isOperator(w3.eth.accounts[6]).call()


def test_a_stuck_transaction_is_replaced_with_higher_fees(w3: Web3, setup) -> None:
    signer, contract = setup
    sender = L1Sender(w3, signer, FeePolicy(stuck_after_s=0.3, timeout_s=30), poll_s=0.05)
    _automine(w3, False)
    result = {}

    def run() -> None:
        result["sent"] = sender.send(contract.functions.setOperator(w3.eth.accounts[7], True))

    worker = threading.Thread(target=run)
    worker.start()
    try:
        time.sleep(1.2)  # no block: the sender bumps the fees and sends again
    finally:
        _automine(w3, True)
    w3.provider.make_request("evm_mine", [])
    worker.join(timeout=30)
    sent = result["sent"]
    assert len(sent.hashes) >= 2
    assert bytes(sent.receipt["transactionHash"]) in sent.hashes
    tx = w3.eth.get_transaction(sent.receipt["transactionHash"])
    assert tx["nonce"] == sent.nonce
    assert w3.eth.get_transaction_count(signer.address) == sent.nonce + 1  # mined once


def test_a_reverting_call_is_reported_before_sending(w3: Web3, setup) -> None:
    signer, contract = setup
    sender = L1Sender(w3, signer)
    nonce = sender.next_nonce()
    with pytest.raises(ChainError, match="caller is not an operator"):
        sender.send(contract.functions.revertBatches(0))
    assert sender.next_nonce() == nonce


def test_the_submitter_drives_a_batch_and_survives_a_restart(w3: Web3, setup) -> None:
    """Commit with one submitter, then a new one (a restarted node) proves and executes."""
    signer, contract = setup
    sender = L1Sender(w3, signer)
    sender.send(contract.functions.setSequencer(signer.address, True))
    sender.send(contract.functions.setOperator(signer.address, True))
    world = sample_world()
    tree = world.tree()
    batch = sample_batch(world, old_root=tree.root())
    for op in batch.priority_operations:
        if isinstance(op, Deposit):
            sender.send(
                contract.functions.depositETH(bytes(op.recipient)), value=op.lamports * GWEI
            )
        else:
            sender.send(contract.functions.forceTransaction(op.transaction))
    output = Runtime().execute_batch(batch, world.state, tree=tree).public_output
    outputs = {1: output}
    first = BatchSubmitter(sender, contract, tree.root())
    assert first.step(outputs, {}) == "committed 1"
    assert first.step(outputs, {}) == ""  # no proof yet: nothing to do
    verifier = w3.eth.contract(
        address=contract.functions.VERIFIER().call(),
        abi=rollup.compile_rollup(with_mocks=True)["MockBatchVerifier"].abi,
    )
    verifier.functions.setProven(rollup.output_hash(output)).transact({"from": w3.eth.accounts[0]})
    restarted = BatchSubmitter(L1Sender(w3, signer), contract, tree.root())
    assert restarted.step(outputs, {1: b"proof"}) == "proved 1"
    assert restarted.step(outputs, {1: b"proof"}) == "executed 1"
    assert restarted.step(outputs, {1: b"proof"}) == ""
    assert restarted.totals() == (1, 1, 1)
