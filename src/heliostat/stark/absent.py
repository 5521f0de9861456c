"""Which tables a proof may leave out: those whose all-zero trace is a valid empty instance."""

from __future__ import annotations

import random
from typing import TYPE_CHECKING

from heliostat.stark import logup
from heliostat.stark.extension import Ext4
from heliostat.stark.field import P
from heliostat.stark.program import ExprProgram, PointEnv, evaluate_at_point

if TYPE_CHECKING:
    from heliostat.stark.air import CompiledAir


def zero_trace_is_empty(table: CompiledAir, num_public_values: int) -> bool:
    """Tell whether an all-zero main trace satisfies every own constraint and sends nothing.

    Checked as polynomial identities in the selectors and public values (main columns set to
    0) by evaluation at random points (Schwartz–Zippel over the extension field; the AIR,
    not a prover, chooses these programs). Such a table, left out of a proof, is exactly
    the all-zero trace: it satisfies the table's constraints whatever the statement and
    contributes 0 to every bus, so leaving it out proves nothing a zero trace would not.
    A table with fixed columns is never left out (its fixed columns are part of the key).
    """
    if table.preprocessed is not None:
        return False
    rng = random.Random(0x48454C)  # fixed: the result must not depend on the run
    own = ExprProgram(
        table.program.instructions, table.program.outputs[: table.num_own_constraints]
    )
    mults = ExprProgram(
        table.interaction_program.instructions,
        tuple(table.interaction_program.outputs[k] for k in _multiplicity_positions(table)),
    )

    def ext() -> Ext4:
        return Ext4(*(rng.randrange(P) for _ in range(4)))

    for _ in range(2):
        zeros = [Ext4.zero()] * table.width
        perm = [ext() for _ in range(table.permutation_width)]
        env = PointEnv(
            main_local=zeros,
            main_next=zeros,
            pre_local=(),
            pre_next=(),
            perm_local=perm,
            perm_next=perm,
            publics=[rng.randrange(P) for _ in range(num_public_values)],
            challenges=[ext() for _ in range(logup.NUM_CHALLENGES)],
            logup_sum=ext(),
            selectors=(ext(), ext(), ext()),
        )
        for program in (own, mults):
            if any(v != Ext4.zero() for v in evaluate_at_point(program, env)):
                return False
    return True


def _multiplicity_positions(table: CompiledAir) -> list[int]:
    positions, k = [], 0
    for inter in table.interactions:
        positions.append(k)
        k += 1 + len(inter.values)
    return positions
