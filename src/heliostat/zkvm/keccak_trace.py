"""Trace generation for `sol_keccak256`: the copies, the slice and absorb rows, the permutations.

trace_gen calls these with the syscall rows (routed to syscall_keccak_chip, whose `accesses`
also lists the slice records, block words and digest words, so one memory scan covers them).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from heliostat.zkvm import keccak_absorb_chip, keccak_slice_chip
from heliostat.zkvm import keccak_chip as kc
from heliostat.zkvm import keccak_sponge as ks
from heliostat.zkvm.chip import InstructionChip, SlotResult
from heliostat.zkvm.frame import StepRows
from heliostat.zkvm.syscall_keccak_chip import SyscallKeccakChip
from heliostat.zkvm.u16_chip import LookupCounts

TABLES = ("keccak_slice", "keccak_absorb", "keccak")


def _sub(
    chips: Sequence[InstructionChip], per_chip: Sequence[StepRows]
) -> tuple[int, StepRows] | None:
    for k, (chip, sub) in enumerate(zip(chips, per_chip, strict=True)):
        if isinstance(chip, SyscallKeccakChip) and len(sub):
            return k, sub
    return None


def copy_jobs(chips: Sequence[InstructionChip], per_chip: Sequence[StepRows]) -> list[ks.CopyEntry]:
    """Return the copies of every call (pad byte, slices, digest), in call order."""
    found = _sub(chips, per_chip)
    if found is None:
        return []
    return [job for plan in SyscallKeccakChip.plans(found[1]) for job in ks.copy_jobs(plan)]


def tables(
    chips: Sequence[InstructionChip],
    per_chip: Sequence[StepRows],
    results: Sequence[dict[str, SlotResult]],
    lookups: LookupCounts,
) -> dict[str, NDArray[np.int64]]:
    """Return the slice, absorb and Keccak-f tables (empty when nothing was hashed)."""
    found = _sub(chips, per_chip)
    if found is None:
        return {
            "keccak_slice": np.zeros((0, keccak_slice_chip.LAYOUT.width), np.int64),
            "keccak_absorb": np.zeros((0, keccak_absorb_chip.LAYOUT.width), np.int64),
            "keccak": np.zeros((0, kc.LAYOUT.width), np.int64),
        }
    k, sub = found
    res = results[k]
    plans = SyscallKeccakChip.plans(sub)
    sizes = sub.extra["regions"]
    lengths = {1: int(sizes[0, 0]), 3: int(sizes[0, 1]), 4: int(sizes[0, 2])}
    slices = keccak_slice_chip.generate(plans, res["rec_ptr"], res["rec_len"], lengths, lookups)
    blocks = [res[f"blk{j}"] for j in range(ks.RATE_WORDS)]
    digests = [res[f"dig{j}"] for j in range(4)]
    absorb, inputs = keccak_absorb_chip.generate(plans, blocks, digests, lookups)
    perms = kc.generate(inputs, np.ones(inputs.shape[0], np.int64))
    return {"keccak_slice": slices, "keccak_absorb": absorb, "keccak": perms}
