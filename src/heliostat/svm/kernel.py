"""The kernel switch (ARCHITECTURE decision 9): the VM runs a kernel image that runs programs.

`run_kernel` runs the kernel image K (the runtime) over its input. K enters a program image
with `heliostat_program_enter(image_id, &record)`: the VM runs the program in a fresh
activation (`kernel_activation.Activation`) whose input region aliases K's buffer, until it
exits, faults or makes a kernel call; then K continues, with the outcome in the record. K
resumes a program suspended at a kernel call with `heliostat_program_resume(&record)`, reads
and writes its memory with `heliostat_caller_read/write`, and publishes the public output with
`heliostat_publish`. The layout of the record and every number: `kernel_abi`, docs/svm.md.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from heliostat.svm import kernel_abi as abi
from heliostat.svm.errors import AccessType, SvmError, VmFault
from heliostat.svm.executable import Executable
from heliostat.svm.fast_syscalls import SIDE_LOG, SIDE_RECEIPT
from heliostat.svm.kernel_abi import KernelProtocolError
from heliostat.svm.kernel_activation import Activation, Stop
from heliostat.svm.kernel_jets import JetRows
from heliostat.svm.log_collector import LogCollector
from heliostat.svm.memory import MM_INPUT_START, InputSegment, MemoryMap
from heliostat.svm.native_syscalls import MEMORY_SERVICES, SIDE_CHANNEL, NativeSyscalls
from heliostat.svm.result import ExecutionResult
from heliostat.svm.syscall_api import SyscallContext, SyscallRegistry
from heliostat.svm.syscalls import poseidon2
from heliostat.svm.syscalls.registry import default_registry
from heliostat.svm.trace import Trace
from heliostat.svm.vm import run

ImageResolver = Callable[[bytes], Executable]
ACCESS_OK, ACCESS_VIOLATION = 0, 1


@dataclass(frozen=True)
class SwitchEvent:
    """One enter or resume: which activation ran which of its rows while K waited.

    ``kernel_step`` is K's trace row of the enter/resume call; ``rows`` the activation's rows
    executed during this switch (first, end); the rest is what the record said in and out.
    """

    kind: str  # "enter" | "resume"
    kernel_step: int
    activation: int
    rows: tuple[int, int]
    compute_units_in: int
    compute_units_out: int
    status: int
    value: int
    args: tuple[int, int, int, int, int]


@dataclass(frozen=True)
class ActivationTrace:
    """One activation: its image, where its input lives in K memory, and its rows."""

    activation: int
    image_id: bytes
    parent: int | None
    depth: int
    input_addr: int
    input_len: int
    heap_size: int
    data_offset: int
    trace: Trace | None


@dataclass(frozen=True)
class KernelTrace:
    """Everything the zkVM needs: K's rows, each activation's rows, and the switches between."""

    kernel: Trace
    activations: tuple[ActivationTrace, ...]
    switches: tuple[SwitchEvent, ...]
    publish: bytes


@dataclass(frozen=True)
class KernelResult:
    """A kernel run: K's own result, the public output, and (proving mode) the trace."""

    execution: ExecutionResult
    published: bytes
    activations: int
    trace: KernelTrace | None = None
    heap_dirty: int = 0  # end of the highest heap byte the run wrote (for pooled heaps)


