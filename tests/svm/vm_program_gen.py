"""Hypothesis strategies for random, verifiable sBPF v0 programs that exercise every family.

A program is a prelude that points registers at every memory region (and at unmapped or
read-only memory), then a body of random instructions: ALU32/ALU64 with register and immediate
operands, neg, le/be, lddw, loads and stores of every width around those pointers, forward and
backward jumps (including infinite loops, which end on the compute meter), calls into small
functions, callx to valid and invalid addresses, and test syscalls that read, write, charge
units and fail. Programs are built as slots directly and always pass the verifier.
"""

from __future__ import annotations

from dataclasses import dataclass

from hypothesis import strategies as st

from heliostat.svm import opcodes as op
from heliostat.svm.assembler import encode
from heliostat.svm.executable import function_key
from heliostat.svm.memory import MM_HEAP_START, MM_INPUT_START, MM_PROGRAM_START, MM_STACK_START
from heliostat.svm.syscall_api import syscall_key

ALU_OPS = [
    op.ALU_ADD,
    op.ALU_SUB,
    op.ALU_MUL,
    op.ALU_DIV,
    op.ALU_OR,
    op.ALU_AND,
    op.ALU_LSH,
    op.ALU_RSH,
    op.ALU_MOD,
    op.ALU_XOR,
    op.ALU_MOV,
    op.ALU_ARSH,
]
JMP_OPS = [
    op.JMP_JEQ,
    op.JMP_JGT,
    op.JMP_JGE,
    op.JMP_JSET,
    op.JMP_JNE,
    op.JMP_JSGT,
    op.JMP_JSGE,
    op.JMP_JLT,
    op.JMP_JLE,
    op.JMP_JSLT,
    op.JMP_JSLE,
]
SIZES = [op.SIZE_B, op.SIZE_H, op.SIZE_W, op.SIZE_DW]
SYSCALLS = ["sys_copy", "sys_abort_if_odd"]

# Addresses the prelude loads: inside and at the edges of every region, gaps and holes.
POINTERS = [
    MM_STACK_START + 4096 - 64,  # frame 0
    MM_STACK_START + 4096 + 8,  # gap after frame 0
    MM_STACK_START + 8192 + 16,  # frame 1
    MM_STACK_START + 64 * 8192 - 8,  # last gap
    MM_HEAP_START,
    MM_HEAP_START + 32 * 1024 - 4,
    MM_INPUT_START,
    MM_INPUT_START + 40,
    MM_PROGRAM_START,
    MM_PROGRAM_START + 24,
    0,
    5 << 32,
    (1 << 64) - 8,
]

imm32 = st.one_of(
    st.integers(-(2**31), 2**31 - 1),
    st.sampled_from([0, 1, -1, 2**31 - 1, -(2**31), 32, 63, 64]),
)
value64 = st.one_of(
    st.integers(0, 2**64 - 1),
    st.sampled_from([0, 1, 2**63, 2**64 - 1, 2**32, 2**32 - 1, 0x80000000]),
    st.sampled_from(POINTERS),
)
reg = st.integers(0, 9)
src_reg = st.integers(0, 10)


@dataclass
class Item:
    """One instruction of the body before layout (jump and call targets are item indices)."""

    kind: str
    slots: list[list[int]]
    target: int = 0  # item index for jumps, calls and callx pointers


