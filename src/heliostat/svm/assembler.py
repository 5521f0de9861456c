"""A small sBPF v0 assembler: text assembly to instruction bytes, or to a loadable ELF.

Syntax (one instruction per line, ``#``/``;``/``//`` comments, ``label:`` lines):

    mov64 r1, 5          add32 r1, r2        neg64 r3       le16 r1 / be64 r1
    ldxdw r2, [r1+8]     stw [r10-4], 7      stxb [r10-1], r3
    ja +2                jeq r1, 5, done     jsgt r1, r2, -3
    lddw r1, 0x1122334455667788              lddw r1, rodata+16
    call sol_log_        call my_function    callx r5
    exit

``call`` names a label (an internal function) or else a syscall. `assemble` gives text for
`Executable.from_text`; `assemble_elf` gives an ELF shaped like the ones Solana's toolchain
emits (.text, .rodata, .dynamic, .dynsym, .dynstr, .rel.dyn), loadable by `load_elf` and by
agave/LiteSVM, so tests can run the same program on both.
"""

from __future__ import annotations

import re
import struct
from dataclasses import dataclass, field

from heliostat.svm import opcodes as op
from heliostat.svm.executable import function_key
from heliostat.svm.memory import MM_PROGRAM_START
from heliostat.svm.syscall_api import syscall_key


class AssemblyError(ValueError):
    """Malformed assembly (a bug in a test program, not untrusted input)."""


def encode(opc: int, dst: int = 0, src: int = 0, off: int = 0, imm: int = 0) -> bytes:
    """One 8-byte slot."""
    return struct.pack("<BBhi", opc, (src << 4) | dst, off, _imm32(imm))


def _imm32(imm: int) -> int:
    imm &= 0xFFFFFFFF
    return imm - (1 << 32) if imm >> 31 else imm


@dataclass
class Assembled:
    """Assembled text plus what a loader needs to bind it."""

    slots: list[list[int]]  # [opc, dst, src, off, imm] per slot
    labels: dict[str, int]
    calls: list[tuple[int, str]] = field(default_factory=list)  # (pc, target name)
    rodata_refs: list[tuple[int, int]] = field(default_factory=list)  # (pc of lddw, offset)

    def text(self) -> bytes:
        """Return the slots as bytes, with call immediates still unresolved (0)."""
        return b"".join(encode(*slot) for slot in self.slots)


_REG = r"r(\d+)"
_MEM = re.compile(r"\[\s*r(\d+)\s*(?:([+-])\s*(0x[0-9a-fA-F]+|\d+))?\s*\]$")
_ALU_NAMES = {name: code for code, name in op.ALU_NAMES.items()}
_JMP_NAMES = {name: code for code, name in op.JMP_NAMES.items()}
_WIDTHS = {"b": op.SIZE_B, "h": op.SIZE_H, "w": op.SIZE_W, "dw": op.SIZE_DW}


def _int(token: str) -> int:
    try:
        return int(token, 0)
    except ValueError:
        raise AssemblyError(f"expected a number, got {token!r}") from None


def _reg(token: str) -> int:
    match = re.fullmatch(_REG, token.strip())
    if not match:
        raise AssemblyError(f"expected a register, got {token!r}")
    return int(match.group(1))


def _mem(token: str) -> tuple[int, int]:
    match = _MEM.match(token.strip())
    if not match:
        raise AssemblyError(f"expected [rN+off], got {token!r}")
    off = _int(match.group(3)) if match.group(3) else 0
    return int(match.group(1)), -off if match.group(2) == "-" else off


def parse(source: str) -> Assembled:
    """Parse assembly into slots; jump targets are resolved, calls are left to the caller."""
    lines: list[tuple[str, list[str]]] = []
    labels: dict[str, int] = {}
    pc = 0
    for raw in source.splitlines():
        line = re.split(r"#|;|//", raw, maxsplit=1)[0].strip()
        while (m := re.match(r"^([A-Za-z_.$][\w.$]*):\s*", line)) is not None:
            labels[m.group(1)] = pc
            line = line[m.end() :]
        if not line:
            continue
        mnemonic, _, rest = line.partition(" ")
        operands = [t.strip() for t in rest.split(",")] if rest.strip() else []
        lines.append((mnemonic.lower(), operands))
        pc += 2 if mnemonic.lower() == "lddw" else 1
    out = Assembled([], labels)
    for mnemonic, operands in lines:
        _emit(out, mnemonic, operands)
    return out


