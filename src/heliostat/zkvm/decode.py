"""How the program table normalises an instruction's fields for FETCH, per opcode.

Each opcode has decode flags (fixed columns of the u16 table on rows 0–255, looked up by the
program table). The FETCH fields of a slot are then: dst = dst nibble if `uses_dst`; src =
src nibble if `uses_src`; off/off_neg = the 16-bit offset and its sign if `uses_off`; imm =
the sign-extended immediate if `uses_imm`, the 64-bit value if `is_lddw`; target = pc + 1 +
offset if `is_jump`; for `call imm` the resolution decides (see program_chip). Everything
not used is 0, so a chip puts constants where its operations ignore a field.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from heliostat.svm import opcodes as op

FLAGS = ("uses_dst", "uses_src", "uses_imm", "uses_off", "is_jump", "is_lddw", "is_call")


def decode_flags(opcode: int) -> tuple[int, ...]:
    """Return the decode flags of an opcode (all zero for opcodes v0 does not accept, e.g. 0)."""
    info = op.OPCODES.get(opcode)
    if info is None:
        return (0,) * len(FLAGS)
    f = op.Family
    fam = info.family
    uses_dst = fam not in (f.CALL, f.CALLX, f.EXIT) and opcode != op.JA
    uses_src = not info.uses_imm and fam in (f.ALU32, f.ALU64, f.LOAD, f.STORE_REG, f.JUMP)
    uses_imm = (
        info.uses_imm
        and fam in (f.ALU32, f.ALU64, f.ENDIAN, f.STORE_IMM, f.JUMP, f.CALLX)
        and opcode != op.JA
    )
    uses_off = fam in (f.LOAD, f.STORE_IMM, f.STORE_REG)
    is_jump = fam is f.JUMP
    is_lddw = fam is f.LDDW
    is_call = fam is f.CALL
    return tuple(
        int(x) for x in (uses_dst, uses_src, uses_imm, uses_off, is_jump, is_lddw, is_call)
    )


def decode_table() -> NDArray[np.uint32]:
    """(256, len(FLAGS)) flags of every opcode byte."""
    return np.array([decode_flags(o) for o in range(256)], dtype=np.uint32)
