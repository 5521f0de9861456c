"""`PendingStateExecutor`, the node's view: effects kept, simulations discarded, duplicates."""

from __future__ import annotations

import pytest
from solders.hash import Hash
from solders.pubkey import Pubkey
from solders.transaction import VersionedTransaction

from heliostat.runtime.executor import PendingStateExecutor
from heliostat.runtime.interface import BlockContext
from heliostat.runtime.sample_batch import SOL, sample_world


@pytest.fixture
def setup():
    world = sample_world(3)
    executor = PendingStateExecutor(genesis=list(world.state.accounts.items()))
    executor.begin_slot(BlockContext(5, 1_700_000_000, frozenset([world.blockhash])))
    return world, executor


def vtx(raw: bytes) -> VersionedTransaction:
    return VersionedTransaction.from_bytes(raw)


def test_execute_keeps_effects_and_refuses_duplicates(setup) -> None:
    world, ex = setup
    alice, bob = world.users[0], world.users[1]
    before = ex.get_account(bob.pubkey()).lamports
    root = ex.state_root()
    tx = vtx(world.sol_transfer(alice, bob.pubkey(), SOL))
    outcome = ex.execute(tx, require_success=True)
    assert outcome.succeeded and outcome.included and outcome.fee == 5000
    assert ex.get_account(bob.pubkey()).lamports == before + SOL
    assert ex.state_root() != root
    again = ex.execute(tx, require_success=False)
    assert again.err == "AlreadyProcessed" and not again.included


def test_simulate_and_require_success_change_nothing(setup) -> None:
    world, ex = setup
    alice = world.users[0]
    root = ex.state_root()
    sim = ex.simulate(
        vtx(world.sol_transfer(alice, Pubkey(bytes([7] * 32)), SOL)), verify_signatures=False
    )
    assert sim.succeeded and ex.state_root() == root
    failing = vtx(world.spl_transfer(alice, world.users[1], 10**12))
    refused = ex.execute(failing, require_success=True)
    assert refused.err == {"InstructionError": [0, {"Custom": 1}]}
    assert not refused.included and ex.state_root() == root
    kept = ex.execute(failing, require_success=False)
    assert kept.included and ex.state_root() != root  # the fee was charged


def test_credit_and_blockhash(setup) -> None:
    world, ex = setup
    key = Pubkey(bytes([8] * 32))
    assert ex.credit(key, 5 * SOL).lamports == 5 * SOL
    assert ex.get_account(key).lamports == 5 * SOL
    ex.begin_slot(BlockContext(6, 1_700_000_001, frozenset([Hash(bytes([1] * 32))])))
    stale = ex.execute(vtx(world.sol_transfer(world.users[0], key, 1)), require_success=False)
    assert stale.err == "BlockhashNotFound"
    assert ex.minimum_balance_for_rent_exemption(0) == 128 * 6960


def test_state_root_is_the_trees_and_the_layout_restores(setup) -> None:
    from heliostat.runtime.state_tree import StateTree

    world, ex = setup
    fresh = Pubkey(bytes([9] * 32))
    ex.execute(vtx(world.sol_transfer(world.users[0], fresh, SOL)), require_success=True)
    root = ex.state_root()
    assert root == StateTree.from_leaves(ex.tree_leaves()).root()
    other = PendingStateExecutor(ex.runtime)
    other.restore_layout(ex.tree_leaves())
    assert other.state_root() == root
    assert other.get_account(fresh).lamports == SOL


def test_transaction_error_json_round_trip() -> None:
    from heliostat.runtime.transaction_error import VARIANTS, TransactionError
    from heliostat.svm.instruction_error import InstructionError, InstructionErrorKind

    errors = [TransactionError.instruction(2, InstructionError.custom(7))]
    errors += [TransactionError.instruction(0, InstructionError(k))
               for k in InstructionErrorKind if k is not InstructionErrorKind.CUSTOM]  # fmt: skip
    for name, _ in VARIANTS:
        if name in ("DuplicateInstruction", "InsufficientFundsForRent",
                    "ProgramExecutionTemporarilyRestricted"):  # fmt: skip
            errors.append(TransactionError(name, 3))
        elif name != "InstructionError":
            errors.append(TransactionError(name))
    for error in errors:
        assert TransactionError.from_json(error.to_json()) == error
    with pytest.raises(ValueError):
        TransactionError.from_json({"InstructionError": [0, "NoSuchError"]})
