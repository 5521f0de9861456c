"""The Poseidon2 precompile: `heliostat_poseidon2_permute(state)`, for the runtime kernel only.

r1 points to 16 little-endian u32 words (8-byte aligned) in VM memory; the call replaces them
by the Poseidon2 permutation of BabyBear width 16 (``heliostat.primitives.poseidon2``) and
returns 0. Every word must be canonical (below p). The zkVM proves the call with a dedicated
chip. It is not a Solana syscall: mainnet's `default_registry()` does not know it (a user
program importing it fails to load); the kernel image's registry adds `KERNEL_PRECOMPILES`.
Semantics, costs and errors: docs/state.md ("The Poseidon2 syscall").
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from heliostat.primitives.poseidon2 import WIDTH, P
from heliostat.primitives.poseidon2_fast import permute_le_bytes
from heliostat.svm.syscall_api import SyscallContext, SyscallRegistry
from heliostat.svm.syscalls.errors import SyscallError, UnalignedPointerError

NAME = "heliostat_poseidon2_permute"
STATE_BYTES = 4 * WIDTH
STATE_ALIGN = 8
# One permutation is one row of the Poseidon2 chip, a few times wider than a CPU row; the
# kernel runs unmetered, so the figure matters only if a metered caller ever gets the call.
POSEIDON2_PERMUTE_COST = 20


class Poseidon2NonCanonicalError(SyscallError):
    """A word of the state is not a canonical BabyBear element (it is p or larger)."""

    reason = "poseidon2_non_canonical"

    def __init__(self, index: int, value: int) -> None:
        super().__init__(
            f"Poseidon2 state word {index} is not a canonical BabyBear element: "
            f"{value:#x} >= {P:#x}"
        )
        self.index, self.value, self.limit = index, value, P


def heliostat_poseidon2_permute(
    ctx: SyscallContext, state: int, _2: int, _3: int, _4: int, _5: int
) -> int:
    """`heliostat_poseidon2_permute(uint32_t state[16])`: permute the state in place."""
    ctx.consume(POSEIDON2_PERMUTE_COST)
    if state % STATE_ALIGN:
        raise UnalignedPointerError(state, STATE_ALIGN)
    buffer = bytearray(ctx.read(state, STATE_BYTES))
    bad = permute_le_bytes(np.frombuffer(buffer, dtype=np.uint8))
    if bad >= 0:
        raise Poseidon2NonCanonicalError(
            bad, int.from_bytes(buffer[4 * bad : 4 * bad + 4], "little")
        )
    ctx.write(state, buffer)
    return 0


KERNEL_PRECOMPILES: dict[str, Callable[[SyscallContext, int, int, int, int, int], int]] = {
    NAME: heliostat_poseidon2_permute,
}


def register_kernel_precompiles(registry: SyscallRegistry) -> SyscallRegistry:
    """Add the kernel-only precompiles to ``registry`` (in place) and return it."""
    for name, function in KERNEL_PRECOMPILES.items():
        registry.register(name, function)
    return registry
