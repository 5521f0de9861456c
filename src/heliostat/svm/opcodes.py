"""The sBPF v0 instruction set: encoding constants and the explicit opcode table.

One 8-byte slot per instruction: opcode (class in the low 3 bits), dst (low nibble) and src
(high nibble) registers, a signed 16-bit offset and a signed 32-bit immediate; ``lddw`` takes
two slots. Source: anza-xyz/sbpf v0.21 src/ebpf.rs and doc/bytecode.md. Only the opcodes that
sBPF v0 accepts are in `OPCODES`; everything else is rejected by the verifier and faults as
``UnsupportedInstruction`` in the interpreters.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

INSN_SIZE = 8
MAX_REGISTER = 10
FRAME_PTR_REG = 10
FIRST_SCRATCH_REG = 6
SCRATCH_REGS = 4

# Instruction classes (low 3 bits of the opcode).
CLS_LD, CLS_LDX, CLS_ST, CLS_STX, CLS_ALU32, CLS_JMP, CLS_ALU64 = 0, 1, 2, 3, 4, 5, 7
# Memory widths and modes.
SIZE_W, SIZE_H, SIZE_B, SIZE_DW = 0x00, 0x08, 0x10, 0x18
MODE_IMM, MODE_MEM = 0x00, 0x60
# Operand source: immediate (K) or register (X).
SRC_K, SRC_X = 0x00, 0x08

# ALU operations (high 4 bits).
ALU_ADD, ALU_SUB, ALU_MUL, ALU_DIV = 0x00, 0x10, 0x20, 0x30
ALU_OR, ALU_AND, ALU_LSH, ALU_RSH = 0x40, 0x50, 0x60, 0x70
ALU_NEG, ALU_MOD, ALU_XOR, ALU_MOV = 0x80, 0x90, 0xA0, 0xB0
ALU_ARSH, ALU_END = 0xC0, 0xD0
# Jump operations (high 4 bits).
JMP_JA, JMP_JEQ, JMP_JGT, JMP_JGE, JMP_JSET, JMP_JNE = 0x00, 0x10, 0x20, 0x30, 0x40, 0x50
JMP_JSGT, JMP_JSGE, JMP_CALL, JMP_EXIT = 0x60, 0x70, 0x80, 0x90
JMP_JLT, JMP_JLE, JMP_JSLT, JMP_JSLE = 0xA0, 0xB0, 0xC0, 0xD0

# Named opcodes used directly by the loader, verifier and interpreters.
LD_DW_IMM = CLS_LD | MODE_IMM | SIZE_DW  # 0x18
LD_B_REG = CLS_LDX | MODE_MEM | SIZE_B  # 0x71
LD_H_REG = CLS_LDX | MODE_MEM | SIZE_H  # 0x69
LD_W_REG = CLS_LDX | MODE_MEM | SIZE_W  # 0x61
LD_DW_REG = CLS_LDX | MODE_MEM | SIZE_DW  # 0x79
ST_B_IMM = CLS_ST | MODE_MEM | SIZE_B  # 0x72
ST_H_IMM = CLS_ST | MODE_MEM | SIZE_H  # 0x6a
ST_W_IMM = CLS_ST | MODE_MEM | SIZE_W  # 0x62
ST_DW_IMM = CLS_ST | MODE_MEM | SIZE_DW  # 0x7a
ST_B_REG = CLS_STX | MODE_MEM | SIZE_B  # 0x73
ST_H_REG = CLS_STX | MODE_MEM | SIZE_H  # 0x6b
ST_W_REG = CLS_STX | MODE_MEM | SIZE_W  # 0x63
ST_DW_REG = CLS_STX | MODE_MEM | SIZE_DW  # 0x7b
LE = CLS_ALU32 | SRC_K | ALU_END  # 0xd4
BE = CLS_ALU32 | SRC_X | ALU_END  # 0xdc
NEG32 = CLS_ALU32 | ALU_NEG  # 0x84
NEG64 = CLS_ALU64 | ALU_NEG  # 0x87
JA = CLS_JMP | JMP_JA  # 0x05
CALL_IMM = CLS_JMP | SRC_K | JMP_CALL  # 0x85
CALL_REG = CLS_JMP | SRC_X | JMP_CALL  # 0x8d
EXIT = CLS_JMP | JMP_EXIT  # 0x95

WIDTH_BYTES = {SIZE_B: 1, SIZE_H: 2, SIZE_W: 4, SIZE_DW: 8}


class Family(enum.Enum):
    """What an instruction does; one interpreter handler (and later one zkVM chip) per family."""

    ALU32 = "alu32"
    ALU64 = "alu64"
    NEG = "neg"
    ENDIAN = "endian"
    LDDW = "lddw"
    LOAD = "load"
    STORE_IMM = "store_imm"
    STORE_REG = "store_reg"
    JUMP = "jump"
    CALL = "call"
    CALLX = "callx"
    EXIT = "exit"


@dataclass(frozen=True)
class OpInfo:
    """One row of the opcode table."""

    opcode: int
    mnemonic: str
    family: Family
    uses_imm: bool  # the second operand is the immediate (K) rather than a register (X)
    width: int = 0  # bytes moved by loads and stores
    op: int = 0  # ALU or jump operation (high 4 bits of the opcode)


ALU_NAMES = {
    ALU_ADD: "add",
    ALU_SUB: "sub",
    ALU_MUL: "mul",
    ALU_DIV: "div",
    ALU_OR: "or",
    ALU_AND: "and",
    ALU_LSH: "lsh",
    ALU_RSH: "rsh",
    ALU_MOD: "mod",
    ALU_XOR: "xor",
    ALU_MOV: "mov",
    ALU_ARSH: "arsh",
}
JMP_NAMES = {
    JMP_JEQ: "jeq",
    JMP_JGT: "jgt",
    JMP_JGE: "jge",
    JMP_JSET: "jset",
    JMP_JNE: "jne",
    JMP_JSGT: "jsgt",
    JMP_JSGE: "jsge",
    JMP_JLT: "jlt",
    JMP_JLE: "jle",
    JMP_JSLT: "jslt",
    JMP_JSLE: "jsle",
}
WIDTH_NAMES = {SIZE_B: "b", SIZE_H: "h", SIZE_W: "w", SIZE_DW: "dw"}


def _build_table() -> dict[int, OpInfo]:
    table: dict[int, OpInfo] = {}

    def add(info: OpInfo) -> None:
        if info.opcode in table:
            raise RuntimeError(f"duplicate opcode {info.opcode:#x}")
        table[info.opcode] = info

    for op, name in ALU_NAMES.items():
        for src in (SRC_K, SRC_X):
            uses_imm = src == SRC_K
            add(OpInfo(CLS_ALU32 | src | op, f"{name}32", Family.ALU32, uses_imm, op=op))
            add(OpInfo(CLS_ALU64 | src | op, f"{name}64", Family.ALU64, uses_imm, op=op))
    add(OpInfo(NEG32, "neg32", Family.NEG, False, op=ALU_NEG))
    add(OpInfo(NEG64, "neg64", Family.NEG, False, op=ALU_NEG))
    add(OpInfo(LE, "le", Family.ENDIAN, True, op=ALU_END))
    add(OpInfo(BE, "be", Family.ENDIAN, True, op=ALU_END))
    add(OpInfo(LD_DW_IMM, "lddw", Family.LDDW, True, width=8))
    for size, suffix in WIDTH_NAMES.items():
        width = WIDTH_BYTES[size]
        add(OpInfo(CLS_LDX | MODE_MEM | size, f"ldx{suffix}", Family.LOAD, False, width))
        add(OpInfo(CLS_ST | MODE_MEM | size, f"st{suffix}", Family.STORE_IMM, True, width))
        add(OpInfo(CLS_STX | MODE_MEM | size, f"stx{suffix}", Family.STORE_REG, False, width))
    add(OpInfo(JA, "ja", Family.JUMP, True, op=JMP_JA))
    for op, name in JMP_NAMES.items():
        add(OpInfo(CLS_JMP | SRC_K | op, name, Family.JUMP, True, op=op))
        add(OpInfo(CLS_JMP | SRC_X | op, name, Family.JUMP, False, op=op))
    add(OpInfo(CALL_IMM, "call", Family.CALL, True, op=JMP_CALL))
    add(OpInfo(CALL_REG, "callx", Family.CALLX, True, op=JMP_CALL))
    add(OpInfo(EXIT, "exit", Family.EXIT, False, op=JMP_EXIT))
    return table


OPCODES: dict[int, OpInfo] = _build_table()
"""Every opcode sBPF v0 accepts (the verifier's list), keyed by opcode byte."""

BY_MNEMONIC: dict[tuple[str, bool], OpInfo] = {
    (info.mnemonic, info.uses_imm): info for info in OPCODES.values()
}
"""The table by (mnemonic, uses immediate); used by the assembler."""
