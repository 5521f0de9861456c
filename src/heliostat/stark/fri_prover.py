"""FRI, prover side: commit phase (fold, roll in shorter inputs, commit), grinding, openings."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numba import njit, prange
from numpy.typing import NDArray

from heliostat.stark._eval_kernels import ext_mul_mont
from heliostat.stark._field_kernels import add_mod, mont_mul, sub_mod, to_mont
from heliostat.stark.errors import ConstraintViolationError
from heliostat.stark.extension import Ext4
from heliostat.stark.field import P, inv, powers, two_adic_generator
from heliostat.stark.fri import INV_TWO, FriSchedule
from heliostat.stark.keccak import hash_byte_rows
from heliostat.stark.merkle import MatrixCommitment
from heliostat.stark.ntt import bit_reverse_indices, bit_reverse_rows, interpolate_coset
from heliostat.stark.proof import FriLayerOpening
from heliostat.stark.transcript import Tag, Transcript

U32Array = NDArray[np.uint32]
_INV_TWO_MONT = np.uint32((INV_TWO << 32) % P)


@njit(cache=True, parallel=True)
def _fold_kernel(v: np.ndarray, beta_m: np.ndarray, w: np.ndarray, out: np.ndarray) -> None:
    """out[i] = (v[2i] + v[2i+1])/2 + β·(v[2i] − v[2i+1])·w[i], w[i] = 1/(2·x_i)."""
    for i in prange(out.shape[0]):
        wm = to_mont(w[i])
        d0 = mont_mul(sub_mod(v[2 * i, 0], v[2 * i + 1, 0]), wm)
        d1 = mont_mul(sub_mod(v[2 * i, 1], v[2 * i + 1, 1]), wm)
        d2 = mont_mul(sub_mod(v[2 * i, 2], v[2 * i + 1, 2]), wm)
        d3 = mont_mul(sub_mod(v[2 * i, 3], v[2 * i + 1, 3]), wm)
        e0, e1, e2, e3 = ext_mul_mont(d0, d1, d2, d3, beta_m[0], beta_m[1], beta_m[2], beta_m[3])
        out[i, 0] = add_mod(mont_mul(add_mod(v[2 * i, 0], v[2 * i + 1, 0]), _INV_TWO_MONT), e0)
        out[i, 1] = add_mod(mont_mul(add_mod(v[2 * i, 1], v[2 * i + 1, 1]), _INV_TWO_MONT), e1)
        out[i, 2] = add_mod(mont_mul(add_mod(v[2 * i, 2], v[2 * i + 1, 2]), _INV_TWO_MONT), e2)
        out[i, 3] = add_mod(mont_mul(add_mod(v[2 * i, 3], v[2 * i + 1, 3]), _INV_TWO_MONT), e3)


def _mont_ext(e: Ext4) -> U32Array:
    return np.array([(c << 32) % P for c in e.coeffs], dtype=np.uint32)


def fold_binary(values: U32Array, beta: Ext4, log_size: int, shift: int) -> U32Array:
    """One binary fold of a bit-reversed layer on shift·K (|K| = 2^log_size)."""
    half = 1 << (log_size - 1)
    omega_inv = inv(two_adic_generator(log_size))
    # 1/(2·x_i) with x_i = shift·ω^rev_{log_size−1}(i)
    w = powers(omega_inv, half)[bit_reverse_indices(log_size - 1)]
    w = (w.astype(np.uint64) * np.uint64(inv(shift) * INV_TWO % P) % np.uint64(P)).astype(np.uint32)
    out = np.empty((half, 4), dtype=np.uint32)
    _fold_kernel(values, _mont_ext(beta), w, out)
    return out


def _add_scaled(values: U32Array, other: U32Array, scale: Ext4) -> U32Array:
    """Values + scale·other (extension arrays)."""
    from heliostat.stark.extension import ext_scale

    scaled = ext_scale(other, scale).astype(np.uint64)
    return ((values.astype(np.uint64) + scaled) % np.uint64(P)).astype(np.uint32)


@dataclass
class FriCommitment:
    """The committed layers (values and trees) and the final polynomial."""

    layers: list[U32Array]
    trees: list[MatrixCommitment]
    final_poly: list[Ext4]


def commit_phase(
    inputs: dict[int, U32Array],
    schedule: FriSchedule,
    transcript: Transcript,
    *,
    check: bool,
) -> FriCommitment:
    """Fold the inputs down to the final polynomial, absorbing each layer's root."""
    cur = inputs[schedule.log_max]
    log_size = schedule.log_max
    layers, trees = [], []
    for log_arity in schedule.log_arities:
        leaves = cur.reshape(cur.shape[0] >> log_arity, 4 << log_arity)
        tree = MatrixCommitment.commit([leaves])
        transcript.absorb(Tag.FRI_LAYER_ROOT, tree.root)
        beta = transcript.sample_ext()
        layers.append(cur)
        trees.append(tree)
        beta_pow = beta
        for _ in range(log_arity):
            cur = fold_binary(cur, beta_pow, log_size, schedule.shift(log_size))
            log_size -= 1
            beta_pow = beta_pow * beta_pow
        if log_size in inputs and log_size != schedule.log_max:
            cur = _add_scaled(cur, inputs[log_size], beta_pow)
    coeffs = interpolate_coset(bit_reverse_rows(cur), schedule.shift(log_size))
    n_final = 1 << schedule.log_final_poly_len
    if check and coeffs[n_final:].any():
        raise ConstraintViolationError(
            "FRI input is not of low degree (an opening is inconsistent)", reason="fri_degree"
        )
    final = [Ext4.from_array(c) for c in coeffs[:n_final]]
    return FriCommitment(layers, trees, final)


def grind(state: bytes, bits: int, batch: int = 1 << 16) -> int:
    """Find the smallest nonce whose proof-of-work digest has ``bits`` leading zero bits."""
    if bits == 0:
        return 0
    prefix = np.frombuffer(state + bytes([Tag.POW_NONCE]), dtype=np.uint8)
    rows = np.empty((batch, len(prefix) + 8), dtype=np.uint8)
    rows[:, : len(prefix)] = prefix
    limit = 1 << (32 - bits)  # bits ≤ 32 (config bound): the top word must be below this
    start = 0
    while True:
        nonces = np.arange(start, start + batch, dtype=np.uint64)
        rows[:, len(prefix) :] = nonces.astype(">u8").view(np.uint8).reshape(batch, 8)
        top = hash_byte_rows(rows)[:, :4].copy().view(">u4").reshape(-1)
        hits = np.flatnonzero(top.astype(np.uint64) < limit)
        if hits.size:
            return start + int(hits[0])
        start += batch


def open_layers(
    fri: FriCommitment, schedule: FriSchedule, query_indices: Sequence[int]
) -> list[FriLayerOpening]:
    """Open, in every layer, the leaves the queries pass through."""
    out = []
    for k, log_size in enumerate(schedule.layer_log_sizes()):
        log_arity = schedule.log_arities[k]
        leaf_indices = sorted(
            {(i >> (schedule.log_max - log_size)) >> log_arity for i in query_indices}
        )
        opening = fri.trees[k].open(leaf_indices)
        leaves = tuple(
            tuple(Ext4(*(int(c) for c in row[4 * j : 4 * j + 4])) for j in range(1 << log_arity))
            for row in opening.rows[0]
        )
        out.append(FriLayerOpening(leaves, tuple(opening.proof.siblings)))
    return out