class KernelSession:
    """The state of one kernel run: the activation stack, outputs, and the host's hooks.

    ``images`` resolves an image id to a loaded program; ``on_log`` and ``on_receipt`` take
    K's receipt side channel (native only). The session is K's syscall host (``ctx.host``)
    and the host of every activation (whose VM services log to ``logs``).
    """

    def __init__(
        self,
        images: ImageResolver,
        *,
        trace: bool = False,
        logs: LogCollector | None = None,
        on_log: Callable[[KernelSession, int, bytes, int, int], None] | None = None,
        on_receipt: Callable[[KernelSession, bytes], None] | None = None,
    ) -> None:
        self.images = images
        self.trace = trace
        self.logs = logs if logs is not None else LogCollector()
        self.on_log = on_log
        self.on_receipt = on_receipt
        self.kernel_memory: MemoryMap | None = None
        self.stack: list[tuple[Activation, int, int]] = []  # activation, input addr, length
        # proving mode only: every activation and switch, for the trace
        self.records: list[ActivationTrace] = []
        self.live: list[Activation] = []
        self.switches: list[SwitchEvent] = []
        self.activations = 0  # activations created so far (their numbers are 1, 2, ...)
        self.published = bytearray()
        self.last_fault: VmFault | None = None  # of the last activation that faulted
        self.last_violation: SvmError | None = None  # of the last failed caller copy

    # -----------------------------------------------------------------------------------------
    # The switch

    def enter(self, ctx: SyscallContext, image_ptr: int, record_ptr: int) -> int:
        """`heliostat_program_enter(image_id, &record)`."""
        image_id = ctx.read(image_ptr, 32)
        fields = _read_record(ctx, record_ptr)
        input_addr, input_len, heap_size, data_offset, units = fields[:5]
        depth = len(self.stack) + 1
        if depth > abi.MAX_ACTIVATION_DEPTH:
            raise KernelProtocolError(f"activation depth {depth} > {abi.MAX_ACTIVATION_DEPTH}")
        if heap_size > abi.MAX_PROGRAM_HEAP or heap_size % abi.HEAP_GRANULE:
            raise KernelProtocolError(f"program heap of {heap_size} bytes")
        if data_offset > input_len:
            raise KernelProtocolError(f"data offset {data_offset} past input of {input_len}")
        for _, addr, length in self.stack:
            if input_addr < addr + length and addr < input_addr + input_len:
                raise KernelProtocolError("program input overlaps a live activation's")
        kernel_memory = self._kernel_memory()
        buffer, offset = kernel_memory.translate(AccessType.STORE, input_addr, input_len)
        executable = self.images(image_id)
        memory = MemoryMap(
            executable.ro_array,
            heap_size=heap_size,
            program_vaddr=executable.ro_vaddr,
            input_view=buffer[offset : offset + input_len],
        )
        self.activations += 1
        number = self.activations
        activation = Activation(
            number, image_id, executable, memory, self, units, data_offset, trace=self.trace
        )
        activation.depth = depth
        if self.trace:  # the rows are filled in at the end (`kernel_trace`)
            parent = self.stack[-1][0].number if self.stack else None
            self.records.append(
                ActivationTrace(
                    number,
                    image_id,
                    parent,
                    depth,
                    input_addr,
                    input_len,
                    heap_size,
                    data_offset,
                    None,
                )
            )
            self.live.append(activation)
        self.stack.append((activation, input_addr, input_len))
        return self._switch("enter", ctx, record_ptr, activation, units, activation.run)

    def resume(self, ctx: SyscallContext, record_ptr: int) -> int:
        """`heliostat_program_resume(&record)`: continue the top suspended activation."""
        if not self.stack:
            raise KernelProtocolError("resume with no suspended activation")
        fields = _read_record(ctx, record_ptr)
        units, result, fail = fields[4], fields[12], fields[13]
        activation = self.stack[-1][0]

        def go() -> Stop:
            if fail:
                return activation.end_by_kernel(fail, units)
            return activation.resume(result, units)

        return self._switch("resume", ctx, record_ptr, activation, units, go)

    def _switch(
        self,
        kind: str,
        ctx: SyscallContext,
        record_ptr: int,
        activation: Activation,
        units_in: int,
        go: Callable[[], Stop],
    ) -> int:
        first = activation.rows
        stop = go()
        if stop.status != abi.KERNEL_CALL:
            self.stack.pop()
            if activation.fault is not None:
                self.last_fault = activation.fault
            activation.memory.release()
        units_out = activation.remaining
        out = abi.OUT_FIELDS.pack(units_out, stop.status, stop.value, *stop.args)
        ctx.write(record_ptr + abi.A_COMPUTE_UNITS, out)
        tail = abi.TAIL_FIELDS.pack(activation.depth, activation.instructions)
        ctx.write(record_ptr + abi.A_DEPTH, tail)
        if not self.trace:
            return stop.status
        self.switches.append(
            SwitchEvent(
                kind,
                ctx.step,
                activation.number,
                (first, activation.rows),
                units_in,
                units_out,
                stop.status,
                stop.value,
                stop.args,
            )
        )
        return stop.status

    # -----------------------------------------------------------------------------------------
    # Copies, output

    def caller_read(self, ctx: SyscallContext, dst: int, src: int, length: int) -> int:
        """`heliostat_caller_read(dst, p_src, len)`: program memory → kernel memory."""
        activation = self._suspended()
        ctx.check(AccessType.STORE, dst, length)
        try:
            data = activation.read(src, length)
        except SvmError as violation:
            self.last_violation = violation
            return ACCESS_VIOLATION
        ctx.write(dst, data)
        return ACCESS_OK

    def caller_write(self, ctx: SyscallContext, dst: int, src: int, length: int) -> int:
        """`heliostat_caller_write(p_dst, src, len)`: kernel memory → program memory."""
        activation = self._suspended()
        data = ctx.read(src, length)
        try:
            activation.write(dst, data)
        except SvmError as violation:
            self.last_violation = violation
            return ACCESS_VIOLATION
        return ACCESS_OK

    def publish(self, ctx: SyscallContext, ptr: int, length: int) -> int:
        """`heliostat_publish(ptr, len)`: append to the public output."""
        self.published += ctx.read(ptr, length)
        return 0

    def receipt(self, ctx: SyscallContext, ptr: int, length: int) -> int:
        """`heliostat_receipt(ptr, len)`: hand bytes to the host (native side channel)."""
        data = ctx.read(ptr, length)
        if self.on_receipt is not None:
            self.on_receipt(self, data)
        return 0

    def log(self, ctx: SyscallContext, kind: int, ptr: int, length: int, a: int, b: int) -> int:
        """`heliostat_log(kind, ptr, len, a, b)`: a receipt log event (native side channel)."""
        data = ctx.read(ptr, length) if length else b""
        if self.on_log is not None:
            self.on_log(self, kind, data, a, b)
        return 0

    def deliver(self, tag: int, kind: int, a: int, b: int, data: bytes) -> None:
        """Take a side-channel record that the numba loop buffered (native mode)."""
        if tag == SIDE_RECEIPT:
            if self.on_receipt is not None:
                self.on_receipt(self, data)
        elif tag == SIDE_LOG:
            if self.on_log is not None:
                self.on_log(self, kind, data, a, b)
        else:
            raise KernelProtocolError(f"unknown side-channel record {tag}")

    def _suspended(self) -> Activation:
        if not self.stack or self.stack[-1][0].pending is None:
            raise KernelProtocolError("no suspended activation to copy from or to")
        return self.stack[-1][0]

    def _kernel_memory(self) -> MemoryMap:
        if self.kernel_memory is None:
            raise KernelProtocolError("the session has no kernel memory")
        return self.kernel_memory

    def kernel_trace(self, kernel: Trace) -> KernelTrace:
        """Assemble the trace after the run."""
        records = tuple(
            ActivationTrace(
                r.activation,
                r.image_id,
                r.parent,
                r.depth,
                r.input_addr,
                r.input_len,
                r.heap_size,
                r.data_offset,
                a.finish_trace(),
            )
            for r, a in zip(self.records, self.live, strict=True)
        )
        return KernelTrace(kernel, records, tuple(self.switches), bytes(self.published))


