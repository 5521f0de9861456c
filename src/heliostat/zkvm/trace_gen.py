"""From a recorded execution to the traces of every table and the public values.

Steps: decode the VM's step rows (with timestamps and the meter), replay the register file
(what exits restore, the registers at a fault), add the row of the faulting instruction the
VM did not record, route each row to its chip, collect every chip's memory accesses, run the
memory scan, fill each chip, then the bookkeeping tables (frames, memory boundary,
keep-alive, input, program) and the u16 lookup counts, and pad every table to a power of two.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from heliostat.svm import errors as svm_errors
from heliostat.svm import opcodes as op
from heliostat.svm.executable import (
    C_AUX,
    C_DST,
    C_IMM,
    C_OFF,
    C_OPC,
    C_SRC,
    SYSCALL_BASE,
    Executable,
)
from heliostat.svm.trace import (
    COL_DST_IN,
    COL_MEM,
    COL_MEM_ADDR,
    COL_NEXT_PC,
    COL_PC,
    COL_RESULT,
    COL_SRC_IN,
    NO_NEXT_PC,
)
from heliostat.zkvm import (
    commitment,
    fault_chip,
    keccak_sponge,
    keccak_trace,
    memcopy_chip,
    merkle_chip,
    poseidon2_chip,
    program_chip,
)
from heliostat.zkvm.buses import (
    FRAME_STRIDE,
    OUTPUT_VADDR,
    REGION_OUTPUT,
    REGION_SHIFT,
    TS_START,
    TS_STEP,
    TS_STEP_SYSCALL,
)
from heliostat.zkvm.call_chip import CallChip, FrameEvents, frame_scan
from heliostat.zkvm.chip import InstructionChip, Slot, SlotResult, read_slot
from heliostat.zkvm.errors import UnsupportedExecutionError
from heliostat.zkvm.execution import Execution
from heliostat.zkvm.frame import StepRows, to_field
from heliostat.zkvm.images import header as image_header
from heliostat.zkvm.images import image_entry, image_rows
from heliostat.zkvm.machine import instruction_chips, table_names
from heliostat.zkvm.memory_chip import (
    INPUT,
    generate_boundary,
    generate_input,
    generate_keep_alive,
)
from heliostat.zkvm.memory_scan import (
    AccessBatch,
    InitialMemory,
    scan,
    with_all_registers,
    word_address,
    word_limits,
)
from heliostat.zkvm.output_chip import OUTPUT, generate_output
from heliostat.zkvm.public_values import PublicValues, prefix_of
from heliostat.zkvm.status import Status
from heliostat.zkvm.u16_chip import LookupCounts

U32 = NDArray[np.uint32]
I64 = NDArray[np.int64]
U64 = NDArray[np.uint64]
_FAMILY = {o: info.family for o, info in op.OPCODES.items()}
_WRITES_DST = {
    op.Family.ALU32,
    op.Family.ALU64,
    op.Family.NEG,
    op.Family.ENDIAN,
    op.Family.LDDW,
    op.Family.LOAD,
}


@dataclass
class MachineTrace:
    """Every table's trace (padded, canonical) and the public values."""

    traces: list[U32]
    public_values: PublicValues
    rows: dict[str, int]  # unpadded row count per table
    tables: dict[str, NDArray[np.int64]] = field(default_factory=dict)  # unpadded, for tests


