"""A kernel run's rows on one STATE chain: space, image, timestamp and meter of every row.

This is the trace side of proving switches (docs/zkvm.md, "Kernel runs"), before any switch
chip: it places K's rows and every activation's rows in execution order on one timeline and
gives each row the state the chips will prove it in — `(pc, ts, cu, image, space)` — by the
rules below, checking the VM's own records against them as it goes. The switch chip (not
built) proves exactly these crossings.

Rules:
- K is space 0, image 0, metered from `PROOF_KERNEL_BUDGET`; activation a is space a; its
  image index is its image's position in `images` (1, 2, … in order of first entry).
- Each row advances the timestamp as in a single execution (`trace_gen._decode_steps`). An
  enter or resume call of K is its "out" row at ts: the program's first row runs at
  ts + `OUT_SLOTS`. The program's stop row is followed by K's "back" row at the stop's
  ts + its step; K goes on at back + `BACK_SLOTS`.
- A program's meter starts at the record's compute units at every enter and resume. Every
  row costs 1 plus its syscall's units, except a kernel call, whose units K charges through
  the record (the call row itself costs 1). The meter after the stop row must be the units
  the VM wrote back to the record.
- A kernel call stops the program AT its `call` row, so that row ends the switch's stretch
  (the VM records it with the next switch, when K's result is known); the resume continues at
  the call's next pc with r0 = the record's result.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from heliostat.svm import kernel_abi as abi
from heliostat.svm.executable import Executable
from heliostat.svm.kernel import KernelTrace
from heliostat.svm.result import ExecutionResult
from heliostat.svm.trace import COL_NEXT_PC, COL_PC, Trace
from heliostat.zkvm.buses import MAX_IMAGES, NUM_REGISTERS, TS_START, TS_STEP_SYSCALL
from heliostat.zkvm.errors import TraceGenerationError, UnsupportedExecutionError
from heliostat.zkvm.execution import Execution
from heliostat.zkvm.kernel_execution import PROOF_KERNEL_BUDGET
from heliostat.zkvm.trace_gen import _decode_steps

I64 = NDArray[np.int64]
OUT_SLOTS = TS_STEP_SYSCALL  # timestamps an enter/resume "out" row uses (record, cells)
BACK_SLOTS = TS_STEP_SYSCALL  # … and a "back" row (record written back, K's r0)


@dataclass(frozen=True)
class KernelRows:
    """Every row of a kernel run in execution order, with the state it runs in.

    ``space``, ``step`` (the row's index in its own trace), ``pc``, ``ts``, ``cu`` and
    ``image`` are arrays over the rows; ``images`` the executables by image index (K first).
    ``stops`` holds, per switch, the index of the program's stop row (-1 when the switch ran
    no program row) and ``ts_end`` the timestamp after the last row.
    """

    space: I64
    step: I64
    pc: I64
    ts: I64
    cu: I64
    image: I64
    images: tuple[Executable, ...]
    stops: tuple[int, ...]
    ts_end: int

    def __len__(self) -> int:
        return int(self.space.shape[0])


def _fail(message: str, *, expected: object = None, got: object = None) -> TraceGenerationError:
    return TraceGenerationError(f"kernel rows: {message}", expected=expected, got=got)


def _costs(exe: Executable, trace: Trace, budget: int) -> tuple[I64, I64]:
    """Per-row timestamp step and cost of one space's rows, as a single execution has them."""
    result = ExecutionResult(None, None, 0, 0, len(trace), (0,) * NUM_REGISTERS, 0, trace)
    ex = Execution(exe, b"", 0, budget, (0,) * NUM_REGISTERS, result)
    rows, ts_end, cu_end = _decode_steps(ex)
    ts = np.append(rows.ts, ts_end)
    cu = np.append(rows.cu, cu_end)
    return np.diff(ts), -np.diff(cu)


