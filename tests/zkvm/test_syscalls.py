"""Syscalls: the log family, panic and abort (syscall_chip), and the memory copies
(syscall_mem_chip + memcopy_chip) at every alignment, both directions, every length class."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from zk_helpers import check, prove_and_verify
from zk_programs import run_asm

from heliostat.zkvm.execution import Execution, execute
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
    second = (
        f"mov64 r2, r6\nadd64 r2, {src_or_value}"
        if name != "sol_memset_"
        else (f"mov64 r2, {src_or_value}")
    )
    return (
        _PRELUDE + f"mov64 r1, r6\nadd64 r1, {dst}\n{second}\nmov64 r3, {n}\ncall {name}\n" + _SUM
    )


@pytest.mark.parametrize(
    ("name", "dst", "src", "n"),
    [
        ("sol_memcpy_", 0, 32, 16),
        ("sol_memcpy_", 3, 40, 13),
        ("sol_memcpy_", 33, 1, 20),
        ("sol_memcpy_", 8, 40, 1),
        ("sol_memcpy_", 5, 50, 0),
        ("sol_memmove_", 2, 7, 30),
        ("sol_memmove_", 9, 4, 40),
        ("sol_memmove_", 16, 8, 24),
        ("sol_memmove_", 1, 1, 9),
        ("sol_memset_", 3, 0x1AB, 29),
        ("sol_memset_", 0, 7, 64),
        ("sol_memset_", 60, 9, 4),
    ],
)
def test_copy_is_proven(name: str, dst: int, src: int, n: int) -> None:
    ex = run_asm(_copy(name, dst, src, n), syscalls=True)
    assert ex.result.fault is None, ex.result.fault
    trace = check(ex)
    assert trace.rows["memcopy"] == ((dst + n - 1) // 8 - dst // 8 + 1 if n else 0)


@settings(max_examples=10, deadline=None)
@given(
    st.sampled_from(["sol_memcpy_", "sol_memmove_", "sol_memset_"]),
    st.integers(0, 63),
    st.integers(0, 63),
    st.integers(0, 64),
)
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


def _run_with_receipts(source: str) -> tuple[Execution, list[bytes]]:
    """Run assembled code with the kernel's registry, a kernel session collecting receipts."""
    from heliostat.svm.assembler import assemble
    from heliostat.svm.executable import Executable
    from heliostat.svm.kernel import KernelSession, kernel_registry

    receipts: list[bytes] = []

    def no_images(image_id: bytes) -> Executable:
        raise AssertionError("no program is entered")

    session = KernelSession(no_images, on_receipt=lambda _, data: receipts.append(data))
    text, functions = assemble(source)
    exe = Executable.from_text(text, kernel_registry(), functions)
    return execute(exe, bytes(range(40)), budget=1000, host=session), receipts


_RECEIPTS = """
lddw r1, 0x400000003
mov64 r2, 21
call heliostat_receipt
mov64 r6, r0
lddw r1, 0x400000000
mov64 r2, 0
call heliostat_receipt
add64 r0, r6
add64 r0, 5
exit
"""


def test_kernel_receipt_is_proven() -> None:
    ex, receipts = _run_with_receipts(_RECEIPTS)
    assert ex.result.fault is None, ex.result.fault
    assert receipts == [bytes(range(3, 24)), b""]
    bundle = prove_and_verify(ex)
    assert bundle.public_values.r0 == 5
    assert bundle.rows["syscall_log"] == 2
    # receipts cost 0: the meter counts the ten instructions only
    assert bundle.public_values.compute_units == ex.result.compute_units_consumed == 10


def _run_kernel_session(source: str, input_data: bytes) -> tuple[Execution, bytes]:
    """Run assembled code with the kernel's registry in a kernel session; return the output."""
    from heliostat.svm.assembler import assemble
    from heliostat.svm.executable import Executable
    from heliostat.svm.kernel import KernelSession, kernel_registry

    def no_images(image_id: bytes) -> Executable:
        raise AssertionError("no program is entered")

    session = KernelSession(no_images)
    text, functions = assemble(source)
    exe = Executable.from_text(text, kernel_registry(), functions)
    ex = execute(exe, input_data, budget=1000, host=session)
    return ex, bytes(session.published)


# three publishes: 13 bytes of the input from byte 3, nothing, 20 bytes of the stack from
# an odd address (so neither side is aligned), then r0 = 1
_PUBLISHES = """
lddw r1, 0x400000003
mov64 r2, 13
call heliostat_publish
mov64 r2, 0
call heliostat_publish
mov64 r6, r10
add64 r6, -40
stdw [r6+0], 0x11223344
stdw [r6+8], 0x7777
stdw [r6+16], 0x55667788
stdw [r6+24], 0x0a0b0c0d
mov64 r1, r6
add64 r1, 3
mov64 r2, 20
call heliostat_publish
mov64 r0, 1
exit
"""


def test_publish_is_proven_and_committed() -> None:
    from heliostat.zkvm.commitment import output_commitment

    data = bytes(range(100, 140))
    ex, published = _run_kernel_session(_PUBLISHES, data)
    assert ex.result.fault is None, ex.result.fault
    assert len(published) == 33 and published[:13] == data[3:16]
    bundle = prove_and_verify(ex)
    pv = bundle.public_values
    assert pv.output_len == 33
    assert (pv.output_hash, pv.output_depth) == output_commitment(published)
    assert bundle.rows["output"] == 5 and bundle.rows["syscall_publish"] == 3
