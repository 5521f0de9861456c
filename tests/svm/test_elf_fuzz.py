"""Fuzz the loader with mutated real ELFs: it loads or raises ElfError/VerifierError, nothing else.

Whatever loads is also run on both interpreters with a small budget: it must end in an exit
or a fault, identically, and never crash the process.
"""

from __future__ import annotations

import functools
import struct

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from heliostat.svm import programs
from heliostat.svm.elf import load_elf
from heliostat.svm.elf_builder import assemble_elf
from heliostat.svm.errors import ElfError, VerifierError
from heliostat.svm.memory import MemoryMap
from heliostat.svm.syscall_api import SyscallRegistry
from heliostat.svm.vm import run

ASSEMBLED = assemble_elf(
    """
    lddw r1, rodata+0
    ldxdw r2, [r1+0]
    mov64 r3, 10
loop:
    add64 r2, r3
    sub64 r3, 1
    jne r3, 0, loop
    call f
    call sol_log_
    exit
f:
    mul64 r2, 3
    exit
    """,
    rodata=bytes(range(16)),
)


@functools.cache
def seeds() -> dict[str, bytes]:
    return {
        "memo": programs.memo().elf,
        "assembled": ASSEMBLED,
        "spl_token": programs.spl_token().elf,
    }


def _registry() -> SyscallRegistry:
    registry = SyscallRegistry()
    for name in ("sol_log_", "sol_log_pubkey", "sol_memcpy_"):
        registry.register(name, lambda ctx, *args: 0)
    return registry


REGISTRY = _registry()
HEADER_FIELDS = [
    (4, "<B"),
    (5, "<B"),
    (7, "<B"),
    (16, "<H"),
    (18, "<H"),
    (24, "<Q"),
    (32, "<Q"),
    (40, "<Q"),
    (48, "<I"),
    (52, "<H"),
    (54, "<H"),
    (56, "<H"),
    (58, "<H"),
    (60, "<H"),
    (62, "<H"),
]


@st.composite
def mutated(draw: st.DrawFn, names: tuple[str, ...]) -> bytes:
    data = bytearray(seeds()[draw(st.sampled_from(names))])
    for _ in range(draw(st.integers(1, 4))):
        how = draw(st.sampled_from(["byte", "byte", "word", "header", "truncate", "zero"]))
        if len(data) < 64:
            break
        # spread offsets over the whole file (Hypothesis favours small integers)
        spot = draw(st.integers(0, 2**32 - 1))
        if how == "byte":
            data[spot % len(data)] = draw(st.integers(0, 255))
        elif how == "word":
            at = spot % (len(data) - 8)
            data[at : at + 8] = struct.pack("<Q", draw(st.integers(0, 2**64 - 1)))
        elif how == "header":
            offset, fmt = draw(st.sampled_from(HEADER_FIELDS))
            struct.pack_into(
                fmt, data, offset, draw(st.integers(0, 2 ** (8 * struct.calcsize(fmt)) - 1))
            )
        elif how == "truncate":
            del data[spot % len(data) :]
        else:
            at = spot % len(data)
            data[at : at + 64] = bytes(len(data[at : at + 64]))
    return bytes(data)


def check(elf: bytes) -> None:
    try:
        exe = load_elf(elf, REGISTRY, reject_broken_elfs=False)
    except (ElfError, VerifierError) as error:
        event(f"rejected: {type(error).__name__}.{error.kind}")
        return
    event("loaded")
    outcomes = []
    for fast in (False, True):
        memory = MemoryMap.for_executable(exe, bytes(64))
        outcomes.append(run(exe, memory, None, 500, fast=fast))
    assert outcomes[0].same_outcome(outcomes[1])


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated(("memo", "assembled")))
def test_mutated_small_elfs(elf: bytes) -> None:
    check(elf)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated(("spl_token",)))
def test_mutated_spl_token(elf: bytes) -> None:
    check(elf)


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=512))
def test_random_bytes(data: bytes) -> None:
    check(b"\x7fELF" + data)
