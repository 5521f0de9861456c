"""The fixed 2^16-row lookup table for ranges, bytes, bitwise operations and opcode decoding.

It holds 16-bit ranges, sign bits, division by 8, byte pairs, bytewise AND/OR/XOR and the
opcode decode flags, all keyed by the same row x = a + 256·b.

Fixed columns: a, b, x >> 15, x >> 3, x & 7, a AND b, a OR b, a XOR b, then the decode flags
of opcode x (rows 0–255; zero above). Main columns: one multiplicity per lookup kind, counted
by the trace generator (`LookupCounts`).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from heliostat.stark.air import AirBuilder
from heliostat.zkvm.buses import BitOp, Bus
from heliostat.zkvm.decode import FLAGS, decode_table

SIZE = 1 << 16
_FIXED = ("a", "b", "msb", "div8", "mod8", "and", "or", "xor", "sh_lo", "sh_hi")
KINDS = ("u16", "msb", "div8", "bytes", "and", "or", "xor", "decode", "shift")


def _fixed_columns() -> NDArray[np.uint32]:
    x = np.arange(SIZE, dtype=np.uint32)
    a, b = x & 0xFF, x >> 8
    # byte shifts on rows b < 16 (b = 8·right + k): left: lo = (a << k) & 255, hi = a >> (8 − k)
    # (the bits moved into the next byte); right: lo = a >> k, hi = (a << (8 − k)) & 255
    k, right = b & 7, (b >> 3) & 1
    left_lo, left_hi = (a << k) & 0xFF, np.where(k == 0, 0, a >> (8 - k))
    right_lo, right_hi = a >> k, (a << (8 - k)) & 0xFF
    shift = b < 16
    sh_lo = np.where(shift, np.where(right == 1, right_lo, left_lo), 0)
    sh_hi = np.where(shift, np.where(right == 1, right_hi, left_hi), 0)
    cols = [a, b, x >> 15, x >> 3, x & 7, a & b, a | b, a ^ b, sh_lo, sh_hi]
    flags = np.zeros((SIZE, len(FLAGS)), dtype=np.uint32)
    flags[:256] = decode_table()
    return np.ascontiguousarray(
        np.concatenate([np.stack(cols, axis=1).astype(np.uint32), flags], axis=1)
    )


class U16Chip:
    """The table; its main trace is the (2^16, 7) matrix of multiplicities."""

    name = "u16"
    width = len(KINDS)

    def preprocessed_trace(self) -> NDArray[np.uint32]:
        """Return the fixed columns."""
        return _fixed_columns()

    def eval(self, ab: AirBuilder) -> None:
        """Receive every lookup kind with its multiplicity column."""
        fixed = ab.preprocessed.local
        f = dict(zip(_FIXED, fixed[: len(_FIXED)], strict=True))
        decode = fixed[len(_FIXED) :]
        m = dict(zip(KINDS, ab.main.local, strict=True))
        x = f["a"] + f["b"] * 256
        ab.receive(Bus.U16, [x], m["u16"], "u16")
        ab.receive(Bus.U16_MSB, [x, f["msb"]], m["msb"], "u16 with sign bit")
        ab.receive(Bus.DIV8, [x, f["div8"], f["mod8"]], m["div8"], "x = 8q + r")
        ab.receive(Bus.BYTES, [f["a"], f["b"]], m["bytes"], "byte pair")
        ab.receive(Bus.BITWISE, [BitOp.AND, f["a"], f["b"], f["and"]], m["and"], "and")
        ab.receive(Bus.BITWISE, [BitOp.OR, f["a"], f["b"], f["or"]], m["or"], "or")
        ab.receive(Bus.BITWISE, [BitOp.XOR, f["a"], f["b"], f["xor"]], m["xor"], "xor")
        ab.receive(Bus.DECODE, [x, *decode], m["decode"], "opcode decode flags")
        ab.receive(Bus.SHIFT, [f["a"], f["b"], f["sh_lo"], f["sh_hi"]], m["shift"], "byte shift")


class LookupCounts:
    """Multiplicities of the u16 table, accumulated while chips fill their traces.

    Every method takes the looked-up keys as arrays (only the active rows); the key of a
    lookup is its table row x.
    """

    def __init__(self) -> None:
        self.counts = {kind: np.zeros(SIZE, dtype=np.int64) for kind in KINDS}

    def add(
        self, kind: str, x: NDArray[np.int64] | NDArray[np.uint64] | NDArray[np.uint32]
    ) -> None:
        """Count lookups of rows ``x`` (values outside the table are a generator bug)."""
        keys = np.asarray(x, dtype=np.int64).ravel()
        if keys.size == 0:
            return
        if keys.min() < 0 or keys.max() >= SIZE:
            bad = keys[(keys < 0) | (keys >= SIZE)][0]
            raise ValueError(f"{kind} lookup of {bad} outside the 16-bit table")
        self.counts[kind] += np.bincount(keys, minlength=SIZE)

    def u16(self, x: NDArray[np.int64]) -> None:
        """Range checks x < 2^16."""
        self.add("u16", x)

    def msb(self, x: NDArray[np.int64]) -> None:
        """Range checks with the sign bit."""
        self.add("msb", x)

    def div8(self, x: NDArray[np.int64]) -> None:
        """Divisions by 8 of 16-bit values."""
        self.add("div8", x)

    def byte_pairs(self, a: NDArray[np.int64], b: NDArray[np.int64]) -> None:
        """Byte-pair range checks."""
        self.add("bytes", np.asarray(a, np.int64) + 256 * np.asarray(b, np.int64))

    def bitwise(self, op: BitOp, a: NDArray[np.int64], b: NDArray[np.int64]) -> None:
        """Bytewise AND/OR/XOR lookups."""
        kind = {BitOp.AND: "and", BitOp.OR: "or", BitOp.XOR: "xor"}[op]
        self.add(kind, np.asarray(a, np.int64) + 256 * np.asarray(b, np.int64))

    def decode(self, opcodes: NDArray[np.int64]) -> None:
        """Opcode decode-flag lookups."""
        self.add("decode", opcodes)

    def shift(self, x: NDArray[np.int64], code: NDArray[np.int64]) -> None:
        """Byte-shift lookups of byte x by code = 8·right + k."""
        self.add("shift", np.asarray(x, np.int64) + 256 * np.asarray(code, np.int64))

    def trace(self) -> NDArray[np.uint32]:
        """Return the table's main trace."""
        return np.ascontiguousarray(
            np.stack([self.counts[k] for k in KINDS], axis=1).astype(np.uint32)
        )
