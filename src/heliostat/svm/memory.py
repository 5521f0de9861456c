"""The sBPF v0 virtual address space: program, stack, heap and input regions, and their checks.

Regions sit at fixed 4 GiB-aligned addresses and are found by the top 32 bits of an address
(sbpf's aligned memory mapping). The stack is "gapped" as in v0: 64 frames of 4 KiB, each
followed in virtual space by an unmapped 4 KiB gap. Rules follow anza-xyz/sbpf v0.21
src/memory_region.rs (`MemoryRegion::vm_to_host`, `generate_access_violation`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from heliostat.svm.errors import AccessType, SvmError, access_violation

if TYPE_CHECKING:
    from heliostat.svm.executable import Executable

MM_REGION_SIZE = 1 << 32
MM_PROGRAM_START = 1 << 32
MM_STACK_START = 2 << 32
MM_HEAP_START = 3 << 32
MM_INPUT_START = 4 << 32

STACK_FRAME_SIZE = 4096  # agave compute budget: stack_frame_size
MAX_CALL_DEPTH = 64  # agave compute budget: max_call_depth
STACK_SIZE = STACK_FRAME_SIZE * MAX_CALL_DEPTH
STACK_GAP_SHIFT = 12  # log2(STACK_FRAME_SIZE): v0 leaves a frame-sized gap after every frame
DEFAULT_HEAP_SIZE = 32 * 1024  # agave: MIN_HEAP_FRAME_BYTES, the default heap
MAX_HEAP_SIZE = 256 * 1024  # agave: MAX_HEAP_FRAME_BYTES (request_heap_frame's limit)

U64 = (1 << 64) - 1

# Region table rows for the interpreters: one row per mapped (sub)region.
# Columns: vm_start, length, buffer id, offset in that buffer, writable, gapped.
REGION_COLUMNS = 6
BUF_PROGRAM, BUF_STACK, BUF_HEAP, BUF_INPUT = 0, 1, 2, 3

Bytes = npt.NDArray[np.uint8]

# Zeroed stacks of released memory maps: allocating and zeroing 256 KiB costs more than a run.
_STACK_POOL: list[Bytes] = []
_STACK_POOL_LIMIT = 8
_RELEASED: Bytes = np.zeros(0, dtype=np.uint8)


@dataclass(frozen=True)
class InputSegment:
    """A permission range of the input region: ``length`` bytes at ``offset`` from its start.

    The default input is one writable segment. Finer segments model agave's
    `stricter_abi_and_runtime_constraints` layout, where some ranges are read-only and an
    access must lie inside a single segment (sbpf's unaligned mapping).
    """

    offset: int
    length: int
    writable: bool


class MemoryMap:
    """The four regions of one program execution, with checked reads and writes.

    Every accessor raises the `AccessViolation` (or `StackAccessViolation`) that sbpf raises
    for the same access; the interpreters and syscalls share these rules.
    """

    def __init__(
        self,
        program: bytes | Bytes,
        input_data: bytes | bytearray | Bytes = b"",
        heap_size: int = DEFAULT_HEAP_SIZE,
        *,
        program_vaddr: int = MM_PROGRAM_START,
        input_segments: Sequence[InputSegment] | None = None,
        input_view: Bytes | None = None,
        max_heap_size: int = MAX_HEAP_SIZE,
        heap_buffer: Bytes | None = None,
    ) -> None:
        if not 0 <= heap_size <= max_heap_size:
            raise SvmError(f"heap size {heap_size} outside 0..{max_heap_size}")
        if not MM_PROGRAM_START <= program_vaddr < MM_STACK_START:
            raise SvmError(f"program region address {program_vaddr:#x} outside region 1")
        self.program: Bytes = _readonly(program)
        self.program_vaddr = program_vaddr
        # A stack from the pool of released ones is already zero (see `release`).
        stack = _STACK_POOL.pop() if _STACK_POOL else np.zeros(STACK_SIZE, np.uint8)
        # `stack_buffer` is the stack without write tracking (for the interpreters); its bytes
        # from `stack_dirty` on are known to be zero, which makes reset and release cheap.
        self.stack_buffer: Bytes = stack
        self.stack_dirty = 0
        # untracked, like the stack; a caller that pools heaps passes a zeroed one
        self.heap_buffer: Bytes = (
            np.zeros(heap_size, dtype=np.uint8) if heap_buffer is None else heap_buffer
        )
        if len(self.heap_buffer) != heap_size:
            raise SvmError(f"heap buffer of {len(self.heap_buffer)} bytes, expected {heap_size}")
        self.heap_dirty = 0
        if input_view is not None:
            # The kernel switch: the input region aliases another map's memory (no copy), so
            # a program's writes land in the kernel's buffer.
            if input_view.dtype != np.uint8 or input_view.ndim != 1 or len(input_data):
                raise SvmError("input_view must be a 1-D uint8 array, given without input_data")
            self.input: Bytes = input_view
        else:
            self.input = np.frombuffer(input_data, dtype=np.uint8).copy()
        if input_segments is None:
            self._segments: tuple[tuple[int, int, bool], ...] = ((0, len(self.input), True),)
        else:
            self._segments = tuple((seg.offset, seg.length, seg.writable) for seg in input_segments)
            _check_segments(self._segments, len(self.input))
        # (offset, length, writable) rows for the numba interpreter
        self.segments = np.array(self._segments, dtype=np.int64).reshape(-1, 3)
        self.buffers: tuple[Bytes, Bytes, Bytes, Bytes] = (
            self.program,
            self.stack_buffer,
            self.heap_buffer,
            self.input,
        )

    @property
    def stack(self) -> Bytes:
        """The stack's host memory (frames back to back, without the gaps).

        Handing it out counts as writing all of it: `reset` and `release` then zero it whole.
        """
        self.stack_dirty = len(self.stack_buffer)
        return self.stack_buffer

    @property
    def heap(self) -> Bytes:
        """The heap's memory; handing it out counts as writing all of it (see `stack`)."""
        self.heap_dirty = len(self.heap_buffer)
        return self.heap_buffer

    @property
    def heap_size(self) -> int:
        """The heap's length in bytes."""
        return len(self.heap_buffer)

    @property
    def input_segments(self) -> tuple[InputSegment, ...]:
        """The permission ranges of the input region."""
        return tuple(InputSegment(*seg) for seg in self._segments)

    def release(self) -> None:
        """Return the stack to a pool for the next `MemoryMap` (zeroing what was written).

        Optional, and only once the run's memory is no longer needed: after this call the map
        cannot be run or read.
        """
        if self.released:
            return
        self.stack_buffer[: self.stack_dirty] = 0
        if len(_STACK_POOL) < _STACK_POOL_LIMIT:
            _STACK_POOL.append(self.stack_buffer)
        self.stack_buffer = _RELEASED
        self.buffers = (self.program, self.stack_buffer, self.heap_buffer, self.input)

    @property
    def released(self) -> bool:
        """Whether `release` was called."""
        return bool(self.stack_buffer.shape[0] != STACK_SIZE)

    @classmethod
    def for_executable(
        cls,
        executable: Executable,
        input_data: bytes | bytearray | Bytes = b"",
        heap_size: int = DEFAULT_HEAP_SIZE,
        *,
        input_segments: Sequence[InputSegment] | None = None,
    ) -> MemoryMap:
        """Build the memory of one run of ``executable`` over ``input_data``."""
        return cls(
            executable.ro_array,
            input_data,
            heap_size,
            program_vaddr=executable.ro_vaddr,
            input_segments=input_segments,
        )

    @property
    def regions(self) -> npt.NDArray[np.int64]:
        """Return one row per mapped (sub)region.

        Columns: vm_start, length, buffer id, buffer offset, writable, gapped. For inspection
        and documentation; translation does not use it.
        """
        rows = [
            (self.program_vaddr, len(self.program), BUF_PROGRAM, 0, 0, 0),
            (MM_STACK_START, STACK_SIZE, BUF_STACK, 0, 1, 1),
            (MM_HEAP_START, self.heap_size, BUF_HEAP, 0, 1, 0),
        ]
        for seg in self.input_segments:
            rows.append(
                (
                    MM_INPUT_START + seg.offset,
                    seg.length,
                    BUF_INPUT,
                    seg.offset,
                    int(seg.writable),
                    0,
                )
            )
        return np.array(rows, dtype=np.int64).reshape(-1, REGION_COLUMNS)

    # ----------------------------------------------------------------------------------------
    # Translation

    def translate(self, access: AccessType, vaddr: int, size: int) -> tuple[Bytes, int]:
        """Map ``size`` bytes at ``vaddr`` to (buffer, offset), or raise the access violation.

        The region is chosen by the top 32 bits of the address (in the input, the last
        segment starting at or below it, as sbpf's unaligned lookup does); the whole access
        must lie inside it; a store needs it writable. In the gapped stack only the first
        byte's frame is checked against the gap, as in sbpf (`vm_to_host`), so an access may
        run into the next host frame.
        """
        if size < 0:
            raise ValueError("access size must be non-negative")
        vaddr &= U64
        index = vaddr >> 32
        store = access == AccessType.STORE
        if index == 2:
            offset = vaddr - MM_STACK_START
            if not (offset >> STACK_GAP_SHIFT) & 1:
                host = ((offset >> (STACK_GAP_SHIFT + 1)) << STACK_GAP_SHIFT) | (
                    offset & (STACK_FRAME_SIZE - 1)
                )
                if host + size <= len(self.stack_buffer):
                    if store:
                        self.stack_dirty = max(self.stack_dirty, host + size)
                    return self.stack_buffer, host
        elif index == 3:
            offset = vaddr - MM_HEAP_START
            if offset + size <= len(self.heap_buffer):
                if store:
                    self.heap_dirty = max(self.heap_dirty, offset + size)
                return self.heap_buffer, offset
        elif index == 4:
            offset = vaddr - MM_INPUT_START
            found = None
            for seg in self._segments:
                if seg[0] <= offset:
                    found = seg
            if (
                found is not None
                and (found[2] or not store)
                and offset - found[0] + size <= found[1]
            ):
                return self.input, offset
        elif index == 1 and not store and vaddr >= self.program_vaddr:
            offset = vaddr - self.program_vaddr
            if offset + size <= len(self.program):
                return self.program, offset
        raise access_violation(access, vaddr, size)

    def read(self, vaddr: int, size: int) -> bytes:
        """Read ``size`` bytes (checked as one access)."""
        buf, off = self.translate(AccessType.LOAD, vaddr, size)
        return bytes(buf[off : off + size])

    def write(self, vaddr: int, data: bytes | bytearray | memoryview) -> None:
        """Write ``data`` (checked as one access)."""
        buf, off = self.translate(AccessType.STORE, vaddr, len(data))
        buf[off : off + len(data)] = np.frombuffer(bytes(data), dtype=np.uint8)

    def view(self, access: AccessType, vaddr: int, size: int) -> memoryview:
        """Return a zero-copy view of ``size`` bytes (writable for stores), for memcpy syscalls."""
        buf, off = self.translate(access, vaddr, size)
        view = memoryview(buf[off : off + size])  # type: ignore[arg-type]
        return view if access == AccessType.STORE else view.toreadonly()

    def load(self, vaddr: int, width: int) -> int:
        """Load a little-endian unsigned integer of ``width`` bytes (1, 2, 4 or 8)."""
        return int.from_bytes(self.read(vaddr, width), "little")

    def store(self, vaddr: int, width: int, value: int) -> None:
        """Store the low ``width`` bytes of ``value`` little-endian."""
        self.write(vaddr, (value & ((1 << (8 * width)) - 1)).to_bytes(width, "little"))

    # ----------------------------------------------------------------------------------------
    # After execution

    def input_bytes(self) -> bytes:
        """Return the input region as the program left it (for account write-back)."""
        return self.input.tobytes()

    def reset(self, input_data: bytes | bytearray | Bytes | None = None) -> None:
        """Zero the stack and heap (and optionally replace the input) for another run."""
        # Many runs write neither (e.g. an SPL transfer): skip numpy's fixed cost then.
        if self.stack_dirty:
            self.stack_buffer[: self.stack_dirty] = 0
            self.stack_dirty = 0
        if self.heap_dirty:
            self.heap_buffer[: self.heap_dirty] = 0
            self.heap_dirty = 0
        if input_data is not None:
            data = np.frombuffer(input_data, dtype=np.uint8)
            if len(data) != len(self.input):
                raise SvmError("reset() needs input of the same length; build a new MemoryMap")
            self.input[:] = data


_ENTRY_REGISTERS = (0, MM_INPUT_START, 0, 0, 0, 0, 0, 0, 0, 0, MM_STACK_START + STACK_FRAME_SIZE)


def initial_registers(presets: Mapping[int, int] | None = None) -> list[int]:
    """Return r0..r10 at entry: r1 points at the input, r10 at the top of stack frame 0."""
    registers = list(_ENTRY_REGISTERS)
    for index, value in (presets or {}).items():
        registers[index] = value
    return registers


def _readonly(data: bytes | Bytes) -> Bytes:
    array = np.frombuffer(data, dtype=np.uint8) if isinstance(data, bytes) else data
    if array.dtype != np.uint8 or array.ndim != 1:
        raise TypeError("program region must be bytes or a 1-D uint8 array")
    return array


def _check_segments(segments: Sequence[tuple[int, int, bool]], total: int) -> None:
    cursor = 0
    for offset, length, _writable in segments:
        if offset < cursor or length < 0 or offset + length > total:
            raise SvmError(
                f"input segments must be sorted, disjoint and inside the {total}-byte input"
            )
        cursor = offset + length
