"""The zkVM machine: its tables in a fixed order and the public interactions.

`zkvm_machine()` compiles it once (cached). The public interactions start the STATE chain at
(entry pc, TS_START, budget), end it at (HALT + status, final pc, final cu), give every
register its initial value (REG_INIT) and fix the final r0 (OUTPUT).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

from heliostat.stark.air import Air, CompiledMachine, Interaction, compile_machine
from heliostat.stark.symbolic import Expr, public
from heliostat.zkvm import public_values as pv
from heliostat.zkvm.alu_chip import AluChip
from heliostat.zkvm.bitwise_chip import BitwiseChip
from heliostat.zkvm.branch_chip import BranchChip
from heliostat.zkvm.buses import (
    HALT_BASE,
    NUM_REGISTERS,
    OUTPUT_CURSOR,
    OUTPUT_PREFIX_WORDS,
    TS_START,
    Bus,
)
from heliostat.zkvm.call_chip import CallChip, FrameBoundaryChip
from heliostat.zkvm.chip import InstructionChip
from heliostat.zkvm.divmod_chip import DivModChip
from heliostat.zkvm.endian_chip import EndianChip
from heliostat.zkvm.fault_chip import FaultChip
from heliostat.zkvm.keccak_absorb_chip import KeccakAbsorbChip
from heliostat.zkvm.keccak_chip import KeccakChip
from heliostat.zkvm.keccak_slice_chip import KeccakSliceChip
from heliostat.zkvm.mem_aligned_chip import MemAlignedChip
from heliostat.zkvm.mem_chip import MemChip
from heliostat.zkvm.memcopy_chip import MemCopyChip
from heliostat.zkvm.memory_chip import BoundaryChip, InputChip, KeepAliveChip
from heliostat.zkvm.merkle_chip import CommitmentChip, MerkleChip
from heliostat.zkvm.mul_chip import MulChip
from heliostat.zkvm.output_chip import OutputChip
from heliostat.zkvm.poseidon2_chip import Poseidon2Chip
from heliostat.zkvm.program_chip import ProgramChip
from heliostat.zkvm.shift_chip import ShiftChip
from heliostat.zkvm.syscall_chip import SyscallLogChip
from heliostat.zkvm.syscall_keccak_chip import SyscallKeccakChip
from heliostat.zkvm.syscall_mem_chip import SyscallMemChip
from heliostat.zkvm.syscall_poseidon2_chip import SyscallPoseidon2Chip
from heliostat.zkvm.syscall_publish_chip import SyscallPublishChip
from heliostat.zkvm.u16_chip import U16Chip


def instruction_chips() -> list[InstructionChip]:
    """Every instruction chip, in table order."""
    return [
        AluChip(),
        BranchChip(),
        MulChip(),
        DivModChip(),
        BitwiseChip(),
        ShiftChip(),
        EndianChip(),
        MemAlignedChip(),
        MemChip(),
        MemChip(straddle=True),
        CallChip(),
        SyscallLogChip(),
        SyscallMemChip(),
        SyscallPoseidon2Chip(),
        SyscallPublishChip(),
        SyscallKeccakChip(),
    ]


def tables() -> list[Air]:
    """All tables of the machine, in order: fixed and bookkeeping tables, then instructions."""
    fixed: list[Air] = [
        U16Chip(),
        ProgramChip(),
        BoundaryChip(),
        KeepAliveChip(),
        InputChip(),
        OutputChip(),
        FrameBoundaryChip(),
        FaultChip(),
        MemCopyChip(),
        MerkleChip(),
        CommitmentChip(),
        Poseidon2Chip(),
        KeccakSliceChip(),  # sol_keccak256: slices, blocks, permutations
        KeccakAbsorbChip(),
        KeccakChip(),
    ]
    return fixed + list(instruction_chips())


def public_interactions() -> list[Interaction]:
    """Start and halt of the STATE chain, initial registers, final r0, output length."""
    p = {name: public(i) for name, i in pv.FIELDS.items()}
    out = [
        # the run starts and halts in image 0, address space 0
        Interaction.send(Bus.STATE, [p["entry_pc"], TS_START, p["budget"], 0, 0], 1, "start"),
        Interaction.receive(
            Bus.STATE, [p["status"] + HALT_BASE, p["final_pc"], p["cu_final"], 0, 0], 1, "halt"
        ),
        Interaction.receive(Bus.OUTPUT, [0, *(p[f"r0_{k}"] for k in range(4))], 1, "final r0"),
    ]
    for r in range(NUM_REGISTERS):
        limbs_ = [p[f"reg{r}_{k}"] for k in range(4)]
        out.append(Interaction.send(Bus.REG_INIT, [r, *limbs_], 1, f"initial r{r}"))
    # the public output's length: 0 at the start, the public length at the end
    cursor = OUTPUT_CURSOR
    out.append(Interaction.send(Bus.REG_INIT, [cursor, 0, 0, 0, 0], 1, "output length 0"))
    length: list[Expr | int] = [p["output_len_0"], p["output_len_1"], 0, 0]
    out.append(Interaction.receive(Bus.OUTPUT, [cursor, *length], 1, "output length"))
    # the output's first words in the clear (when it has them): the output table's rows
    for w in range(OUTPUT_PREFIX_WORDS):
        value = [p[f"out_prefix_{4 * w + k}"] for k in range(4)]
        out.append(
            Interaction.receive(
                Bus.OUTPUT_PREFIX, [w, *value], p["out_prefix_on"], f"output word {w}"
            )
        )
    return out


@functools.cache
def zkvm_machine() -> CompiledMachine:
    """Return the compiled machine (cached: compiling walks every chip's constraints)."""
    return compile_machine(tables(), pv.COUNT, public_interactions())


def table_names(machine: CompiledMachine | None = None) -> Sequence[str]:
    """Table names in order."""
    m = machine or zkvm_machine()
    return [t.name for t in m.tables]
