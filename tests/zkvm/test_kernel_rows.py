"""A kernel run's rows on one timeline (kernel_rows): the VM switch test kernel (nesting,
kernel calls, copies) and the runtime's SPL transfer, with the meter and order checks the
switch chip will prove, and tampered traces refused."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from test_kernel_timeline import switch_run  # noqa: F401  (fixture)

from heliostat.runtime.runtime import Runtime
from heliostat.runtime.sample_batch import sample_world
from heliostat.svm.executable import Executable
from heliostat.svm.kernel import KernelTrace
from heliostat.zkvm.errors import TraceGenerationError
from heliostat.zkvm.kernel_rows import OUT_SLOTS, kernel_rows
from heliostat.zkvm.kernel_timeline import timeline

Run = tuple[KernelTrace, dict[bytes, Executable], Executable]


@pytest.fixture(scope="module")
def switch_kernel(switch_run: tuple[KernelTrace, dict[bytes, Executable]]) -> Run:  # noqa: F811
    from test_kernel import KERNEL_SOURCE, KERNEL_SYSCALLS

    from heliostat.svm.elf import load_elf
    from heliostat.svm.kernel import kernel_registry
    from heliostat.toolchain import build_program
    from heliostat.toolchain.build import C_DIR

    path = build_program(
        [KERNEL_SOURCE],
        name="test_switch_kernel",
        include_dirs=[C_DIR / "runtime"],
        extra_syscalls=KERNEL_SYSCALLS,
    )
    trace, images = switch_run
    return trace, images, load_elf(path.read_bytes(), kernel_registry())


def test_every_row_is_placed_once_in_time_order(switch_kernel: Run) -> None:
    trace, images, kernel = switch_kernel
    rows = kernel_rows(trace, kernel, images.__getitem__)
    total = len(trace.kernel) + sum(len(a.trace) for a in trace.activations if a.trace)
    assert len(rows) == total
    assert np.all(np.diff(rows.ts) > 0)
    for space in (0, 1, 2):
        steps = rows.step[rows.space == space]
        assert steps.tolist() == list(range(steps.shape[0]))
    # spaces in the timeline's order, but A's kernel-call rows end A's stretches
    changes = [int(rows.space[0])] + [
        int(b) for a, b in zip(rows.space[:-1], rows.space[1:], strict=True) if a != b
    ]
    assert changes == [s.space for s in timeline(trace)]
    # images: K is 0, A (entered first) 1, B 2; each space runs one image
    assert {(int(s), int(i)) for s, i in zip(rows.space, rows.image, strict=True)} == {
        (0, 0),
        (1, 1),
        (2, 2),
    }
    # a program's first row comes OUT_SLOTS after K's enter row
    k_enter = trace.switches[0].kernel_step
    where = int(np.flatnonzero((rows.space == 0) & (rows.step == k_enter))[0])
    assert rows.ts[where + 1] == rows.ts[where] + OUT_SLOTS


def test_meter_at_every_stop_is_the_record(switch_kernel: Run) -> None:
    trace, images, kernel = switch_kernel
    rows = kernel_rows(trace, kernel, images.__getitem__)
    for switch, stop in zip(trace.switches, rows.stops, strict=True):
        if stop < 0:
            continue
        # the stop row's meter minus its own cost (1: an exit or a kernel call's call row)
        assert rows.cu[stop] - 1 == switch.compute_units_out
        assert rows.space[stop] == switch.activation


def test_a_stop_with_other_units_is_refused(switch_kernel: Run) -> None:
    trace, images, kernel = switch_kernel
    first = dataclasses.replace(trace.switches[0], compute_units_out=123)
    forged = dataclasses.replace(trace, switches=(first, *trace.switches[1:]))
    with pytest.raises(TraceGenerationError, match="meter"):
        kernel_rows(forged, kernel, images.__getitem__)


def test_the_runtime_spl_transfer() -> None:
    world = sample_world(3)
    tx = world.spl_transfer(world.users[0], world.users[1], 5)
    runtime = Runtime()
    kin = world.kernel_input(runtime, [tx])
    trace = runtime.run(kin, trace=True).result.trace
    assert trace is not None
    rows = kernel_rows(trace, runtime.kernel.for_mode(jets=False), runtime.images.resolve)
    (token,) = trace.activations
    assert token.trace is not None
    assert int((rows.space == 1).sum()) == len(token.trace)
    assert len(rows.images) == 2 and set(rows.image[rows.space == 1].tolist()) == {1}
    (stop,) = rows.stops
    assert rows.cu[stop] - 1 == trace.switches[0].compute_units_out
