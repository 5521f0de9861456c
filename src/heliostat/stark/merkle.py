"""Keccak-256 Merkle trees over matrix rows, with deduplicated multi-openings.

One structure serves a single matrix and several matrices of different (power-of-two)
heights, in the manner of Plonky3's MMCS. Matrices are ordered tallest first (stable). A leaf
is keccak256 of row i of every tallest matrix, concatenated, each element 4 bytes big-endian.
A node is keccak256(left ‖ right); at a level whose size is the height of shorter matrices,
the node becomes keccak256(node ‖ keccak256(their row i, concatenated)). Opening index i of
the tallest height opens row i >> (L − log2 h) of a matrix of height h.

Proof layout (what a Solidity verifier replays): S = sorted distinct opened leaf indices; for
each level from the leaves up, for each i in S ascending, the sibling i ^ 1 is taken from S if
present, otherwise it is the next digest of the proof; then S becomes {i >> 1}. Encoded as a
u32 big-endian count followed by the 32-byte digests.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from heliostat.stark.field import TWO_ADICITY, P, as_field_array
from heliostat.stark.keccak import DIGEST_BYTES, compress_pairs, hash_rows, keccak256
from heliostat.stark.kernel_errors import MerkleProofError, ShapeError

U8Array = NDArray[np.uint8]
U32Array = NDArray[np.uint32]

# Rows of same-height matrices are concatenated this many at a time before hashing.
_CONCAT_CHUNK_ROWS = 1 << 14


@dataclass(frozen=True)
class MerkleMultiProof:
    """The sibling digests of a multi-opening, each sent once, in the documented order."""

    siblings: tuple[bytes, ...]

    def to_bytes(self) -> bytes:
        """Encode as a u32 big-endian count followed by the 32-byte digests."""
        return len(self.siblings).to_bytes(4, "big") + b"".join(self.siblings)

    @classmethod
    def decode(cls, data: bytes, offset: int, max_siblings: int) -> tuple[MerkleMultiProof, int]:
        """Decode a proof starting at ``offset``; return it and the offset just past it."""
        if offset < 0 or offset + 4 > len(data):
            raise MerkleProofError("truncated proof header", reason="proof_format")
        count = int.from_bytes(data[offset : offset + 4], "big")
        if count > max_siblings:
            raise MerkleProofError(
                "too many siblings", reason="proof_format", expected=max_siblings, got=count
            )
        end = offset + 4 + DIGEST_BYTES * count
        if end > len(data):
            raise MerkleProofError(
                "truncated proof", reason="proof_format", expected=end, got=len(data)
            )
        body = data[offset + 4 : end]
        siblings = tuple(body[k : k + DIGEST_BYTES] for k in range(0, len(body), DIGEST_BYTES))
        return cls(siblings), end

    @classmethod
    def from_bytes(cls, data: bytes, max_siblings: int) -> MerkleMultiProof:
        """Decode a proof that spans exactly ``data``."""
        proof, end = cls.decode(data, 0, max_siblings)
        if end != len(data):
            raise MerkleProofError(
                "trailing bytes after proof", reason="proof_format", expected=end, got=len(data)
            )
        return proof


def _log2_height(n: int) -> int:
    if n <= 0 or n & (n - 1):
        raise ShapeError(f"height {n} is not a power of two", reason="not_power_of_two", got=n)
    return n.bit_length() - 1


def _sorted_unique(indices: Sequence[int], n_leaves: int) -> list[int]:
    unique = sorted({int(i) for i in indices})
    if unique and (unique[0] < 0 or unique[-1] >= n_leaves):
        bad = unique[0] if unique[0] < 0 else unique[-1]
        raise MerkleProofError(
            "index out of range", reason="index_out_of_range", expected=n_leaves, got=bad
        )
    return unique


def _open_layers(layers: Sequence[U8Array], indices: Sequence[int]) -> MerkleMultiProof:
    """Collect the siblings that the opened indices cannot compute themselves."""
    known = _sorted_unique(indices, layers[0].shape[0])
    siblings: list[bytes] = []
    for layer in layers[:-1]:
        present = set(known)
        for i in known:
            if i ^ 1 not in present:
                siblings.append(bytes(layer[i ^ 1]))
        known = sorted({i >> 1 for i in known})
    return MerkleMultiProof(tuple(siblings))


class MerkleTree:
    """A binary Keccak tree over leaf digests; ``layers[0]`` are the leaves."""

    def __init__(self, layers: list[U8Array]) -> None:
        self.layers = layers

    @classmethod
    def from_leaves(cls, digests: Any) -> MerkleTree:
        """Build all levels above the (n, 32) leaf digests; n must be a power of two."""
        leaves = np.ascontiguousarray(digests)
        if leaves.dtype != np.uint8 or leaves.ndim != 2 or leaves.shape[1] != DIGEST_BYTES:
            raise ShapeError("leaves are a (n, 32) uint8 array", got=leaves.shape)
        _log2_height(leaves.shape[0])
        layers = [leaves]
        while layers[-1].shape[0] > 1:
            layers.append(compress_pairs(layers[-1]))
        return cls(layers)

    @property
    def root(self) -> bytes:
        """The 32-byte root."""
        return bytes(self.layers[-1][0])

    @property
    def log_n(self) -> int:
        """log2 of the number of leaves."""
        return len(self.layers) - 1

    def open(self, indices: Sequence[int]) -> MerkleMultiProof:
        """Return the deduplicated siblings for opening the given leaves."""
        return _open_layers(self.layers, indices)


def _fold_to_root(
    log_n: int,
    leaves: dict[int, bytes],
    proof: MerkleMultiProof,
    inject: Callable[[int, int], bytes | None],
) -> bytes:
    """Climb from known leaf digests to the root; ``inject(level, i)`` gives injected rows."""
    siblings: Iterator[bytes] = iter(proof.siblings)
    used = 0
    known = leaves
    for level in range(log_n, 0, -1):
        parents: dict[int, bytes] = {}
        for i in sorted(known):
            if i >> 1 in parents:
                continue
            sib_index = i ^ 1
            if sib_index in known:
                sib = known[sib_index]
            else:
                sib = next(siblings, b"")
                used += 1
                if len(sib) != DIGEST_BYTES:
                    raise MerkleProofError(
                        "proof has too few siblings", reason="proof_too_short", got=used - 1
                    )
            left, right = (known[i], sib) if i % 2 == 0 else (sib, known[i])
            node = keccak256(left + right)
            injected = inject(level - 1, i >> 1)
            if injected is not None:
                node = keccak256(node + keccak256(injected))
            parents[i >> 1] = node
        known = parents
    if used != len(proof.siblings):
        raise MerkleProofError(
            "proof has unused siblings",
            reason="proof_too_long",
            expected=used,
            got=len(proof.siblings),
        )
    return known[0]


def verify_multi_opening(
    root: bytes,
    log_n: int,
    indices: Sequence[int],
    leaf_digests: Sequence[bytes],
    proof: MerkleMultiProof,
) -> None:
    """Check leaf digests at ``indices`` against ``root``; raise ``MerkleProofError`` if not."""
    if len(indices) != len(leaf_digests) or not indices:
        raise MerkleProofError(
            "one digest per index",
            reason="bad_row_width",
            expected=len(indices),
            got=len(leaf_digests),
        )
    _sorted_unique(indices, 1 << log_n)
    leaves: dict[int, bytes] = {}
    for i, d in zip(indices, leaf_digests, strict=True):
        if leaves.setdefault(int(i), bytes(d)) != bytes(d):
            raise MerkleProofError(
                f"index {i} opened twice with different leaves",
                reason="duplicate_index_mismatch",
                got=int(i),
            )
    computed = _fold_to_root(log_n, leaves, proof, lambda level, i: None)
    if computed != root:
        raise MerkleProofError("root mismatch", reason="root_mismatch", expected=root, got=computed)


# --- matrices of different heights -------------------------------------------------------


def _hash_row_groups(mats: Sequence[U32Array]) -> U8Array:
    """Leaf-rule digests of the rows of equal-height matrices taken side by side."""
    if len(mats) == 1:
        return hash_rows(mats[0])
    height = mats[0].shape[0]
    out = np.empty((height, DIGEST_BYTES), dtype=np.uint8)
    for lo in range(0, height, _CONCAT_CHUNK_ROWS):
        hi = min(height, lo + _CONCAT_CHUNK_ROWS)
        out[lo:hi] = hash_rows(np.concatenate([m[lo:hi] for m in mats], axis=1))
    return out


def _inject(nodes: U8Array, row_digests: U8Array) -> U8Array:
    """keccak256(node ‖ row_digest) pairwise."""
    pairs = np.stack((nodes, row_digests), axis=1).reshape(-1, DIGEST_BYTES)
    return compress_pairs(pairs)


@dataclass(frozen=True)
class MatrixOpening:
    """Opened rows (``rows[j]``: one row of matrix j per index) and the Merkle proof."""

    indices: tuple[int, ...]
    rows: list[U32Array]
    proof: MerkleMultiProof


class MatrixCommitment:
    """A mixed-height Keccak tree committing to several matrices (prover side)."""

    def __init__(self, matrices: list[U32Array], layers: list[U8Array]) -> None:
        self.matrices = matrices
        self.layers = layers

    @classmethod
    def commit(cls, matrices: Sequence[Any]) -> MatrixCommitment:
        """Commit to matrices of power-of-two heights (any widths)."""
        if not matrices:
            raise ShapeError("nothing to commit", reason="bad_shape", got=0)
        mats = []
        for m in matrices:
            arr = as_field_array(m)
            if arr.ndim != 2:
                raise ShapeError("matrices are (rows, cols)", reason="bad_shape", got=arr.shape)
            _log2_height(arr.shape[0])
            mats.append(arr)
        order = sorted(range(len(mats)), key=lambda j: -mats[j].shape[0])
        log_max = _log2_height(mats[order[0]].shape[0])
        groups: dict[int, list[U32Array]] = {}
        for j in order:
            groups.setdefault(_log2_height(mats[j].shape[0]), []).append(mats[j])
        layers = [_hash_row_groups(groups[log_max])]
        for level in range(log_max - 1, -1, -1):
            nodes = compress_pairs(layers[-1])
            if level in groups:
                nodes = _inject(nodes, _hash_row_groups(groups[level]))
            layers.append(nodes)
        return cls(mats, layers)

    @property
    def root(self) -> bytes:
        """The 32-byte root."""
        return bytes(self.layers[-1][0])

    @property
    def log_max_height(self) -> int:
        """log2 of the tallest height: opening indices range over [0, 2^this)."""
        return len(self.layers) - 1

    @property
    def dims(self) -> list[tuple[int, int]]:
        """(log2 height, width) of each matrix, in the order given to ``commit``."""
        return [(_log2_height(m.shape[0]), m.shape[1]) for m in self.matrices]

    def open(self, indices: Sequence[int]) -> MatrixOpening:
        """Open the rows at ``indices`` (in the tallest matrix's index space)."""
        idx = np.array([int(i) for i in indices], dtype=np.int64)
        proof = _open_layers(self.layers, [int(i) for i in idx])
        log_max = self.log_max_height
        rows = [m[idx >> (log_max - _log2_height(m.shape[0]))] for m in self.matrices]
        return MatrixOpening(tuple(int(i) for i in idx), rows, proof)


def _row_bytes(row: Sequence[int], width: int) -> bytes:
    if len(row) != width:
        raise MerkleProofError(
            "opened row has the wrong width", reason="bad_row_width", expected=width, got=len(row)
        )
    out = bytearray()
    for v in row:
        x = int(v)
        if not 0 <= x < P:
            raise MerkleProofError("opened value is not canonical", reason="not_canonical", got=x)
        out += x.to_bytes(4, "big")
    return bytes(out)


def verify_matrix_opening(
    root: bytes,
    dims: Sequence[tuple[int, int]],
    indices: Sequence[int],
    rows: Sequence[Sequence[Sequence[int]]],
    proof: MerkleMultiProof,
) -> None:
    """Check opened rows of matrices with ``dims`` = [(log2 height, width)] against ``root``.

    ``rows[j][q]`` is the row of matrix j opened for ``indices[q]``. Pure Python.
    """
    if not dims or not indices:
        raise MerkleProofError("nothing to verify", reason="bad_row_width", got=len(dims))
    if len(rows) != len(dims):
        raise MerkleProofError(
            "one row list per matrix", reason="bad_row_width", expected=len(dims), got=len(rows)
        )
    for j, (log_h, width) in enumerate(dims):
        if not 0 <= log_h <= TWO_ADICITY or width < 0:
            raise MerkleProofError(
                "bad matrix dimensions", reason="bad_row_width", got=(log_h, width)
            )
        if len(rows[j]) != len(indices):
            raise MerkleProofError(
                "one row per index",
                reason="bad_row_width",
                expected=len(indices),
                got=len(rows[j]),
            )
    log_max = max(log_h for log_h, _ in dims)
    _sorted_unique(indices, 1 << log_max)
    order = sorted(range(len(dims)), key=lambda j: -dims[j][0])
    # per level: node index -> concatenated row bytes of the matrices of that height
    data: dict[int, dict[int, bytes]] = {}
    for q, index in enumerate(indices):
        for level in sorted({dims[j][0] for j in order}, reverse=True):
            group = [j for j in order if dims[j][0] == level]
            chunk = b"".join(_row_bytes(rows[j][q], dims[j][1]) for j in group)
            node = int(index) >> (log_max - level)
            if data.setdefault(level, {}).setdefault(node, chunk) != chunk:
                raise MerkleProofError(
                    f"row {node} of height 2^{level} opened with different values",
                    reason="duplicate_index_mismatch",
                    got=node,
                )
    leaves = {i: keccak256(chunk) for i, chunk in data[log_max].items()}

    def inject(level: int, i: int) -> bytes | None:
        return data[level][i] if level in data else None

    computed = _fold_to_root(log_max, leaves, proof, inject)
    if computed != root:
        raise MerkleProofError("root mismatch", reason="root_mismatch", expected=root, got=computed)
