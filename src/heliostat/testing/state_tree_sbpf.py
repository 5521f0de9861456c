"""Run the C state-tree library (c/lib/state_tree) as an sBPF program on Heliostat's VM.

The harness program (tests/state_tree/programs/state_tree_harness.c) opens a witness, sets
final values, and commits or verifies; the verdict, new root and statuses come back as
return data. With ``trace=True`` the run also counts the Poseidon2 syscalls. Used by
tests/state_tree and benchmarks/state_tree.py.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache

from solders.instruction import Instruction
from solders.pubkey import Pubkey

from heliostat.runtime.state_witness import FinalValue, Status, WitnessErrorCode
from heliostat.svm.instruction import InstructionResult, LoadedProgram, execute_instruction
from heliostat.svm.programs import BPF_LOADER_2_ID
from heliostat.svm.syscalls import poseidon2
from heliostat.svm.syscalls.registry import default_registry
from heliostat.testing.host import TestHost
from heliostat.toolchain import build_program
from heliostat.toolchain.build import C_DIR, REPO_ROOT

LIB_DIR = C_DIR / "lib" / "state_tree"
HARNESS_SOURCE = REPO_ROOT / "tests" / "state_tree" / "programs" / "state_tree_harness.c"
PROGRAM_ID = Pubkey(bytes([9] * 32))
HEAP_BYTES = 256 * 1024  # the most a program may ask for
COMPUTE_BUDGET = 1 << 40  # the library runs in the unmetered kernel; do not let a limit bite
OP_COMMIT, OP_VERIFY, OP_OPEN, OP_FIND = 0, 1, 2, 3
STAGE_OPEN, STAGE_CHECK, STAGE_FINALS = 1, 2, 3


def harness_elf() -> bytes:
    """Build the harness with the library's sources (every file named: the cache sees them)."""
    sources = [HARNESS_SOURCE, LIB_DIR / "state_tree.c", LIB_DIR / "st_hash.c"]
    path = build_program(
        sources, name="state_tree_harness", include_dirs=[LIB_DIR],
        extra_syscalls=[poseidon2.NAME],
    )  # fmt: skip
    return path.read_bytes()


@dataclass(frozen=True)
class HarnessRun:
    """What the C library said, and what it cost."""

    code: WitnessErrorCode
    stage: int
    new_root: bytes
    statuses: tuple[Status, ...]
    instructions: int  # sBPF instructions, the harness's own included
    permutations: int | None  # Poseidon2 syscalls (traced runs only)


def _pad8(data: bytes) -> bytes:
    return data + bytes(-len(data) % 8)


def _request_head(op: int, old_root: bytes, witness: bytes, heap: int) -> list[bytes]:
    return [struct.pack("<QQ", op, heap), old_root, struct.pack("<Q", len(witness)),
            _pad8(witness)]  # fmt: skip


def encode_request(
    op: int, old_root: bytes, witness: bytes, finals: Sequence[tuple[int, FinalValue]],
    heap: int = HEAP_BYTES, *, misalign: bool = False,
) -> bytes:  # fmt: skip
    """Encode the harness's instruction data (layout in the harness's header comment).

    ``misalign`` places every final value's data at an odd address.
    """
    parts = [*_request_head(op, old_root, witness, heap), struct.pack("<Q", len(finals))]
    for position, f in finals:
        mode = 1 if f.data is None else 2 if misalign else 0
        parts.append(struct.pack("<QQQQQQ", position, f.lamports, f.rent_epoch, f.executable,
                                 f.data_len, mode))  # fmt: skip
        parts.append(f.owner)
        if f.data is not None:
            parts.append(_pad8(b"\xee" + f.data if misalign else f.data))
    return b"".join(parts)


class Harness:
    """The harness loaded once, with the kernel's Poseidon2 precompile in its registry."""

    def __init__(self, *, fast: bool = True) -> None:
        registry = poseidon2.register_kernel_precompiles(default_registry())
        self._program = LoadedProgram.load(PROGRAM_ID, harness_elf(), BPF_LOADER_2_ID, registry)
        self._fast = fast

    def run(
        self, op: int, old_root: bytes, witness: bytes,
        finals: Sequence[tuple[int, FinalValue]] = (), *, heap: int = HEAP_BYTES,
        trace: bool = False, misalign: bool = False,
    ) -> HarnessRun:  # fmt: skip
        """Execute one request; raise if the program itself failed (a harness or VM bug).

        ``heap`` is the memory the harness offers the library (at most the VM's heap);
        ``misalign`` hands the library every final value's data at an odd address.
        """
        request = encode_request(op, old_root, witness, finals, heap, misalign=misalign)
        result = self.execute(request, trace=trace)
        out = result.return_data[1]
        rc, stage = struct.unpack_from("<QQ", out)
        (n,) = struct.unpack_from("<Q", out, 48)
        execution = result.execution
        if execution is None:
            raise RuntimeError("the harness did not run")
        permutations = None
        if execution.trace is not None:
            calls = execution.trace.syscalls
            permutations = sum(1 for call in calls if call.name == poseidon2.NAME)
        return HarnessRun(
            code=WitnessErrorCode(rc),
            stage=stage,
            new_root=out[16:48],
            statuses=tuple(Status(s) for s in out[56 : 56 + n]),
            instructions=execution.instruction_count,
            permutations=permutations,
        )

    def find(self, witness: bytes, keys: Sequence[bytes]) -> list[int | None]:
        """Ask `st_find` for each key (at most 128): its record position, or None."""
        head = _request_head(OP_FIND, bytes(32), witness, HEAP_BYTES)
        out = self.execute(b"".join([*head, struct.pack("<Q", len(keys)), *keys])).return_data[1]
        if struct.unpack_from("<Q", out)[0] != WitnessErrorCode.OK:
            raise RuntimeError("the witness did not open")
        found = struct.unpack_from(f"<{len(keys)}I", out, 16)
        return [None if f == 0xFFFFFFFF else f for f in found]

    def execute(self, data: bytes, *, trace: bool = False) -> InstructionResult:
        """Run the harness on raw instruction data; raise if the instruction failed."""
        result = execute_instruction(
            self._program, Instruction(PROGRAM_ID, data, []), {}, TestHost(PROGRAM_ID),
            compute_budget=COMPUTE_BUDGET, heap_size=HEAP_BYTES, fast=self._fast, trace=trace,
        )  # fmt: skip
        if result.error is not None:
            raise RuntimeError(f"the harness failed: {result.error} {result.logs}")
        return result


@cache
def harness() -> Harness:
    """Return the harness (numba interpreter), built and loaded once per process."""
    return Harness()
