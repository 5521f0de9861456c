"""The sBPF v0 instruction set as the linker checks it: which opcodes exist, and a scanner.

The table follows anza-xyz/sbpf (src/ebpf.rs and the v0 arm of src/verifier.rs): the eBPF
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

INSN_SIZE = 8

CLASS_LD, CLASS_LDX, CLASS_ST, CLASS_STX = 0x00, 0x01, 0x02, 0x03
CLASS_ALU32, CLASS_JMP, CLASS_JMP32, CLASS_ALU64 = 0x04, 0x05, 0x06, 0x07

LDDW = 0x18
CALL_IMM = 0x85
CALL_REG = 0x8D
EXIT = 0x95

_SIZES = (0x00, 0x08, 0x10, 0x18)  # W, H, B, DW
_ALU_OPS = (0x00, 0x10, 0x20, 0x30, 0x40, 0x50, 0x60, 0x70, 0x90, 0xA0, 0xB0, 0xC0)
_JMP_CONDS = (0x10, 0x20, 0x30, 0x40, 0x50, 0x60, 0x70, 0xA0, 0xB0, 0xC0, 0xD0)
_DIV_MOD_MOV = (0x30, 0x90, 0xB0)  # a non-zero offset turns these into v4 signed ops


def _v0_opcodes() -> frozenset[int]:
    ops = {LDDW, CALL_IMM, CALL_REG, EXIT, 0x05}  # 0x05: ja
    ops |= {0x61 | size for size in _SIZES}  # ldx mem
    ops |= {0x62 | size for size in _SIZES}  # st mem imm
    ops |= {0x63 | size for size in _SIZES}  # stx mem reg
    for op in _ALU_OPS:
        ops |= {
            CLASS_ALU32 | op,
            CLASS_ALU32 | 0x08 | op,
            CLASS_ALU64 | op,
            CLASS_ALU64 | 0x08 | op,
        }
    ops |= {0x84, 0x87}  # neg32, neg64
    ops |= {0xD4, 0xDC}  # le, be (ALU32 class only in v0)
    ops |= {CLASS_JMP | cond for cond in _JMP_CONDS}
    ops |= {CLASS_JMP | 0x08 | cond for cond in _JMP_CONDS}
    return frozenset(ops)


V0_OPCODES = _v0_opcodes()


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
        signed_variant = cls in (CLASS_ALU32, CLASS_ALU64) and insn.opcode & 0xF0 in _DIV_MOD_MOV
        if signed_variant and insn.offset != 0:
            return (pc, insn.opcode, "is a signed or sign-extending op (eBPF v4)")
        if insn.opcode == LDDW:
            if pc + 1 >= len(slots) or slots[pc + 1].opcode != 0:
                return (pc, insn.opcode, "is an lddw without its second slot")
            pc += 2
            continue
        pc += 1
    return None
