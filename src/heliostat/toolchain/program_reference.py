"""Python models of what the C test programs compute, so a run can be checked exactly.

Each function mirrors one program in c/programs/ and returns the five values that program
passes to `sol_log_64` (and, where relevant, the other logs), for tests and benchmarks that
run the programs on LiteSVM or on Heliostat's VM.
"""

from __future__ import annotations

import zlib

_M64 = (1 << 64) - 1


def compute_heavy(iterations: int = 1000) -> tuple[int, int, int, int, int]:
    """Return (iterations, x, acc, checksum, 0) as c/programs/compute_heavy.c logs them."""
    table = [(i * 0x9E3779B97F4A7C15) & _M64 for i in range(64)]
    x = 0x0123456789ABCDEF
    acc = 0
    for i in range(iterations):
        x ^= (x << 13) & _M64
        x ^= x >> 7
        x ^= (x << 17) & _M64
        table[i & 63] ^= x
        acc = (acc + table[(x >> 29) & 63] * 0x2545F4914F6CDD1D) & _M64
        acc = ((acc << 5) | (acc >> 59)) & _M64
    checksum = 0
    for word in table:
        checksum = ((checksum ^ word) * 0x100000001B3) & _M64
    return (iterations, x, acc, checksum, 0)


def _mix(state: int, operand: int) -> int:
    state ^= state >> 33
    state = (state * 0xFF51AFD7ED558CCD) & _M64
    state ^= state >> 33
    return (state + operand) & _M64


def _rotate(state: int, operand: int) -> int:
    r = operand & 63
    return state if r == 0 else ((state << r) | (state >> (64 - r))) & _M64


# (name, operation, operand), as tables.c defines OPS
DISPATCH_OPS = (
    ("add", lambda s, o: (s + o) & _M64, 0x1111),
    ("mul", lambda s, o: (s * (o | 1)) & _M64, 0x9E3779B97F4A7C15),
    ("xor", lambda s, o: s ^ o, 0xA5A5A5A5A5A5A5A5),
    ("rotate", _rotate, 13),
    ("mix", _mix, 0x2545F4914F6CDD1D),
)


def _stack_sum(data: bytes) -> int:
    size = 3584
    buffer = [(i * 7 + (data[i % len(data)] if data else 0)) & 0xFF for i in range(size)]
    total = 0
    for i in range(0, size, 7):
        total = (total * 31 + buffer[i]) & _M64
    return total


def dispatch(data: bytes) -> tuple[list[str], tuple[int, int, int, int, int]]:
    """Return the operation names c/programs/dispatch logs, then its five logged values."""
    state = 0x48454C494F535441
    names = []
    for byte in data:
        name, apply, operand = DISPATCH_OPS[byte % len(DISPATCH_OPS)]
        names.append(name)
        state = apply(state, operand)
    return names, (state, zlib.crc32(data), _stack_sum(data), len(data), 0)


def call_depth_result(depth: int) -> int:
    """Return what fault_call_depth.c's recursion computes for ``depth`` < 63."""
    value = 1
    for n in range(1, depth + 1):
        value = ((value ^ (value >> 3)) + n) & _M64
    return value


def format_log_64(values: tuple[int, int, int, int, int]) -> str:
    """Return the log line `sol_log_64_` writes for five values."""
    return "Program log: " + ", ".join(f"{v:#x}" for v in values)
