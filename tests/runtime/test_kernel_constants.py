"""The C runtime's constants agree with the Python ones they mirror."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from heliostat.runtime.transaction_error import VARIANTS
from heliostat.svm import kernel_abi
from heliostat.svm.instruction_error import InstructionErrorKind
from heliostat.toolchain.build import C_DIR

RUNTIME = C_DIR / "runtime"


def defines(path: Path) -> dict[str, int]:
    found = re.findall(r"^#define (\w+) (\d+)\b", path.read_text(), re.MULTILINE)
    return {name: int(value) for name, value in found}


def test_instruction_and_transaction_errors() -> None:
    d = defines(RUNTIME / "rt_errors.h")
    assert {k: v for k, v in d.items() if k.startswith("IE_")} == {
        f"IE_{kind.name}": i for i, kind in enumerate(InstructionErrorKind)
    }
    te = {k: v for k, v in d.items() if k.startswith("TE_")}
    assert len(te) == len(VARIANTS)
    assert sorted(te.values()) == list(range(len(VARIANTS)))
    assert te["TE_INSTRUCTION_ERROR"] == 8 and VARIANTS[8][0] == "InstructionError"


def test_kernel_abi() -> None:
    d = defines(RUNTIME / "kernel_abi.h")
    assert (d["HS_EXITED"], d["HS_FAULTED"], d["HS_KERNEL_CALL"]) == (
        kernel_abi.EXITED, kernel_abi.FAULTED, kernel_abi.KERNEL_CALL,
    )  # fmt: skip
    assert d["HS_FAULT_VM"] == kernel_abi.FAULT_VM
    assert d["HS_FAULT_KERNEL"] == kernel_abi.FAULT_KERNEL
    calls = {k: v for k, v in d.items() if k.startswith("HS_CALL_")}
    assert sorted(calls.values()) == sorted(kernel_abi.KERNEL_CALLS)


def test_generated_ids_are_current() -> None:
    check = subprocess.run(
        [sys.executable, str(RUNTIME / "gen_ids.py"), "--check"], capture_output=True
    )
    assert check.returncode == 0, "run c/runtime/gen_ids.py"
