"""Fixtures for the toolchain tests."""

from __future__ import annotations

import pytest
from litesvm_harness import Outcome, RunProgram, run_on_litesvm

from heliostat.toolchain import program_elf


@pytest.fixture
def run_program() -> RunProgram:
    """Build the named program (cached) and run it once on LiteSVM."""

    def run(name: str, data: bytes = b"", **kwargs: object) -> Outcome:
        return run_on_litesvm(program_elf(name), data, **kwargs)  # type: ignore[arg-type]

    return run