def _read_record(ctx: SyscallContext, record_ptr: int) -> tuple[int, ...]:
    if record_ptr % abi.ACTIVATION_ALIGN:
        raise KernelProtocolError(f"activation record at {record_ptr:#x} is not 8-aligned")
    return abi.RECORD.unpack(ctx.read(record_ptr, abi.ACTIVATION_SIZE))


# ---------------------------------------------------------------------------------------------
# K's syscalls: module functions that find the session as ctx.host.


def _session(ctx: SyscallContext) -> KernelSession:
    host: Any = ctx.host
    if not isinstance(host, KernelSession):
        raise KernelProtocolError("kernel syscall outside a kernel session")
    return host


def heliostat_program_enter(
    ctx: SyscallContext, r1: int, r2: int, r3: int, r4: int, r5: int
) -> int:
    """Enter program image r1 (32-byte id) with the activation record at r2."""
    return _session(ctx).enter(ctx, r1, r2)


def heliostat_program_resume(
    ctx: SyscallContext, r1: int, r2: int, r3: int, r4: int, r5: int
) -> int:
    """Resume the top suspended activation with the record at r1."""
    return _session(ctx).resume(ctx, r1)


def heliostat_caller_read(ctx: SyscallContext, r1: int, r2: int, r3: int, r4: int, r5: int) -> int:
    """Copy r3 bytes from the suspended program's r2 to kernel r1; r0 = 1 on a violation."""
    return _session(ctx).caller_read(ctx, r1, r2, r3)


def heliostat_caller_write(ctx: SyscallContext, r1: int, r2: int, r3: int, r4: int, r5: int) -> int:
    """Copy r3 bytes from kernel r2 to the suspended program's r1; r0 = 1 on a violation."""
    return _session(ctx).caller_write(ctx, r1, r2, r3)


