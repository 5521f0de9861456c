"""The Poseidon2 chip: one permutation (BabyBear, width 16, Plonky3's parameters) per row.

Columns: the input state and the S-box output of every round (16 per full round, 1 per partial
round); each S-box input is an affine function of the previous round's columns, so the S-box
constraint y = x^7 has degree 7 and the rounds need no other columns (157 in all). The
output state is the external linear layer of the last round's S-box outputs. A row answers
PERMUTE lookups (the whole state) and COMPRESS lookups (its first 8 output words from two
8-word inputs: Plonky3's truncated-permutation compression) with two multiplicities. Padding
rows permute the zero state.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from heliostat.primitives.poseidon2 import (
    DIGEST_WIDTH,
    EXTERNAL_FINAL,
    EXTERNAL_INITIAL,
    INTERNAL,
    INTERNAL_DIAGONAL,
    WIDTH,
)
from heliostat.stark.air import AirBuilder
from heliostat.stark.field import P
from heliostat.stark.symbolic import Expr, as_expr, sum_exprs
from heliostat.zkvm.buses import Bus
from heliostat.zkvm.layout import Layout, Row

_MAT4 = ((2, 3, 1, 1), (1, 2, 3, 1), (1, 1, 2, 3), (3, 1, 1, 2))
HALF = len(EXTERNAL_INITIAL)

LAYOUT = Layout()
LAYOUT.add("input", WIDTH)
for _r in range(HALF):
    LAYOUT.add(f"full{_r}", WIDTH)
LAYOUT.add("partial", len(INTERNAL))
for _r in range(HALF):
    LAYOUT.add(f"full{HALF + _r}", WIDTH)
LAYOUT.add("m_perm")
LAYOUT.add("m_comp")


def external_linear(s: Sequence[Expr]) -> list[Expr]:
    """Apply the external layer on expressions (the reference's `_external_linear`)."""
    chunks = [
        [sum_exprs(s[4 * k + c] * _MAT4[r][c] for c in range(4)) for r in range(4)]
        for k in range(4)
    ]
    flat = [x for chunk in chunks for x in chunk]
    sums = [sum_exprs(flat[4 * k + r] for k in range(4)) for r in range(4)]
    return [flat[i] + sums[i % 4] for i in range(WIDTH)]


def internal_linear(s: Sequence[Expr]) -> list[Expr]:
    """Apply the internal layer on expressions."""
    total = sum_exprs(s)
    return [total + x * d for d, x in zip(INTERNAL_DIAGONAL, s, strict=True)]


class Poseidon2Chip:
    """The AIR."""

    name = "poseidon2"
    width = LAYOUT.width

    def preprocessed_trace(self) -> None:
        """No fixed columns."""
        return None

    def eval(self, ab: AirBuilder) -> None:
        """Constrain rounds, output, lookups."""
        r = Row(ab.main.local, LAYOUT)
        inp = r.many("input")
        state = external_linear(inp)
        for k in range(HALF):
            y = r.many(f"full{k}")
            for i in range(WIDTH):
                ab.assert_eq(y[i], (state[i] + EXTERNAL_INITIAL[k][i]) ** 7, f"full {k} s{i}")
            state = external_linear(y)
        partial = r.many("partial")
        for k, c in enumerate(INTERNAL):
            ab.assert_eq(partial[k], (state[0] + c) ** 7, f"partial {k}")
            state = internal_linear([partial[k], *state[1:]])
        for k in range(HALF):
            y = r.many(f"full{HALF + k}")
            for i in range(WIDTH):
                ab.assert_eq(y[i], (state[i] + EXTERNAL_FINAL[k][i]) ** 7, f"final {k} s{i}")
            state = external_linear(y)
        out = [as_expr(x) for x in state]
        ab.receive(Bus.PERMUTE, [*inp, *out], r.one("m_perm"), "permutation")
        ab.receive(Bus.COMPRESS, [*inp, *out[:DIGEST_WIDTH]], r.one("m_comp"), "compression")


def _pow7(x: NDArray[np.uint64]) -> NDArray[np.uint64]:
    p = np.uint64(P)
    x2 = x * x % p
    x3 = x2 * x % p
    x6 = x3 * x3 % p
    return x6 * x % p


def _ext(s: NDArray[np.uint64]) -> NDArray[np.uint64]:
    p = np.uint64(P)
    out = np.empty_like(s)
    for k in range(4):
        block = s[:, 4 * k : 4 * k + 4]
        for r in range(4):
            out[:, 4 * k + r] = sum(block[:, c] * np.uint64(_MAT4[r][c]) for c in range(4)) % p
    sums = [(out[:, r] + out[:, 4 + r] + out[:, 8 + r] + out[:, 12 + r]) % p for r in range(4)]
    for i in range(WIDTH):
        out[:, i] = (out[:, i] + sums[i % 4]) % p
    return out


def generate(
    inputs: NDArray[np.uint64], m_perm: NDArray[np.int64], m_comp: NDArray[np.int64]
) -> NDArray[np.int64]:
    """Rows for the given input states (n, 16) with their lookup multiplicities."""
    p = np.uint64(P)
    n = inputs.shape[0]
    t = np.zeros((n, LAYOUT.width), dtype=np.int64)
    s = np.asarray(inputs, dtype=np.uint64) % p
    t[:, LAYOUT.span("input")] = s
    state = _ext(s)
    for k in range(HALF):
        y = _pow7((state + np.array(EXTERNAL_INITIAL[k], np.uint64)) % p)
        t[:, LAYOUT.span(f"full{k}")] = y
        state = _ext(y)
    diag = np.array(INTERNAL_DIAGONAL, np.uint64)
    part = LAYOUT.index("partial")
    for k, c in enumerate(INTERNAL):
        y0 = _pow7((state[:, 0] + np.uint64(c)) % p)
        t[:, part + k] = y0
        state = state.copy()
        state[:, 0] = y0
        total = state.sum(axis=1) % p
        state = (total[:, None] + state * diag % p) % p
    for k in range(HALF):
        y = _pow7((state + np.array(EXTERNAL_FINAL[k], np.uint64)) % p)
        t[:, LAYOUT.span(f"full{HALF + k}")] = y
        state = _ext(y)
    t[:, LAYOUT.index("m_perm")] = m_perm
    t[:, LAYOUT.index("m_comp")] = m_comp
    return t


def outputs(rows: NDArray[np.int64]) -> NDArray[np.uint64]:
    """Return the output states of generated rows."""
    return _ext(rows[:, LAYOUT.span(f"full{2 * HALF - 1}")].astype(np.uint64))