def kernel_rows(
    trace: KernelTrace, kernel: Executable, images: Callable[[bytes], Executable]
) -> KernelRows:
    """Place every row of ``trace`` on one timeline (rules in the module docstring)."""
    acts = {a.activation: a for a in trace.activations}
    order: list[bytes] = []
    for a in trace.activations:
        if a.image_id not in order:
            order.append(a.image_id)
    if len(order) > MAX_IMAGES - 1:
        raise UnsupportedExecutionError(
            "program images per proof", expected=MAX_IMAGES - 1, got=len(order)
        )
    exes = tuple([kernel, *(images(i) for i in order)])
    k_step, k_cost = _costs(kernel, trace.kernel, PROOF_KERNEL_BUDGET)
    steps_of: dict[int, tuple[I64, I64]] = {}
    for a in trace.activations:
        if a.trace is None:
            raise _fail("an activation without rows", got=a.activation)
        step, cost = _costs(exes[1 + order.index(a.image_id)], a.trace, PROOF_KERNEL_BUDGET)
        kernel_calls = {e.step for e in a.trace.syscalls if e.name in abi.KERNEL_CALL_NUMBERS}
        for row in kernel_calls:
            cost[row] = 1  # K charges the call's units through the record
        steps_of[a.activation] = (step, cost)

    out: dict[str, list[int]] = {k: [] for k in ("space", "step", "pc", "ts", "cu", "image")}
    ts, k_cu = TS_START, PROOF_KERNEL_BUDGET
    placed = {a: 0 for a in acts}  # rows of each activation placed so far
    stops: list[int] = []

    def put(space: int, step: int, pc: int, cu: int, image: int) -> None:
        for key, value in zip(out, (space, step, pc, ts, cu, image), strict=True):
            out[key].append(value)

    k_next = 0
    for s in trace.switches:
        for row in range(k_next, s.kernel_step + 1):  # K up to its out row
            put(0, row, int(trace.kernel.steps[row, COL_PC]), k_cu, 0)
            ts, k_cu = ts + int(k_step[row]), k_cu - int(k_cost[row])
        ts += OUT_SLOTS - int(k_step[s.kernel_step])  # the out row's slots instead
        k_next = s.kernel_step + 1
        a = acts[s.activation]
        assert a.trace is not None
        step, cost = steps_of[s.activation]
        image = 1 + order.index(a.image_id)
        first, end = s.rows
        if s.status == abi.FAULTED and end > first:
            # the faulting instruction has no VM row: its fault row is still to be designed
            raise UnsupportedExecutionError("a program that faults", got=s.activation)
        if s.status == abi.KERNEL_CALL:
            end += 1  # the call row stops the program (recorded with the next switch)
        first = max(first, placed[s.activation])
        if end > len(a.trace):
            raise _fail("kernel call row missing", expected=end, got=len(a.trace))
        cu = s.compute_units_in
        for row in range(first, end):
            put(s.activation, row, int(a.trace.steps[row, COL_PC]), cu, image)
            ts, cu = ts + int(step[row]), cu - int(cost[row])
        placed[s.activation] = end
        stops.append(len(out["space"]) - 1 if end > first else -1)
        if end > first and cu != s.compute_units_out:
            raise _fail(
                f"meter of activation {s.activation} at its stop",
                expected=s.compute_units_out,
                got=cu,
            )
        ts += BACK_SLOTS
    for row in range(k_next, len(trace.kernel)):
        put(0, row, int(trace.kernel.steps[row, COL_PC]), k_cu, 0)
        ts, k_cu = ts + int(k_step[row]), k_cu - int(k_cost[row])
    for number, a in acts.items():
        if a.trace is not None and placed[number] != len(a.trace):
            raise _fail(f"rows of activation {number} not all run", got=placed[number])
    arrays = {k: np.array(v, dtype=np.int64) for k, v in out.items()}
    _check_resumes(trace, arrays)
    return KernelRows(
        arrays["space"],
        arrays["step"],
        arrays["pc"],
        arrays["ts"],
        arrays["cu"],
        arrays["image"],
        exes,
        tuple(stops),
        ts,
    )


def _check_resumes(trace: KernelTrace, arrays: dict[str, I64]) -> None:
    """Check that a program's stretches continue where it stopped (after a call: its next pc)."""
    acts = {a.activation: a for a in trace.activations}
    last: dict[int, int] = {}
    for i in range(arrays["space"].shape[0]):
        space = int(arrays["space"][i])
        if space == 0:
            continue
        row = int(arrays["step"][i])
        if space in last and row != last[space] + 1:
            raise _fail(f"activation {space} rows out of order", expected=last[space] + 1)
        if space in last:
            rows = acts[space].trace
            assert rows is not None
            expected = int(rows.steps[row - 1, COL_NEXT_PC])
            if int(rows.steps[row, COL_PC]) != expected:
                raise _fail(f"activation {space} resumed elsewhere", expected=expected)
        last[space] = row
