"""What is committed, in which tree, and how openings are batched for FRI (shared layout).

There is one mixed-height Merkle tree per round (fixed columns, main, permutation, quotient),
holding one matrix per table of the proof (absent tables have none) that has something in
that round, in table order; every matrix is a low-degree extension of blowup 2^log_blowup in
bit-reversed row order. For FRI, the matrices of each LDE size form one batch ("height
class"): its reduced opening is

    ro(x) = (S(x) − S(ζ))/(x − ζ) + α·(T(x) − T(ζω))/(x − ζω)

where S sums α^(off_m + 2j)·col_j (α^(off_m + j) for the quotient, opened at ζ only) over the
class's matrices and T is the same sum over the columns opened at ζω too (those the
constraints read on the next row).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import IntEnum

from heliostat.stark.air import CompiledAir, CompiledMachine
from heliostat.stark.extension import Ext4
from heliostat.stark.field import P
from heliostat.stark.proof import ABSENT, TableOpenings


class Round(IntEnum):
    """The commitment rounds, in transcript order."""

    PREPROCESSED = 0
    MAIN = 1
    PERMUTATION = 2
    QUOTIENT = 3


@dataclass(frozen=True)
class MatrixSlot:
    """One committed matrix: whose, which round, its LDE height (log2) and width."""

    table: int
    round: Round
    log_height: int
    width: int

    @property
    def two_point(self) -> bool:
        """Opened at ζ and ζ·ω (everything but the quotient, which is opened at ζ only)."""
        return self.round != Round.QUOTIENT


def round_width(table: CompiledAir, rnd: Round) -> int:
    """Base-field columns a table commits in a round (0 if none)."""
    if rnd == Round.PREPROCESSED:
        return table.preprocessed_width
    if rnd == Round.MAIN:
        return table.width
    if rnd == Round.PERMUTATION:
        return 4 * table.permutation_width
    return 4 * table.num_quotient_chunks


def next_columns(table: CompiledAir, rnd: Round) -> tuple[int, ...]:
    """Return the base columns of a round opened at ζ·ω too (read on the next row)."""
    if rnd == Round.PREPROCESSED:
        return table.preprocessed_next_columns
    if rnd == Round.MAIN:
        return table.main_next_columns
    if rnd == Round.PERMUTATION:
        return tuple(4 * e + k for e in table.permutation_next_columns for k in range(4))
    return ()


def round_matrices(
    machine: CompiledMachine, log_heights: Sequence[int], log_blowup: int, rnd: Round
) -> list[MatrixSlot]:
    """Return the matrices of one round's tree, in tree (table) order."""
    slots = []
    for t, (table, log_n) in enumerate(zip(machine.tables, log_heights, strict=True)):
        width = round_width(table, rnd)
        if width and log_n != ABSENT:
            slots.append(MatrixSlot(t, rnd, log_n + log_blowup, width))
    return slots


def uses_logup(machine: CompiledMachine, log_heights: Sequence[int]) -> bool:
    """Tell whether some table of the proof has interactions (then there is a LogUp round)."""
    return bool(logup_sum_tables(machine, log_heights))


def logup_sum_tables(machine: CompiledMachine, log_heights: Sequence[int]) -> list[int]:
    """Return the tables whose LogUp sum a proof carries: those of it with interactions."""
    return [
        t
        for t, (table, log_n) in enumerate(zip(machine.tables, log_heights, strict=True))
        if table.interactions and log_n != ABSENT
    ]


@dataclass(frozen=True)
class DeepEntry:
    """A matrix in a FRI height class, its first power of α, its columns opened at ζ·ω."""

    slot: MatrixSlot
    offset: int
    next_columns: tuple[int, ...]


def deep_layout(
    machine: CompiledMachine, log_heights: Sequence[int], log_blowup: int
) -> dict[int, list[DeepEntry]]:
    """Per LDE size (log2): the matrices batched together, in canonical order."""
    classes: dict[int, list[DeepEntry]] = {}
    offsets: dict[int, int] = {}
    for t, table in enumerate(machine.tables):
        for rnd in Round:
            width = round_width(table, rnd)
            if not width or log_heights[t] == ABSENT:
                continue
            slot = MatrixSlot(t, rnd, log_heights[t] + log_blowup, width)
            off = offsets.get(slot.log_height, 0)
            entry = DeepEntry(slot, off, next_columns(table, rnd))
            classes.setdefault(slot.log_height, []).append(entry)
            offsets[slot.log_height] = off + (2 * width if slot.two_point else width)
    return classes


def column_coefficients(entry: DeepEntry, alpha_powers: Sequence[Ext4]) -> list[Ext4]:
    """α^(off + 2j) for two-point matrices, α^(off + j) for the quotient."""
    step = 2 if entry.slot.two_point else 1
    return [alpha_powers[entry.offset + step * j] for j in range(entry.slot.width)]


def class_power_count(entries: Sequence[DeepEntry]) -> int:
    """How many powers of α a class uses."""
    last = entries[-1]
    return last.offset + (2 if last.slot.two_point else 1) * last.slot.width


def dot_ext_base(coeffs: Sequence[tuple[int, int, int, int]], row: Sequence[int]) -> Ext4:
    """Σ_j coeffs[j]·row[j] for extension coefficients (as tuples) and base-field values."""
    return Ext4(*(sum(c[k] * v for c, v in zip(coeffs, row, strict=True)) % P for k in range(4)))


def dot_ext(coeffs: Sequence[Ext4], values: Sequence[Ext4]) -> Ext4:
    """Σ_j coeffs[j]·values[j] over the extension."""
    acc = Ext4.zero()
    for c, v in zip(coeffs, values, strict=True):
        acc = acc + c * v
    return acc


def recombine(coordinates: Sequence[Ext4]) -> list[Ext4]:
    """Turn 4k coordinate-polynomial values into k extension values: Σ_i X^i·v_i."""
    basis = [Ext4(1), Ext4(0, 1), Ext4(0, 0, 1), Ext4(0, 0, 0, 1)]
    return [dot_ext(basis, coordinates[4 * k : 4 * k + 4]) for k in range(len(coordinates) // 4)]


def round_values(openings: TableOpenings, rnd: Round) -> tuple[tuple[Ext4, ...], ...]:
    """Return a table's opened values of a round: (at ζ, at ζω), or (at ζ,) for the quotient."""
    if rnd == Round.PREPROCESSED:
        return openings.pre_local, openings.pre_next
    if rnd == Round.MAIN:
        return openings.main_local, openings.main_next
    if rnd == Round.PERMUTATION:
        return openings.perm_local, openings.perm_next
    return (openings.quotient,)


def class_point_sums(
    entries: Sequence[DeepEntry],
    alpha_powers: Sequence[Ext4],
    openings: Sequence[TableOpenings],
) -> tuple[Ext4, Ext4]:
    """S(ζ) and T(ζω) of a height class, from the opened values."""
    s_zeta, t_next = Ext4.zero(), Ext4.zero()
    for entry in entries:
        coeffs = column_coefficients(entry, alpha_powers)
        values = round_values(openings[entry.slot.table], entry.slot.round)
        s_zeta = s_zeta + dot_ext(coeffs, values[0])
        if entry.next_columns:
            t_next = t_next + dot_ext([coeffs[j] for j in entry.next_columns], values[1])
    return s_zeta, t_next
