"""Where a proof's sections lie, and how to group them into transactions.

The on-chain verifier reads a proof (heliostat.stark.proof encoding) as a sequence of
sections — header, fixed opening, main opening, permutation opening, quotient opening, FRI
opening count, one section per FRI layer — and a transaction carries whole consecutive
sections (contracts/src/stark/ProofFormat.sol). This module finds the boundaries and packs
them greedily under a calldata budget.
"""

from __future__ import annotations

from dataclasses import dataclass

from heliostat.settlement.errors import SettlementError
from heliostat.stark.proof import ABSENT

SECTION_NAMES = ("header", "fixed", "main", "permutation", "quotient", "fri count")


def section_name(index: int) -> str:
    """Return a readable name of section ``index``."""
    return SECTION_NAMES[index] if index < len(SECTION_NAMES) else f"fri layer {index - 6}"


class _Cursor:
    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def take(self, n: int) -> bytes:
        if self.pos + n > len(self.data):
            raise SettlementError(
                "proof is truncated: cannot find its sections", reason="truncated"
            )
        out = self.data[self.pos : self.pos + n]
        self.pos += n
        return out

    def u(self, n: int) -> int:
        return int.from_bytes(self.take(n), "big")

    def ext_vector(self) -> None:
        self.take(16 * self.u(4))

    def siblings(self) -> None:
        self.take(32 * self.u(4))

    def tree_opening(self) -> None:
        for _ in range(self.u(1)):  # per matrix: rows, width, values
            rows = self.u(2)
            self.take(4 * rows * self.u(4))
        self.siblings()


def section_bounds(proof: bytes) -> list[tuple[int, int]]:
    """(start, end) of every section of an encoded proof, in order."""
    c = _Cursor(proof)
    bounds = []

    def mark(start: int) -> None:
        bounds.append((start, c.pos))

    c.take(6)
    tables = c.u(1)
    present = sum(1 for _ in range(tables) if c.u(1) != ABSENT)
    c.take(32)
    for _ in range(c.u(1)):  # traces sent in the clear: rows, width, values
        rows = c.u(2)
        c.take(4 * rows * c.u(4))
    if c.u(1):
        c.take(32)
    c.ext_vector()
    c.take(32)
    for _ in range(7 * present):  # a table left out has no opened values
        c.ext_vector()
    c.take(32 * c.u(1))
    c.ext_vector()
    c.take(8)
    mark(0)
    for flagged in (True, False, True, False):  # fixed, main, permutation, quotient
        start = c.pos
        if not flagged or c.u(1):
            c.tree_opening()
        mark(start)
    start = c.pos
    layers = c.u(1)
    mark(start)
    for _ in range(layers):
        start = c.pos
        c.take(16 * c.u(2) * c.u(2))
        c.siblings()
        mark(start)
    if c.pos != len(proof):
        raise SettlementError("trailing bytes after the proof's sections", reason="trailing_bytes")
    return bounds


@dataclass(frozen=True)
class Chunk:
    """Consecutive sections sent in one transaction: their byte range and indices."""

    start: int
    end: int
    first_section: int
    sections: int

    @property
    def size(self) -> int:
        """Bytes of proof in this chunk."""
        return self.end - self.start


def plan_chunks(proof: bytes, budget: int) -> list[Chunk]:
    """Pack the sections greedily into chunks of at most ``budget`` bytes of proof each."""
    bounds = section_bounds(proof)
    chunks: list[Chunk] = []
    first = 0
    for i, (start, end) in enumerate(bounds):
        if end - start > budget:
            raise SettlementError(
                f"section {section_name(i)} has {end - start} bytes, more than one transaction "
                f"carries ({budget})",
                reason="section_too_large",
            )
        if i > first and end - bounds[first][0] > budget:
            chunks.append(Chunk(bounds[first][0], bounds[i - 1][1], first, i - first))
            first = i
    chunks.append(Chunk(bounds[first][0], bounds[-1][1], first, len(bounds) - first))
    return chunks
