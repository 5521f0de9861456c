"""The timeline of one proven `sol_keccak256` call, and the trace side of its tables.

A call at timestamp ts (r1 = slices, r2 = count, r3 = 32-byte result) owns the sponge buffer
words ts .. ts + 17·blocks + 3 of region 6 (zero at the start, written only here). Its
timeline, which the chips (syscall_keccak_chip, keccak_slice_chip, keccak_absorb_chip)
prove and `plan_call` computes:

    ts        read r1, r2, r3                          (syscall row)
    ts + 1    write r0 = 0
    ts + 2    memset-copy of the pad byte 0x01 to buffer byte L   (1 word, done at ts + 4)
    ts + 4    slice 0: read its (ptr, len) record; copy its bytes to buffer byte pos from
              t + 1 on (2 timestamps per word); slice 1 at the copy's end; …
    t_s       block 0: read 17 buffer words, absorb; block k at t_s + k; the last block
              writes the 32-byte digest to words ts + 17·blocks .. + 3 at t_s + blocks
    t_dig     = t_s + blocks + 1: copy the digest to r3 (done at t_copy_end)
    ts_next   = t_copy_end + 17·blocks + 4 (so that the next call's words are fresh)

L is the total length; blocks = L // 136 + 1 (Keccak's padding 0x01 … 0x80, rate 136).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from heliostat.svm.trace import SyscallEvent, Trace
from heliostat.zkvm import keccak_chip as kc
from heliostat.zkvm import memcopy_chip
from heliostat.zkvm.buses import KECCAK_VADDR
from heliostat.zkvm.errors import TraceGenerationError

NAME = "sol_keccak256"
RATE = 136
RATE_WORDS = RATE // 8
DIGEST = 32
BASE_COST = 85  # agave `sha256_base_cost` (the keccak syscall shares the hash costs)
MIN_SLICE_COST = 10  # `mem_op_base_cost`
MAX_SLICES = 20_000  # `sha256_max_slices`
MAX_SLICE = 1 << 25  # bytes per slice the proof allows (its cost is range-checked below 2^24)
MAX_TOTAL = 1 << 27  # bytes per call the proof allows
PAD_TS = 2  # the pad byte's copy starts at ts + 2
SLICES_TS = 4  # the first slice at ts + 4

CopyEntry = tuple[memcopy_chip.CopyJob, list[dict[str, int]], bytes]


def block_count(length: int) -> int:
    """Return the number of 136-byte blocks of a padded message of ``length`` bytes."""
    return length // RATE + 1


def slice_cost(length: int) -> int:
    """Return what hashing a slice of ``length`` bytes costs (agave: max(10, len / 2))."""
    return max(MIN_SLICE_COST, length // 2)


def copy_words(dst: int, n: int) -> int:
    """Return the number of destination words (memcopy rows) of a copy of n bytes to dst."""
    return (dst + n - 1) // 8 - dst // 8 + 1 if n else 0


@dataclass(frozen=True)
class SliceStep:
    """One slice of a call: its record, where its bytes go, its timestamps and cost."""

    index: int
    ptr: int
    length: int
    pos: int  # buffer byte its first byte goes to
    t: int  # the row's timestamp (record reads)
    t_end: int  # when its copy is done (t + 1 for an empty slice)


@dataclass(frozen=True)
class CallPlan:
    """A call's arguments, data and timeline (see the module docstring)."""

    ts: int
    slices_ptr: int
    count: int
    result_ptr: int
    slices: tuple[SliceStep, ...]
    parts: tuple[bytes, ...]
    digest: bytes

    @property
    def data(self) -> bytes:
        """The message (the slices' bytes, in order)."""
        return b"".join(self.parts)

    @property
    def length(self) -> int:
        """L, the message's length."""
        return sum(s.length for s in self.slices)

    @property
    def blocks(self) -> int:
        """The padded message's 136-byte blocks."""
        return block_count(self.length)

    @property
    def cost(self) -> int:
        """Units charged for the slices (the base cost not included)."""
        return sum(slice_cost(s.length) for s in self.slices)

    @property
    def t_s(self) -> int:
        """Timestamp of the first block."""
        return self.slices[-1].t_end if self.slices else self.ts + SLICES_TS

    @property
    def t_dig(self) -> int:
        """When the digest is in the buffer and its copy to r3 starts."""
        return self.t_s + self.blocks + 1

    @property
    def t_copy_end(self) -> int:
        """When the digest's copy to r3 is done."""
        return self.t_dig + 2 * copy_words(self.result_ptr, DIGEST)

    @property
    def ts_next(self) -> int:
        """The timestamp of the next instruction."""
        return self.t_copy_end + RATE_WORDS * self.blocks + 4

    @property
    def digest_word(self) -> int:
        """Buffer word (index in region 6) of the digest's first 8 bytes."""
        return self.ts + RATE_WORDS * self.blocks


