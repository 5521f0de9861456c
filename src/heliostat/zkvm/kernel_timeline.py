"""The execution order of a kernel run and the values that cross each switch, for the prover.

A kernel run's trace (`heliostat.svm.kernel.KernelTrace`) keeps K's rows and each
activation's rows apart. The proof of switches (docs/zkvm.md, "Kernel runs") runs one STATE
chain through all of them in execution order, and ties every value crossing a switch to a K
memory cell. `timeline` gives that order as stretches of rows per space (K = 0, activation
a = a); `crossings` gives, per switch, what the switch chip's rows will prove, decoded from
the K memory the VM read and wrote on the switch's row. Both check the trace against the
switch protocol as they go and raise `TraceGenerationError` on any mismatch: a trace they
accept is one the switch chip's constraints can be satisfied on.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from heliostat.svm import kernel_abi as abi
from heliostat.svm.executable import Executable
from heliostat.svm.kernel import ActivationTrace, KernelTrace, SwitchEvent
from heliostat.svm.trace import COL_NEXT_PC, COL_PC, COL_RESULT, Trace
from heliostat.zkvm.errors import TraceGenerationError

KERNEL_SPACE = 0


@dataclass(frozen=True)
class Stretch:
    """Rows [first, end) of one space's trace, run without a switch in between."""

    space: int
    first: int
    end: int


@dataclass(frozen=True)
class Crossing:
    """What one enter or resume hands over and gets back, as K memory holds it.

    ``record`` is the K address of the activation record; ``fields_in`` the 16 words the VM
    read there; ``out`` the 8 words it wrote at `A_COMPUTE_UNITS` (units, status, value,
    args) and ``tail`` the 2 at `A_DEPTH` (depth, instructions).
    """

    switch: SwitchEvent
    image_id: bytes
    record: int
    fields_in: tuple[int, ...]
    out: tuple[int, ...]
    tail: tuple[int, int]

    @property
    def kind(self) -> str:
        """Return "enter" or "resume"."""
        return self.switch.kind


def _fail(message: str, *, expected: object = None, got: object = None) -> TraceGenerationError:
    return TraceGenerationError(f"kernel trace: {message}", expected=expected, got=got)


def _rows(activation: ActivationTrace) -> Trace:
    if activation.trace is None:
        raise _fail("an activation without rows", got=activation.activation)
    return activation.trace


def timeline(trace: KernelTrace) -> list[Stretch]:
    """Return every row of the run as stretches in execution order.

    K runs up to and including an enter or resume call's row, then the activation's rows of
    that switch, then K again after the call. Each activation's rows must be covered once,
    in order, by its switches.
    """
    out: list[Stretch] = []
    next_kernel_row = 0
    covered = {a.activation: 0 for a in trace.activations}
    for s in trace.switches:
        if s.kernel_step < next_kernel_row or s.kernel_step >= len(trace.kernel):
            raise _fail("switches out of order", expected=next_kernel_row, got=s.kernel_step)
        out.append(Stretch(KERNEL_SPACE, next_kernel_row, s.kernel_step + 1))
        next_kernel_row = s.kernel_step + 1
        first, end = s.rows
        if s.activation not in covered or first != covered[s.activation] or end < first:
            raise _fail(
                f"rows of activation {s.activation}",
                expected=covered.get(s.activation),
                got=s.rows,
            )
        covered[s.activation] = end
        if end > first:
            out.append(Stretch(s.activation, first, end))
    out.append(Stretch(KERNEL_SPACE, next_kernel_row, len(trace.kernel)))
    for a in trace.activations:
        if covered[a.activation] != len(_rows(a)):
            raise _fail(
                f"rows of activation {a.activation} not all run",
                expected=len(_rows(a)),
                got=covered[a.activation],
            )
    return out