def _decode_steps(ex: Execution) -> tuple[StepRows, int, int]:
    """Return the VM's step rows with decoded instruction, timestamps and meter.

    Also return the timestamp and meter after the last of them.
    """
    trace = ex.result.trace
    assert trace is not None  # Execution checks it
    steps = trace.steps
    code = ex.executable.code
    pc = steps[:, COL_PC].astype(np.int64)
    n = pc.shape[0]
    ins = code[pc]
    cost = np.ones(n, dtype=np.int64)
    ts_step = np.full(n, TS_STEP, dtype=np.int64)
    sys_index = np.full(n, -1, dtype=np.int64)
    cursor = np.zeros(n, dtype=np.int64)  # publishes: the output's length before the call
    publish_len = np.zeros(n, dtype=np.int64)
    published = 0
    for k, event in enumerate(trace.syscalls):
        if event.r0 is None:  # the failing syscall has no step row
            continue
        cost[event.step] += event.units
        ts_step[event.step] = TS_STEP_SYSCALL
        if event.name in COPY_SYSCALLS:  # two timestamps per word the copy writes
            dst, length = event.args[0], event.args[2]
            words = (dst + length - 1) // 8 - dst // 8 + 1 if length else 0
            ts_step[event.step] = 2 + 2 * words
        if event.name == PUBLISH:  # a copy to the output at the cursor
            length = event.args[1]
            cursor[event.step], publish_len[event.step] = published, length
            words = (published + length - 1) // 8 - published // 8 + 1 if length else 0
            ts_step[event.step] = 2 + 2 * words
            published += length
        if event.name == keccak_sponge.NAME:  # the sponge's timeline (keccak_sponge.py)
            ts_step[event.step] = keccak_sponge.timestamps_used(event, trace)
        sys_index[event.step] = k
    ts = TS_START + np.concatenate([[0], np.cumsum(ts_step)]).astype(np.int64)
    cu = ex.budget - np.concatenate([[0], np.cumsum(cost)]).astype(np.int64)
    next_pc = steps[:, COL_NEXT_PC]
    t_end = (ts[:n] + ts_step).astype(np.int64)
    rows = StepRows(
        step=np.arange(n, dtype=np.int64),
        pc=pc,
        ts=ts[:n],
        cu=cu[:n],
        op=np.zeros(n, dtype=np.int64),
        opcode=ins[:, C_OPC].astype(np.int64),
        dst=ins[:, C_DST].astype(np.int64),
        src=ins[:, C_SRC].astype(np.int64),
        off=ins[:, C_OFF].astype(np.int64),
        imm=ins[:, C_IMM].astype(np.int64).view(np.uint64),
        dst_in=steps[:, COL_DST_IN].copy(),
        src_in=steps[:, COL_SRC_IN].copy(),
        result=steps[:, COL_RESULT].copy(),
        next_pc=np.where(next_pc == NO_NEXT_PC, -1, next_pc.astype(np.int64)),
        mem_addr=steps[:, COL_MEM_ADDR].copy(),
        mem=steps[:, COL_MEM].astype(np.int64),
        extra={
            "aux": ins[:, C_AUX].astype(np.int64),
            "sys": sys_index,
            "units": cost - 1,
            "t_end": t_end,
            "cursor": cursor,
            "publish_len": publish_len,
        },
    )
    rows.extra["keccak"] = keccak_sponge.plans(trace, np.arange(n), ts[:n])  # CallPlan or None
    return rows, int(ts[n]), int(cu[n])


def _replay(ex: Execution, rows: StepRows) -> tuple[U64, list[int]]:
    """Replay the register file.

    Return what each returning exit restores (r6–r9, r10) and the registers after the last
    recorded step.
    """
    regs = list(ex.registers)
    frames: list[list[int]] = []
    out = np.zeros((len(rows), 5), dtype=np.uint64)
    opcode, dst, result = rows.opcode.tolist(), rows.dst.tolist(), rows.result.tolist()
    aux, next_pc = rows.extra["aux"].tolist(), rows.next_pc.tolist()
    for i in range(len(rows)):
        fam = _FAMILY[opcode[i]]
        if fam in _WRITES_DST:
            regs[dst[i]] = result[i]
        elif fam is op.Family.CALL and aux[i] <= SYSCALL_BASE:
            regs[0] = result[i]
        elif fam in (op.Family.CALL, op.Family.CALLX):
            frames.append([regs[6], regs[7], regs[8], regs[9], regs[10]])
            regs[10] = result[i]
        elif fam is op.Family.EXIT and next_pc[i] >= 0:
            saved = frames.pop()
            regs[6:11] = saved
            out[i] = saved
        elif fam is op.Family.EXIT:
            out[i, 4] = regs[10]
    return out, regs


def _one_row(
    ex: Execution, rows: StepRows, regs: list[int], result: int, ts: int, cu: int
) -> StepRows:
    """Return the faulting instruction as a step row (it halts; nothing follows it)."""
    fault = ex.result.fault
    assert fault is not None and fault.pc is not None
    pc = int(fault.pc)
    ins = ex.executable.code[pc]
    imm = int(ins[C_IMM]) & (2**64 - 1)
    n = len(rows)
    one = StepRows(
        step=np.array([n]),
        pc=np.array([pc]),
        ts=np.array([ts]),
        cu=np.array([cu]),
        op=np.zeros(1, np.int64),
        opcode=np.array([int(ins[C_OPC])]),
        dst=np.array([int(ins[C_DST])]),
        src=np.array([int(ins[C_SRC])]),
        off=np.array([int(ins[C_OFF])]),
        imm=np.array([imm], dtype=np.uint64),
        dst_in=np.array([regs[int(ins[C_DST])]], np.uint64),
        src_in=np.array([regs[int(ins[C_SRC])]], np.uint64),
        result=np.array([result], np.uint64),
        next_pc=np.array([-1]),
        mem_addr=np.zeros(1, np.uint64),
        mem=np.zeros(1, np.int64),
        extra={
            "aux": np.array([int(ins[C_AUX])]),
            "sys": np.array([-1]),
            "frame": np.zeros((1, 5), np.int64),
            "limit": np.zeros(1, np.int64),
            "fend": np.zeros(1, np.int64),
            "limit1": np.zeros(1, np.int64),
            "units": np.zeros(1, np.int64),
            "t_end": np.array([ts + 2]),
        },
    )
    return one


