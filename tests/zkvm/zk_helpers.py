"""Shared zkVM test helpers: check a generated trace exactly, prove and verify."""

from __future__ import annotations

from heliostat.stark.config import FAST_TEST
from heliostat.stark.debug import check_machine
from heliostat.svm import errors as svm_errors
from heliostat.zkvm.execution import Execution
from heliostat.zkvm.machine import zkvm_machine
from heliostat.zkvm.prover import ProofBundle, prove_trace
from heliostat.zkvm.status import Status
from heliostat.zkvm.trace_gen import MachineTrace, generate
from heliostat.zkvm.verifier import verify

CONFIG = FAST_TEST

_STATUS_OF_FAULT = {
    svm_errors.DivideByZero: Status.DIVIDE_BY_ZERO,
    svm_errors.ExecutionOverrun: Status.EXECUTION_OVERRUN,
    svm_errors.CallOutsideTextSegment: Status.CALL_OUTSIDE_TEXT_SEGMENT,
    svm_errors.ExceededMaxInstructions: Status.EXCEEDED_MAX_INSTRUCTIONS,
    svm_errors.CallDepthExceeded: Status.CALL_DEPTH_EXCEEDED,
    svm_errors.AccessViolation: Status.ACCESS_VIOLATION,
    svm_errors.StackAccessViolation: Status.ACCESS_VIOLATION,
    svm_errors.UnsupportedInstruction: Status.UNSUPPORTED_INSTRUCTION,
}


def expected_status(ex: Execution) -> Status:
    """The status the VM's outcome should be proven with."""
    fault = ex.result.fault
    if fault is None:
        return Status.EXITED
    if isinstance(fault, svm_errors.SyscallFault):
        name = type(fault.cause).__name__
        return {"AbortError": Status.SYSCALL_ABORT, "PanicError": Status.SYSCALL_PANIC}[name]
    return _STATUS_OF_FAULT[type(fault)]


def check(ex: Execution) -> MachineTrace:
    """Generate the traces and require every constraint and bus to hold (the exact checker),
    and the public outcome to be the VM's."""
    trace = generate(ex)
    failures = check_machine(zkvm_machine(), trace.traces, trace.public_values.to_fields())
    assert not failures, "\n".join(str(f) for f in failures[:10])
    pv = trace.public_values
    assert pv.status == expected_status(ex)
    assert pv.compute_units == ex.result.compute_units_consumed
    if pv.status == Status.EXITED:
        assert pv.r0 == ex.result.r0
    return trace


def prove_and_verify(ex: Execution) -> ProofBundle:
    """Check, prove with the test parameters, verify (through the proof's bytes)."""
    bundle = prove_trace(check(ex), CONFIG)
    verify(bundle.proof.to_bytes(), bundle.public_values, CONFIG)
    return bundle
