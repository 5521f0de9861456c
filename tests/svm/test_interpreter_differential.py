"""Differential test: the numba interpreter against the reference on generated programs.

Every generated program runs on both interpreters, with and without a trace; results (r0 or
fault with its kind, text and pc; compute units; registers; final pc), traces and the final
contents of every writable region must be identical.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from vm_helpers import make_registry
from vm_program_gen import GeneratedProgram, programs

from heliostat.svm.executable import Executable
from heliostat.svm.memory import MemoryMap
from heliostat.svm.vm import ExecutionResult, run

REGISTRY = make_registry()


def execute(
    program: GeneratedProgram, *, fast: bool, trace: bool
) -> tuple[ExecutionResult, MemoryMap]:
    exe = Executable.from_text(program.text, REGISTRY, program.functions)
    memory = MemoryMap.for_executable(exe, program.input_data)
    return run(exe, memory, None, program.budget, fast=fast, trace=trace), memory


def assert_same(a: tuple[ExecutionResult, MemoryMap], b: tuple[ExecutionResult, MemoryMap]) -> None:
    (ra, ma), (rb, mb) = a, b
    assert ra.same_outcome(rb), (ra, rb)
    for name in ("stack", "heap", "input"):
        assert np.array_equal(getattr(ma, name), getattr(mb, name)), name


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(programs())
def test_numba_matches_reference(program: GeneratedProgram) -> None:
    reference = execute(program, fast=False, trace=True)
    assert_same(reference, execute(program, fast=True, trace=True))
    # native mode: same outcome, no trace
    native, memory = execute(program, fast=True, trace=False)
    assert native.trace is None
    reference[0].trace = None
    assert_same(reference, (native, memory))


@pytest.mark.slow
def test_generator_reaches_every_outcome() -> None:
    """The strategy is not vacuous: over a fixed sample it produces exits and every fault."""
    from hypothesis import Phase, find

    quick = settings(max_examples=3000, database=None, deadline=None, phases=[Phase.generate])

    kinds = [
        "DivideByZero",
        "AccessViolation",
        "StackAccessViolation",
        "ExceededMaxInstructions",
        "CallDepthExceeded",
        "CallOutsideTextSegment",
        "SyscallError",
        "ExecutionOverrun",
    ]
    for kind in kinds:
        example = find(
            programs(),
            lambda p, kind=kind: (
                (r := execute(p, fast=True, trace=False)[0]).fault is not None
                and r.fault.kind == kind
            ),
            settings=quick,
        )
        assert example is not None
    ok = find(
        programs(), lambda p: execute(p, fast=True, trace=False)[0].fault is None, settings=quick
    )
    assert ok is not None


@pytest.mark.parametrize("budget", [10, 1000, 200_000])
def test_memo_program_on_both_interpreters(budget: int) -> None:
    """A real program (SPL Memo) with simple logging/memcpy syscalls, differential."""
    from heliostat.svm.elf import load_elf
    from heliostat.svm.programs import memo
    from heliostat.svm.syscall_api import SyscallRegistry

    registry = SyscallRegistry()

    def log(ctx, ptr, n, *_):  # type: ignore[no-untyped-def]
        ctx.consume(100)
        ctx.host.append(ctx.read(ptr, n))
        return 0

    def log_pubkey(ctx, ptr, *_):  # type: ignore[no-untyped-def]
        ctx.consume(100)
        ctx.host.append(ctx.read(ptr, 32))
        return 0

    def memcpy(ctx, dst, src, n, *_):  # type: ignore[no-untyped-def]
        ctx.consume(max(10, n // 250))
        ctx.write(dst, ctx.read(src, n))
        return 0

    registry.register("sol_log_", log)
    registry.register("sol_log_pubkey", log_pubkey)
    registry.register("sol_memcpy_", memcpy)
    exe = load_elf(memo().elf, registry)
    memo_text = b"hello heliostat"
    input_data = (
        (0).to_bytes(8, "little") + len(memo_text).to_bytes(8, "little") + memo_text + bytes(32)
    )
    outcomes = []
    for fast in (False, True):
        logs: list[bytes] = []
        memory = MemoryMap.for_executable(exe, input_data)
        result = run(exe, memory, logs, budget, fast=fast, trace=True, registers={2: 0x400000010})
        outcomes.append((result, logs))
    (ra, la), (rb, lb) = outcomes
    assert ra.same_outcome(rb)
    assert la == lb
    if budget == 200_000:
        assert ra.fault is None and la[-1] == memo_text