def _concat(a: StepRows, b: StepRows) -> StepRows:
    parts = {
        name: np.concatenate([getattr(a, name), getattr(b, name)])
        for name in a.__dataclass_fields__
        if name != "extra"
    }
    extra = {k: np.concatenate([a.extra[k], b.extra[k]]) for k in b.extra if k in a.extra}
    return StepRows(**parts, extra=extra)


def names_of(ex: Execution) -> list[str]:
    """Return the names of the syscalls called, in order."""
    trace = ex.result.trace
    return [e.name for e in trace.syscalls] if trace is not None else []


@dataclass
class _FaultPlan:
    """How the fault is proven: a chip row appended to the steps, or a fault-chip row."""

    status: Status
    kind: str | None = None  # a fault-chip kind
    reg: int = 0  # the register the fault row reads (memory base or callx target)
    syscall: str = ""  # a syscall that stopped the program (its chip proves it)
    units: int = 0


def _plan(ex: Execution, regs: list[int]) -> _FaultPlan | None:
    fault = ex.result.fault
    if fault is None:
        return None
    code = ex.executable.code
    pc = int(fault.pc or 0)
    if isinstance(fault, svm_errors.DivideByZero):
        return _FaultPlan(Status.DIVIDE_BY_ZERO)
    if isinstance(fault, svm_errors.CallDepthExceeded):
        return _FaultPlan(Status.CALL_DEPTH_EXCEEDED)
    if isinstance(fault, svm_errors.ExceededMaxInstructions):
        return _FaultPlan(Status.EXCEEDED_MAX_INSTRUCTIONS, "k_meter")
    if isinstance(fault, svm_errors.ExecutionOverrun):
        return _FaultPlan(Status.EXECUTION_OVERRUN, "k_overrun")
    opcode = int(code[pc, C_OPC])
    if isinstance(fault, svm_errors.UnsupportedInstruction):
        return _FaultPlan(Status.UNSUPPORTED_INSTRUCTION, "k_zero" if opcode == 0 else "k_unres")
    if isinstance(fault, svm_errors.CallOutsideTextSegment):
        return _FaultPlan(Status.CALL_OUTSIDE_TEXT_SEGMENT, "k_callx", int(code[pc, C_IMM]))
    if isinstance(fault, svm_errors.AccessViolation | svm_errors.StackAccessViolation):
        load = (opcode & 7) == op.CLS_LDX
        reg = int(code[pc, C_SRC] if load else code[pc, C_DST])
        return _FaultPlan(Status.ACCESS_VIOLATION, "k_mem", reg)
    if isinstance(fault, svm_errors.SyscallFault):
        from heliostat.svm.syscalls.errors import AbortError, PanicError

        trace = ex.result.trace
        event = trace.syscalls[-1] if trace is not None and trace.syscalls else None
        if event is not None and isinstance(fault.cause, AbortError | PanicError):
            status = Status.SYSCALL_ABORT if event.name == "abort" else Status.SYSCALL_PANIC
            return _FaultPlan(status, syscall=event.name, units=event.units)
        raise UnsupportedExecutionError(
            "no proof for this syscall failure", got=type(fault.cause).__name__
        )
    raise UnsupportedExecutionError("no proof for this fault", got=type(fault).__name__)


