"""LogUp buses: the fingerprint, interaction batching and the permutation-trace constraints.

With challenges z and β (sampled after the main commitment), a message ``values`` on ``bus``
has fingerprint φ = bus + Σ_i β^(i+1)·values[i] and contributes ±m/(z − φ). Each table's
permutation trace holds one helper column per batch of interactions,
h = Σ_batch ±m_i/(z − φ_i), and a running sum s of the rows before: s[0] = 0,
s[r+1] = s[r] + Σ h[r] and s[last] + Σ h[last] = the table's claimed sum (so only s is read
on the next row). The verifier checks that the
claimed sums plus the public interactions' terms add to zero. (Shared by prover and verifier.)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from heliostat.stark.errors import LogUpSumError
from heliostat.stark.extension import Ext4
from heliostat.stark.program import PointEnv, evaluate_at_point
from heliostat.stark.symbolic import (
    Expr,
    Selector,
    Trace,
    challenge,
    column,
    const,
    logup_sum,
    product,
    selector,
    sum_exprs,
)

if TYPE_CHECKING:
    from heliostat.stark.air import CompiledMachine, Constraint, Interaction

CHALLENGE_Z = 0
CHALLENGE_BETA = 1
NUM_CHALLENGES = 2


def fingerprint(bus: int, values: Sequence[Expr]) -> Expr:
    """φ = bus + Σ_i β^(i+1)·values[i], symbolically."""
    beta = challenge(CHALLENGE_BETA)
    acc: Expr = const(bus)
    power: Expr = beta
    for v in values:
        acc = acc + power * v
        power = power * beta
    return acc


def denominator(bus: int, values: Sequence[Expr]) -> Expr:
    """Return z − φ(bus, values)."""
    return challenge(CHALLENGE_Z) - fingerprint(bus, values)


def _signed(inter: Interaction) -> Expr:
    return inter.multiplicity if inter.is_send else -inter.multiplicity


def _batch_degree(interactions: Sequence[Interaction]) -> int:
    dens = [max((v.degree for v in i.values), default=0) for i in interactions]
    total = sum(dens)
    lhs = 1 + total  # h · Π d
    rhs = max(i.multiplicity.degree + total - d for i, d in zip(interactions, dens, strict=True))
    return max(lhs, rhs)


def batch_interactions(
    interactions: Sequence[Interaction], degree_limit: int
) -> tuple[tuple[int, ...], ...]:
    """Group interactions (in order) into batches whose helper constraint fits the limit."""
    batches: list[list[int]] = []
    for index in range(len(interactions)):
        if batches:
            trial = [interactions[i] for i in (*batches[-1], index)]
            if _batch_degree(trial) <= degree_limit:
                batches[-1].append(index)
                continue
        batches.append([index])
    return tuple(tuple(b) for b in batches)


def permutation_constraints(
    interactions: Sequence[Interaction], batches: Sequence[Sequence[int]]
) -> list[Constraint]:
    """Return the helper-column and running-sum constraints of one table."""
    from heliostat.stark.air import Constraint  # air imports this module

    constraints: list[Constraint] = []
    helpers = []
    for b, batch in enumerate(batches):
        h = column(Trace.PERMUTATION, b)
        helpers.append(h)
        dens = [denominator(interactions[i].bus, interactions[i].values) for i in batch]
        terms = []
        for k, i in enumerate(batch):
            others = product(d for j, d in enumerate(dens) if j != k)
            terms.append(_signed(interactions[i]) * others)
        constraints.append(Constraint(f"logup helper {b}", h * product(dens) - sum_exprs(terms)))
    s = column(Trace.PERMUTATION, len(batches))
    s_next = column(Trace.PERMUTATION, len(batches), next_row=True)
    first, last = selector(Selector.IS_FIRST_ROW), selector(Selector.IS_LAST_ROW)
    transition = selector(Selector.IS_TRANSITION)
    row_sum = sum_exprs(helpers)
    constraints.append(Constraint("logup sum first row", first * s))
    constraints.append(Constraint("logup sum transition", transition * (s_next - s - row_sum)))
    constraints.append(Constraint("logup sum last row", last * (s + row_sum - logup_sum())))
    return constraints


def public_logup_sum(machine: CompiledMachine, publics: Sequence[int], z: Ext4, beta: Ext4) -> Ext4:
    """Σ ±m/(z − φ) over the machine's public interactions (evaluated from public values)."""
    if not machine.public_interactions:
        return Ext4.zero()
    zero = Ext4.zero()
    env = PointEnv((), (), (), (), (), (), publics, (), zero, (zero, zero, zero))
    values = evaluate_at_point(machine.public_program, env)
    total, k = zero, 0
    for inter in machine.public_interactions:
        mult, args = values[k], values[k + 1 : k + 1 + len(inter.values)]
        k += 1 + len(inter.values)
        phi = Ext4.from_base(inter.bus)
        power = beta
        for v in args:
            phi = phi + power * v
            power = power * beta
        if phi == z:  # probability ~2^-124 over z; a proof cannot choose it
            raise LogUpSumError("a public message's fingerprint equals the challenge z")
        term = mult / (z - phi)
        total = total + term if inter.is_send else total - term
    return total
