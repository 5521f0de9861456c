"""The verifier rejects exactly what sbpf's RequisiteVerifier rejects (v0), with its messages."""

from __future__ import annotations

import pytest

from heliostat.svm import opcodes as op
from heliostat.svm.assembler import assemble, encode
from heliostat.svm.errors import VerifierError
from heliostat.svm.verifier import verify

EXIT = encode(op.EXIT)


def text_of(source: str) -> bytes:
    return assemble(source)[0]


REJECTED = [
    # (text, kind, message)
    (EXIT + b"\x00", "ProgramLengthNotMultiple", "program length must be a multiple of 8 octets"),
    (b"", "NoProgram", "no program set, call prog_set() to load one"),
    (encode(0x8C, 1) + EXIT, "UnknownOpCode", "unknown eBPF opcode 0x8c (insn #0)"),
    (encode(0x06) + EXIT, "UnknownOpCode", "unknown eBPF opcode 0x6 (insn #0)"),  # no JMP32 in v0
    (EXIT + encode(0x00), "UnknownOpCode", "unknown eBPF opcode 0x0 (insn #1)"),
    (
        EXIT + encode(op.LD_DW_IMM, 1),
        "LDDWCannotBeLast",
        "LD_DW instruction cannot be last in program",
    ),
    (encode(op.LD_DW_IMM, 1) + EXIT, "IncompleteLDDW", "incomplete LD_DW instruction (insn #0)"),
    (text_of("mov64 r0, 1\ndiv64 r0, 0\nexit"), "DivisionByZero", "division by 0 (insn #1)"),
    (text_of("mod32 r0, 0\nexit"), "DivisionByZero", "division by 0 (insn #0)"),
    (
        encode(op.LE, 1, imm=8) + EXIT,
        "UnsupportedLEBEArgument",
        "unsupported argument for LE/BE (insn #0)",
    ),
    (
        encode(op.BE, 1, imm=0) + EXIT,
        "UnsupportedLEBEArgument",
        "unsupported argument for LE/BE (insn #0)",
    ),
    (
        text_of("lsh32 r1, 32\nexit"),
        "ShiftWithOverflow",
        "Shift with overflow of 32-bit value by 32 (insn #0)",
    ),
    (
        text_of("arsh64 r1, 64\nexit"),
        "ShiftWithOverflow",
        "Shift with overflow of 64-bit value by 64 (insn #0)",
    ),
    (
        text_of("rsh64 r1, -1\nexit"),
        "ShiftWithOverflow",
        "Shift with overflow of 64-bit value by 18446744073709551615 (insn #0)",
    ),
    (text_of("ja +1\nexit"), "JumpOutOfCode", "jump out of code to #2 (insn #0)"),
    (
        text_of("exit\nja -3"),
        "JumpOutOfCode",
        "jump out of code to #18446744073709551615 (insn #1)",
    ),
    (
        text_of("jeq r1, 0, +1\nlddw r1, 5\nexit"),
        "JumpToMiddleOfLDDW",
        "jump to middle of LD_DW at #2 (insn #0)",
    ),
    (
        encode(op.CALL_REG, imm=10) + EXIT,
        "InvalidRegister",
        "Invalid register specified at instruction 0",
    ),
    (
        encode(op.CALL_REG, imm=-1) + EXIT,
        "InvalidRegister",
        "Invalid register specified at instruction 0",
    ),
    (
        encode(0x0F, 1, 11) + EXIT,
        "InvalidSourceRegister",
        "invalid source register (insn #0)",
    ),  # add64 r1, r11
    (encode(0x07, 10, imm=8) + EXIT, "CannotWriteR10", "cannot write into register r10 (insn #0)"),
    (
        encode(0x79, 10, 1) + EXIT,
        "CannotWriteR10",
        "cannot write into register r10 (insn #0)",
    ),  # load
    (
        encode(0xB7, 11) + EXIT,
        "InvalidDestinationRegister",
        "invalid destination register (insn #0)",
    ),
    (encode(op.EXIT, 12), "InvalidDestinationRegister", "invalid destination register (insn #0)"),
]


@pytest.mark.parametrize(("text", "kind", "message"), REJECTED)
def test_rejects(text: bytes, kind: str, message: str) -> None:
    with pytest.raises(VerifierError) as info:
        verify(text)
    assert info.value.kind == kind
    assert str(info.value) == message
    assert info.value.reason.startswith("verifier_")


ACCEPTED = [
    "exit",
    "stdw [r10-8], 5\nstxdw [r10-16], r10\nexit",  # r10 may be a store's base
    "lddw r1, 0x123456789abcdef\nja +0\nexit",
    "lsh32 r1, 31\narsh64 r2, 63\nle16 r1\nbe64 r2\nexit",
    "callx r9\ncall anything\nexit",  # call keys are checked at run time, not here
    "mov64 r0, r10\nexit",  # r10 may be read
]


@pytest.mark.parametrize("source", ACCEPTED)
def test_accepts(source: str) -> None:
    verify(text_of(source))


def test_every_table_opcode_is_accepted_and_no_other() -> None:
    for opcode in range(256):
        imm = 16 if opcode in (op.LE, op.BE) else 1
        slot = encode(opcode, 1, 2, 0, imm)
        text = slot + (encode(0) if opcode == op.LD_DW_IMM else b"") + EXIT
        if opcode in op.OPCODES:
            verify(text)
        else:
            with pytest.raises(VerifierError, match="unknown eBPF opcode"):
                verify(text)


def test_real_programs_pass() -> None:
    from heliostat.svm import programs
    from heliostat.svm.elf import load_elf
    from heliostat.svm.syscall_api import SyscallRegistry

    # load_elf runs the verifier; without rejecting unknown syscalls the loader binds nothing
    exe = load_elf(programs.spl_token().elf, SyscallRegistry(), reject_broken_elfs=False)
    verify(exe.text)
    assert exe.text_len > 10_000
