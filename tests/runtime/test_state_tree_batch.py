"""Batches checked against the state tree: the kernel verifies every account it reads against
the old root and publishes the new root; a tampered witness stops the batch."""

from __future__ import annotations

import dataclasses

import pytest

from heliostat.runtime import state_witness
from heliostat.runtime.errors import KernelFaultError
from heliostat.runtime.runtime import Runtime, TreeState
from heliostat.runtime.sample_batch import sample_batch, sample_world
from heliostat.runtime.state_tree import AccountValue, StateTree


@pytest.fixture(scope="module")
def setup():
    world = sample_world(6)
    tree = StateTree.from_accounts(world.state.accounts)
    batch = sample_batch(world, 8, batch_number=7)
    batch = dataclasses.replace(batch, old_root=tree.root())
    return Runtime(), world, tree, batch


def test_new_root_matches_the_tree(setup) -> None:
    runtime, world, tree, batch = setup
    result = runtime.execute_batch(batch, world.state, tree=tree)
    plain = runtime.execute_batch(batch, world.state)
    assert result.outcomes == plain.outcomes
    out = result.public_output
    assert out.old_root == tree.root() and out.new_root != bytes(32)
    changes = {bytes(key): AccountValue.of(account) for key, account in out.state_diff}
    expected = state_witness.update(StateTree.from_leaves(tree.leaves()), changes)
    assert out.new_root == expected
    assert all(leaf < 2**32 for leaf in out.state_diff_leaves)
    assert plain.public_output.new_root == bytes(32)


@pytest.mark.parametrize("trace", [False, True], ids=["native", "proving"])
def test_tampered_witness_fails(setup, trace: bool) -> None:
    runtime, _world, tree, batch = setup
    kin = runtime.batch_input(batch, TreeState(tree), tree=tree)
    assert kin.state_witness is not None
    witness = state_witness.decode(kin.state_witness)
    # the first present account with lamports: give it one more in the witness
    position = next(
        i for i, r in enumerate(witness.records)
        if isinstance(r, state_witness.PresentRecord) and r.lamports
    )  # fmt: skip
    record = witness.records[position]
    forged = dataclasses.replace(record, lamports=record.lamports + 1)
    records = list(witness.records)
    records[position] = forged
    tampered = dataclasses.replace(witness, records=tuple(records)).encode()
    assert tampered != kin.state_witness
    with pytest.raises(KernelFaultError, match="does not match the old root"):
        runtime.run(dataclasses.replace(kin, state_witness=tampered), trace=trace)
