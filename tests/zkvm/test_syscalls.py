"""Syscalls: the log family, panic and abort (syscall_chip), and the memory copies
(syscall_mem_chip + memcopy_chip) at every alignment, both directions, every length class."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from zk_helpers import check, prove_and_verify
from zk_programs import run_asm

from heliostat.zkvm.status import Status

# a 64-byte stack buffer at r10-64 holding 0, 1, 2, ..., and a copy call
_PRELUDE = """
mov64 r6, r10
add64 r6, -64
mov64 r1, 0
fill:
mov64 r2, r6
add64 r2, r1
stxb [r2+0], r1
add64 r1, 1
jlt r1, 64, fill
"""
_SUM = """
mov64 r0, 0
mov64 r1, 0
sum:
mov64 r2, r6
add64 r2, r1
ldxb r3, [r2+0]
mul64 r3, r1
add64 r0, r3
add64 r1, 1
jlt r1, 64, sum
exit
"""


def _copy(name: str, dst: int, src_or_value: int, n: int) -> str:
    second = f"mov64 r2, r6\nadd64 r2, {src_or_value}" if name != "sol_memset_" else (
        f"mov64 r2, {src_or_value}")  # fmt: skip
    return (_PRELUDE + f"mov64 r1, r6\nadd64 r1, {dst}\n{second}\nmov64 r3, {n}\n"
            f"call {name}\n" + _SUM)  # fmt: skip


@pytest.mark.parametrize(
    ("name", "dst", "src", "n"),
    [
        ("sol_memcpy_", 0, 32, 16), ("sol_memcpy_", 3, 40, 13), ("sol_memcpy_", 33, 1, 20),
        ("sol_memcpy_", 8, 40, 1), ("sol_memcpy_", 5, 50, 0), ("sol_memmove_", 2, 7, 30),
        ("sol_memmove_", 9, 4, 40), ("sol_memmove_", 16, 8, 24), ("sol_memmove_", 1, 1, 9),
        ("sol_memset_", 3, 0x1AB, 29), ("sol_memset_", 0, 7, 64), ("sol_memset_", 60, 9, 4),
    ],
)  # fmt: skip
def test_copy_is_proven(name: str, dst: int, src: int, n: int) -> None:
    ex = run_asm(_copy(name, dst, src, n), syscalls=True)
    assert ex.result.fault is None, ex.result.fault
    trace = check(ex)
    assert trace.rows["memcopy"] == ((dst + n - 1) // 8 - dst // 8 + 1 if n else 0)


@settings(max_examples=10, deadline=None)
@given(st.sampled_from(["sol_memcpy_", "sol_memmove_", "sol_memset_"]), st.integers(0, 63),
       st.integers(0, 63), st.integers(0, 64))  # fmt: skip
def test_generated_copies_are_proven(name: str, dst: int, src: int, n: int) -> None:
    n = min(n, 64 - dst, 64 - src)
    if name == "sol_memcpy_" and abs(dst - src) < n:
        n = abs(dst - src)  # memcpy refuses overlapping ranges
    ex = run_asm(_copy(name, dst, src, n), syscalls=True)
    assert ex.result.fault is None
    check(ex)


def test_copy_proof_verifies() -> None:
    prove_and_verify(run_asm(_copy("sol_memmove_", 9, 4, 40), syscalls=True))


def test_log_family_and_abort() -> None:
    source = """
    lddw r1, 0x100000000
    mov64 r2, 16
    call sol_log_
    mov64 r1, 1
    mov64 r2, 2
    call sol_log_64_
    call sol_log_compute_units_
    lddw r1, 0x100000000
    call sol_log_pubkey
    mov64 r1, r10
    add64 r1, -200
    mov64 r2, 150
    call sol_log_
    call abort
    """
    ex = run_asm(source, syscalls=True)
    trace = check(ex)
    assert trace.public_values.status == Status.SYSCALL_ABORT


def _poseidon2_program(first_word: int) -> str:
    # state = (first, 1, 2, ..., 15) as u32 words on the stack; permute; r0 = words 0 and 15
    stores = "\n".join(f"stw [r10-{64 - 4 * i}], {i}" for i in range(1, 16))
    return f"""
    stw [r10-64], {first_word}
    {stores}
    mov64 r1, r10
    add64 r1, -64
    call heliostat_poseidon2_permute
    ldxw r0, [r10-64]
    ldxw r2, [r10-4]
    lsh64 r2, 32
    or64 r0, r2
    exit
    """


def _run_kernel_asm(source: str):  # type: ignore[no-untyped-def]
    from heliostat.svm.assembler import assemble
    from heliostat.svm.executable import Executable
    from heliostat.svm.syscalls.poseidon2 import register_kernel_precompiles
    from heliostat.svm.syscalls.registry import default_registry
    from heliostat.zkvm.execution import execute

    text, functions = assemble(source)
    exe = Executable.from_text(text, register_kernel_precompiles(default_registry()), functions)
    return execute(exe, b"", budget=1000)


def test_poseidon2_precompile_is_proven() -> None:
    from heliostat.primitives.poseidon2 import permute

    ex = _run_kernel_asm(_poseidon2_program(7))
    out = permute([7, *range(1, 16)])
    assert ex.result.r0 == out[0] | out[15] << 32
    bundle = prove_and_verify(ex)
    assert bundle.rows["syscall_poseidon2"] == 1
