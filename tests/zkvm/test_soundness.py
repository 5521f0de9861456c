"""A dishonest prover is caught, one test per rule.

Each test builds what a cheating prover would: it tampers with the recorded execution (the
VM's step rows, registers, meter) or with the generated trace or the claimed public values,
then proves with every prover-side check switched off (`check_constraints=False`) and shows
that the verifier rejects the proof. The tampering is made consistent where that is easy (the
generator propagates a forged value to every later read and to the public output), so the
rule under test is what catches it.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import pytest
from zk_helpers import CONFIG
from zk_programs import run_asm

from heliostat.svm.assembler import assemble
from heliostat.svm.executable import Executable
from heliostat.svm.syscall_api import SyscallRegistry
from heliostat.svm.trace import COL_MEM_ADDR, COL_NEXT_PC, COL_PC, COL_RESULT, Trace
from heliostat.zkvm.errors import PublicValuesError, ZkvmVerificationError
from heliostat.zkvm.execution import Execution, execute
from heliostat.zkvm.machine import table_names
from heliostat.zkvm.prover import prove_trace
from heliostat.zkvm.trace_gen import MachineTrace, _pad, generate
from heliostat.zkvm.verifier import verify


def _with_steps(ex: Execution, steps: np.ndarray, **result_changes: Any) -> Execution:
    trace = ex.result.trace
    assert trace is not None
    new_trace = Trace(steps, list(trace.syscalls), list(trace.memory))
    result = dataclasses.replace(ex.result, trace=new_trace, **result_changes)
    return dataclasses.replace(ex, result=result)


def _assert_rejected(trace: MachineTrace) -> None:
    bundle = prove_trace(trace, CONFIG, check_constraints=False)
    with pytest.raises(ZkvmVerificationError):
        verify(bundle.proof.to_bytes(), bundle.public_values, CONFIG)


def _forge_r0(trace: MachineTrace, r0: int) -> MachineTrace:
    trace.public_values = dataclasses.replace(trace.public_values, r0=r0)
    return trace


def test_honest_baseline_is_accepted() -> None:
    # the same path with no tampering verifies (so the rejections below are the tampering's)
    ex = run_asm("mov64 r0, 5\nadd64 r0, 7\nexit")
    bundle = prove_trace(generate(ex), CONFIG, check_constraints=False)
    verify(bundle.proof.to_bytes(), bundle.public_values, CONFIG)


def test_wrong_alu_result() -> None:
    ex = run_asm("mov64 r0, 5\nadd64 r0, 7\nexit")
    steps = ex.result.trace.steps.copy()  # type: ignore[union-attr]
    steps[1, COL_RESULT] = 13  # 5 + 7 = 13, says the prover
    steps[2, COL_RESULT] = 13
    _assert_rejected(generate(_with_steps(ex, steps, r0=13)))


def test_wrong_multiplication_result() -> None:
    ex = run_asm("mov64 r0, 3\nmul64 r0, 5\nexit")
    steps = ex.result.trace.steps.copy()  # type: ignore[union-attr]
    steps[1, COL_RESULT] = steps[2, COL_RESULT] = 16
    _assert_rejected(generate(_with_steps(ex, steps, r0=16)))


@pytest.mark.parametrize("load", ["ldxb r0, [r10-8]", "ldxdw r0, [r10-8]"])
def test_load_of_a_value_never_stored(load: str) -> None:
    ex = run_asm(f"stdw [r10-8], 7\n{load}\nexit")
    steps = ex.result.trace.steps.copy()  # type: ignore[union-attr]
    steps[1, COL_RESULT] = steps[2, COL_RESULT] = 9  # memory holds 7
    _assert_rejected(generate(_with_steps(ex, steps, r0=9)))


def test_store_to_read_only_memory() -> None:
    # the honest run stores to the stack; the forged one claims the same store succeeded at
    # the start of the program region (the VM faults there), consistently in every row
    ex = run_asm("lddw r1, 0x200000000\nstb [r1+0], 7\nmov64 r0, 0\nexit")
    steps = ex.result.trace.steps.copy()  # type: ignore[union-attr]
    steps[0, COL_RESULT] = 0x100000000
    steps[1, COL_MEM_ADDR] = 0x100000000
    _assert_rejected(generate(_with_steps(ex, steps)))


def test_skipped_instruction() -> None:
    ex = run_asm("mov64 r0, 1\nadd64 r0, 1\nadd64 r0, 1\nexit")
    steps = np.delete(ex.result.trace.steps, 1, axis=0)  # type: ignore[union-attr]
    steps[1, COL_RESULT] = 2
    steps[2, COL_RESULT] = 2
    _assert_rejected(generate(_with_steps(ex, steps, r0=2, compute_units_consumed=3)))


def test_duplicated_instruction() -> None:
    ex = run_asm("mov64 r0, 1\nadd64 r0, 1\nexit")
    steps = ex.result.trace.steps  # type: ignore[union-attr]
    steps = np.concatenate([steps[:2], steps[1:2], steps[2:]])
    steps[2, COL_RESULT] = 3
    steps[3, COL_RESULT] = 3
    remaining = ex.result.remaining - 1
    _assert_rejected(generate(_with_steps(ex, steps, r0=3, remaining=remaining)))


def test_branch_to_the_wrong_target() -> None:
    # run with r3 = 1 (the branch is taken), then claim r3 started at 0 (it is not taken)
    source = "jeq r3, 1, +1\nmov64 r0, 99\nexit"
    text, functions = assemble(source)
    exe = Executable.from_text(text, SyscallRegistry(), functions)
    ex = execute(exe, b"", budget=100, registers={3: 1})
    registers = (*ex.registers[:3], 0, *ex.registers[4:])
    _assert_rejected(generate(dataclasses.replace(ex, registers=registers)))


def test_call_returns_to_the_wrong_place() -> None:
    ex = run_asm("call f\nmov64 r0, 1\nexit\nf:\nmov64 r0, 2\nexit")
    steps = ex.result.trace.steps.copy()  # type: ignore[union-attr]
    # the callee's exit "returns" past `mov64 r0, 1` straight to the final exit
    ret = int(np.flatnonzero(steps[:, COL_PC] == 4)[0])
    steps[ret, COL_NEXT_PC] = 2
    steps = np.delete(steps, ret + 1, axis=0)
    steps[-1, COL_RESULT] = 2
    _assert_rejected(generate(_with_steps(ex, steps, r0=2, remaining=ex.result.remaining + 1)))


def test_code_that_differs_from_the_committed_image() -> None:
    # prove a run of `mov64 r0, 6` but claim the image hash of `mov64 r0, 5`
    honest = run_asm("mov64 r0, 5\nexit")
    forged = run_asm("mov64 r0, 6\nexit")
    trace = generate(forged)
    image_hash = generate(honest).public_values.image_hash
    trace.public_values = dataclasses.replace(trace.public_values, image_hash=image_hash)
    _assert_rejected(trace)


def test_input_that_differs_from_the_committed_input() -> None:
    honest = run_asm("ldxb r0, [r1+0]\nexit", b"\x05")
    forged = run_asm("ldxb r0, [r1+0]\nexit", b"\x06")
    trace = generate(forged)
    input_hash = generate(honest).public_values.input_hash
    trace.public_values = dataclasses.replace(trace.public_values, input_hash=input_hash)
    _assert_rejected(trace)


def test_compute_units_under_counted() -> None:
    ex = run_asm("mov64 r0, 1\nadd64 r0, 1\nexit")
    trace = generate(ex)
    pv = trace.public_values
    trace.public_values = dataclasses.replace(pv, cu_final=pv.cu_final + 1)
    _assert_rejected(trace)


def test_compute_units_under_counted_in_every_row() -> None:
    # the meter of one row is lowered by one unit less than it should be
    ex = run_asm("mov64 r0, 1\nadd64 r0, 1\nexit")
    trace = generate(ex)
    table = trace.tables["alu"].copy()
    cu = table[:, 2]  # the frame's `cu` column
    cu[1:] += 1
    trace.traces[table_names().index("alu")] = _pad(table)
    trace.public_values = dataclasses.replace(
        trace.public_values, cu_final=trace.public_values.cu_final + 1
    )
    _assert_rejected(trace)


def test_exhausted_meter_claimed_as_success() -> None:
    ex = run_asm("mov64 r1, 0\nl:\nadd64 r1, 1\njlt r1, 100, l\nmov64 r0, 1\nexit", budget=10_000)
    trace = generate(ex)
    # claim a budget too small for the run: the final meter would be negative
    with pytest.raises(PublicValuesError):
        dataclasses.replace(trace.public_values, budget=50, cu_final=-100).to_fields()
    trace.public_values = dataclasses.replace(trace.public_values, budget=250)
    _assert_rejected(trace)


def test_forged_public_output() -> None:
    _assert_rejected(_forge_r0(generate(run_asm("mov64 r0, 5\nexit")), 6))


def test_forged_status() -> None:
    from heliostat.zkvm.status import Status

    trace = generate(run_asm("mov64 r1, 0\nmov64 r0, 1\ndiv64 r0, r1\nexit"))
    trace.public_values = dataclasses.replace(trace.public_values, status=Status.EXITED)
    _assert_rejected(trace)


def test_wrong_poseidon2_output() -> None:
    from heliostat.zkvm import poseidon2_chip

    trace = generate(run_asm("mov64 r0, 5\nexit"))
    table = trace.tables["poseidon2"].copy()
    table[0, poseidon2_chip.LAYOUT.index("partial") + 3] += 1
    trace.traces[table_names().index("poseidon2")] = _pad(table, "poseidon2")
    _assert_rejected(trace)


def test_wrong_poseidon2_precompile_output() -> None:
    # the run's recorded output of heliostat_permute is replaced: memory, registers and the
    # row all follow the forged state, but no Poseidon2 row permutes to it
    from heliostat.svm.trace import SyscallMemoryEvent

    from .test_syscalls import _poseidon2_program, _run_kernel_asm

    ex = _run_kernel_asm(_poseidon2_program(7))
    trace = ex.result.trace
    assert trace is not None
    forged = []
    for event in trace.memory:
        if event.write:
            data = bytearray(event.data)
            data[0] ^= 1
            event = SyscallMemoryEvent(event.step, event.address, bytes(data), True)
        forged.append(event)
    steps = trace.steps.copy()
    load = int(np.flatnonzero(steps[:, COL_PC] == 20)[0])  # ldxw r0, [r10-64]
    steps[load, COL_RESULT] ^= 1
    new_trace = Trace(steps, list(trace.syscalls), forged)
    result = dataclasses.replace(ex.result, trace=new_trace)
    _assert_rejected(generate(dataclasses.replace(ex, result=result)))


def _publishing_run() -> Execution:
    from .test_syscalls import _PUBLISHES, _run_kernel_session

    ex, _ = _run_kernel_session(_PUBLISHES, bytes(range(100, 140)))
    return ex


def test_forged_published_output() -> None:
    # the statement claims an output that differs from what was published in one byte
    from heliostat.zkvm.commitment import output_commitment
    from heliostat.zkvm.trace_gen import published_output

    ex = _publishing_run()
    trace = generate(ex)
    forged = bytearray(published_output(ex))
    forged[20] ^= 1
    output_hash, output_depth = output_commitment(bytes(forged))
    trace.public_values = dataclasses.replace(
        trace.public_values, output_hash=output_hash, output_depth=output_depth
    )
    _assert_rejected(trace)


def test_forged_output_prefix() -> None:
    # the statement shows other first bytes than the output table's words 0-3 hold
    ex = _publishing_run()
    trace = generate(ex)
    prefix = bytearray(trace.public_values.output_prefix)
    assert len(prefix) == 32  # a 33-byte output shows its first 32 bytes
    prefix[9] ^= 1
    trace.public_values = dataclasses.replace(trace.public_values, output_prefix=bytes(prefix))
    _assert_rejected(trace)


def test_output_prefix_sent_by_a_padding_row() -> None:
    # word 1's real row stops sending its value; a padding row claims to be word 1 with the
    # forged value the statement shows (only real rows, whose words are unique, may send)
    from heliostat.zkvm.output_chip import OUTPUT

    ex = _publishing_run()
    trace = generate(ex)
    table = _pad(trace.tables["output"])  # 5 real rows (33 bytes), padded to 8
    t = table.astype(np.int64)
    pad = trace.rows["output"]
    forged = bytearray(trace.public_values.output_prefix)
    forged[8] ^= 0x80  # word 1, first byte
    t[1, OUTPUT.index("prefix")] = 0
    t[pad, OUTPUT.index("prefix")] = 1
    t[pad, OUTPUT.index("word")] = 1
    v = OUTPUT.span("v")
    t[pad, v] = [int.from_bytes(forged[8 + 2 * k : 10 + 2 * k], "little") for k in range(4)]
    trace.traces[table_names().index("output")] = t.astype(table.dtype)
    trace.public_values = dataclasses.replace(trace.public_values, output_prefix=bytes(forged))
    _assert_rejected(trace)


def test_the_prefix_is_part_of_every_statement_with_one() -> None:
    # a verifier that leaves the prefix out of a 33-byte output's statement is told why
    ex = _publishing_run()
    trace = generate(ex)
    bundle = prove_trace(trace, CONFIG)
    with pytest.raises(PublicValuesError, match="first 32"):
        verify(bundle.proof.to_bytes(), dataclasses.replace(bundle.public_values,
               output_prefix=b""), CONFIG)  # fmt: skip
    verify(bundle.proof.to_bytes(), bundle.public_values, CONFIG)


def test_published_bytes_that_memory_never_held() -> None:
    # the run's record of what the last publish read is replaced: the copy writes the forged
    # bytes to the output and the statement commits to them, but memory held other bytes
    from heliostat.svm.trace import SyscallMemoryEvent

    ex = _publishing_run()
    recorded = ex.result.trace
    assert recorded is not None
    last = recorded.memory[-1]
    data = bytearray(last.data)
    data[5] ^= 0x40
    memory = [
        *recorded.memory[:-1],
        SyscallMemoryEvent(last.step, last.address, bytes(data), False),
    ]
    new_trace = Trace(recorded.steps, list(recorded.syscalls), memory)
    result = dataclasses.replace(ex.result, trace=new_trace)
    trace = generate(dataclasses.replace(ex, result=result))
    assert trace.public_values.output_len == 33
    _assert_rejected(trace)


def test_log_of_a_range_past_its_region(monkeypatch: pytest.MonkeyPatch) -> None:
    # sol_log_ of 41 bytes from a 40-byte input faults in the VM; the dishonest prover claims
    # it succeeded. The range check's slack is then −1 mod p, which two 16-bit limbs can hold
    # (p < 2^32): only the bound slack < 2^29 catches it.
    from heliostat.stark.debug import check_machine
    from heliostat.stark.field import P
    from heliostat.zkvm import slice_check
    from heliostat.zkvm.buses import Bus
    from heliostat.zkvm.machine import zkvm_machine
    from heliostat.zkvm.u16_chip import LookupCounts

    source = "lddw r1, 0x400000000\nldxdw r2, [r1+0]\ncall sol_log_\nexit"
    ex = run_asm(source, (40).to_bytes(8, "little") + bytes(32), syscalls=True)
    assert ex.result.fault is None
    recorded = ex.result.trace
    assert recorded is not None
    steps = recorded.steps.copy()
    steps[1, COL_RESULT] = 41  # ldxdw r2 reads 41 from the forged input
    (log,) = recorded.syscalls
    syscalls = [dataclasses.replace(log, args=(log.args[0], 41, *log.args[2:]))]
    forged = dataclasses.replace(
        ex,
        input=(41).to_bytes(8, "little") + bytes(32),
        result=dataclasses.replace(ex.result, trace=Trace(steps, syscalls, recorded.memory)),
    )
    honest_fill = slice_check.fill

    def lying_fill(t, layout, prefix, p, n, active, lengths, lookups):  # type: ignore[no-untyped-def]
        # fill everything as if the input were one byte longer, then write the slack the
        # constraint really needs (−1 mod p) and count every lookup but the one it fails
        honest_fill(t, layout, prefix, p, n, active, {**lengths, 4: 41}, LookupCounts())
        slack = np.where(active, P - 1, 0)
        t[:, layout.index(f"{prefix}_s_lo")] = slack & 0xFFFF
        t[:, layout.index(f"{prefix}_s_hi")] = slack >> 16
        lookups.u16(slack[active] & 0xFFFF)
        lookups.u16(slack[active] >> 16)
        lookups.u16((np.asarray(p, np.int64)[active] >> 16 & 0xFFFF) * 16)
        lookups.u16((np.broadcast_to(np.asarray(n, np.int64), active.shape)[active] >> 16) * 16)

    monkeypatch.setattr(slice_check, "fill", lying_fill)
    trace = generate(forged)
    failures = check_machine(zkvm_machine(), trace.traces, trace.public_values.to_fields())
    # the one failing check: the U16 lookup of 8·slack_hi (slack below 2^29)
    (failure,) = failures
    assert f"bus {int(Bus.U16)}: message ({((P - 1) >> 16) * 8},)" in failure.check
    _assert_rejected(trace)


_INPUT_STORE = "lddw r1, 0x400000000\nldxdw r0, [r1+0]\nstxdw [r1+8], r0\nstb [r1+3], 9\nexit"


def test_store_to_a_read_only_input() -> None:
    # a kernel's input is read-only: the run stored to its input (as a program may), and the
    # statement claims a read-only input
    ex = run_asm(_INPUT_STORE, bytes(range(16)))
    assert ex.result.fault is None
    trace = generate(ex)
    trace.public_values = dataclasses.replace(trace.public_values, input_read_only=True)
    _assert_rejected(trace)


def test_read_only_input_that_is_only_read() -> None:
    from zk_helpers import prove_and_verify

    ex = run_asm("lddw r1, 0x400000000\nldxdw r0, [r1+8]\nexit", bytes(range(16)))
    bundle = prove_and_verify(dataclasses.replace(ex, input_read_only=True))
    assert bundle.public_values.input_read_only
