"""The base class of instruction chips: frame columns, access slots, trace filling.

A chip declares its operations (`ops`), its extra columns (`define`) and its constraints
(`constrain`); on the trace side it lists the memory accesses of its rows (`accesses`, one
`Slot` per access position, each an array over the rows) and fills its columns once the
memory scan has supplied old values and previous timestamps (`fill`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from heliostat.stark.air import AirBuilder
from heliostat.zkvm.frame import FrameEval, FrameSpec, Op, StepRows, fill_frame
from heliostat.zkvm.layout import Layout, Row
from heliostat.zkvm.u16_chip import LookupCounts

I64 = NDArray[np.int64]
U64 = NDArray[np.uint64]


@dataclass
class Slot:
    """One access position of a chip's rows: arrays over the rows (inactive rows ignored)."""

    name: str
    addr: I64
    t: I64
    wmask: NDArray[np.uint8]  # 0: read; else the bytes written
    wval: U64
    active: NDArray[np.bool_]


@dataclass
class SlotResult:
    """What the memory scan found for a slot (zeros on inactive rows)."""

    old: U64
    new: U64
    t_prev: I64


def read_slot(name: str, addr: I64, t: I64, active: NDArray[np.bool_] | None = None) -> Slot:
    """Return a read of whole words or registers."""
    n = addr.shape[0]
    act = np.ones(n, dtype=bool) if active is None else active
    return Slot(name, addr, t, np.zeros(n, np.uint8), np.zeros(n, np.uint64), act)


def write_slot(
    name: str, addr: I64, t: I64, value: U64, active: NDArray[np.bool_] | None = None
) -> Slot:
    """Return a write of a whole register or word."""
    n = addr.shape[0]
    act = np.ones(n, dtype=bool) if active is None else active
    return Slot(name, addr, t, np.full(n, 0xFF, np.uint8), np.asarray(value, np.uint64), act)


class InstructionChip:
    """Common machinery; subclasses set ``name`` and ``ops`` and implement the hooks."""

    name: str = ""
    ops: tuple[Op, ...] = ()

    def __init__(self) -> None:
        self.layout = Layout()
        self.frame = FrameSpec(self.layout, self.ops)
        self.define(self.layout)
        self.width = self.layout.width

    # --- AIR -------------------------------------------------------------------------------
    def preprocessed_trace(self) -> None:
        """No fixed columns."""
        return None

    def eval(self, ab: AirBuilder) -> None:
        """Frame, then the chip's own constraints."""
        row = Row(ab.main.local, self.layout)
        fe = FrameEval(ab, row, self.frame)
        fe.receive_state()
        self.constrain(ab, row, fe)

    def define(self, layout: Layout) -> None:
        """Add the chip's own columns."""
        raise NotImplementedError

    def constrain(self, ab: AirBuilder, row: Row, fe: FrameEval) -> None:
        """Declare constraints and interactions (the frame's state input is done)."""
        raise NotImplementedError

    # --- trace -----------------------------------------------------------------------------
    def op_of(self, opcodes: I64) -> I64:
        """Map opcodes to operation indices (raises on an opcode the chip lacks)."""
        table = np.full(256, -1, dtype=np.int64)
        for i, o in enumerate(self.ops):
            table[o.opcode] = i
        out = table[np.asarray(opcodes, dtype=np.int64)]
        if (out < 0).any():
            raise ValueError(f"{self.name}: opcode {int(opcodes[out < 0][0]):#x} not executed here")
        return out

    def accesses(self, rows: StepRows) -> Sequence[Slot]:
        """Return the memory accesses of the rows."""
        raise NotImplementedError

    def fill(self, rows: StepRows, results: dict[str, SlotResult], lookups: LookupCounts) -> I64:
        """Return the chip's trace (unpadded, int64; reduced mod p by the caller)."""
        t = np.zeros((len(rows), self.width), dtype=np.int64)
        fill_frame(t, self.layout, rows)
        self.fill_body(t, rows, results, lookups)
        return t

    def fill_body(
        self, t: I64, rows: StepRows, results: dict[str, SlotResult], lookups: LookupCounts
    ) -> None:
        """Fill the chip's own columns."""
        raise NotImplementedError
