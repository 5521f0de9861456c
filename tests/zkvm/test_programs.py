"""Real programs: the toolchain's C test programs and SPL Token (from its ELF bytes)."""

from __future__ import annotations

import pytest
from real_programs import SPL_CASES, run_c, run_spl
from zk_helpers import check, prove_and_verify

from heliostat.svm.instruction_error import from_return_code
from heliostat.zkvm.status import Status

C_CASES = {
    "noop": b"",
    "custom_error": b"",
    "custom_error_panic": b"\x04",
    "custom_error_abort": b"\x05",
    "custom_error_invalid_argument": b"\x02",
    "fault_divide_by_zero": b"",
    "fault_divide_by_zero_ok": b"x",
    "fault_read_unmapped": b"",
    "fault_write_readonly": b"",
    "fault_call_depth": (70).to_bytes(8, "little"),
    "fault_call_depth_ok": (10).to_bytes(8, "little"),
    "compute_heavy": (40).to_bytes(8, "little"),
    "dispatch": bytes(range(12)),
    "accounts": b"",
}


def _c(case: str) -> tuple[str, bytes]:
    name = case.removesuffix("_ok")
    for suffix in ("_panic", "_abort", "_invalid_argument"):
        name = name.removesuffix(suffix)
    return name, C_CASES[case]


@pytest.mark.parametrize("case", sorted(C_CASES))
def test_c_program_is_proven_exactly(case: str) -> None:
    check(run_c(*_c(case)))


@pytest.mark.parametrize("case", ["custom_error_panic", "compute_heavy"])
def test_c_program_proofs_verify(case: str) -> None:
    prove_and_verify(run_c(*_c(case)))


@pytest.mark.slow
def test_compute_budget_exhaustion_is_proven() -> None:
    ex = run_c("fault_compute_budget")
    trace = check(ex)
    assert trace.public_values.status == Status.EXCEEDED_MAX_INSTRUCTIONS
    assert trace.public_values.cu_final == 0


@pytest.mark.parametrize("name", sorted(SPL_CASES))
def test_spl_token_instruction_proves_and_verifies(name: str) -> None:
    ex = run_spl(name)
    bundle = prove_and_verify(ex)
    pv = bundle.public_values
    assert pv.status == Status.EXITED
    if name == "transfer_insufficient_funds":
        assert str(from_return_code(pv.r0)) == "custom program error: 0x1"
    else:
        assert pv.r0 == 0
    assert pv.compute_units == ex.result.compute_units_consumed