@st.composite
def _item(draw: st.DrawFn, n_items: int) -> Item:
    kind = draw(
        st.sampled_from(
            [
                "alu",
                "alu",
                "alu",
                "neg",
                "endian",
                "lddw",
                "load",
                "load",
                "store",
                "store",
                "jump",
                "jump",
                "call",
                "callx",
                "syscall",
                "exit",
            ]
        )
    )
    dst = draw(reg)
    if kind == "alu":
        cls = draw(st.sampled_from([op.CLS_ALU32, op.CLS_ALU64]))
        alu = draw(st.sampled_from(ALU_OPS))
        if draw(st.booleans()):
            return Item(kind, [[cls | op.SRC_X | alu, dst, draw(src_reg), 0, 0]])
        imm = draw(imm32)
        if alu in (op.ALU_DIV, op.ALU_MOD) and imm == 0:
            imm = 3
        if alu in (op.ALU_LSH, op.ALU_RSH, op.ALU_ARSH):
            imm = draw(st.integers(0, 31 if cls == op.CLS_ALU32 else 63))
        return Item(kind, [[cls | op.SRC_K | alu, dst, 0, 0, imm]])
    if kind == "neg":
        return Item(kind, [[draw(st.sampled_from([op.NEG32, op.NEG64])), dst, 0, 0, 0]])
    if kind == "endian":
        opc = draw(st.sampled_from([op.LE, op.BE]))
        return Item(kind, [[opc, dst, 0, 0, draw(st.sampled_from([16, 32, 64]))]])
    if kind == "lddw":
        value = draw(value64)
        return Item(
            kind, [[op.LD_DW_IMM, dst, 0, 0, value & 0xFFFFFFFF], [0, 0, 0, 0, value >> 32]]
        )
    off = draw(st.one_of(st.integers(-64, 64), st.integers(-(2**15), 2**15 - 1)))
    size = draw(st.sampled_from(SIZES))
    if kind == "load":
        return Item(kind, [[op.CLS_LDX | op.MODE_MEM | size, dst, draw(src_reg), off, 0]])
    if kind == "store":
        base = draw(st.integers(0, 10))
        if draw(st.booleans()):
            return Item(kind, [[op.CLS_ST | op.MODE_MEM | size, base, 0, off, draw(imm32)]])
        return Item(kind, [[op.CLS_STX | op.MODE_MEM | size, base, draw(src_reg), off, 0]])
    if kind == "jump":
        target = draw(st.integers(0, n_items - 1))
        if draw(st.integers(0, 4)) == 0:
            return Item(kind, [[op.JA, 0, 0, 0, 0]], target)
        code = op.CLS_JMP | draw(st.sampled_from(JMP_OPS))
        if draw(st.booleans()):
            return Item(kind, [[code | op.SRC_X, dst, draw(src_reg), 0, 0]], target)
        return Item(kind, [[code | op.SRC_K, dst, 0, 0, draw(imm32)]], target)
    if kind == "call":
        return Item(kind, [[op.CALL_IMM, 0, 0, 0, 0]], draw(st.integers(0, n_items - 1)))
    if kind == "callx":
        # point r<dst> at an instruction (valid) or anywhere (likely outside the text)
        valid = draw(st.booleans())
        target = draw(st.integers(0, n_items - 1)) if valid else -1
        value = draw(value64)
        return Item(
            kind,
            [
                [op.LD_DW_IMM, dst, 0, 0, value & 0xFFFFFFFF],
                [0, 0, 0, 0, value >> 32],
                [op.CALL_REG, 0, 0, 0, dst],
            ],
            target,
        )
    if kind == "syscall":
        name = draw(st.sampled_from(SYSCALLS))
        return Item(kind, [[op.CALL_IMM, 0, 0, 0, syscall_key(name)]], -1)
    return Item(kind, [[op.EXIT, 0, 0, 0, 0]])


@dataclass
class GeneratedProgram:
    """Text and function registry for `Executable.from_text`."""

    text: bytes
    functions: dict[int, int]
    input_data: bytes
    budget: int


@st.composite
def programs(draw: st.DrawFn) -> GeneratedProgram:
    """A random verifiable program with its input and compute budget."""
    n_items = draw(st.integers(1, 40))
    prelude = []
    for register in range(1, 10):
        if draw(st.booleans()):
            value = draw(st.sampled_from(POINTERS))
            prelude.append(
                Item(
                    "lddw",
                    [[op.LD_DW_IMM, register, 0, 0, value & 0xFFFFFFFF], [0, 0, 0, 0, value >> 32]],
                )
            )
    body = [draw(_item(n_items)) for _ in range(n_items)]
    # usually end with exit; sometimes fall off the end of the text (ExecutionOverrun)
    ending = [Item("exit", [[op.EXIT, 0, 0, 0, 0]])] if draw(st.integers(0, 7)) else []
    items = prelude + body + ending
    base = len(prelude)
    starts, pc = [], 0
    for item in items:
        starts.append(pc)
        pc += len(item.slots)
    functions: dict[int, int] = {}
    for index, item in enumerate(items):
        if item.kind in ("jump", "call", "callx") and item.target >= 0:
            target_pc = starts[base + item.target]
            if item.kind == "jump":
                item.slots[0][3] = target_pc - starts[index] - 1
            elif item.kind == "call":
                functions[function_key(target_pc)] = target_pc
                item.slots[0][4] = function_key(target_pc)
            else:
                address = MM_PROGRAM_START + 8 * target_pc
                item.slots[0][4], item.slots[1][4] = address & 0xFFFFFFFF, address >> 32
    # jump offsets must fit in 16 bits; bodies are short, so they always do
    text = b"".join(encode(*slot) for item in items for slot in item.slots)
    data = draw(st.binary(max_size=48))
    input_data = (len(data)).to_bytes(8, "little") + data + bytes(16)
    budget = draw(st.sampled_from([0, 5, 60, 3000, 3000, 3000, 3000]))
    return GeneratedProgram(text, functions, input_data, budget)