def plan_call(
    ts: int,
    args: tuple[int, ...],
    records: list[tuple[int, int]],
    parts: list[bytes],
    digest: bytes,
) -> CallPlan:
    """Return the plan of a call at ``ts``; raise if the proof cannot cover it."""
    slices, pos, t = [], 0, ts + SLICES_TS
    for i, (ptr, length) in enumerate(records):
        if length >= MAX_SLICE:
            raise TraceGenerationError(
                "sol_keccak256 slice too long", expected=MAX_SLICE, got=length
            )
        dst = KECCAK_VADDR + 8 * ts + pos
        t_end = t + 1 + 2 * copy_words(dst, length) if length else t + 1
        slices.append(SliceStep(i, ptr, length, pos, t, t_end))
        pos, t = pos + length, t_end
    if pos >= MAX_TOTAL:
        raise TraceGenerationError("sol_keccak256 message too long", expected=MAX_TOTAL, got=pos)
    if len(records) > MAX_SLICES:
        raise TraceGenerationError("too many slices", expected=MAX_SLICES, got=len(records))
    return CallPlan(ts, args[0], args[1], args[2], tuple(slices), tuple(parts), digest)


def event_data(
    event: SyscallEvent, trace: Trace
) -> tuple[list[tuple[int, int]], list[bytes], bytes]:
    """Return a call's slice records, the slices' bytes and the digest, from the VM's record."""
    reads = [e for e in trace.memory if e.step == event.step and not e.write]
    writes = [e for e in trace.memory if e.step == event.step and e.write]
    vals, count = event.args[0], event.args[1]
    records: list[tuple[int, int]] = []
    if count:
        if not reads or reads[0].address != vals:
            raise TraceGenerationError("sol_keccak256: no read of the slice records")
        raw = reads.pop(0).data
        records = [struct.unpack_from("<QQ", raw, 16 * i) for i in range(count)]
    parts = []
    for ptr, length in records:
        if not length:
            parts.append(b"")
            continue
        if not reads or reads[0].address != ptr or len(reads[0].data) != length:
            raise TraceGenerationError("sol_keccak256: a slice's read is missing", got=hex(ptr))
        parts.append(reads.pop(0).data)
    if len(writes) != 1 or len(writes[0].data) != DIGEST:
        raise TraceGenerationError("sol_keccak256: no digest written")
    return records, parts, writes[0].data


def timestamps_used(event: SyscallEvent, trace: Trace) -> int:
    """Return ts_next − ts of a call (it does not depend on ts)."""
    records, parts, digest = event_data(event, trace)
    plan = plan_call(0, event.args, records, parts, digest)
    return plan.ts_next


def plans(trace: Trace, steps: NDArray[np.int64], ts: NDArray[np.int64]) -> NDArray[Any]:
    """Return, per step row, the plan of its `sol_keccak256` call (None for other rows)."""
    out = np.full(steps.shape[0], None, dtype=object)
    for event in trace.syscalls:
        if event.name != NAME or event.r0 is None:
            continue
        records, parts, digest = event_data(event, trace)
        out[event.step] = plan_call(int(ts[event.step]), event.args, records, parts, digest)
    return out


# --- the copies and the sponge's states ------------------------------------------------------


def copy_jobs(plan: CallPlan) -> list[CopyEntry]:
    """Return a call's copies: the pad byte, every non-empty slice, the digest to r3."""
    base = KECCAK_VADDR + 8 * plan.ts
    pad_ts = plan.ts + PAD_TS
    out: list[CopyEntry] = []
    pad = memcopy_chip.CopyJob(pad_ts, memcopy_chip.KIND_SET, base + plan.length, 0, 1, 1, pad_ts)
    out.append((pad, memcopy_chip.plan(pad), b"\x01"))
    for s, part in zip(plan.slices, plan.parts, strict=True):
        if not s.length:
            continue
        job = memcopy_chip.CopyJob(
            s.t + 1, memcopy_chip.KIND_MOVE, base + s.pos, s.ptr, s.length, 0, s.t + 1
        )
        out.append((job, memcopy_chip.plan(job), part))
    src = KECCAK_VADDR + 8 * plan.digest_word
    job = memcopy_chip.CopyJob(
        plan.t_dig, memcopy_chip.KIND_MOVE, plan.result_ptr, src, DIGEST, 0, plan.t_dig
    )
    out.append((job, memcopy_chip.plan(job), plan.digest))
    return out


def padded(data: bytes) -> bytes:
    """Return ``data`` with Keccak's padding (0x01 … 0x80) to a multiple of 136 bytes."""
    out = bytearray(data) + b"\x01" + bytes(-(len(data) + 1) % RATE)
    out[-1] |= 0x80
    return bytes(out)


def states(data: bytes) -> list[list[int]]:
    """Return the sponge's state (25 lanes) before each block, and after the last one."""
    message = padded(data)
    lanes = [0] * kc.LANES
    out = [list(lanes)]
    for block in range(0, len(message), RATE):
        for i in range(RATE_WORDS):
            chunk = message[block + 8 * i : block + 8 * i + 8]
            lanes[i] ^= int.from_bytes(chunk, "little")
        lanes = kc.keccak_f(lanes)
        out.append(list(lanes))
    return out
