"""The numba program interpreter against the NumPy reference, on random programs and rows."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from heliostat.stark.constraint_eval import (
    compile_kernel_program,
    evaluate_outputs,
    evaluate_quotient_numerator,
)
from heliostat.stark.debug import RowEnv, evaluate_rows
from heliostat.stark.extension import Ext4
from heliostat.stark.field import P
from heliostat.stark.symbolic import (
    Expr,
    Selector,
    Trace,
    challenge,
    column,
    const,
    logup_sum,
    lower,
    public,
    selector,
)

WIDTH, PRE_WIDTH, PERM_WIDTH, N_PUBLICS, N_CHALLENGES = 4, 2, 2, 2, 2


@st.composite
def expressions(draw: st.DrawFn, depth: int = 4) -> Expr:
    if depth == 0 or draw(st.integers(0, 3)) == 0:
        kind = draw(st.integers(0, 7))
        nxt = draw(st.booleans())
        if kind == 0:
            return const(draw(st.integers(0, P - 1)))
        if kind == 1:
            return column(Trace.MAIN, draw(st.integers(0, WIDTH - 1)), next_row=nxt)
        if kind == 2:
            return column(Trace.PREPROCESSED, draw(st.integers(0, PRE_WIDTH - 1)), next_row=nxt)
        if kind == 3:
            return column(Trace.PERMUTATION, draw(st.integers(0, PERM_WIDTH - 1)), next_row=nxt)
        if kind == 4:
            return public(draw(st.integers(0, N_PUBLICS - 1)))
        if kind == 5:
            return challenge(draw(st.integers(0, N_CHALLENGES - 1)))
        if kind == 6:
            return logup_sum()
        return selector(draw(st.sampled_from(list(Selector))))
    a = draw(expressions(depth - 1))
    b = draw(expressions(depth - 1))
    op = draw(st.integers(0, 3))
    return [a + b, a - b, a * b, -a][op]


def _rows(rng: np.random.Generator, n: int):
    main = rng.integers(0, P, size=(n, WIDTH), dtype=np.uint32)
    pre = rng.integers(0, P, size=(n, PRE_WIDTH), dtype=np.uint32)
    perm = rng.integers(0, P, size=(n, 4 * PERM_WIDTH), dtype=np.uint32)
    sel = rng.integers(0, P, size=(3, n), dtype=np.uint32)
    nxt = rng.permutation(n).astype(np.int64)
    return main, pre, perm, sel, nxt


def _reference_env(main, pre, perm, sel, nxt, publics, challenges, lsum) -> RowEnv:
    u = np.uint64
    perm3 = perm.reshape(len(perm), PERM_WIDTH, 4).astype(u)
    return RowEnv(
        main=main.astype(u), main_next=main[nxt].astype(u), pre=pre.astype(u),
        pre_next=pre[nxt].astype(u), perm=perm3, perm_next=perm3[nxt],
        selectors=tuple(s.astype(u) for s in sel), publics=publics, challenges=challenges,
        logup_sum=lsum,
    )  # fmt: skip


@given(st.lists(expressions(), min_size=1, max_size=6), st.integers(0, 2**32 - 1))
def test_quotient_numerator_matches_reference(roots: list[Expr], seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = 300  # not a multiple of the chunk size: the last chunk is partial
    main, pre, perm, sel, nxt = _rows(rng, n)
    publics = [int(x) for x in rng.integers(0, P, N_PUBLICS)]
    challenges = [Ext4(*map(int, rng.integers(0, P, 4))) for _ in range(N_CHALLENGES)]
    lsum = Ext4(*map(int, rng.integers(0, P, 4)))
    alphas = [Ext4(*map(int, rng.integers(0, P, 4))) for _ in roots]
    scale = rng.integers(0, P, n, dtype=np.uint32)
    program = lower(roots).program
    got = evaluate_quotient_numerator(
        compile_kernel_program(program), main=main, pre=pre, perm=perm, next_index=nxt,
        selectors=sel, publics=publics, challenges=challenges, logup_sum=lsum,
        alpha_powers=alphas, scale=scale,
    )  # fmt: skip
    ref = evaluate_rows(
        program, _reference_env(main, pre, perm, sel, nxt, publics, challenges, lsum)
    )
    for r in range(0, n, 37):
        expected = Ext4.zero()
        for alpha, values in zip(alphas, ref, strict=True):
            v = values[r]
            expected = expected + alpha * (Ext4(int(v)) if v.ndim == 0 else Ext4(*map(int, v)))
        assert Ext4.from_array(got[r]) == expected * int(scale[r])


@given(st.lists(expressions(depth=3), min_size=1, max_size=5), st.integers(0, 2**32 - 1))
def test_raw_outputs_match_reference(roots: list[Expr], seed: int) -> None:
    base_only = [r for r in roots if not r.is_ext and not _uses_next_or_selector(r)]
    if not base_only:
        return
    rng = np.random.default_rng(seed)
    n = 70
    main, pre, *_ = _rows(rng, n)
    publics = [int(x) for x in rng.integers(0, P, N_PUBLICS)]
    program = lower(base_only).program
    got = evaluate_outputs(
        compile_kernel_program(program, raw_outputs=True), main=main, pre=pre, publics=publics
    )
    ident = np.arange(n)
    ref = evaluate_rows(
        program,
        _reference_env(main, pre, np.zeros((n, 4 * PERM_WIDTH), np.uint32),
                       np.zeros((3, n), np.uint32), ident, publics, [], Ext4.zero()),
    )  # fmt: skip
    for k, values in enumerate(ref):
        assert np.array_equal(got[k], np.broadcast_to(values, (n,)).astype(np.uint32))


def _uses_next_or_selector(expr: Expr) -> bool:
    from heliostat.stark.program import Op

    stack = [expr]
    while stack:
        e = stack.pop()
        if e.op in (Op.MAIN_NEXT, Op.PRE_NEXT, Op.IS_FIRST_ROW, Op.IS_LAST_ROW, Op.IS_TRANSITION):
            return True
        stack.extend(e.args)
    return False