def _target(out: Assembled, token: str, pc: int) -> int:
    """Return a jump offset given as ``+n``/``-n`` or as a label."""
    if token[0] in "+-" or token[0].isdigit():
        return _int(token)
    if token not in out.labels:
        raise AssemblyError(f"unknown label {token!r}")
    return out.labels[token] - pc - 1


def _emit(out: Assembled, mnemonic: str, ops: list[str]) -> None:
    pc = len(out.slots)
    slot = out.slots.append
    if mnemonic == "exit":
        slot([op.EXIT, 0, 0, 0, 0])
    elif mnemonic == "lddw":
        dst, value = _reg(ops[0]), ops[1]
        if value.startswith("rodata"):
            offset = _int(value[len("rodata") :] or "0")
            out.rodata_refs.append((pc, offset))
            imm = 0
        else:
            imm = _int(value) & ((1 << 64) - 1)
        slot([op.LD_DW_IMM, dst, 0, 0, imm & 0xFFFFFFFF])
        slot([0, 0, 0, 0, imm >> 32])
    elif mnemonic == "call":
        out.calls.append((pc, ops[0]))
        slot([op.CALL_IMM, 0, 0, 0, 0])
    elif mnemonic == "callx":
        slot([op.CALL_REG, 0, 0, 0, _reg(ops[0])])
    elif mnemonic in ("neg32", "neg64"):
        slot([op.NEG32 if mnemonic == "neg32" else op.NEG64, _reg(ops[0]), 0, 0, 0])
    elif m := re.fullmatch(r"(le|be)(16|32|64)", mnemonic):
        slot([op.LE if m.group(1) == "le" else op.BE, _reg(ops[0]), 0, 0, int(m.group(2))])
    elif m := re.fullmatch(r"(ldx|stx|st)(b|h|w|dw)", mnemonic):
        kind, size = m.group(1), _WIDTHS[m.group(2)]
        if kind == "ldx":
            base, off = _mem(ops[1])
            slot([op.CLS_LDX | op.MODE_MEM | size, _reg(ops[0]), base, off, 0])
        elif kind == "stx":
            base, off = _mem(ops[0])
            slot([op.CLS_STX | op.MODE_MEM | size, base, _reg(ops[1]), off, 0])
        else:
            base, off = _mem(ops[0])
            slot([op.CLS_ST | op.MODE_MEM | size, base, 0, off, _int(ops[1])])
    elif m := re.fullmatch(r"([a-z]+)(32|64)", mnemonic):
        name, bits = m.group(1), m.group(2)
        if name not in _ALU_NAMES:
            raise AssemblyError(f"unknown instruction {mnemonic!r}")
        cls = op.CLS_ALU64 if bits == "64" else op.CLS_ALU32
        dst, operand = _reg(ops[0]), ops[1]
        if operand.startswith("r"):
            slot([cls | op.SRC_X | _ALU_NAMES[name], dst, _reg(operand), 0, 0])
        else:
            slot([cls | op.SRC_K | _ALU_NAMES[name], dst, 0, 0, _int(operand)])
    elif mnemonic == "ja":
        slot([op.JA, 0, 0, _target(out, ops[0], pc), 0])
    elif mnemonic in _JMP_NAMES:
        dst, operand, off = _reg(ops[0]), ops[1], _target(out, ops[2], pc)
        code = op.CLS_JMP | _JMP_NAMES[mnemonic]
        if operand.startswith("r"):
            slot([code | op.SRC_X, dst, _reg(operand), off, 0])
        else:
            slot([code | op.SRC_K, dst, 0, off, _int(operand)])
    else:
        raise AssemblyError(f"unknown instruction {mnemonic!r}")


def assemble(source: str, *, rodata: bytes = b"") -> tuple[bytes, dict[int, int]]:
    """Text bytes and a function registry for `Executable.from_text`.

    Internal calls carry the function's key (as the loader would have computed it); calls to
    other names carry the syscall key. ``rodata`` follows the text in the program region.
    """
    out = parse(source)
    functions: dict[int, int] = {}
    for pc, name in out.calls:
        if name in out.labels:
            key = function_key(out.labels[name])
            functions[key] = out.labels[name]
        else:
            key = syscall_key(name)
        out.slots[pc][4] = key
    rodata_vaddr = MM_PROGRAM_START + len(out.slots) * op.INSN_SIZE
    for pc, offset in out.rodata_refs:
        address = rodata_vaddr + offset
        out.slots[pc][4], out.slots[pc + 1][4] = address & 0xFFFFFFFF, address >> 32
    return out.text(), functions
