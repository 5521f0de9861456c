"""Generated programs (every family, every region, faults): the trace satisfies every
constraint and bus exactly, with the VM's outcome; a few are proven and verified."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from vm_program_gen import GeneratedProgram
from zk_helpers import check, prove_and_verify
from zk_programs import run_generated, zk_programs


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(zk_programs())
def test_generated_programs_are_proven_exactly(program: GeneratedProgram) -> None:
    check(run_generated(program))


@pytest.mark.slow
@settings(
    max_examples=3,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(zk_programs())
def test_generated_programs_prove_and_verify(program: GeneratedProgram) -> None:
    prove_and_verify(run_generated(program))