def heliostat_publish(ctx: SyscallContext, r1: int, r2: int, r3: int, r4: int, r5: int) -> int:
    """Append r2 bytes at r1 to the public output."""
    return _session(ctx).publish(ctx, r1, r2)


def heliostat_receipt(ctx: SyscallContext, r1: int, r2: int, r3: int, r4: int, r5: int) -> int:
    """Hand r2 bytes at r1 to the host as a receipt."""
    return _session(ctx).receipt(ctx, r1, r2)


def heliostat_log(ctx: SyscallContext, r1: int, r2: int, r3: int, r4: int, r5: int) -> int:
    """Log event r1 with r3 bytes at r2 and two numbers r4, r5."""
    return _session(ctx).log(ctx, r1, r2, r3, r4, r5)


KERNEL_SYSCALLS = {
    "heliostat_program_enter": heliostat_program_enter,
    "heliostat_program_resume": heliostat_program_resume,
    "heliostat_caller_read": heliostat_caller_read,
    "heliostat_caller_write": heliostat_caller_write,
    "heliostat_publish": heliostat_publish,
    "heliostat_receipt": heliostat_receipt,
    "heliostat_log": heliostat_log,
}


def kernel_registry() -> SyscallRegistry:
    """Return the kernel image's registry: VM services and precompiles plus K's syscalls."""
    registry = default_registry()
    for name, function in KERNEL_SYSCALLS.items():
        registry.register(name, function)
    return poseidon2.register_kernel_precompiles(registry)  # the state tree's hash


def run_kernel(
    kernel: Executable,
    input_data: bytes,
    session: KernelSession,
    *,
    heap_size: int = 8 << 20,
    heap: npt.NDArray[np.uint8] | None = None,
    trace: bool = False,
    jet_rows: JetRows | None = None,
) -> KernelResult:
    """Run ``kernel`` over ``input_data`` (read-only to it) with ``session`` as its host.

    A fault of K (including a broken switch protocol, `KernelProtocolError`) is reported in
    ``execution.fault``: it is a runtime bug, which the caller turns into its own error.
    ``heap`` is a zeroed buffer of ``heap_size`` bytes to use (callers pool them; the result
    says how much of it the run dirtied). Without ``trace`` the memory services and K's
    receipt/log side channel are served inside the numba loop, and ``jet_rows`` (precomputed by
    `kernel_jets`) answers that jet's calls on arguments in the input region.
    """
    memory = MemoryMap(
        kernel.ro_array,
        input_data,
        heap_size,
        program_vaddr=kernel.ro_vaddr,
        input_segments=[InputSegment(0, len(input_data), False)],
        max_heap_size=heap_size,
        heap_buffer=heap,
    )
    session.kernel_memory = memory
    native = None
    if not trace:
        if jet_rows is not None:
            _check_input_rows(jet_rows, len(input_data))
        native = NativeSyscalls(
            kernel,
            MEMORY_SERVICES | SIDE_CHANNEL,
            deliver=session.deliver,
            jet=jet_rows.syscall if jet_rows is not None else None,
            jet_rows=jet_rows.rows if jet_rows is not None else None,
        )
    try:
        execution = run(kernel, memory, session, abi.KERNEL_BUDGET, trace=trace, native=native)
        if execution.fault is None and session.stack:
            raise KernelProtocolError("the kernel exited with live activations")
    finally:
        for activation, _, _ in session.stack:
            activation.memory.release()
        memory.release()
    kernel_trace = None
    if trace and execution.trace is not None:
        kernel_trace = session.kernel_trace(execution.trace)
    return KernelResult(
        execution, bytes(session.published), session.activations, kernel_trace, memory.heap_dirty
    )


def _check_input_rows(jet: JetRows, input_len: int) -> None:
    """Check that jet rows answer only calls whose memory lies in K's read-only input.

    K cannot change those bytes during the run, so the precomputed result stays the function's.
    """
    rows = jet.rows
    if not len(rows):
        return
    start, end = MM_INPUT_START, MM_INPUT_START + input_len
    for column, size in enumerate(jet.pointer_sizes):
        if (rows[:, column] < start).any() or (rows[:, column] + size > end).any():
            raise KernelProtocolError(f"jet rows: argument r{column + 1} leaves the input")
    ptr, length = jet.range_columns
    if (rows[:, length] < 0).any() or (rows[:, ptr] < start).any():
        raise KernelProtocolError("jet rows: a range leaves the input")
    if (rows[:, ptr] + rows[:, length] > end).any():
        raise KernelProtocolError("jet rows: a range leaves the input")
