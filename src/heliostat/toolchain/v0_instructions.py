"""The sBPF v0 instruction set as the linker checks it: which opcodes exist, and a scanner.

The opcode table is the VM's own (heliostat.svm.opcodes, after anza-xyz/sbpf): the eBPF
classes LD (only `lddw`), LDX, ST, STX, ALU32, JMP and ALU64 with the MEM and K/X modes, and
nothing from later eBPF (JMP32, atomics, sign-extending loads and moves, signed division).
The VM's own verifier (heliostat.svm) is the authority at load time; this scan exists so the
toolchain fails at build time, naming the instruction, when the compiler emits something the
loader would refuse.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass

from heliostat.svm.opcodes import (
    CLS_ALU32,
    CLS_ALU64,
    INSN_SIZE,
    LD_DW_IMM,
    OPCODES,
)

LDDW = LD_DW_IMM
CLASS_JMP32 = 0x06  # eBPF's JMP32 class, absent from sBPF v0
_DIV_MOD_MOV = (0x30, 0x90, 0xB0)  # a non-zero offset turns these into v4 signed ops

V0_OPCODES = frozenset(OPCODES)


@dataclass(frozen=True)
class Insn:
    """One decoded 8-byte instruction slot."""

    pc: int
    opcode: int
    dst: int
    src: int
    offset: int
    imm: int


def decode(text: bytes | bytearray) -> Iterator[Insn]:
    """Decode every slot of a text section (the second slot of `lddw` is yielded too)."""
    for pc in range(len(text) // INSN_SIZE):
        opcode, regs, offset, imm = struct.unpack_from("<BBhi", text, pc * INSN_SIZE)
        yield Insn(pc, opcode, regs & 0x0F, regs >> 4, offset, imm)


def find_v0_violation(text: bytes | bytearray) -> tuple[int, int, str] | None:
    """Return (pc, opcode, why) for the first slot sBPF v0 would reject, or None."""
    if len(text) % INSN_SIZE:
        return (len(text) // INSN_SIZE, 0, "text length is not a multiple of 8")
    slots = list(decode(text))
    pc = 0
    while pc < len(slots):
        insn = slots[pc]
        cls = insn.opcode & 0x07
        if insn.opcode not in V0_OPCODES:
            why = "is JMP32, absent from sBPF v0" if cls == CLASS_JMP32 else "is not sBPF v0"
            return (pc, insn.opcode, why)
        signed_variant = cls in (CLS_ALU32, CLS_ALU64) and insn.opcode & 0xF0 in _DIV_MOD_MOV
        if signed_variant and insn.offset != 0:
            return (pc, insn.opcode, "is a signed or sign-extending op (eBPF v4)")
        if insn.opcode == LDDW:
            if pc + 1 >= len(slots) or slots[pc + 1].opcode != 0:
                return (pc, insn.opcode, "is an lddw without its second slot")
            pc += 2
            continue
        pc += 1
    return None
