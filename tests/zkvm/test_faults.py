"""Every fault the VM raises is proven as that fault (status, pc, compute units)."""

from __future__ import annotations

import pytest
from zk_helpers import check, prove_and_verify
from zk_programs import run_asm

from heliostat.zkvm.status import Status

INPUT = b"0123456789ab"  # 12 bytes: the input region's last word is partial

FAULTS = {
    "div_by_zero": ("mov64 r1, 5\nmov64 r2, 0\ndiv64 r1, r2\nexit", 100),
    "mod32_by_zero_low_half": ("mov64 r1, 5\nlddw r2, 0x100000000\nmod32 r1, r2\nexit", 100),
    "call_depth": ("call f\nexit\nf:\ncall f\nexit", 1000),
    "meter": ("mov64 r1, 0\nl:\nadd64 r1, 1\nja l", 50),
    "meter_at_first_instruction": ("mov64 r1, 0\nexit", 0),
    "overrun": ("mov64 r0, 1", 100),
    "callx_into_lddw": ("lddw r1, 0x100000008\ncallx r1\nexit", 100),
    "unresolved_call": ("call nosuchthing\nexit", 100),
    "callx_outside_text": ("lddw r1, 0x500000000\ncallx r1\nexit", 100),
    "callx_below_text": ("mov64 r1, 8\ncallx r1\nexit", 100),
    "load_address_zero": ("mov64 r1, 0\nldxb r2, [r1+0]\nexit", 100),
    "store_to_program": ("lddw r1, 0x100000000\nstb [r1+0], 1\nexit", 100),
    "aligned_store_to_program": ("lddw r1, 0x100000000\nstxdw [r1+0], r1\nexit", 100),
    "load_past_input": ("ldxw r2, [r1+10]\nexit", 100),
    "aligned_load_of_partial_word": ("ldxdw r2, [r1+8]\nexit", 100),
    "stack_gap": ("stb [r10+8], 1\nexit", 100),
    "past_heap": ("lddw r1, 0x300008000\nldxb r2, [r1+0]\nexit", 100),
    "region_5": ("lddw r1, 0x500000000\nldxh r2, [r1+0]\nexit", 100),
    "above_2_48": ("lddw r1, 0x1000400000000\nldxh r2, [r1+0]\nexit", 100),
    "below_input": ("ldxb r2, [r1-1]\nexit", 100),
    "past_stack": ("lddw r1, 0x200080000\nldxb r2, [r1+0]\nexit", 100),
    "past_program": ("lddw r1, 0x100000000\nldxdw r2, [r1+64]\nexit", 100),
}


@pytest.mark.parametrize("name", sorted(FAULTS))
def test_fault_is_proven(name: str) -> None:
    source, budget = FAULTS[name]
    ex = run_asm(source, INPUT, budget=budget)
    assert ex.result.fault is not None
    trace = check(ex)
    assert trace.public_values.final_pc == ex.result.fault.pc
    assert trace.public_values.status != Status.EXITED


@pytest.mark.parametrize("name", ["div_by_zero", "meter", "store_to_program", "call_depth"])
def test_fault_proofs_verify(name: str) -> None:
    source, budget = FAULTS[name]
    prove_and_verify(run_asm(source, INPUT, budget=budget))


def test_stack_frame_end_straddle_reads_the_next_frame() -> None:
    # sBPF checks only an access's first byte against the stack gaps: an 8-byte load at the
    # end of frame 0 reads its last 4 bytes and the first 4 of frame 1
    ex = run_asm(
        "stdw [r10-8], -1\nlddw r1, 0x200002000\nstdw [r1+0], 0x1234\nldxdw r0, [r10-4]\nexit"
    )
    assert ex.result.r0 == 0x1234FFFFFFFF
    check(ex)