def _route(rows: StepRows, chips: list[InstructionChip]) -> I64:
    """Return the index of the chip that proves each row."""
    table = np.full(256, -1, dtype=np.int64)
    names = [c.name for c in chips]
    for k, chip in enumerate(chips):
        for o in chip.ops:
            special = chip.name in ("mem_aligned", "mem_straddle")
            special = special or chip.name.startswith("sys")
            if not special and not chip.name.startswith("sys"):
                table[o.opcode] = k
    route = table[rows.opcode]
    dw = (rows.opcode == op.LD_DW_REG) | (rows.opcode == op.ST_DW_REG)
    aligned = (rows.mem_addr & np.uint64(7)) == 0
    route[dw & aligned] = names.index("mem_aligned")
    width = rows.mem & 0xF
    straddle = (rows.mem > 0) & ((rows.mem_addr & np.uint64(7)).astype(np.int64) + width > 8)
    if straddle.any():
        route[straddle] = names.index("mem_straddle")
    is_syscall = (rows.opcode == op.CALL_IMM) & (rows.extra["aux"] <= SYSCALL_BASE)
    if is_syscall.any():
        route[is_syscall] = _route_syscalls(rows, is_syscall, chips)
    if (route < 0).any():
        bad = int(rows.opcode[route < 0][0])
        raise UnsupportedExecutionError("no chip for opcode", got=hex(bad))
    return route


def _route_syscalls(rows: StepRows, mask: NDArray[np.bool_], chips: list[InstructionChip]) -> I64:
    """Syscall rows go to the chip that has an operation named after the syscall."""
    owner = {
        o.name: k for k, chip in enumerate(chips) if chip.name.startswith("sys") for o in chip.ops
    }
    names = rows.extra["sys_name"]
    out = np.full(int(mask.sum()), -1, dtype=np.int64)
    for i, name in enumerate(names[mask].tolist()):
        if name not in owner:
            raise UnsupportedExecutionError("no chip for syscall", got=name)
        out[i] = owner[name]
    return out


COPY_SYSCALLS = ("sol_memcpy_", "sol_memmove_", "sol_memset_")
PUBLISH = "heliostat_publish"


def published_output(ex: Execution) -> bytes:
    """Return what the execution published (`heliostat_publish`), in order."""
    trace = ex.result.trace
    assert trace is not None
    read = {ev.step: ev.data for ev in trace.memory if not ev.write}
    return b"".join(
        read[e.step] for e in trace.syscalls if e.name == PUBLISH and e.r0 is not None and e.args[1]
    )


def _copy_jobs(
    ex: Execution, chips: list[InstructionChip], per_chip: list[StepRows]
) -> list[tuple[memcopy_chip.CopyJob, list[dict[str, int]], bytes]]:
    """Return the copies the memory syscalls make: job, planned rows, bytes written at dst."""
    trace = ex.result.trace
    assert trace is not None
    written = {ev.step: ev.data for ev in trace.memory if ev.write}
    read = {ev.step: ev.data for ev in trace.memory if not ev.write}
    jobs = []
    for chip, sub in zip(chips, per_chip, strict=True):
        if chip.name == "syscall_publish":  # src → the output at the cursor
            for i in range(len(sub)):
                event = trace.syscalls[int(sub.extra["sys"][i])]
                src, n = event.args[0], event.args[1]
                if n == 0:
                    continue
                ts0 = int(sub.ts[i])
                dst = OUTPUT_VADDR + int(sub.extra["cursor"][i])
                job = memcopy_chip.CopyJob(ts0, memcopy_chip.KIND_MOVE, dst, src, n, 0, ts0 + 2)
                jobs.append((job, memcopy_chip.plan(job), read[event.step]))
        if chip.name != "syscall_mem":
            continue
        for i in range(len(sub)):
            event = trace.syscalls[int(sub.extra["sys"][i])]
            dst, src, n = event.args[0], event.args[1], event.args[2]
            if n == 0:
                continue
            kind = memcopy_chip.KIND_SET if event.name == "sol_memset_" else memcopy_chip.KIND_MOVE
            fill = src & 0xFF if kind == memcopy_chip.KIND_SET else 0
            job = memcopy_chip.CopyJob(int(sub.ts[i]), kind, dst, src, n, fill, int(sub.ts[i]) + 2)
            jobs.append((job, memcopy_chip.plan(job), written[event.step]))
    jobs.extend(keccak_trace.copy_jobs(chips, per_chip))
    return jobs


def _copy_slots(
    jobs: list[tuple[memcopy_chip.CopyJob, list[dict[str, int]], bytes]],
) -> list[Slot]:
    """Return the copies' word accesses (one slot, one entry per access)."""
    entries = [a for job, rows, data in jobs for a in memcopy_chip.accesses(job, rows, data)]
    n = len(entries)
    cols = list(zip(*entries, strict=True)) if entries else [(), (), (), ()]
    return [
        Slot(
            "copy",
            np.array(cols[0], np.int64),
            np.array(cols[1], np.int64),
            np.array(cols[2], np.uint8),
            np.array(cols[3], np.uint64),
            np.ones(n, bool),
        )
    ]


