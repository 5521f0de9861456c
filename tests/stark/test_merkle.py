"""Merkle trees and multi-openings: roots against a recursive reference, and rejections."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from heliostat.stark import field as bf
from heliostat.stark.keccak import hash_rows, keccak256
from heliostat.stark.kernel_errors import MerkleProofError, ShapeError
from heliostat.stark.merkle import (
    MatrixCommitment,
    MerkleMultiProof,
    MerkleTree,
    verify_matrix_opening,
    verify_multi_opening,
)


def row_bytes(row) -> bytes:
    return b"".join(int(x).to_bytes(4, "big") for x in row)


def reference_root(matrices) -> bytes:
    """The mixed-height rule written recursively from the spec in merkle.py's docstring."""
    log_max = max(m.shape[0] for m in matrices).bit_length() - 1
    order = sorted(range(len(matrices)), key=lambda j: -matrices[j].shape[0])

    def rows_at(level, i):
        group = [matrices[j] for j in order if matrices[j].shape[0] == 1 << level]
        return b"".join(row_bytes(m[i]) for m in group) if group else None

    def node(level, i):
        if level == log_max:
            return keccak256(rows_at(level, i))
        digest = keccak256(node(level + 1, 2 * i) + node(level + 1, 2 * i + 1))
        injected = rows_at(level, i)
        return digest if injected is None else keccak256(digest + keccak256(injected))

    return node(0, 0)


def opened_lists(opening):
    return [r.tolist() for r in opening.rows]


@pytest.mark.parametrize("log_n", [0, 1, 2, 5])
def test_single_matrix_root_and_plain_tree(log_n):
    m = bf.random_elements(np.random.default_rng(log_n), (1 << log_n, 7))
    commitment = MatrixCommitment.commit([m])
    assert commitment.root == reference_root([m])
    tree = MerkleTree.from_leaves(hash_rows(m))
    assert tree.root == commitment.root and tree.log_n == log_n


def test_mixed_heights_root_matches_reference():
    rng = np.random.default_rng(1)
    mats = [bf.random_elements(rng, shape) for shape in [(8, 2), (32, 3), (1, 4), (32, 1), (8, 5)]]
    commitment = MatrixCommitment.commit(mats)
    assert commitment.root == reference_root(mats)
    assert commitment.log_max_height == 5
    assert commitment.dims == [(3, 2), (5, 3), (0, 4), (5, 1), (3, 5)]


@given(st.integers(0, 2**32 - 1), st.lists(st.integers(0, 63), min_size=1, max_size=12))
def test_multi_openings_verify(seed, indices):
    rng = np.random.default_rng(seed)
    mats = [bf.random_elements(rng, (64, 3)), bf.random_elements(rng, (16, 2))]
    commitment = MatrixCommitment.commit(mats)
    opening = commitment.open(indices)
    assert opening.indices == tuple(indices)
    assert opening.rows[1].tolist() == [mats[1][i >> 2].tolist() for i in indices]
    rows = opened_lists(opening)
    verify_matrix_opening(commitment.root, commitment.dims, indices, rows, opening.proof)


def test_siblings_are_deduplicated():
    m = bf.random_elements(np.random.default_rng(2), (16, 1))
    tree = MerkleTree.from_leaves(hash_rows(m))
    assert len(tree.open([5]).siblings) == 4
    assert len(tree.open([4, 5]).siblings) == 3  # 4 and 5 are each other's sibling
    assert len(tree.open([5, 5, 5]).siblings) == 4
    assert len(tree.open(list(range(16))).siblings) == 0
    assert len(tree.open([0, 15]).siblings) == 6  # disjoint paths share only the root


def test_plain_tree_opening():
    m = bf.random_elements(np.random.default_rng(3), (32, 4))
    leaves = hash_rows(m)
    tree = MerkleTree.from_leaves(leaves)
    idx = [3, 17, 18, 3]
    proof = tree.open(idx)
    verify_multi_opening(tree.root, 5, idx, [bytes(leaves[i]) for i in idx], proof)
    with pytest.raises(MerkleProofError) as err:
        wrong = [bytes(leaves[i]) for i in [3, 17, 19, 3]]
        verify_multi_opening(tree.root, 5, idx, wrong, proof)
    assert err.value.reason == "root_mismatch"


@pytest.fixture
def opened():
    rng = np.random.default_rng(4)
    mats = [bf.random_elements(rng, (64, 5)), bf.random_elements(rng, (8, 3))]
    commitment = MatrixCommitment.commit(mats)
    indices = [1, 9, 40, 41]
    opening = commitment.open(indices)
    return commitment, indices, opened_lists(opening), opening.proof


def reject(opened_case, *, indices=None, rows=None, proof=None, root=None, dims=None):
    commitment, idx, good_rows, good_proof = opened_case
    with pytest.raises(MerkleProofError) as err:
        verify_matrix_opening(
            commitment.root if root is None else root,
            commitment.dims if dims is None else dims,
            idx if indices is None else indices,
            good_rows if rows is None else rows,
            good_proof if proof is None else proof,
        )
    return err.value.reason


