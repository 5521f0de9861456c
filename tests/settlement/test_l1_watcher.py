"""The L1 watcher on anvil: confirmations, and reorgs of blocks holding deposits."""

from __future__ import annotations

import pytest
from solders.pubkey import Pubkey
from web3 import Web3

from heliostat.runtime.interface import Deposit, ForcedTransaction
from heliostat.settlement import rollup
from heliostat.settlement.l1_watcher import L1Watcher

GWEI = 10**9
FORCED = b"\x01" + b"\x02" * 80  # one signature, then a message: what L1 requires


@pytest.fixture
def queue(w3: Web3):
    """A fresh rollup (its queue starts empty) and the block it was deployed in."""
    contract, _ = rollup.deploy_with_test_verifier(w3, deadline_s=600)
    return contract, int(w3.eth.block_number)


def _deposit(w3: Web3, contract, recipient: bytes, lamports: int) -> None:
    tx = contract.functions.depositETH(recipient).transact(
        {"from": w3.eth.accounts[1], "value": lamports * GWEI}
    )
    w3.eth.wait_for_transaction_receipt(tx)


def _mine(w3: Web3, blocks: int) -> None:
    for _ in range(blocks):
        w3.provider.make_request("evm_mine", [])


def test_operations_are_read_once_confirmed(w3: Web3, queue) -> None:
    contract, start = queue
    watcher = L1Watcher(w3, contract, confirmations=3, start_block=start)
    _deposit(w3, contract, b"\x01" * 32, 5)
    tx = contract.functions.forceTransaction(FORCED).transact({"from": w3.eth.accounts[1]})
    w3.eth.wait_for_transaction_receipt(tx)
    assert watcher.poll().confirmed == []
    _mine(w3, 3)
    got = [o.operation for o in watcher.poll().confirmed]
    assert got == [Deposit(0, Pubkey(b"\x01" * 32), 5), ForcedTransaction(1, FORCED)]
    _mine(w3, 2)
    assert watcher.poll().confirmed == []  # nothing is delivered twice


def test_a_reorg_within_the_confirmations_is_never_seen(w3: Web3, queue) -> None:
    contract, start = queue
    watcher = L1Watcher(w3, contract, confirmations=3, start_block=start)
    snapshot = w3.provider.make_request("evm_snapshot", [])["result"]
    _deposit(w3, contract, b"\xaa" * 32, 7)  # this block is reorged away
    assert watcher.poll().confirmed == []
    assert w3.provider.make_request("evm_revert", [snapshot])["result"]
    _deposit(w3, contract, b"\xbb" * 32, 9)
    _mine(w3, 3)
    result = watcher.poll()
    assert result.retracted == []
    assert [o.operation for o in result.confirmed] == [Deposit(0, Pubkey(b"\xbb" * 32), 9)]


def test_a_deeper_reorg_retracts_the_deposit(w3: Web3, queue) -> None:
    contract, start = queue
    watcher = L1Watcher(w3, contract, confirmations=1, start_block=start)
    snapshot = w3.provider.make_request("evm_snapshot", [])["result"]
    _deposit(w3, contract, b"\xaa" * 32, 7)
    _mine(w3, 1)
    (first,) = watcher.poll().confirmed
    assert first.operation == Deposit(0, Pubkey(b"\xaa" * 32), 7)
    assert w3.provider.make_request("evm_revert", [snapshot])["result"]
    _deposit(w3, contract, b"\xbb" * 32, 9)
    _mine(w3, 2)
    result = watcher.poll()
    assert result.retracted == [0]
    assert [o.operation for o in result.confirmed] == [Deposit(0, Pubkey(b"\xbb" * 32), 9)]
    assert result.confirmed[0].block_hash != first.block_hash