def _copy_rows(
    jobs: list[tuple[memcopy_chip.CopyJob, list[dict[str, int]], bytes]],
    scanned: dict[str, SlotResult],
    memory: InitialMemory,
    lookups: LookupCounts,
) -> NDArray[np.int64]:
    """Return the memcopy rows from the scan's results."""
    mem: dict[tuple[int, int], tuple[int, int, int]] = {}
    k = 0
    res = scanned.get("copy")
    for job, rows, data in jobs:
        for a, tt, _, _ in memcopy_chip.accesses(job, rows, data):
            assert res is not None
            mem[(a, tt)] = (int(res.old[k]), int(res.new[k]), int(res.t_prev[k]))
            k += 1
    addresses = np.array(sorted({a for a, _ in mem}), np.int64)
    limits = dict(zip(addresses.tolist(), word_limits(addresses, memory).tolist(), strict=True))
    return memcopy_chip.generate(
        [(j, r, {key: v for key, v in mem.items()}) for j, r, _ in jobs], limits, lookups
    )


def _pad(trace: NDArray[np.int64], name: str = "") -> U32:
    n = max(4, 1 << max(0, int(trace.shape[0]) - 1).bit_length())
    out = np.zeros((n, trace.shape[1]), dtype=np.int64)
    out[: trace.shape[0]] = trace
    if name == "poseidon2" and n > trace.shape[0]:  # padding rows permute the zero state
        zero = poseidon2_chip.generate(
            np.zeros((1, 16), np.uint64), np.zeros(1, np.int64), np.zeros(1, np.int64)
        )
        out[trace.shape[0] :] = zero
    return to_field(out)


