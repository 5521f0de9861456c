"""The sBPF v0 bytecode verifier: rejects exactly what sbpf's `RequisiteVerifier` rejects.

Checks, in sbpf's order per slot (anza-xyz/sbpf v0.21 src/verifier.rs): known v0 opcode; lddw
has a second slot with opcode 0 and is not last; div/mod by an immediate zero; le/be width
16/32/64; shift immediates in range; jump targets inside the text and not into an lddw's second
slot; callx register (from the immediate in v0) in r0..r9; src register <= r10; dst register
<= r9 (r10 only as the base of a store). Call immediates are not checked here: an unknown key
faults at run time.
"""

from __future__ import annotations

import struct

from heliostat.svm import opcodes as op
from heliostat.svm.errors import VerifierError

_DIV_MOD_IMM = {
    op.CLS_ALU32 | op.SRC_K | op.ALU_DIV,
    op.CLS_ALU32 | op.SRC_K | op.ALU_MOD,
    op.CLS_ALU64 | op.SRC_K | op.ALU_DIV,
    op.CLS_ALU64 | op.SRC_K | op.ALU_MOD,
}
_SHIFT_IMM_BITS = {
    op.CLS_ALU32 | op.SRC_K | op.ALU_LSH: 32,
    op.CLS_ALU32 | op.SRC_K | op.ALU_RSH: 32,
    op.CLS_ALU32 | op.SRC_K | op.ALU_ARSH: 32,
    op.CLS_ALU64 | op.SRC_K | op.ALU_LSH: 64,
    op.CLS_ALU64 | op.SRC_K | op.ALU_RSH: 64,
    op.CLS_ALU64 | op.SRC_K | op.ALU_ARSH: 64,
}

# What each opcode byte needs checked, precomputed from the opcode table (a flat list is
# much faster to consult per slot than the table's dataclasses).
UNKNOWN, PLAIN, STORE, LDDW, DIV_IMM, ENDIAN, SHIFT32, SHIFT64, JUMP, CALLX = range(10)


def _check_kind(opcode: int) -> int:
    info = op.OPCODES.get(opcode)
    if info is None:
        return UNKNOWN
    if info.family is op.Family.LDDW:
        return LDDW
    if opcode in _DIV_MOD_IMM:
        return DIV_IMM
    if info.family is op.Family.ENDIAN:
        return ENDIAN
    if opcode in _SHIFT_IMM_BITS:
        return SHIFT32 if _SHIFT_IMM_BITS[opcode] == 32 else SHIFT64
    if info.family is op.Family.JUMP:
        return JUMP
    if info.family is op.Family.CALLX:
        return CALLX
    if info.family in (op.Family.STORE_IMM, op.Family.STORE_REG):
        return STORE
    return PLAIN


_KINDS = [_check_kind(opcode) for opcode in range(256)]
_SLOT = struct.Struct("<BBhi")


def verify(text: bytes) -> None:
    """Raise `VerifierError` if sbpf would reject the (relocated) text of a v0 program."""
    if len(text) % op.INSN_SIZE:
        raise VerifierError(
            "ProgramLengthNotMultiple", "program length must be a multiple of 8 octets"
        )
    if not text:
        raise VerifierError("NoProgram", "no program set, call prog_set() to load one")
    slots = list(_SLOT.iter_unpack(text))
    n = len(slots)
    pc = 0
    while pc < n:
        opc, regs, off, imm = slots[pc]
        kind = _KINDS[opc]
        if kind == UNKNOWN:
            raise VerifierError("UnknownOpCode", f"unknown eBPF opcode {opc:#x} (insn #{pc})", pc)
        if kind == LDDW:
            if pc + 1 >= n:
                raise VerifierError(
                    "LDDWCannotBeLast", "LD_DW instruction cannot be last in program", pc
                )
            if slots[pc + 1][0] != 0:
                raise VerifierError(
                    "IncompleteLDDW", f"incomplete LD_DW instruction (insn #{pc})", pc
                )
        elif kind == DIV_IMM and imm == 0:
            raise VerifierError("DivisionByZero", f"division by 0 (insn #{pc})", pc)
        elif kind == ENDIAN and imm not in (16, 32, 64):
            raise VerifierError(
                "UnsupportedLEBEArgument", f"unsupported argument for LE/BE (insn #{pc})", pc
            )
        elif kind in (SHIFT32, SHIFT64):
            bits = 32 if kind == SHIFT32 else 64
            if imm < 0 or imm >= bits:
                shift = imm & ((1 << 64) - 1)
                raise VerifierError(
                    "ShiftWithOverflow",
                    f"Shift with overflow of {bits}-bit value by {shift} (insn #{pc})",
                    pc,
                )
        elif kind == JUMP:
            _check_jump(slots, n, pc, off)
        elif kind == CALLX and not 0 <= imm <= 9:
            raise VerifierError(
                "InvalidRegister", f"Invalid register specified at instruction {pc}", pc
            )
        if regs > 0x9F or regs & 0x0F > 9:  # src > r10 or dst > r9: the slow path decides
            _check_registers(pc, regs & 0x0F, regs >> 4, store=kind == STORE)
        pc += 2 if kind == LDDW else 1


def _check_jump(slots: list[tuple[int, int, int, int]], n: int, pc: int, off: int) -> None:
    target = pc + 1 + off
    if not 0 <= target < n:
        # sbpf prints the target as usize: a negative one wraps around 2^64
        shown = target & ((1 << 64) - 1)
        raise VerifierError("JumpOutOfCode", f"jump out of code to #{shown} (insn #{pc})", pc)
    if slots[target][0] == 0:
        raise VerifierError(
            "JumpToMiddleOfLDDW", f"jump to middle of LD_DW at #{target} (insn #{pc})", pc
        )


def _check_registers(pc: int, dst: int, src: int, *, store: bool) -> None:
    if src > op.MAX_REGISTER:
        raise VerifierError("InvalidSourceRegister", f"invalid source register (insn #{pc})", pc)
    if dst <= 9 or (dst == op.FRAME_PTR_REG and store):
        return
    if dst == op.FRAME_PTR_REG:
        raise VerifierError("CannotWriteR10", f"cannot write into register r10 (insn #{pc})", pc)
    raise VerifierError(
        "InvalidDestinationRegister", f"invalid destination register (insn #{pc})", pc
    )