def crossings(
    trace: KernelTrace, images: Callable[[bytes], Executable] | None = None
) -> list[Crossing]:
    """Return, per switch, the record as K memory held it, checked against the switch.

    With ``images``, also check that an enter starts the program at its image's entry with
    r1 and r2 as the VM sets them, and that a resume gives the program the record's result.
    """
    kernel = trace.kernel
    calls = {e.step: e for e in kernel.syscalls}
    events: dict[int, list[tuple[int, bytes, bool]]] = {}
    for ev in kernel.memory:
        events.setdefault(ev.step, []).append((ev.address, ev.data, ev.write))
    activations = {a.activation: a for a in trace.activations}
    out: list[Crossing] = []
    for s in trace.switches:
        call = calls.get(s.kernel_step)
        expected_name = f"heliostat_program_{s.kind}"
        if call is None or call.name != expected_name:
            raise _fail("switch row", expected=expected_name, got=call.name if call else None)
        record = call.args[1] if s.kind == "enter" else call.args[0]
        mem = events.get(s.kernel_step, [])
        fields_in = _read(mem, record, abi.ACTIVATION_SIZE, write=False)
        words_in = abi.RECORD.unpack(fields_in)
        out_words = abi.OUT_FIELDS.unpack(
            _read(mem, record + abi.A_COMPUTE_UNITS, abi.OUT_FIELDS.size, write=True)
        )
        tail = abi.TAIL_FIELDS.unpack(
            _read(mem, record + abi.A_DEPTH, abi.TAIL_FIELDS.size, write=True)
        )
        image_id = _read(mem, call.args[0], 32, write=False) if s.kind == "enter" else b""
        activation = activations.get(s.activation)
        if activation is None:
            raise _fail("switch of an unknown activation", got=s.activation)
        crossing = Crossing(s, image_id, record, words_in, out_words, (tail[0], tail[1]))
        _check(crossing, activation, call.r0)
        if images is not None:
            _check_program_side(crossing, activation, images)
        out.append(crossing)
    return out


def _read(mem: list[tuple[int, bytes, bool]], address: int, size: int, *, write: bool) -> bytes:
    """Return the bytes the switch row read (or wrote) at ``address``: one event, exactly."""
    for addr, data, is_write in mem:
        if addr == address and len(data) == size and is_write == write:
            return data
    raise _fail(
        f"no {'write' if write else 'read'} of the record on the switch row",
        expected=(hex(address), size),
    )


def _check(c: Crossing, a: ActivationTrace, r0: int | None) -> None:
    """Check the record against the switch: what went in, what came out, K's r0."""
    s, w = c.switch, c.fields_in
    if s.kind == "enter":
        expected_in = (a.input_addr, a.input_len, a.heap_size, a.data_offset)
        if w[:4] != expected_in:
            raise _fail("enter record vs activation", expected=expected_in, got=w[:4])
        if a.input_addr % 8:
            raise _fail("program input not 8-aligned in K memory", got=hex(a.input_addr))
    if s.compute_units_in != w[4]:
        raise _fail("units in", expected=w[4], got=s.compute_units_in)
    expected_out = (s.compute_units_out, s.status, s.value, *s.args)
    if c.out != expected_out:
        raise _fail("record written back", expected=expected_out, got=c.out)
    if c.tail[0] != a.depth:
        raise _fail("depth written back", expected=a.depth, got=c.tail[0])
    if r0 != s.status:
        raise _fail("K's r0 after the switch is the status", expected=s.status, got=r0)


def _check_program_side(
    c: Crossing, a: ActivationTrace, images: Callable[[bytes], Executable]
) -> None:
    """Check the program's first rows of the switch: entry state, or the call's result."""
    rows = _rows(a).steps
    first, end = c.switch.rows
    if c.kind == "enter":
        exe = images(a.image_id)
        if c.image_id != a.image_id:
            raise _fail("image entered", expected=c.image_id.hex(), got=a.image_id.hex())
        if end > first and int(rows[first, COL_PC]) != exe.entry_pc:
            raise _fail("entry pc", expected=exe.entry_pc, got=int(rows[first, COL_PC]))
        if a.data_offset > a.input_len:
            raise _fail("data offset past the input", expected=a.input_len, got=a.data_offset)
        return
    # resume: the switch's first row is the kernel call's (recorded when it is resumed), with
    # the record's result as r0; a call the kernel failed has no row
    result, fail = c.fields_in[12], c.fields_in[13]
    if fail:
        if end != first:
            raise _fail("rows after a failed kernel call", expected=0, got=end - first)
        return
    if end == first:
        raise _fail("resume without the kernel call's row", got=first)
    if int(rows[first, COL_RESULT]) != result:
        raise _fail("kernel call result", expected=result, got=int(rows[first, COL_RESULT]))
    if end > first + 1 and int(rows[first + 1, COL_PC]) != int(rows[first, COL_NEXT_PC]):
        raise _fail("resumed after the call", expected=int(rows[first, COL_NEXT_PC]))
