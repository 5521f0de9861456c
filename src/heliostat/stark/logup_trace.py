"""Prover side of LogUp: build a table's permutation trace (helpers and running sum).

The interaction program gives each interaction's multiplicity and values on every row. For a
batch, h = Σ_i ±m_i/d_i is formed as one fraction (Σ_i ±m_i·Π_(j≠i) d_j)/Π_j d_j, so a row
needs one inversion per batch; all denominators are inverted together. The running sum on
row r is Σ_b h_b over the rows before r (0 on the first row). The trace is returned as 4
base columns per extension column (coordinates c0…c3), ready to be committed.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numba import njit, prange
from numpy.typing import NDArray

from heliostat.stark._eval_kernels import ext_mul_mont
from heliostat.stark._field_kernels import add_mod, mont_mul, sub_mod, to_mont
from heliostat.stark.air import CompiledAir
from heliostat.stark.constraint_eval import KernelProgram, evaluate_outputs
from heliostat.stark.debug import trace_selectors
from heliostat.stark.errors import ConstraintViolationError
from heliostat.stark.extension import Ext4, ext_inv
from heliostat.stark.field import P
from heliostat.stark.kernel_errors import FieldError

U32Array = NDArray[np.uint32]


@njit(cache=True, parallel=True)
def _fractions_kernel(
    outputs: np.ndarray,
    layout: np.ndarray,
    bus_z: np.ndarray,
    beta_m: np.ndarray,
    num: np.ndarray,
    den: np.ndarray,
) -> None:
    """Per row and batch: numerator and denominator of Σ ±m/(z − φ) (canonical, ext).

    ``layout`` rows are (batch, first output row, value count, sign); ``bus_z[k]`` is
    z − bus_k; ``beta_m`` holds β^1, β^2, … in Montgomery form.
    """
    n = outputs.shape[1]
    n_batches = num.shape[0]
    for r in prange(n):
        for b in range(n_batches):
            for c in range(4):
                num[b, r, c] = 0
                den[b, r, c] = 1 if c == 0 else 0
        for k in range(layout.shape[0]):
            b, first, count, sign = layout[k, 0], layout[k, 1], layout[k, 2], layout[k, 3]
            d0, d1, d2, d3 = bus_z[k, 0], bus_z[k, 1], bus_z[k, 2], bus_z[k, 3]
            for j in range(count):
                vm = outputs[first + 1 + j, r]  # canonical × Montgomery β → canonical
                d0 = sub_mod(d0, mont_mul(vm, beta_m[j, 0]))
                d1 = sub_mod(d1, mont_mul(vm, beta_m[j, 1]))
                d2 = sub_mod(d2, mont_mul(vm, beta_m[j, 2]))
                d3 = sub_mod(d3, mont_mul(vm, beta_m[j, 3]))
            m = outputs[first, r]
            if sign < 0:
                m = sub_mod(np.uint32(0), m)
            mm = to_mont(m)
            # num/den ← num/den + m/d = (num·d + m·den)/(den·d)
            dm0, dm1, dm2, dm3 = to_mont(d0), to_mont(d1), to_mont(d2), to_mont(d3)
            a0, a1, a2, a3 = ext_mul_mont(
                num[b, r, 0], num[b, r, 1], num[b, r, 2], num[b, r, 3], dm0, dm1, dm2, dm3
            )
            num[b, r, 0] = add_mod(a0, mont_mul(den[b, r, 0], mm))
            num[b, r, 1] = add_mod(a1, mont_mul(den[b, r, 1], mm))
            num[b, r, 2] = add_mod(a2, mont_mul(den[b, r, 2], mm))
            num[b, r, 3] = add_mod(a3, mont_mul(den[b, r, 3], mm))
            e0, e1, e2, e3 = ext_mul_mont(
                den[b, r, 0], den[b, r, 1], den[b, r, 2], den[b, r, 3], dm0, dm1, dm2, dm3
            )
            den[b, r, 0] = e0
            den[b, r, 1] = e1
            den[b, r, 2] = e2
            den[b, r, 3] = e3


@njit(cache=True, parallel=True)
def _helpers_kernel(num: np.ndarray, inv_den: np.ndarray, perm: np.ndarray) -> None:
    """perm[r, b] = num[b, r]·inv_den[b, r]; column B (the running sum) gets Σ_b h_b."""
    n_batches, n = num.shape[0], num.shape[1]
    for r in prange(n):
        s0 = s1 = s2 = s3 = np.uint32(0)
        for b in range(n_batches):
            h0, h1, h2, h3 = ext_mul_mont(
                num[b, r, 0], num[b, r, 1], num[b, r, 2], num[b, r, 3],
                to_mont(inv_den[b, r, 0]), to_mont(inv_den[b, r, 1]),
                to_mont(inv_den[b, r, 2]), to_mont(inv_den[b, r, 3]),
            )  # fmt: skip
            perm[r, 4 * b] = h0
            perm[r, 4 * b + 1] = h1
            perm[r, 4 * b + 2] = h2
            perm[r, 4 * b + 3] = h3
            s0, s1, s2, s3 = add_mod(s0, h0), add_mod(s1, h1), add_mod(s2, h2), add_mod(s3, h3)
        perm[r, 4 * n_batches] = s0
        perm[r, 4 * n_batches + 1] = s1
        perm[r, 4 * n_batches + 2] = s2
        perm[r, 4 * n_batches + 3] = s3


@njit(cache=True)
def _prefix_sum_kernel(perm: np.ndarray, col: int) -> None:
    """In place: perm[:, col:col+4] ← running sum over rows (extension addition)."""
    for r in range(1, perm.shape[0]):
        for c in range(4):
            perm[r, col + c] = add_mod(perm[r, col + c], perm[r - 1, col + c])


def _mont(e: Ext4) -> list[int]:
    return [(c << 32) % P for c in e.coeffs]


def permutation_trace(
    table: CompiledAir,
    interaction_kernel: KernelProgram,
    main: U32Array,
    publics: Sequence[int],
    z: Ext4,
    beta: Ext4,
) -> tuple[U32Array, Ext4]:
    """Return the (n, 4·permutation_width) trace and the table's LogUp sum (last row)."""
    n = main.shape[0]
    outputs = evaluate_outputs(
        interaction_kernel,
        main=main,
        pre=table.preprocessed,
        publics=list(publics),
        selectors=np.array(trace_selectors(n.bit_length() - 1), dtype=np.uint32),
    )
    batch_of = {i: b for b, batch in enumerate(table.logup_batches) for i in batch}
    layout, bus_z, first = [], [], 0
    for i, inter in enumerate(table.interactions):
        layout.append((batch_of[i], first, len(inter.values), 1 if inter.is_send else -1))
        bus_z.append((z - inter.bus).coeffs)
        first += 1 + len(inter.values)
    max_values = max(len(i.values) for i in table.interactions)
    beta_powers = [beta ** (k + 1) for k in range(max(max_values, 1))]
    n_batches = len(table.logup_batches)
    num = np.empty((n_batches, n, 4), dtype=np.uint32)
    den = np.empty((n_batches, n, 4), dtype=np.uint32)
    _fractions_kernel(
        outputs,
        np.array(layout, dtype=np.int64),
        np.array(bus_z, dtype=np.uint32),
        np.array([_mont(b) for b in beta_powers], dtype=np.uint32),
        num,
        den,
    )
    try:
        inv_den = ext_inv(den.reshape(-1, 4)).reshape(n_batches, n, 4)
    except FieldError as err:  # z − φ = 0 on some row: probability ~2^-100 per row
        raise ConstraintViolationError(
            f"{table.name}: a LogUp denominator vanished; prove again", reason="logup_zero"
        ) from err
    perm = np.empty((n, 4 * (n_batches + 1)), dtype=np.uint32)
    _helpers_kernel(num, inv_den, perm)
    _prefix_sum_kernel(perm, 4 * n_batches)
    # the running sum holds the rows before: shift the inclusive prefix sum down one row
    running = perm[:, 4 * n_batches :]
    total = Ext4.from_array(running[n - 1].copy())
    running[1:] = running[:-1].copy()
    running[0] = 0
    return perm, total
