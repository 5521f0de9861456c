"""Syscalls the numba loop serves without returning to Python (native mode), and their tables.

`NativeSyscalls` says which of an executable's syscalls the loop serves itself
(`fast_syscalls`): the memory services, the kernel's receipt and log side channel, and a jet
answered from precomputed results. Anything a native handler cannot do exactly as the Python
syscall would, it leaves to Python (same result, slower). Side-channel records are delivered
to the host in call order by `drain`, which the interpreter calls before every syscall it
hands to Python and when the run ends, so the host sees them exactly when it would have.
Never used while tracing: proving mode runs every syscall through Python and records it.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Mapping

import numpy as np
import numpy.typing as npt

from heliostat.svm import fast_syscalls as fs
from heliostat.svm.errors import SvmError
from heliostat.svm.executable import Executable

# The VM services every program may call: served natively wherever native mode is on.
MEMORY_SERVICES: dict[str, int] = {
    "sol_memcpy_": fs.NK_MEMCPY,
    "sol_memmove_": fs.NK_MEMMOVE,
    "sol_memset_": fs.NK_MEMSET,
    "sol_memcmp_": fs.NK_MEMCMP,
}
SIDE_CHANNEL: dict[str, int] = {"heliostat_receipt": fs.NK_RECEIPT, "heliostat_log": fs.NK_LOG}
SIDE_BUFFER = 1 << 20
JET_COLUMNS = 5  # r1, r2, r3, r4 -> r0

_SIDE_HEADER = struct.Struct("<5Q")
_NO_JETS = np.zeros((0, JET_COLUMNS), dtype=np.int64)

# deliver(tag, kind, a, b, data): SIDE_RECEIPT (kind, a, b unused) or SIDE_LOG records.
Deliver = Callable[[int, int, int, int, bytes], None]

NativeTables = tuple[
    npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.uint8], npt.NDArray[np.int64]
]


class NativeSyscalls:
    """The native-mode tables of one run of ``executable``.

    ``kinds`` maps syscall names to the `fast_syscalls` kind that serves them. ``jet`` names
    one bound syscall answered from ``jet_rows`` (rows r1, r2, r3, r4, r0; a call whose
    arguments match no row goes to Python): the rows must be the function's results on
    arguments that lie in the run's read-only input region (`kernel_jets.ed25519_rows`).
    """

    def __init__(
        self,
        executable: Executable,
        kinds: Mapping[str, int],
        *,
        deliver: Deliver | None = None,
        jet: str | None = None,
        jet_rows: npt.NDArray[np.int64] | None = None,
        side_size: int = SIDE_BUFFER,
    ) -> None:
        table = np.zeros(max(len(executable.syscalls), 1), dtype=np.int64)
        for index, bound in enumerate(executable.syscalls):
            table[index] = kinds.get(bound.name, fs.NK_PYTHON)
            if jet is not None and bound.name == jet and jet_rows is not None:
                table[index] = fs.NK_JET_TABLE
        if deliver is None and (table == fs.NK_RECEIPT).any() | (table == fs.NK_LOG).any():
            raise SvmError("a side channel needs a host to deliver its records to")
        rows = _NO_JETS if jet_rows is None else np.ascontiguousarray(jet_rows, dtype=np.int64)
        if rows.ndim != 2 or rows.shape[1] != JET_COLUMNS:
            raise SvmError(f"jet rows must be (n, {JET_COLUMNS}), got {rows.shape}")
        self.deliver = deliver
        self.ctl = np.zeros(fs.CTL_SIZE, dtype=np.int64)
        self.side = np.empty(side_size if deliver is not None else 0, dtype=np.uint8)
        self.tables: NativeTables = (table, self.ctl, self.side, rows)

    def drain(self) -> None:
        """Deliver the side channel's pending records in order and empty it."""
        used = int(self.ctl[fs.CTL_SIDE_LEN])
        if not used or self.deliver is None:
            return
        self.ctl[fs.CTL_SIDE_LEN] = 0
        raw = self.side[:used].tobytes()
        at = 0
        while at < used:
            tag, kind, a, b, length = _SIDE_HEADER.unpack_from(raw, at)
            body = at + fs.SIDE_HEADER
            self.deliver(tag, kind, a, b, raw[body : body + length])
            at = body + ((length + 7) & ~7)