def generate(ex: Execution, *, images: Sequence[Executable] = ()) -> MachineTrace:
    """All traces and the public values of a recorded execution.

    ``images`` are further code images the statement lists (images 1, 2, …).
    """
    exe = ex.executable
    info = program_chip.ImageInfo.of(exe)
    res = ex.result
    rows, ts_end, cu_end = _decode_steps(ex)
    frames, regs = _replay(ex, rows)
    rows.extra["frame"] = frames.view(np.int64)
    memory = InitialMemory(ex.registers, exe.ro_section, ex.heap_size, ex.input)
    first = word_address(rows.mem_addr)
    rows.extra["limit"] = word_limits(first, memory)
    # a straddling stack access at a frame's end continues in the next frame (sBPF's host
    # layout has no gaps)
    stack = (rows.mem_addr >> np.uint64(32)) == 2
    rows.extra["fend"] = (stack & ((first & 511) == 511)).astype(np.int64)
    rows.extra["limit1"] = word_limits(first + 1 + 512 * rows.extra["fend"], memory)
    plan = _plan(ex, regs)
    if plan is not None and plan.status == Status.DIVIDE_BY_ZERO and res.fault is not None:
        rows = _concat(
            rows, _one_row(ex, rows, regs, regs[int(exe.code[res.fault.pc, C_DST])], ts_end, cu_end)
        )
    elif plan is not None and plan.syscall:
        one = _one_row(ex, rows, regs, 0, ts_end, cu_end)
        one.extra["sys_name"] = np.array([plan.syscall], dtype=object)
        one.extra["units"] = np.array([plan.units])
        rows.extra["sys_name"] = np.array(
            [names_of(ex)[k] if k >= 0 else "" for k in rows.extra["sys"].tolist()], dtype=object
        )
        rows = _concat(rows, one)
    elif plan is not None and plan.status == Status.CALL_DEPTH_EXCEEDED:
        one = _one_row(ex, rows, regs, regs[10] + FRAME_STRIDE, ts_end, cu_end)
        if one.opcode[0] == op.CALL_IMM:
            one.next_pc[0] = int(one.extra["aux"][0])
        else:  # callx: the pc the target names (the depth check comes first)
            target = regs[int(one.imm[0])]
            one.next_pc[0] = ((target - exe.text_vaddr) % 2**64) // 8
        rows = _concat(rows, one)
    chips = instruction_chips()
    if "sys_name" not in rows.extra:
        rows.extra["sys_name"] = np.array(
            [names_of(ex)[k] if k >= 0 else "" for k in rows.extra["sys"].tolist()], dtype=object
        )
    sizes = [len(exe.ro_section), ex.heap_size, len(ex.input)]
    rows.extra["regions"] = np.tile(np.array(sizes, np.int64), (len(rows), 1))
    rows.extra["image_header"] = np.tile(np.array(image_header(exe), np.int64), (len(rows), 1))
    route = _route(rows, chips) if len(rows) else np.zeros(0, np.int64)
    per_chip: list[StepRows] = []
    for k, chip in enumerate(chips):
        sub = rows.subset(np.flatnonzero(route == k))
        if chip.name.startswith("sys"):
            op_index = {o.name: i for i, o in enumerate(chip.ops)}
            sub.op = np.array([op_index[n] for n in sub.extra["sys_name"].tolist()], np.int64)
        elif len(sub):
            sub.op = chip.op_of(sub.opcode)
        per_chip.append(sub)

    permutes = _poseidon2_calls(ex, chips, per_chip)
    publics = _publics(ex, info, rows, plan)
    publics = dataclasses.replace(publics, images=tuple(image_entry(e) for e in images))
    fault_slots: list[Slot] = []
    fault_pc = int(res.fault.pc) if res.fault is not None and res.fault.pc is not None else -1
    if plan is not None and plan.kind in ("k_callx", "k_mem"):
        fault_slots.append(read_slot("reg", np.array([plan.reg]), np.array([ts_end])))
        if plan.kind == "k_callx":
            fault_slots.append(read_slot("fp", np.array([10]), np.array([ts_end + 1])))

    # memory accesses of every chip, one scan
    slots_of = [
        list(chip.accesses(sub)) if len(sub) else []
        for chip, sub in zip(chips, per_chip, strict=True)
    ]
    slots_of.append(fault_slots)
    copy_jobs = _copy_jobs(ex, chips, per_chip)
    slots_of.append(_copy_slots(copy_jobs))
    batches: list[AccessBatch] = []
    index: list[tuple[int, str, I64, int]] = []
    for k, slots in enumerate(slots_of):
        for s in slots:
            idx = np.flatnonzero(s.active)
            batches.append(
                AccessBatch(
                    s.addr[idx].astype(np.int64),
                    s.t[idx].astype(np.int64),
                    s.wmask[idx],
                    s.wval[idx],
                )
            )
            index.append((k, s.name, idx, len(s.addr)))
    result = with_all_registers(scan(AccessBatch.concat(batches), memory), ex.registers)
    results: list[dict[str, SlotResult]] = [{} for _ in slots_of]
    offset = 0
    for (k, name, idx, size), batch in zip(index, batches, strict=True):
        m = len(batch)
        r = SlotResult(
            np.zeros(size, np.uint64), np.zeros(size, np.uint64), np.zeros(size, np.int64)
        )
        r.old[idx] = result.old[offset : offset + m]
        r.new[idx] = result.new[offset : offset + m]
        r.t_prev[idx] = result.t_prev[offset : offset + m]
        results[k][name] = r
        offset += m

    lookups = LookupCounts()
    filled: list[NDArray[np.int64]] = []
    for chip, sub, res_ in zip(chips, per_chip, results[: len(chips)], strict=True):
        empty = np.zeros((0, chip.width), np.int64)
        filled.append(chip.fill(sub, res_, lookups) if len(sub) else empty)

    copies = _copy_rows(copy_jobs, results[-1], memory, lookups)
    fault_rows = np.zeros((0, fault_chip.LAYOUT.width), np.int64)
    if plan is not None and plan.kind is not None:
        fr = results[-2]
        reg = fr.get("reg")
        fp = fr.get("fp")
        ins = exe.code[fault_pc] if 0 <= fault_pc < exe.text_len else np.zeros(6, np.int64)
        row = fault_chip.fault_row(
            plan.kind,
            pc=fault_pc,
            ts=ts_end,
            cu=cu_end,
            code=(
                int(ins[C_OPC]),
                int(ins[C_DST]),
                int(ins[C_SRC]),
                int(ins[C_OFF]),
                int(ins[C_IMM]),
            ),
            reg=plan.reg,
            reg_value=int(reg.old[0]) if reg is not None else 0,
            reg_t_prev=int(reg.t_prev[0]) if reg is not None else 0,
            fp=int(fp.old[0]) if fp is not None else 0,
            fp_t_prev=int(fp.t_prev[0]) if fp is not None else 0,
            publics=publics,
            lookups=lookups,
        )
        fault_rows = row.reshape(1, -1)

    _frames(chips, per_chip, results, filled, lookups)
    sponge = keccak_trace.tables(chips, per_chip, results[: len(chips)], lookups)
    boundary, prog_words, input_words = generate_boundary(result, ex.heap_size, lookups)
    keep = generate_keep_alive(result, lookups)
    in_output = result.boundary_addr // REGION_SHIFT == REGION_OUTPUT
    output = generate_output(
        result.boundary_addr[in_output] - REGION_OUTPUT * REGION_SHIFT,
        result.boundary_final[in_output],
        lookups,
        prefix=bool(prefix_of(published_output(ex))),
    )
    inp = generate_input(ex.input, input_words, lookups)
    fetch_counts: dict[int, int] = {}
    for pc in rows.pc.tolist():
        fetch_counts[pc] = fetch_counts.get(pc, 0) + 1
    if plan is not None and plan.kind in ("k_zero", "k_unres", "k_callx", "k_mem"):
        fetch_counts[fault_pc] = fetch_counts.get(fault_pc, 0) + 1
    program = program_chip.generate(exe, fetch_counts, prog_words, lookups)
    callx_rows = int((rows.opcode == op.CALL_REG).sum())  # IMAGE lookups of the call chip
    commit = _commitments(ex, program, inp, output, publics, permutes, images, [callx_rows])

    by_name = {
        "program": program,
        "memory_boundary": boundary,
        "keep_alive": keep,
        "input": inp,
        "frame_boundary": _frames.boundary,  # type: ignore[attr-defined]
        "fault": fault_rows,
        "memcopy": copies,
        "output": output,
        **sponge,
        **commit,
    }
    for chip, t in zip(chips, filled, strict=True):
        by_name[chip.name] = t
    traces: list[U32] = []
    counts: dict[str, int] = {}
    for name in table_names():
        if name == "u16":
            by_name[name] = lookups.trace().astype(np.int64)
            traces.append(lookups.trace())
            counts[name] = 1 << 16
            continue
        t = by_name[name]
        counts[name] = int(t.shape[0])
        traces.append(_pad(t, name))
    return MachineTrace(traces, publics, counts, by_name)


