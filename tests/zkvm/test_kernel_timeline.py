"""The kernel-run timeline and switch crossings (kernel_timeline), on the VM's switch test
kernel (nesting, kernel calls, copies) and on the runtime running an SPL transfer.

These check the trace side of the switch design (docs/zkvm.md, "Kernel runs"): the order in
which one STATE chain will run through K and the activations, and the K memory cells every
crossing value lives in. Tampered traces are refused here; proofs of switches do not exist
yet, so there is no verifier to reject them.
"""

from __future__ import annotations

import dataclasses
import itertools

import numpy as np
import pytest
from test_kernel import (
    IMAGE_A,
    IMAGE_B,
    KERNEL_SOURCE,
    KERNEL_SYSCALLS,
    PROGRAM_A,
    PROGRAM_B,
    kernel_input,
    program,
)

from heliostat.runtime.runtime import Runtime
from heliostat.runtime.sample_batch import sample_world
from heliostat.svm import kernel_abi as abi
from heliostat.svm.elf import load_elf
from heliostat.svm.executable import Executable
from heliostat.svm.kernel import KernelSession, KernelTrace, kernel_registry, run_kernel
from heliostat.svm.trace import COL_RESULT, Trace
from heliostat.toolchain import build_program
from heliostat.toolchain.build import C_DIR
from heliostat.zkvm.errors import TraceGenerationError
from heliostat.zkvm.kernel_timeline import crossings, timeline


@pytest.fixture(scope="module")
def switch_run() -> tuple[KernelTrace, dict[bytes, Executable]]:
    path = build_program(
        [KERNEL_SOURCE],
        name="test_switch_kernel",
        include_dirs=[C_DIR / "runtime"],
        extra_syscalls=KERNEL_SYSCALLS,
    )
    kernel = load_elf(path.read_bytes(), kernel_registry())
    images = {IMAGE_A: program(PROGRAM_A), IMAGE_B: program(PROGRAM_B)}
    session = KernelSession(images.__getitem__, trace=True)
    result = run_kernel(kernel, kernel_input(bytes(range(32))), session, trace=True)
    assert result.execution.fault is None and result.trace is not None
    return result.trace, images


def test_timeline_interleaves_every_row(
    switch_run: tuple[KernelTrace, dict[bytes, Executable]],
) -> None:
    trace, _ = switch_run
    stretches = timeline(trace)
    # K, A until its first kernel call, K, B (nested, to its exit), K, A's call row and on to
    # its second call, K, A's call row to its exit, K to the end
    assert [(s.space, s.first, s.end) for s in stretches if s.space] == [
        (1, 0, 1),
        (2, 0, 4),
        (1, 1, 6),
        (1, 6, 9),
    ]
    assert [s.space for s in stretches] == [0, 1, 0, 2, 0, 1, 0, 1, 0]
    kernel_rows = [(s.first, s.end) for s in stretches if s.space == 0]
    assert kernel_rows[0][0] == 0 and kernel_rows[-1][1] == len(trace.kernel)
    assert all(a[1] == b[0] for a, b in itertools.pairwise(kernel_rows))
    assert sum(s.end - s.first for s in stretches) == len(trace.kernel) + 9 + 4


def test_crossings_are_the_record_in_kernel_memory(
    switch_run: tuple[KernelTrace, dict[bytes, Executable]],
) -> None:
    trace, images = switch_run
    found = crossings(trace, images.__getitem__)
    assert [(c.kind, c.switch.activation) for c in found] == [
        ("enter", 1),
        ("enter", 2),
        ("resume", 1),
        ("resume", 1),
    ]
    enter_a, enter_b, resume_1, resume_2 = found
    assert (enter_a.image_id, enter_b.image_id) == (IMAGE_A, IMAGE_B)
    # A stopped at sol_get_stack_height with units left; B was given exactly those
    assert enter_a.out[1:3] == (abi.KERNEL_CALL, abi.KERNEL_CALL_NUMBERS["sol_get_stack_height"])
    assert enter_b.fields_in[4] == enter_a.out[0]
    assert enter_b.out[1:3] == (abi.EXITED, 3) and enter_b.tail[0] == 2
    # K resumed A with result 7 and 100 units charged; A then stopped at set_return_data
    assert resume_1.fields_in[12:14] == (7, 0)
    assert resume_1.fields_in[4] == enter_a.out[0] - 100
    assert resume_2.out[1] == abi.EXITED and resume_2.tail == (1, 9)


def _with_activation_rows(trace: KernelTrace, number: int, steps: np.ndarray) -> KernelTrace:
    activations = []
    for a in trace.activations:
        if a.activation == number:
            assert a.trace is not None
            a = dataclasses.replace(a, trace=Trace(steps, a.trace.syscalls, a.trace.memory))
        activations.append(a)
    return dataclasses.replace(trace, activations=tuple(activations))


def test_a_kernel_call_result_the_program_did_not_get_is_refused(
    switch_run: tuple[KernelTrace, dict[bytes, Executable]],
) -> None:
    trace, images = switch_run
    a = trace.activations[0]
    assert a.trace is not None
    steps = a.trace.steps.copy()
    steps[1, COL_RESULT] = 8  # the stack-height call's row (K resumed it with 7)
    with pytest.raises(TraceGenerationError, match="kernel call result"):
        crossings(_with_activation_rows(trace, 1, steps), images.__getitem__)


def test_entering_another_image_is_refused(
    switch_run: tuple[KernelTrace, dict[bytes, Executable]],
) -> None:
    trace, images = switch_run
    swapped = tuple(
        dataclasses.replace(a, image_id=IMAGE_B) if a.activation == 1 else a
        for a in trace.activations
    )
    with pytest.raises(TraceGenerationError, match="image entered"):
        crossings(dataclasses.replace(trace, activations=swapped), images.__getitem__)


def test_rows_run_twice_are_refused(
    switch_run: tuple[KernelTrace, dict[bytes, Executable]],
) -> None:
    trace, _ = switch_run
    switches = list(trace.switches)
    switches[2] = dataclasses.replace(switches[2], rows=(0, 6))  # A's rows 0..1 again
    with pytest.raises(TraceGenerationError, match="rows of activation 1"):
        timeline(dataclasses.replace(trace, switches=tuple(switches)))


def test_runtime_spl_transfer_timeline() -> None:
    world = sample_world(3)
    tx = world.spl_transfer(world.users[0], world.users[1], 5)
    runtime = Runtime()
    kin = world.kernel_input(runtime, [tx])
    run = runtime.run(kin, trace=True)
    trace = run.result.trace
    assert trace is not None
    stretches = timeline(trace)
    (token,) = trace.activations  # SPL Token, entered once, ran to its exit
    assert token.trace is not None and [s.space for s in stretches] == [0, 1, 0]
    (enter,) = crossings(trace, runtime.images.resolve)
    assert enter.kind == "enter" and enter.out[1] == abi.EXITED
    assert enter.switch.compute_units_in - enter.out[0] == len(token.trace)
