"""Running an executable: one entry point over the reference and the numba interpreter.

`run` sets up the registers as agave does for a v0 program (r1 = input region, r10 = top of
the first stack frame), runs either interpreter with the same syscalls, and returns an
`ExecutionResult` that is identical whichever interpreter ran.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from heliostat.svm import fast_interpreter, interpreter
from heliostat.svm.errors import SvmError
from heliostat.svm.executable import Executable
from heliostat.svm.memory import MemoryMap, initial_registers
from heliostat.svm.native_syscalls import NativeSyscalls
from heliostat.svm.result import ExecutionResult

__all__ = [
    "DEFAULT_COMPUTE_BUDGET",
    "MAX_COMPUTE_BUDGET",
    "ExecutionResult",
    "initial_registers",
    "run",
]

DEFAULT_COMPUTE_BUDGET = 200_000  # agave: DEFAULT_INSTRUCTION_COMPUTE_UNIT_LIMIT
MAX_COMPUTE_BUDGET = 1_400_000  # agave: MAX_COMPUTE_UNIT_LIMIT


def _check_presets(registers: Mapping[int, int]) -> dict[int, int]:
    checked = {}
    for index, value in registers.items():
        if not 0 <= index <= 9:
            raise SvmError(f"cannot preset register r{index}")
        checked[index] = value & ((1 << 64) - 1)
    return checked


def run(
    executable: Executable,
    memory: MemoryMap,
    host: Any = None,
    compute_budget: int = DEFAULT_COMPUTE_BUDGET,
    *,
    trace: bool = False,
    fast: bool = True,
    registers: Mapping[int, int] | None = None,
    native: NativeSyscalls | None = None,
) -> ExecutionResult:
    """Run ``executable`` from its entrypoint over ``memory`` with ``compute_budget`` units.

    ``host`` is handed to syscalls as ``ctx.host``. ``registers`` presets r0..r9 (e.g. r2 for
    agave's instruction-data pointer). ``fast`` selects the numba interpreter; both give the
    same result. With ``trace`` the result carries the execution's events. ``native`` (numba
    interpreter, no trace) serves some syscalls inside the loop, with the same results.
    """
    if compute_budget < 0:
        raise SvmError("compute budget must be non-negative")
    presets = _check_presets(registers) if registers else None
    if native is not None:
        if not fast:
            raise SvmError("native syscalls need the numba interpreter")
        return fast_interpreter.execute(
            executable, memory, host, compute_budget, presets, trace=trace, native=native
        )
    execute = fast_interpreter.execute if fast else interpreter.execute
    return execute(executable, memory, host, compute_budget, presets, trace=trace)
