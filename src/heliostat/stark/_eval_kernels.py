"""numba kernels of the constraint evaluator (``constraint_eval`` lowers programs for them).

Registers hold Montgomery-form values (x·2^32 mod p) in rows of one chunk; each instruction
runs across the whole chunk, so the inner loops vectorise.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from heliostat.stark._field_kernels import add_mod, mont_mul, sub_mod, to_mont

P_INT = 2013265921
# kernel op codes (operands are register numbers)
K_BADD, K_BSUB, K_BMUL, K_BNEG = range(4)
K_EADD, K_EADD_EB, K_ESUB, K_ESUB_EB, K_ESUB_BE, K_EMUL, K_EMUL_EB, K_ENEG = range(4, 12)
K_ACC_B, K_ACC_E, K_OUT_B = range(12, 15)  # (op, register, output index, selector group)

# Base registers begin with the selectors; then loaded columns, constants, temporaries.
SEL_REGS = 3
N_GROUPS = 4  # no selector, is_first_row, is_last_row, is_transition

_W_MONT = np.uint32((11 << 32) % P_INT)  # 11 in Montgomery form
_ONE = np.uint32(1)


@njit(cache=True, inline="always")
def ext_mul_mont(
    a0: np.uint32,
    a1: np.uint32,
    a2: np.uint32,
    a3: np.uint32,
    b0: np.uint32,
    b1: np.uint32,
    b2: np.uint32,
    b3: np.uint32,
) -> tuple[np.uint32, np.uint32, np.uint32, np.uint32]:
    """Product in F_p[X]/(X^4 − 11) by Montgomery products (mont_mul(a, b) = a·b/2^32).

    Both operands in Montgomery form give the product in Montgomery form; one operand
    canonical and the other in Montgomery form give the canonical product.
    """
    t1 = add_mod(add_mod(mont_mul(a1, b3), mont_mul(a2, b2)), mont_mul(a3, b1))
    t2 = add_mod(mont_mul(a2, b3), mont_mul(a3, b2))
    t3 = mont_mul(a3, b3)
    c0 = add_mod(mont_mul(a0, b0), mont_mul(t1, _W_MONT))
    c1 = add_mod(add_mod(mont_mul(a0, b1), mont_mul(a1, b0)), mont_mul(t2, _W_MONT))
    c2 = add_mod(
        add_mod(add_mod(mont_mul(a0, b2), mont_mul(a1, b1)), mont_mul(a2, b0)),
        mont_mul(t3, _W_MONT),
    )
    c3 = add_mod(
        add_mod(mont_mul(a0, b3), mont_mul(a1, b2)), add_mod(mont_mul(a2, b1), mont_mul(a3, b0))
    )
    return c0, c1, c2, c3


@njit(cache=True)
def load_chunk(
    loads: np.ndarray,
    ext_loads: np.ndarray,
    bs: np.ndarray,
    es: np.ndarray,
    r0: int,
    rn: int,
    main: np.ndarray,
    pre: np.ndarray,
    perm: np.ndarray,
    next_index: np.ndarray,
    selectors: np.ndarray,
) -> None:
    """Fill the selector and column registers for rows r0…r0+rn (Montgomery form)."""
    for s in range(SEL_REGS):
        for r in range(rn):
            bs[s, r] = to_mont(selectors[s, r0 + r])
    # next rows are usually a contiguous run too (bit-reversed domains shift by blocks)
    nr0 = next_index[r0]
    run = True
    for r in range(1, rn):
        if next_index[r0 + r] != nr0 + r:
            run = False
            break
    for k in range(loads.shape[0]):  # column by column: strided reads, contiguous writes
        src, col = loads[k, 0], loads[k, 1]
        dst = bs[loads[k, 2]]
        m = main if src < 2 else pre
        if src == 0 or src == 2:
            for r in range(rn):
                dst[r] = to_mont(m[r0 + r, col])
        elif run:
            for r in range(rn):
                dst[r] = to_mont(m[nr0 + r, col])
        else:
            for r in range(rn):
                dst[r] = to_mont(m[next_index[r0 + r], col])
    for k in range(ext_loads.shape[0]):
        nxt = ext_loads[k, 0] == 1
        col = 4 * ext_loads[k, 1]
        for c in range(4):
            dst = es[ext_loads[k, 2], c]
            for r in range(rn):
                row = next_index[r0 + r] if nxt else r0 + r
                dst[r] = to_mont(perm[row, col + c])


@njit(cache=True)
def run_code(
    code: np.ndarray,
    bs: np.ndarray,
    es: np.ndarray,
    rn: int,
    alpha_m: np.ndarray,
    acc: np.ndarray,
    raw: np.ndarray,
    r0: int,
) -> None:
    for pc in range(code.shape[0]):
        op = code[pc, 0]
        d = code[pc, 1]
        a = code[pc, 2]
        b = code[pc, 3]
        if op == K_BMUL:
            for r in range(rn):
                bs[d, r] = mont_mul(bs[a, r], bs[b, r])
        elif op == K_BADD:
            for r in range(rn):
                bs[d, r] = add_mod(bs[a, r], bs[b, r])
        elif op == K_BSUB:
            for r in range(rn):
                bs[d, r] = sub_mod(bs[a, r], bs[b, r])
        elif op == K_ACC_B:
            for c in range(4):
                w = alpha_m[a, c]
                for r in range(rn):
                    acc[b, c, r] += np.uint64(mont_mul(bs[d, r], w))
        elif op == K_BNEG:
            for r in range(rn):
                bs[d, r] = sub_mod(np.uint32(0), bs[a, r])
        elif op == K_EADD:
            for c in range(4):
                for r in range(rn):
                    es[d, c, r] = add_mod(es[a, c, r], es[b, c, r])
        elif op in (K_EADD_EB, K_ESUB_EB):
            for r in range(rn):
                if op == K_EADD_EB:
                    es[d, 0, r] = add_mod(es[a, 0, r], bs[b, r])
                else:
                    es[d, 0, r] = sub_mod(es[a, 0, r], bs[b, r])
            if d != a:
                for c in range(1, 4):
                    for r in range(rn):
                        es[d, c, r] = es[a, c, r]
        elif op == K_ESUB:
            for c in range(4):
                for r in range(rn):
                    es[d, c, r] = sub_mod(es[a, c, r], es[b, c, r])
        elif op == K_ESUB_BE:
            for r in range(rn):
                es[d, 0, r] = sub_mod(bs[a, r], es[b, 0, r])
            for c in range(1, 4):
                for r in range(rn):
                    es[d, c, r] = sub_mod(np.uint32(0), es[b, c, r])
        elif op == K_EMUL:
            for r in range(rn):
                c0, c1, c2, c3 = ext_mul_mont(
                    es[a, 0, r], es[a, 1, r], es[a, 2, r], es[a, 3, r],
                    es[b, 0, r], es[b, 1, r], es[b, 2, r], es[b, 3, r],
                )  # fmt: skip
                es[d, 0, r] = c0
                es[d, 1, r] = c1
                es[d, 2, r] = c2
                es[d, 3, r] = c3
        elif op == K_EMUL_EB:
            for c in range(4):
                for r in range(rn):
                    es[d, c, r] = mont_mul(es[a, c, r], bs[b, r])
        elif op == K_ENEG:
            for c in range(4):
                for r in range(rn):
                    es[d, c, r] = sub_mod(np.uint32(0), es[a, c, r])
        elif op == K_ACC_E:
            w0, w1, w2, w3 = alpha_m[a, 0], alpha_m[a, 1], alpha_m[a, 2], alpha_m[a, 3]
            for r in range(rn):
                c0, c1, c2, c3 = ext_mul_mont(
                    es[d, 0, r], es[d, 1, r], es[d, 2, r], es[d, 3, r], w0, w1, w2, w3
                )
                acc[b, 0, r] += np.uint64(c0)
                acc[b, 1, r] += np.uint64(c1)
                acc[b, 2, r] += np.uint64(c2)
                acc[b, 3, r] += np.uint64(c3)
        elif op == K_OUT_B:
            for r in range(rn):
                raw[a, r0 + r] = mont_mul(bs[d, r], _ONE)


@njit(cache=True, parallel=True)
def eval_kernel(
    code: np.ndarray,
    loads: np.ndarray,
    ext_loads: np.ndarray,
    consts: np.ndarray,
    publics: np.ndarray,
    challenges: np.ndarray,
    n_bregs: int,
    n_eregs: int,
    main: np.ndarray,
    pre: np.ndarray,
    perm: np.ndarray,
    next_index: np.ndarray,
    selectors: np.ndarray,
    publics_m: np.ndarray,
    challenges_m: np.ndarray,
    alpha_m: np.ndarray,
    scale: np.ndarray,
    out: np.ndarray,
    raw: np.ndarray,
    chunk: int,
    n_blocks: int,
) -> None:
    n = next_index.shape[0]
    n_chunks = (n + chunk - 1) // chunk
    p64 = np.uint64(P_INT)
    for blk in prange(n_blocks):
        bs = np.empty((n_bregs, chunk), dtype=np.uint32)
        es = np.empty((n_eregs, 4, chunk), dtype=np.uint32)
        acc = np.empty((N_GROUPS, 4, chunk), dtype=np.uint64)
        for k in range(consts.shape[0]):
            bs[consts[k, 0], :] = np.uint32(consts[k, 1])
        for k in range(publics.shape[0]):
            bs[publics[k, 0], :] = publics_m[publics[k, 1]]
        for k in range(challenges.shape[0]):
            src = challenges[k, 1]
            for c in range(4):
                v = challenges_m[challenges_m.shape[0] - 1, c] if src < 0 else challenges_m[src, c]
                es[challenges[k, 0], c, :] = v
        for ci in range(blk * n_chunks // n_blocks, (blk + 1) * n_chunks // n_blocks):
            r0 = ci * chunk
            rn = min(chunk, n - r0)
            acc[:] = 0
            load_chunk(loads, ext_loads, bs, es, r0, rn, main, pre, perm, next_index, selectors)
            run_code(code, bs, es, rn, alpha_m, acc, raw, r0)
            if out.shape[0] == 0:
                continue
            for r in range(rn):
                s = scale[r0 + r]  # canonical: mont_mul(x·R, s) = x·s
                for c in range(4):
                    total = np.uint32(acc[0, c, r] % p64)
                    for g in range(1, N_GROUPS):
                        part = np.uint32(acc[g, c, r] % p64)
                        total = add_mod(total, mont_mul(part, bs[g - 1, r]))
                    out[r0 + r, c] = mont_mul(total, s)
