"""The verifying key: what a verifier holds besides the proof and the public values.

It is derived from the compiled machine and the parameter set alone: the only computation is
the commitment to the fixed columns, which ``verifying_key`` repeats with the kernels (so a
verifier never needs the prover; ``prover.setup`` builds the same commitment).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from heliostat.stark.air import CompiledMachine
from heliostat.stark.config import MIN_LOG_HEIGHT, StarkConfig
from heliostat.stark.field import GENERATOR
from heliostat.stark.merkle import MatrixCommitment
from heliostat.stark.ntt import coset_lde
from heliostat.stark.pcs import MatrixSlot, Round, round_matrices

U32Array = NDArray[np.uint32]


@dataclass(frozen=True)
class VerifyingKey:
    """The compiled tables, the parameter set and the root of the fixed columns' tree."""

    machine: CompiledMachine
    config: StarkConfig
    preprocessed_root: bytes | None


@dataclass(frozen=True)
class FixedCommitment:
    """The fixed columns' matrices (bit-reversed LDEs, tree order) and their tree."""

    slots: list[MatrixSlot]
    ldes: list[U32Array]
    tree: MatrixCommitment


def fixed_log_heights(machine: CompiledMachine) -> list[int]:
    """Heights used to lay out the fixed-column tree (tables without fixed columns: unused)."""
    return [t.fixed_log_height or MIN_LOG_HEIGHT for t in machine.tables]


def commit_fixed_columns(machine: CompiledMachine, config: StarkConfig) -> FixedCommitment | None:
    """Extend and commit every table's fixed columns (None if no table has any)."""
    heights = fixed_log_heights(machine)
    slots = round_matrices(machine, heights, config.log_blowup, Round.PREPROCESSED)
    if not slots:
        return None
    ldes = []
    for slot in slots:
        fixed = machine.tables[slot.table].preprocessed
        assert fixed is not None  # round_matrices lists only tables with fixed columns
        ldes.append(coset_lde(fixed, config.log_blowup, GENERATOR, bit_reversed=True))
    return FixedCommitment(slots, ldes, MatrixCommitment.commit(ldes))


def verifying_key(machine: CompiledMachine, config: StarkConfig) -> VerifyingKey:
    """Return the key a verifier needs for ``machine`` under ``config``."""
    fixed = commit_fixed_columns(machine, config)
    return VerifyingKey(machine, config, None if fixed is None else fixed.tree.root)
