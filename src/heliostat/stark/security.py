"""Security of a parameter set: conjectured bits, and proven bits in two decoding regimes.

Conjectured (the ethSTARK toy-problem conjecture, as winterfell and Plonky3 report it):
    min(queries·log2(blowup) + grinding,  log2|F| − log2|D|,  256/2)
with |F| = p^4 and D the largest LDE domain.

Proven: the error of each protocol step, in the unique decoding regime (UDR) and the Johnson
bound regime (JBR), following the Ethereum Foundation's soundcalc (soundcalc/circuits/
deep_ali.py, pcs/fri.py, proxgaps/{unique_decoding, johnson_bound}.py, lookups/logup.py), which
uses Theorems 1.3/4.2 of BCHKS25 for proximity gaps and Theorem 8 of ePrint 2022/1216 for
DEEP-ALI. With rate ρ, trace height n, |D| = n/ρ, list size L and proximity θ:

    ALI            L·C / |F|                                   (C constraints, powers of α)
    DEEP           L·(d·(n + k − 1) + n − 1) / (|F| − n − |D|)  (degree d, k = 2 points)
    FRI batching   ε_lin(ρ, n)·(B − 1)                          (B columns, powers of α)
    FRI round i    ε_lin(ρ, n/a_1⋯a_i)·(a_i − 1)                 (arity a_i)
    FRI queries    (1 − θ)^q · 2^−grinding
    LogUp          M·(2n)·V / |F|                               (M interactions, V values)

UDR: θ = (1 − ρ)/2, L = 1, ε_lin = (θ|D| + 1)/|F|.  JBR: η = max(ρ/20, √ρ/100),
θ = 1 − √ρ − η, L = 1/(2η√ρ), m = max(⌈√ρ/(2η)⌉, 3), m' = m + ½,
ε_lin = ((2m'^5 + 3m'θρ)·|D|/(3ρ√ρ) + m'/√ρ) / |F|.
The bits of a step are ⌊−log2 ε⌋; a regime's total is the minimum over its steps.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from heliostat.stark.air import CompiledMachine
from heliostat.stark.config import StarkConfig
from heliostat.stark.field import P
from heliostat.stark.fri import fri_schedule
from heliostat.stark.pcs import Round, round_width

FIELD_BITS = 4 * math.log2(P)  # |F| = p^4
FIELD_SIZE = float(P) ** 4
HASH_BITS = 256
OPENING_POINTS = 2


@dataclass(frozen=True)
class Shape:
    """What the bounds depend on besides the parameter set."""

    log_height: int  # the tallest table
    columns: int  # committed base-field columns, all rounds and tables
    constraints: int  # the most in one table
    max_degree: int
    interactions: int = 0
    values_per_message: int = 1
    fri_arities: tuple[int, ...] = ()  # log2 of each folding step (from the schedule)


@dataclass(frozen=True)
class Report:
    """Conjectured bits, and per regime the bits of every step and their minimum."""

    conjectured_bits: float
    proven: dict[str, dict[str, int]]

    def proven_bits(self) -> int:
        """Return the better regime's total (each regime's bound is a proven one)."""
        return max(r["total"] for r in self.proven.values())


def _bits(error: float) -> int:
    return math.floor(-math.log2(error)) if error > 0 else 10**6


def conjectured_bits(config: StarkConfig, log_lde_size: int) -> float:
    """min(queries·log2(blowup) + grinding, log2|F| − log2|D|, hash_bits/2)."""
    query = config.num_queries * config.log_blowup + config.pow_bits
    return min(float(query), FIELD_BITS - log_lde_size, HASH_BITS / 2)


def _regime(name: str, rho: float) -> tuple[float, float]:
    """(θ, L) of a regime."""
    if name == "UDR":
        return (1 - rho) / 2, 1.0
    eta = max(rho / 20, math.sqrt(rho) / 100)
    return 1 - math.sqrt(rho) - eta, 1 / (2 * eta * math.sqrt(rho))


def _error_linear(name: str, rho: float, dimension: float) -> float:
    domain = dimension / rho
    theta, _ = _regime(name, rho)
    if name == "UDR":
        return (theta * domain + 1) / FIELD_SIZE
    sqrt_rho = math.sqrt(rho)
    eta = 1 - sqrt_rho - theta
    m = max(math.ceil(sqrt_rho / (2 * eta)), 3) + 0.5
    first = (2 * m**5 + 3 * m * theta * rho) * domain / (3 * rho * sqrt_rho)
    return (first + m / sqrt_rho) / FIELD_SIZE


def proven_bits(config: StarkConfig, shape: Shape, regime: str) -> dict[str, int]:
    """Return the bits of every protocol step in one regime ("UDR" or "JBR"), and the total."""
    rho = 1 / config.blowup
    n = float(1 << shape.log_height)
    domain = n / rho
    theta, list_size = _regime(regime, rho)
    steps: dict[str, int] = {}
    steps["ALI"] = _bits(list_size * shape.constraints / FIELD_SIZE)
    deep = shape.max_degree * (n + OPENING_POINTS - 1) + (n - 1)
    steps["DEEP"] = _bits(list_size * deep / (FIELD_SIZE - n - domain))
    steps["FRI batching"] = _bits(_error_linear(regime, rho, n) * max(shape.columns - 1, 1))
    dimension = n
    for i, log_arity in enumerate(shape.fri_arities):
        dimension /= 1 << log_arity
        error = _error_linear(regime, rho, dimension) * ((1 << log_arity) - 1)
        steps[f"FRI round {i + 1}"] = _bits(error)
    query = (1 - theta) ** config.num_queries * 2.0**-config.pow_bits
    steps["FRI queries"] = _bits(query)
    if shape.interactions:
        lookup = shape.interactions * 2 * n * shape.values_per_message / FIELD_SIZE
        steps["LogUp"] = _bits(lookup)
    steps["total"] = min(steps.values())
    return steps


def report(config: StarkConfig, shape: Shape) -> Report:
    """Conjectured and proven security of ``config`` for proofs of ``shape``."""
    return Report(
        conjectured_bits=conjectured_bits(config, shape.log_height + config.log_blowup),
        proven={regime: proven_bits(config, shape, regime) for regime in ("UDR", "JBR")},
    )


def machine_shape(
    machine: CompiledMachine, log_heights: Sequence[int], config: StarkConfig
) -> Shape:
    """Return the shape of proofs of ``machine`` with these table heights.

    Absent tables (height 0) are skipped in the FRI schedule; columns, constraints and
    interactions count every table (an upper bound: absent and clear tables add nothing).
    """
    columns = sum(round_width(t, rnd) for t in machine.tables for rnd in Round)
    present = [h for h in log_heights if h != 0]
    schedule = fri_schedule([h + config.log_blowup for h in present], config)
    return Shape(
        log_height=max(present),
        columns=columns,
        constraints=max(len(t.constraints) for t in machine.tables),
        max_degree=max(t.max_degree for t in machine.tables),
        interactions=sum(len(t.interactions) for t in machine.tables),
        values_per_message=max(
            (len(i.values) for t in machine.tables for i in t.interactions), default=1
        ),
        fri_arities=schedule.log_arities,
    )