def test_honest_opening_verifies(opened):
    commitment, idx, rows, proof = opened
    verify_matrix_opening(commitment.root, commitment.dims, idx, rows, proof)


def test_rejects_a_changed_row_value(opened):
    for matrix in (0, 1):
        rows = [[list(r) for r in m] for m in opened[2]]
        rows[matrix][0][1] = (rows[matrix][0][1] + 1) % bf.P
        assert reject(opened, rows=rows) == "root_mismatch"


def test_rejects_a_flipped_sibling_byte(opened):
    siblings = list(opened[3].siblings)
    siblings[1] = bytes([siblings[1][0] ^ 1]) + siblings[1][1:]
    assert reject(opened, proof=MerkleMultiProof(tuple(siblings))) == "root_mismatch"


def test_rejects_a_wrong_sibling(opened):
    siblings = list(opened[3].siblings)
    siblings[0], siblings[2] = siblings[2], siblings[0]
    assert reject(opened, proof=MerkleMultiProof(tuple(siblings))) == "root_mismatch"


def test_rejects_a_wrong_index(opened):
    assert reject(opened, indices=[1, 8, 40, 41]) == "root_mismatch"
    # a different sibling structure runs out of siblings instead
    assert reject(opened, indices=[1, 9, 40, 42]) in {"root_mismatch", "proof_too_short"}
    assert reject(opened, indices=[1, 9, 40, 64]) == "index_out_of_range"


def test_rejects_missing_and_extra_siblings(opened):
    siblings = opened[3].siblings
    assert reject(opened, proof=MerkleMultiProof(siblings[:-1])) == "proof_too_short"
    assert reject(opened, proof=MerkleMultiProof((*siblings, siblings[0]))) == "proof_too_long"


def test_rejects_duplicate_index_with_different_rows(opened):
    commitment, _, _, _ = opened
    opening = commitment.open([9, 9])
    rows = opened_lists(opening)
    rows[0][1][0] = (rows[0][1][0] + 1) % bf.P
    with pytest.raises(MerkleProofError) as err:
        verify_matrix_opening(commitment.root, commitment.dims, [9, 9], rows, opening.proof)
    assert err.value.reason == "duplicate_index_mismatch"
    # two indices that share a row of the short matrix must agree on it too
    opening = commitment.open([8, 9])
    rows = opened_lists(opening)
    rows[1][1][0] = (rows[1][1][0] + 1) % bf.P
    with pytest.raises(MerkleProofError) as err:
        verify_matrix_opening(commitment.root, commitment.dims, [8, 9], rows, opening.proof)
    assert err.value.reason == "duplicate_index_mismatch"


def test_rejects_bad_rows_and_dims(opened):
    rows = [[list(r) for r in m] for m in opened[2]]
    rows[0][0] = rows[0][0][:-1]
    assert reject(opened, rows=rows) == "bad_row_width"
    rows = [[list(r) for r in m] for m in opened[2]]
    rows[1][0][0] = bf.P
    assert reject(opened, rows=rows) == "not_canonical"
    assert reject(opened, rows=opened[2][:1]) == "bad_row_width"
    assert reject(opened, dims=[(6, 5), (4, 3)]) == "root_mismatch"
    assert reject(opened, root=bytes(32)) == "root_mismatch"


def test_proof_encoding_round_trip_and_rejections(opened):
    proof = opened[3]
    data = proof.to_bytes()
    assert data[:4] == len(proof.siblings).to_bytes(4, "big")
    assert MerkleMultiProof.from_bytes(data, 64) == proof
    decoded, end = MerkleMultiProof.decode(b"xx" + data + b"yy", 2, 64)
    assert decoded == proof and end == 2 + len(data)
    for bad, limit in [(data[:-1], 64), (data + b"\x00", 64), (data[:3], 64), (data, 1)]:
        with pytest.raises(MerkleProofError) as err:
            MerkleMultiProof.from_bytes(bad, limit)
        assert err.value.reason == "proof_format"


def test_commit_validates_heights():
    with pytest.raises(ShapeError):
        MatrixCommitment.commit([np.zeros((6, 2), dtype=np.uint32)])
    with pytest.raises(ShapeError):
        MatrixCommitment.commit([])
    with pytest.raises(ShapeError):
        MerkleTree.from_leaves(np.zeros((3, 32), dtype=np.uint8))


def test_same_height_matrices_hash_side_by_side(monkeypatch):
    # rows of equal-height matrices are concatenated in chunks; a small chunk exercises that
    import heliostat.stark.merkle as merkle

    monkeypatch.setattr(merkle, "_CONCAT_CHUNK_ROWS", 4)
    rng = np.random.default_rng(6)
    a, b = bf.random_elements(rng, (16, 3)), bf.random_elements(rng, (16, 40))
    commitment = MatrixCommitment.commit([a, b])
    assert commitment.layers[0].tolist() == hash_rows(np.concatenate([a, b], axis=1)).tolist()
    assert commitment.root == reference_root([a, b])
