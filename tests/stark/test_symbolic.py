"""The expression DSL, its lowering to a flat program, and AIR compilation checks."""

from __future__ import annotations

import numpy as np
import pytest

from heliostat.stark.air import Interaction, compile_machine
from heliostat.stark.errors import AirDefinitionError
from heliostat.stark.examples import fibonacci, lookup, synthetic
from heliostat.stark.extension import Ext4
from heliostat.stark.field import P
from heliostat.stark.program import Op, PointEnv, evaluate_at_point
from heliostat.stark.symbolic import Trace, column, const, lower, public


def _env(main: list[int], publics: list[int] = ()) -> PointEnv:
    zero = Ext4.zero()
    vals = [Ext4(v) for v in main]
    return PointEnv(vals, vals, (), (), (), (), publics, (), zero, (zero, zero, zero))


def test_arithmetic_and_constant_folding() -> None:
    a, b = column(Trace.MAIN, 0), column(Trace.MAIN, 1)
    assert (a + 0) is a and (0 + a) is a and (a * 1) is a and (a - 0) is a
    assert (a * 0).op == Op.CONST and (a * 0).operand == 0
    assert (const(P - 1) + 2).operand == 1
    assert (-const(3)).operand == P - 3
    expr = (a + b) * (a - b) - a**2 + b**2  # = 0 identically
    program = lower([expr]).program
    out = evaluate_at_point(program, _env([12345, 678]))
    assert out == [Ext4.zero()]
    assert expr.degree == 2 and (a**3).degree == 3 and (a**0).op == Op.CONST


def test_shared_subexpressions_appear_once() -> None:
    a, b = column(Trace.MAIN, 0), column(Trace.MAIN, 1)
    x = a * b + 7
    y = column(Trace.MAIN, 0) * column(Trace.MAIN, 1) + 7  # equal, built separately
    program = lower([x * x, y - 1]).program
    muls = [i for i in program.instructions if i.op == Op.MUL]
    assert len(muls) == 2  # a·b once, then x·x
    assert len([i for i in program.instructions if i.op == Op.MAIN]) == 2
    for k, ins in enumerate(program.instructions):  # topological order
        if ins.op in (Op.ADD, Op.SUB, Op.MUL):
            assert ins.a < k and ins.b < k


def test_program_bytes_are_deterministic_and_distinguish_programs() -> None:
    m1 = compile_machine([fibonacci.FibonacciAir()], 3)
    m2 = compile_machine([fibonacci.FibonacciAir()], 3)
    assert m1.digest == m2.digest
    assert m1.tables[0].program.to_bytes() == m2.tables[0].program.to_bytes()
    assert (
        compile_machine([synthetic.SyntheticAir(7)]).digest
        != compile_machine([synthetic.SyntheticAir(8)]).digest
    )


def test_expressions_have_no_truth_value() -> None:
    with pytest.raises(AirDefinitionError):
        bool(column(Trace.MAIN, 0))
    with pytest.raises(AirDefinitionError):
        column(Trace.MAIN, 0) + 1.5  # type: ignore[operator]


def test_compile_rejects_bad_airs() -> None:
    class Wide:
        name, width = "wide", 2

        def preprocessed_trace(self):
            return None

        def eval(self, ab):
            ab.assert_zero(column(Trace.MAIN, 5))

    with pytest.raises(AirDefinitionError, match="main column 5"):
        compile_machine([Wide()])

    class BadPublic(Wide):
        def eval(self, ab):
            ab.assert_zero(public(3) - ab.main.local[0])

    with pytest.raises(AirDefinitionError, match="public value 3"):
        compile_machine([BadPublic()], 2)

    class NextInInteraction(Wide):
        def eval(self, ab):
            ab.send(1, [ab.main.next[0]])

    with pytest.raises(AirDefinitionError, match="current row"):
        compile_machine([NextInInteraction()])

    class TooHigh(Wide):
        def eval(self, ab):
            ab.assert_zero(ab.main.local[0] ** 9)

    with pytest.raises(AirDefinitionError, match="degree"):
        compile_machine([TooHigh()])

    class BadFixed(Wide):
        def preprocessed_trace(self):
            return np.zeros((6, 1), dtype=np.uint32)

        def eval(self, ab):
            pass

    with pytest.raises(AirDefinitionError, match="fixed columns"):
        compile_machine([BadFixed()])


def test_bus_arity_must_agree() -> None:
    with pytest.raises(AirDefinitionError, match="bus 7"):
        compile_machine([lookup.ReaderAir()], 0, [Interaction.receive(7, [1, 2])])


def test_degrees_and_quotient_chunks() -> None:
    fib = compile_machine([fibonacci.FibonacciAir()], 3).tables[0]
    assert fib.max_degree == 2 and fib.num_quotient_chunks == 1 and fib.log_quotient_degree == 0
    syn = compile_machine([synthetic.SyntheticAir(8)]).tables[0]
    assert syn.max_degree == 4 and syn.num_quotient_chunks == 3 and syn.log_quotient_degree == 2
    # two interactions of degree-1 values batch into one helper of degree 3
    assert syn.logup_batches == ((0, 1),) and syn.permutation_width == 2