def _frames(
    chips: list[InstructionChip],
    per_chip: list[StepRows],
    results: list[dict[str, SlotResult]],
    filled: list[NDArray[np.int64]],
    lookups: LookupCounts,
) -> None:
    """Replay FRAME and fill the frame columns of calls and exits."""
    events: list[FrameEvents] = []
    owners: list[int] = []
    for k, chip in enumerate(chips):
        if isinstance(chip, CallChip) and len(per_chip[k]):
            events.append(chip.frame_events(per_chip[k], results[k]))
            owners.append(k)
    frame_t_prev, boundary = frame_scan(events, lookups)
    _frames.boundary = boundary  # type: ignore[attr-defined]
    for j, k in enumerate(owners):
        chip, sub = chips[k], per_chip[k]
        mask = (sub.opcode != op.EXIT) | (sub.next_pc >= 0)
        tp = np.zeros(len(sub), np.int64)
        tp[mask] = frame_t_prev[j]
        gap = np.where(mask, sub.ts - tp - 1, 0)
        lay = chip.layout
        filled[k][:, lay.index("fr_t")] = tp
        filled[k][:, lay.index("g_lo")] = gap & 0xFFFF
        filled[k][:, lay.index("g_hi")] = gap >> 16


def _poseidon2_calls(
    ex: Execution, chips: list[InstructionChip], per_chip: list[StepRows]
) -> NDArray[np.uint64]:
    """Return the inputs of the Poseidon2 precompile calls.

    Also set their rows' state words and results.
    """
    trace = ex.result.trace
    assert trace is not None
    inputs: list[NDArray[np.uint64]] = []
    for chip, sub in zip(chips, per_chip, strict=True):
        if chip.name != "syscall_poseidon2" or not len(sub):
            continue
        reads = {ev.step: ev.data for ev in trace.memory if not ev.write}
        writes = {ev.step: ev.data for ev in trace.memory if ev.write}
        words = np.zeros(len(sub), np.int64)
        out = np.zeros((len(sub), 8), np.uint64)
        for i in range(len(sub)):
            event = trace.syscalls[int(sub.extra["sys"][i])]
            words[i] = word_address(np.array([event.args[0]], np.uint64))[0]
            out[i] = np.frombuffer(writes[event.step], dtype="<u8")
            inputs.append(np.frombuffer(reads[event.step], dtype="<u4").astype(np.uint64))
        sub.extra["state_word"] = words
        sub.extra["state_out"] = out.view(np.int64)
    return np.array(inputs, dtype=np.uint64).reshape(-1, 16)


