"""The batch contracts on anvil against the real runtime: L1 deposits and a forced transaction
queued → the runtime runs the batch over them against the state tree → the contract rebuilds
the exact public output bytes the kernel published from what is committed → prove (test
verifier) → execute → the L2 withdrawal is claimed on L1, once."""

from __future__ import annotations

import random

import pytest
from solders.keypair import Keypair
from web3 import Web3
from web3.exceptions import ContractLogicError
from web3.logs import DISCARD

from heliostat.runtime.interface import Deposit, ForcedTransaction
from heliostat.runtime.runtime import Runtime
from heliostat.runtime.sample_batch import sample_batch, sample_world
from heliostat.runtime.state_tree import AccountValue, MembershipProof, StateTree, prove
from heliostat.settlement import rollup
from heliostat.settlement.rollup import StoredBatch

GWEI = 10**9
DEADLINE_S = 600


@pytest.fixture(scope="module")
def deployed(w3: Web3):
    genesis = sample_world().tree().root()  # the sample's accounts, as the kernel's tree
    contract, verifier = rollup.deploy_with_test_verifier(
        w3, genesis_root=genesis, deadline_s=DEADLINE_S
    )
    admin = w3.eth.accounts[0]
    contract.functions.setSequencer(admin, True).transact({"from": admin})
    contract.functions.setOperator(admin, True).transact({"from": admin})
    return contract, verifier


def _send(w3: Web3, fn, **tx) -> dict:
    receipt = w3.eth.wait_for_transaction_receipt(fn.transact({"from": w3.eth.accounts[0], **tx}))
    assert receipt["status"] == 1
    return receipt


def test_a_runtime_batch_settles_and_its_withdrawal_is_claimed_once(w3: Web3, deployed) -> None:
    contract, verifier = deployed
    world = sample_world()
    tree = world.tree()
    batch = sample_batch(world, old_root=tree.root())

    # L1: queue the batch's priority operations, in order (their ids are the L1 indices)
    for op in batch.priority_operations:
        if isinstance(op, Deposit):
            fn = contract.functions.depositETH(bytes(op.recipient))
            receipt = _send(w3, fn, value=op.lamports * GWEI)
            (event,) = contract.events.DepositQueued().process_receipt(receipt, errors=DISCARD)
            assert event["args"]["lamports"] == op.lamports
        else:
            assert isinstance(op, ForcedTransaction)
            receipt = _send(w3, contract.functions.forceTransaction(op.transaction))
            (event,) = contract.events.ForcedTransactionQueued().process_receipt(
                receipt, errors=DISCARD
            )
        assert event["args"]["id"] == op.l1_index

    # L2: the runtime runs the batch (deposits credited, transfers, a bridge withdrawal)
    output = Runtime().execute_batch(batch, world.state, tree=tree).public_output
    assert output.withdrawals and output.priority_count == len(batch.priority_operations)

    # commit: the contract rebuilds the public output from the committed data
    timestamp = w3.eth.get_block("latest")["timestamp"]
    previous = rollup.genesis(tree.root())
    commit = contract.functions.commitBatch(
        previous.as_tuple(), rollup.commit_input(output, timestamp)
    )
    stored = StoredBatch.from_tuple(commit.call({"from": w3.eth.accounts[0]}))
    assert stored.output_hash == rollup.output_hash(output)
    assert stored.withdrawals_root == rollup.withdrawals_root(output.withdrawals)
    _send(w3, commit)

    # prove (the test verifier accepts the output hash it is given) and execute
    _send(w3, verifier.functions.setProven(stored.output_hash))
    _send(w3, contract.functions.proveBatch(stored.as_tuple(), b"proof"))
    _send(w3, contract.functions.executeBatch(stored.as_tuple()))
    assert contract.functions.lastExecutedRoot().call() == output.new_root
    assert contract.functions.executedOps().call() == output.priority_count

    # L1: claim the withdrawal with a Merkle proof, exactly once
    (withdrawal,) = output.withdrawals
    recipient = Web3.to_checksum_address(withdrawal.recipient)
    before = w3.eth.get_balance(recipient)
    proof = rollup.withdrawal_proof(output.withdrawals, 0)
    w = (bytes(withdrawal.sender), recipient, withdrawal.lamports)
    _send(w3, contract.functions.claimWithdrawal(1, 0, w, proof))
    assert w3.eth.get_balance(recipient) - before == withdrawal.lamports * GWEI
    with pytest.raises(ContractLogicError, match="withdrawal already claimed"):
        contract.functions.claimWithdrawal(1, 0, w, proof).call({"from": w3.eth.accounts[0]})


def test_an_ignored_forced_transaction_leads_to_escape_mode(w3: Web3) -> None:
    """The sequencer ignores a forced transaction; past its deadline anyone switches the
    rollup to escape mode, batches stop and an L2 account withdraws its lamports once, with a
    Poseidon2 membership proof against the last executed state root and its key's ed25519
    authorisation of the recipient."""
    rng = random.Random(5)
    keypairs = [Keypair.from_seed(rng.randbytes(32)) for _ in range(4)]
    accounts = {bytes(k.pubkey()): AccountValue(rng.randrange(1, 10**9)) for k in keypairs}
    tree = StateTree.from_accounts(accounts)
    contract, _ = rollup.deploy_with_test_verifier(
        w3, genesis_root=tree.root(), deadline_s=DEADLINE_S, state_tree=True
    )
    user = w3.eth.accounts[3]
    _send(w3, contract.functions.depositETH(bytes(32)), value=10**18)  # the bridge's funds
    contract.functions.forceTransaction(b"\x01" * 100).transact({"from": user})
    with pytest.raises(ContractLogicError, match="no priority operation is overdue"):
        contract.functions.activateEscapeMode().call({"from": user})
    w3.provider.make_request("evm_increaseTime", [DEADLINE_S + 1])
    w3.provider.make_request("evm_mine", [])
    receipt = _send(w3, contract.functions.activateEscapeMode())
    assert contract.events.EscapeModeActivated().process_receipt(receipt)
    with pytest.raises(ContractLogicError, match="escape mode"):
        contract.functions.depositETH(bytes(32)).call({"from": user, "value": GWEI})

    keypair = keypairs[0]
    value = accounts[bytes(keypair.pubkey())]
    proof = prove(tree, bytes(keypair.pubkey()))
    assert isinstance(proof, MembershipProof)
    recipient = w3.eth.accounts[4]
    more = rollup.escape_withdraw_call(contract, keypair, value.lamports + 1, recipient, proof)
    with pytest.raises(ContractLogicError, match="invalid account proof"):
        more.call({"from": user})  # signed, but not what the state tree holds
    before = w3.eth.get_balance(recipient)
    escape = rollup.escape_withdraw_call(contract, keypair, value.lamports, recipient, proof)
    _send(w3, escape)  # sent by anyone: the signature fixes the recipient
    assert w3.eth.get_balance(recipient) - before == value.lamports * GWEI
    with pytest.raises(ContractLogicError, match="escape withdrawal already made"):
        escape.call({"from": user})
