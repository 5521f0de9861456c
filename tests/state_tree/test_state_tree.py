"""The Python state tree: its encoding against first principles, the tree against a naive
model under Hypothesis sequences of batches, and single-key proofs (honest and tampered)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from state_tree_helpers import MAX_KEY, apply_to_model, changes, datas, key, naive_root, values

from heliostat.primitives.poseidon2 import P
from heliostat.primitives.poseidon2 import compress as reference_compress
from heliostat.runtime import state_witness as sw
from heliostat.runtime.state_tree import (
    EMPTY_SUBTREE,
    ZERO_DIGEST,
    ZERO_KEY,
    AbsenceProof,
    AccountValue,
    MembershipProof,
    ProofError,
    StateTree,
    StateTreeError,
    data_hash,
    data_hashes,
    leaf_hash,
    leaf_hash_of_header,
    leaf_hashes,
    leaf_header,
    pack30,
    pack30_rows,
    prove,
    verify_proof,
)

# ---------------------------------------------------------------------------------------------
# Encoding


@given(st.binary(min_size=30, max_size=30))
def test_pack30_reads_30_bit_little_endian_limbs(block):
    bits = "".join(f"{b:08b}"[::-1] for b in block)  # bit i of the 240-bit integer
    expected = tuple(int(bits[30 * j : 30 * j + 30][::-1], 2) for j in range(8))
    assert pack30(block) == expected
    assert all(limb < P for limb in expected)


@given(st.lists(st.binary(min_size=30, max_size=30), min_size=1, max_size=8))
def test_pack30_rows_matches_pack30(blocks):
    rows = pack30_rows(np.frombuffer(b"".join(blocks), dtype=np.uint8).reshape(-1, 30))
    assert [tuple(int(x) for x in row) for row in rows] == [pack30(b) for b in blocks]


def chain(start, blocks):
    h = start
    for block in blocks:
        h = reference_compress(h, block)
    return h


def first_principles_data_hash(data: bytes):
    """docs/state.md with the reference permutation: the length-tagged chain over 30-byte
    blocks, the last one zero-padded."""
    if not data:
        return ZERO_DIGEST
    n = len(data)
    padded = data + bytes(-n % 30)
    blocks = [pack30(padded[i : i + 30]) for i in range(0, len(padded), 30)]
    return chain((n % 2**30, n >> 30, 0x44415441, 0, 0, 0, 0, 0), blocks)


@pytest.mark.parametrize("length", [0, 1, 29, 30, 31, 120, 121])
def test_data_hash_from_first_principles(length):
    data = bytes((7 * i + 3) % 256 for i in range(length))
    assert data_hash(data) == first_principles_data_hash(data)


def test_leaf_hash_from_first_principles():
    value = AccountValue(10**9 + 7, key(3), True, 2**64 - 1, b"token account bytes" * 9)
    header = (
        key(5) + key(9) + key(3) + (10**9 + 7).to_bytes(8, "little") + b"\xff" * 8
        + len(value.data).to_bytes(4, "little") + bytes([1, 1, 0, 0])
    )  # fmt: skip
    assert leaf_header(key(5), key(9), value) == header
    blocks = [pack30(header[i : i + 30]) for i in range(0, 120, 30)]
    h = reference_compress(blocks[0], blocks[1])
    expected = chain(h, [blocks[2], blocks[3], first_principles_data_hash(value.data)])
    assert leaf_hash(key(5), key(9), value) == expected


def test_empty_subtrees_from_first_principles():
    h = ZERO_DIGEST
    for level in range(4):
        assert EMPTY_SUBTREE[level] == h
        h = reference_compress(h, h)


@given(st.lists(datas, min_size=1, max_size=6))
def test_bulk_data_hashes_match(items):
    got = data_hashes(items)
    assert [tuple(int(x) for x in row) for row in got] == [data_hash(d) for d in items]


@given(
    st.lists(
        st.tuples(values, st.sampled_from([ZERO_KEY, key(2), MAX_KEY])), min_size=1, max_size=5
    )
)
def test_bulk_leaf_hashes_match(items):
    headers = [leaf_header(key(1), nxt, v) for v, nxt in items]
    got = leaf_hashes(headers, data_hashes([v.data for v, _ in items]))
    expected = [
        leaf_hash_of_header(h, data_hash(v.data)) for h, (v, _) in zip(headers, items, strict=True)
    ]
    assert [tuple(int(x) for x in row) for row in got] == expected


def test_account_value_refuses_what_the_leaf_cannot_hold():
    with pytest.raises(StateTreeError):
        AccountValue(2**64)
    with pytest.raises(StateTreeError):
        AccountValue(1, owner=b"short")


# ---------------------------------------------------------------------------------------------
# The tree against a model


@settings(max_examples=15, deadline=None)
@given(st.lists(changes, min_size=1, max_size=4))
def test_tree_follows_the_model(batches):
    tree, model = StateTree(), {ZERO_KEY: AccountValue(0)}
    for batch in batches:
        sw.update(tree, batch)
        apply_to_model(model, batch)
        assert tree.root() == naive_root(tree, model)
        for k in {*batch, *model}:
            expected = model.get(k)
            got = tree.get(k)
            assert got == (None if expected is None or expected.is_default else expected)
            proof = prove(tree, k)
            opened = verify_proof(tree.root(), proof)
            if k in model:
                assert isinstance(proof, MembershipProof) and opened.lamports == expected.lamports
            else:
                assert isinstance(proof, AbsenceProof) and opened is None


def test_genesis_equals_inserting_everything_at_once():
    accounts = {key(n): AccountValue(n + 1, data=bytes([n]) * n) for n in range(1, 60, 3)}
    accounts[MAX_KEY] = AccountValue(5)
    genesis = StateTree.from_accounts(accounts)
    inserted = StateTree()
    sw.update(inserted, accounts)
    assert genesis.root() == inserted.root()
    assert genesis.root() == naive_root(genesis, {ZERO_KEY: AccountValue(0), **accounts})


def test_genesis_of_many_accounts_uses_the_parallel_kernel():
    accounts = {key(n): AccountValue(n + 1) for n in range(3000)}
    tree = StateTree.from_accounts(accounts)
    assert tree.root() == naive_root(tree, {ZERO_KEY: AccountValue(0), **accounts})
    sw.update(tree, {key(5): None, key(4000): AccountValue(9)})
    model = {ZERO_KEY: AccountValue(0), **accounts, key(5): AccountValue(0),
             key(4000): AccountValue(9)}  # fmt: skip
    assert tree.root() == naive_root(tree, model)


def test_deleted_account_is_a_tombstone_and_can_come_back():
    tree = StateTree()
    sw.update(tree, {key(1): AccountValue(5, data=b"x")})
    index = tree.record(key(1)).index
    sw.update(tree, {key(1): None})
    assert tree.get(key(1)) is None and tree.record(key(1)).value.is_default
    assert isinstance(prove(tree, key(1)), MembershipProof)
    sw.update(tree, {key(1): AccountValue(6)})
    assert tree.record(key(1)).index == index and tree.get(key(1)) == AccountValue(6)


def test_unused_reservations_are_reused():
    tree = StateTree()
    witness = sw.make_witness(tree, [key(1), key(2)])
    sw.apply(tree, witness, {key(2): AccountValue(1)})  # key(1) stays absent: slot 1 unused
    assert tree.record(key(2)).index == 2
    sw.update(tree, {key(3): AccountValue(1)})
    assert tree.record(key(3)).index == 1


# ---------------------------------------------------------------------------------------------
# Single-key proofs


@pytest.fixture(scope="module")
def small_tree():
    return StateTree.from_accounts({key(n): AccountValue(100 + n) for n in (10, 20, 30)})


def test_absence_below_the_smallest_and_above_the_largest_key(small_tree):
    below = prove(small_tree, key(1))
    above = prove(small_tree, MAX_KEY)
    assert below.low.leaf.key == ZERO_KEY and below.low.leaf.next_key == key(10)
    assert above.low.leaf.key == key(30) and above.low.leaf.next_key == ZERO_KEY
    assert verify_proof(small_tree.root(), below) is None
    assert verify_proof(small_tree.root(), above) is None


def test_key_zero_is_always_present(small_tree):
    proof = prove(small_tree, ZERO_KEY)
    assert isinstance(proof, MembershipProof) and proof.leaf.index == 0
    assert verify_proof(small_tree.root(), proof).lamports == 0


def test_tampered_membership_proofs_are_rejected(small_tree):
    proof = prove(small_tree, key(20))
    root = small_tree.root()
    richer = dataclasses.replace(proof, leaf=dataclasses.replace(proof.leaf, lamports=10**9))
    moved = dataclasses.replace(proof, leaf=dataclasses.replace(proof.leaf, index=5))
    siblings = list(proof.siblings)
    siblings[3] = (siblings[3][0] ^ 1, *siblings[3][1:])
    wrong_sibling = dataclasses.replace(proof, siblings=tuple(siblings))
    short = dataclasses.replace(proof, siblings=proof.siblings[:-1])
    for bad in (richer, moved, wrong_sibling, short):
        with pytest.raises(ProofError):
            verify_proof(root, bad)
    other_root = StateTree().root()
    with pytest.raises(ProofError):
        verify_proof(other_root, proof)


def test_false_absence_claims_are_rejected(small_tree):
    root = small_tree.root()
    # the honest low leaf of key 20's neighbourhood does not bracket the present key 20
    with pytest.raises(ProofError) as refused:
        verify_proof(root, AbsenceProof(key(20), prove(small_tree, key(10))))
    assert refused.value.reason == "state_false_absence"
    # a low leaf whose next key was stretched over key 20 no longer hashes to the root
    low = prove(small_tree, key(10))
    stretched = dataclasses.replace(low, leaf=dataclasses.replace(low.leaf, next_key=key(30)))
    with pytest.raises(ProofError) as refused:
        verify_proof(root, AbsenceProof(key(20), stretched))
    assert refused.value.reason == "state_root_mismatch"


def test_a_tree_restored_from_its_layout_has_the_same_root():
    tree = StateTree()
    sw.update(tree, {key(9): AccountValue(1), key(3): AccountValue(2, data=b"abc")})
    sw.update(tree, {key(1): AccountValue(3), key(9): None})
    restored = StateTree.from_leaves(tree.leaves())
    assert restored.root() == tree.root()
    # the same accounts placed in key order (a layout-blind restore) give another root
    assert StateTree.from_accounts({k: v for _, k, v in tree.leaves()}).root() != tree.root()
    with pytest.raises(StateTreeError):
        StateTree.from_leaves([(1, ZERO_KEY, AccountValue(0))])