def _commitments(
    ex: Execution,
    program: NDArray[np.int64],
    inp: NDArray[np.int64],
    output: NDArray[np.int64],
    publics: PublicValues,
    permutes: NDArray[np.uint64],
    images: Sequence[Executable] = (),
    image_lookups: Sequence[int] = (),
) -> dict[str, NDArray[np.int64]]:
    """Merkle node rows of every tree, the commitment rows, and the Poseidon2 rows."""
    image_nodes, commit, image_requests = image_rows(
        [ex.executable, *images], program, image_lookups
    )
    in_limbs = commitment.word_limbs(ex.input)
    in_levels = commitment.tree_levels(
        commitment.leaves(in_limbs, np.zeros(0, np.uint64), publics.input_depth)
    )
    touched_in = inp[:, INPUT.index("word")].tolist()
    out_levels = commitment.tree_levels(
        commitment.leaves(
            commitment.word_limbs(published_output(ex)),
            np.zeros(0, np.uint64),
            publics.output_depth,
        )
    )
    touched_out = output[:, OUTPUT.index("word")].tolist()
    nodes = np.concatenate(
        [
            image_nodes,
            merkle_chip.generate_nodes(commitment.TREE_INPUT, in_levels, touched_in),
            merkle_chip.generate_nodes(commitment.TREE_OUTPUT, out_levels, touched_out),
        ]
    )
    root = merkle_chip.COMMIT.span("root")
    commit[1, root] = in_levels[-1][0]
    commit[2, root] = out_levels[-1][0]
    headers = [
        commitment.input_header(publics.input_depth, len(ex.input), ex.heap_size, ex.budget),
        commitment.output_header(publics.output_depth, publics.output_len),
    ]
    requests = [
        np.concatenate(
            [nodes[:, merkle_chip.NODE.span("left")], nodes[:, merkle_chip.NODE.span("right")]],
            axis=1,
        )
    ]
    requests.append(np.concatenate([commit[1:3, root], np.array(headers, np.int64)], axis=1))
    requests.append(np.array(image_requests, dtype=np.int64))
    inputs = np.concatenate(requests).astype(np.uint64)
    everything = np.concatenate([inputs, permutes]) if len(permutes) else inputs
    unique, where = np.unique(everything, axis=0, return_inverse=True)
    where = where.reshape(-1)
    m_comp = np.bincount(where[: len(inputs)], minlength=len(unique))
    m_perm = np.bincount(where[len(inputs) :], minlength=len(unique))
    pos = poseidon2_chip.generate(unique, m_perm.astype(np.int64), m_comp.astype(np.int64))
    return {"merkle": nodes, "commitment": commit, "poseidon2": pos}


def _publics(
    ex: Execution, info: program_chip.ImageInfo, rows: StepRows, plan: _FaultPlan | None
) -> PublicValues:
    res = ex.result
    if plan is None:
        if not len(rows):
            raise UnsupportedExecutionError("an execution with no instruction")
        final_pc, status, r0 = int(rows.pc[-1]), Status.EXITED, int(res.r0 or 0)
    else:
        assert res.fault is not None
        final_pc, status = int(res.fault.pc or 0), plan.status
        r0 = int(res.registers[0])
    image_hash, image_depth = commitment.image_commitment(ex.executable)
    input_hash, input_depth = commitment.input_commitment(ex.input, ex.heap_size, ex.budget)
    output = published_output(ex)
    output_hash, output_depth = commitment.output_commitment(output)
    return PublicValues(
        output_hash=output_hash,
        output_depth=output_depth,
        output_len=len(output),
        output_prefix=prefix_of(output),
        input_read_only=ex.input_read_only,
        image_hash=image_hash,
        image_depth=image_depth,
        input_hash=input_hash,
        input_depth=input_depth,
        entry_pc=ex.executable.entry_pc,
        text_start=info.text_start,
        text_len=info.text_len,
        ro_len=info.ro_len,
        budget=ex.budget,
        heap_size=ex.heap_size,
        input_len=len(ex.input),
        registers=ex.registers,
        status=status,
        final_pc=final_pc,
        cu_final=res.remaining,
        r0=r0,
    )
