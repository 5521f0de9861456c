"""Kernel runs as executions to prove: the runtime image K over one SOL transfer.

A SOL transfer enters no program (the System Program runs inside K), so it is one execution
of K. These tests pin what its proof still lacks (docs/zkvm.md, "Kernel runs"): the syscalls
without a chip, and that trace generation refuses the run rather than prove part of it.
"""

from __future__ import annotations

import pytest

from heliostat.runtime.kernel_input import KernelInput
from heliostat.runtime.runtime import Runtime
from heliostat.runtime.sample_batch import sample_world
from heliostat.zkvm.kernel_execution import (
    PROOF_KERNEL_BUDGET,
    KernelExecution,
    kernel_execution,
    proven_syscalls,
    unproven_syscalls,
)


def _sol_transfer_input(runtime: Runtime, *, verify_signatures: bool) -> KernelInput:
    world = sample_world(3)
    tx = world.sol_transfer(world.users[0], world.users[1].pubkey(), 1234)
    return world.kernel_input(runtime, [tx], verify_signatures=verify_signatures)


@pytest.fixture(scope="module")
def sol_transfer() -> tuple[Runtime, KernelExecution]:
    runtime = Runtime()
    kin = _sol_transfer_input(runtime, verify_signatures=False)
    data, _ = kin.encode_with_transactions()
    kernel = runtime.kernel.for_mode(jets=False)
    return runtime, kernel_execution(kernel, data, kin.heap_size(), runtime.images.resolve)


def test_kernel_run_is_the_runtimes_run(sol_transfer: tuple[Runtime, KernelExecution]) -> None:
    runtime, kernel_run = sol_transfer
    kin = _sol_transfer_input(runtime, verify_signatures=False)
    native = runtime.run(kin)
    assert kernel_run.result.published == native.published
    ex = kernel_run.execution
    assert ex.result.fault is None and kernel_run.result.activations == 0
    assert ex.result.trace is not None
    assert len(ex.result.trace) == ex.result.instruction_count
    # the proof's meter: the same units consumed, from a budget the field can hold
    assert ex.budget == PROOF_KERNEL_BUDGET
    assert ex.result.remaining == PROOF_KERNEL_BUDGET - ex.result.compute_units_consumed


def test_a_sol_transfer_calls_only_proven_syscalls(
    sol_transfer: tuple[Runtime, KernelExecution],
) -> None:
    # sol_keccak256 was the last one missing (syscall_keccak_chip); tests/runtime/
    # test_prove_batch.py proves such runs
    ex = sol_transfer[1].execution
    assert ex.result.trace is not None
    called = {e.name for e in ex.result.trace.syscalls}
    assert {"heliostat_receipt", "sol_memset_", "sol_keccak256"} <= called & proven_syscalls()
    assert unproven_syscalls(ex) == []
