"""A batch of mixed transactions run natively: public output, receipts, deposits, withdrawal."""

from __future__ import annotations

import struct

import pytest
from solders.account import Account

from heliostat.runtime.bridge import BRIDGE_VAULT
from heliostat.runtime.errors import ProvingUnavailableError
from heliostat.runtime.hashing import keccak256
from heliostat.runtime.interface import BatchInput, Block, BlockContext, Deposit, ForcedTransaction
from heliostat.runtime.kernel_output import decode_public_output, output_head
from heliostat.runtime.runtime import Runtime
from heliostat.runtime.sample_batch import SOL, keypair, sample_batch, sample_world


@pytest.fixture(scope="module")
def runtime() -> Runtime:
    return Runtime()


@pytest.fixture(scope="module")
def world():
    return sample_world()


@pytest.fixture(scope="module")
def result(runtime, world):
    return runtime.execute_batch(sample_batch(world), world.state)


def priority_hash(ops) -> bytes:
    h = bytes(32)
    for op in ops:
        if isinstance(op, Deposit):
            record = b"\x01" + struct.pack(">Q", op.l1_index) + bytes(op.recipient)
            record += struct.pack(">Q", op.lamports)
        else:
            assert isinstance(op, ForcedTransaction)
            record = b"\x02" + struct.pack(">Q", op.l1_index) + keccak256(op.transaction)
        h = keccak256(h + record)
    return h


def test_every_transaction_has_its_outcome(result, world) -> None:
    outcomes = result.outcomes
    assert len(outcomes) == 1 + 24  # the forced transaction, then the L2 ones
    failed = [o for o in outcomes if not o.succeeded]
    assert len(failed) == 1
    assert failed[0].err == {"InstructionError": [0, {"Custom": 1}]}
    assert failed[0].included and failed[0].fee == 5000
    assert all(o.included for o in outcomes)
    assert sum(o.compute_units > 0 for o in outcomes) == len(outcomes)


def test_public_output(result, world) -> None:
    batch = sample_batch(world)
    out = result.public_output
    assert out.batch_number == 1 and out.old_root == bytes(32)
    assert out.priority_count == 3
    assert out.priority_hash == priority_hash(batch.priority_operations)
    assert decode_public_output(out.encoded) == out
    # the state diff is the final state of every account the batch changed
    state = dict(world.state.accounts)
    changed = {}
    for outcome in result.outcomes:
        changed.update(dict(outcome.changed_accounts))
    deposit_to = keypair(998).pubkey()
    diff = dict(out.state_diff)
    for key, account in changed.items():
        assert diff[key] == account
    assert set(diff) == set(changed) | {deposit_to, world.users[0].pubkey()}
    assert diff[deposit_to] == Account(5 * SOL, b"", state[BRIDGE_VAULT].owner, False, 0)


def test_withdrawal(result, world) -> None:
    (withdrawal,) = result.public_output.withdrawals
    assert withdrawal.sender == world.users[3].pubkey()
    assert withdrawal.recipient == bytes(range(20))
    assert withdrawal.lamports == 2 * SOL
    vault = dict(result.public_output.state_diff)[BRIDGE_VAULT]
    assert vault.lamports == world.state.accounts[BRIDGE_VAULT].lamports + 2 * SOL


def test_tampered_output_is_detected(result) -> None:
    out = result.public_output
    encoded = bytearray(out.encoded)
    diff_start = output_head(out.encoded).diff_start
    encoded[diff_start + 8 + 8 + 64] ^= 1  # the first changed account's lamports
    from heliostat.runtime.errors import KernelOutputError

    with pytest.raises(KernelOutputError, match="state diff hash"):
        decode_public_output(bytes(encoded))


def test_same_batch_same_output(runtime, world, result) -> None:
    again = runtime.execute_batch(sample_batch(world), world.state)
    assert again.public_output.encoded == result.public_output.encoded


def test_proving_is_not_wired_yet(runtime, world) -> None:
    with pytest.raises(ProvingUnavailableError):
        runtime.prove_batch(sample_batch(world), world.state)


def test_a_forced_transaction_must_carry_the_forced_blockhash(runtime, world) -> None:
    """The forced hash keeps L2 transactions from being replayed through L1 (where no
    blockhash window applies) and forced ones from running again as L2 transactions."""
    users = world.users
    plain = world.sol_transfer(users[1], users[2].pubkey(), 7)  # a recent blockhash
    forced = world.sol_transfer(users[1], users[2].pubkey(), 7, forced=True)
    context = BlockContext(10, 1_700_000_000, frozenset([world.blockhash]))
    batch = BatchInput(1, bytes(32), (ForcedTransaction(0, plain),), (Block(context, (forced,)),))
    result = runtime.execute_batch(batch, world.state)
    as_forced, as_l2 = result.outcomes
    for outcome in (as_forced, as_l2):
        assert not outcome.included and outcome.fee == 0
        assert outcome.err == "BlockhashNotFound"
    assert result.public_output.priority_count == 1  # consumed all the same
    assert not result.public_output.state_diff
