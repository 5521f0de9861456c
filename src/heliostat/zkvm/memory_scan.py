"""Replay of every register and memory-word access in time order (trace generation).

Chips declare their accesses (address, timestamp, bytes written); the scan orders them per
address, supplies each access's old value and previous timestamp, inserts keep-alive accesses
across gaps of 2^16 timestamps or more, and lists the boundary rows (first and last value of
every address). `scan_reference` is the readable specification; `scan` is the numba kernel
used in practice, and tests/zkvm/test_memory_scan.py checks that they agree.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeVar

import numpy as np
from numba import njit
from numpy.typing import NDArray

from heliostat.zkvm.buses import (
    MAX_OUTPUT,
    NUM_REGISTERS,
    OUTPUT_CURSOR,
    REGION_HEAP,
    REGION_INPUT,
    REGION_KECCAK,
    REGION_OUTPUT,
    REGION_PROGRAM,
    REGION_SHIFT,
    REGION_STACK,
    TS_GAP_BITS,
)
from heliostat.zkvm.errors import TraceGenerationError

ScalarT = TypeVar("ScalarT", bound=np.generic)

U64 = NDArray[np.uint64]
I64 = NDArray[np.int64]
GAP = 1 << TS_GAP_BITS
STACK_WORDS = 1 << 16  # 64 frames of 8 KiB of virtual space, 8 bytes per word
KECCAK_WORDS = 1 << 27  # the sol_keccak256 sponge buffer's words (the boundary's bound)


def word_address(vaddr: U64) -> I64:
    """Memory-bus addresses of the words holding virtual addresses ``vaddr`` (regions 1–4)."""
    v = np.asarray(vaddr, dtype=np.uint64)
    region = (v >> np.uint64(32)).astype(np.int64)
    offset = (v & np.uint64(0xFFFFFFFF)).astype(np.int64)
    return region * REGION_SHIFT + (offset >> 3)


@dataclass(frozen=True)
class InitialMemory:
    """What every address holds before the first instruction."""

    registers: tuple[int, ...]  # r0..r10
    program: bytes  # the program region (read-only)
    heap_size: int
    input: bytes  # the input region

    def word(self, addr: int) -> tuple[int, int]:
        """(value, limit) of an address; raises for an unmapped one (a generator bug)."""
        if 0 <= addr < NUM_REGISTERS:
            return self.registers[addr], 8
        if addr == OUTPUT_CURSOR:
            return 0, 8
        region, vword = divmod(addr, REGION_SHIFT)
        offset = vword * 8
        if region in (REGION_PROGRAM, REGION_INPUT):
            data = self.program if region == REGION_PROGRAM else self.input
            if offset < len(data):
                chunk = data[offset : offset + 8]
                return int.from_bytes(chunk, "little"), len(chunk)
        else:
            # stack frames without the gaps between them, heap below its size: zero-initialised
            in_stack = region == REGION_STACK and vword < STACK_WORDS and not (vword >> 9) & 1
            in_output = region == REGION_OUTPUT and offset < MAX_OUTPUT
            in_output = in_output or (region == REGION_KECCAK and vword < KECCAK_WORDS)
            if in_stack or in_output or (region == REGION_HEAP and offset + 8 <= self.heap_size):
                return 0, 8
        raise TraceGenerationError("access to an unmapped word", got=hex(addr))


def word_limits(addresses: I64, memory: InitialMemory) -> I64:
    """`limit` of each memory word address (8, or the tail of a region's partial last word)."""
    a = np.asarray(addresses, dtype=np.int64)
    out = np.full(a.shape[0], 8, dtype=np.int64)
    for region, size in ((REGION_PROGRAM, len(memory.program)), (REGION_INPUT, len(memory.input))):
        if size % 8:
            out[a == region * REGION_SHIFT + size // 8] = size % 8
    return out


@dataclass
class AccessBatch:
    """Accesses to replay: a read has ``wmask`` 0; a write replaces the bytes set in wmask."""

    addr: I64
    t: I64
    wmask: NDArray[np.uint8]
    wval: U64

    @staticmethod
    def concat(batches: list[AccessBatch]) -> AccessBatch:
        """Join batches (offsets of each part are the cumulative lengths)."""
        if not batches:
            z = np.zeros(0, np.int64)
            return AccessBatch(z, z.copy(), np.zeros(0, np.uint8), np.zeros(0, np.uint64))
        return AccessBatch(
            np.concatenate([b.addr for b in batches]).astype(np.int64),
            np.concatenate([b.t for b in batches]).astype(np.int64),
            np.concatenate([b.wmask for b in batches]).astype(np.uint8),
            np.concatenate([b.wval for b in batches]).astype(np.uint64),
        )

    def __len__(self) -> int:
        return int(self.addr.shape[0])


@dataclass
class ScanResult:
    """Per access (input order): old and new value, previous timestamp.

    ``boundary_*``: one entry per address, sorted by address. ``keep_*``: keep-alive rows.
    """

    old: U64
    new: U64
    t_prev: I64
    boundary_addr: I64
    boundary_limit: I64
    boundary_init: U64
    boundary_t_init: I64
    boundary_final: U64
    boundary_t_final: I64
    keep_addr: I64
    keep_limit: I64
    keep_value: U64
    keep_t_prev: I64
    keep_t: I64


def _mask64(wmask: int) -> int:
    return sum(0xFF << (8 * i) for i in range(8) if wmask >> i & 1)


def scan_reference(batch: AccessBatch, memory: InitialMemory) -> ScanResult:
    """Replay readably (one address at a time, in time order)."""
    n = len(batch)
    order = sorted(range(n), key=lambda i: (int(batch.addr[i]), int(batch.t[i])))
    old, new = [0] * n, [0] * n
    t_prev = [0] * n
    bnd: list[tuple[int, int, int, int, int, int]] = []
    keep: list[tuple[int, int, int, int, int]] = []
    k = 0
    while k < n:
        addr = int(batch.addr[order[k]])
        value, limit = memory.word(addr)
        t_init = int(batch.t[order[k]]) - 1
        last = t_init
        while k < n and int(batch.addr[order[k]]) == addr:
            i = order[k]
            t = int(batch.t[i])
            if t <= last:
                raise TraceGenerationError(
                    "two accesses to one address at one timestamp", got=(hex(addr), t)
                )
            while t - last - 1 >= GAP:
                keep.append((addr, limit, value, last, last + GAP))
                last += GAP
            mask = _mask64(int(batch.wmask[i]))
            old[i] = value
            value = (value & ~mask & (2**64 - 1)) | (int(batch.wval[i]) & mask)
            new[i] = value
            t_prev[i] = last
            last = t
            k += 1
        bnd.append((addr, limit, memory.word(addr)[0], t_init, value, last))
    cols = list(zip(*bnd, strict=True)) if bnd else [()] * 6
    kcols = list(zip(*keep, strict=True)) if keep else [()] * 5
    return ScanResult(
        old=np.array(old, dtype=np.uint64),
        new=np.array(new, dtype=np.uint64),
        t_prev=np.array(t_prev, dtype=np.int64),
        boundary_addr=np.array(cols[0], dtype=np.int64),
        boundary_limit=np.array(cols[1], dtype=np.int64),
        boundary_init=np.array(cols[2], dtype=np.uint64),
        boundary_t_init=np.array(cols[3], dtype=np.int64),
        boundary_final=np.array(cols[4], dtype=np.uint64),
        boundary_t_final=np.array(cols[5], dtype=np.int64),
        keep_addr=np.array(kcols[0], dtype=np.int64),
        keep_limit=np.array(kcols[1], dtype=np.int64),
        keep_value=np.array(kcols[2], dtype=np.uint64),
        keep_t_prev=np.array(kcols[3], dtype=np.int64),
        keep_t=np.array(kcols[4], dtype=np.int64),
    )


# --- the numba kernel --------------------------------------------------------------------


@njit(cache=True)
def _initial_word(
    addr: np.int64,
    registers: U64,
    program: NDArray[np.uint8],
    heap_size: np.int64,
    inp: NDArray[np.uint8],
) -> tuple[np.uint64, np.int64, bool | np.bool_]:
    if addr < NUM_REGISTERS:
        return registers[addr], np.int64(8), addr >= 0
    if addr == OUTPUT_CURSOR:
        return np.uint64(0), np.int64(8), True
    region = addr // REGION_SHIFT
    vword = addr - region * REGION_SHIFT
    offset = vword * 8
    if region in (REGION_PROGRAM, REGION_INPUT):
        data = program if region == REGION_PROGRAM else inp
        if offset < data.shape[0]:
            end = min(offset + 8, data.shape[0])
            v = np.uint64(0)
            for j in range(end - offset):
                v |= np.uint64(data[offset + j]) << np.uint64(8 * j)
            return v, np.int64(end - offset), True
        return np.uint64(0), np.int64(0), False
    if region == REGION_STACK:
        ok = vword < STACK_WORDS and ((vword >> 9) & 1) == 0
        return np.uint64(0), np.int64(8), ok
    if region == REGION_HEAP:
        return np.uint64(0), np.int64(8), offset + 8 <= heap_size
    if region == REGION_OUTPUT:
        return np.uint64(0), np.int64(8), offset < MAX_OUTPUT
    if region == REGION_KECCAK:
        return np.uint64(0), np.int64(8), vword < KECCAK_WORDS
    return np.uint64(0), np.int64(0), False


@njit(cache=True)
def _scan_kernel(
    addr: I64,
    t: I64,
    wmask: NDArray[np.uint8],
    wval: U64,
    order: I64,
    registers: U64,
    program: NDArray[np.uint8],
    heap_size: np.int64,
    inp: NDArray[np.uint8],
    old: U64,
    new: U64,
    t_prev: I64,
    bnd: I64,  # (n, 4): addr, limit, t_init, t_final
    bnd_val: U64,  # (n, 2): init, final
    keep: I64,  # (cap, 4): addr, limit, t_prev, t
    keep_val: U64,
) -> tuple[int, int, int]:
    """Return (boundary rows, keep-alive rows, error index or −1)."""
    n = addr.shape[0]
    nb = 0
    nk = 0
    k = 0
    masks = np.zeros(256, dtype=np.uint64)
    for m in range(256):
        acc = np.uint64(0)
        for j in range(8):
            if (m >> j) & 1:
                acc |= np.uint64(0xFF) << np.uint64(8 * j)
        masks[m] = acc
    while k < n:
        a = addr[order[k]]
        value, limit, ok = _initial_word(a, registers, program, heap_size, inp)
        if not ok:
            return nb, nk, order[k]
        init = value
        t_init = t[order[k]] - 1
        last = t_init
        while k < n and addr[order[k]] == a:
            i = order[k]
            ti = t[i]
            if ti <= last:
                return nb, nk, i
            while ti - last - 1 >= GAP:
                if nk == keep.shape[0]:
                    return nb, nk, -2  # grow and retry
                keep[nk, 0] = a
                keep[nk, 1] = limit
                keep[nk, 2] = last
                keep[nk, 3] = last + GAP
                keep_val[nk] = value
                nk += 1
                last += GAP
            mask = masks[wmask[i]]
            old[i] = value
            value = (value & ~mask) | (wval[i] & mask)
            new[i] = value
            t_prev[i] = last
            last = ti
            k += 1
        bnd[nb, 0] = a
        bnd[nb, 1] = limit
        bnd[nb, 2] = t_init
        bnd[nb, 3] = last
        bnd_val[nb, 0] = init
        bnd_val[nb, 1] = value
        nb += 1
    return nb, nk, -1


def scan(batch: AccessBatch, memory: InitialMemory) -> ScanResult:
    """Replay in numba; same result as `scan_reference`."""
    n = len(batch)
    order = np.lexsort((batch.t, batch.addr)).astype(np.int64)
    regs = np.array(memory.registers, dtype=np.uint64)
    program = np.frombuffer(memory.program, dtype=np.uint8)
    inp = np.frombuffer(memory.input, dtype=np.uint8)
    cap = 64
    while True:
        old = np.zeros(n, np.uint64)
        new = np.zeros(n, np.uint64)
        t_prev = np.zeros(n, np.int64)
        bnd = np.zeros((n, 4), np.int64)
        bnd_val = np.zeros((n, 2), np.uint64)
        keep = np.zeros((cap, 4), np.int64)
        keep_val = np.zeros(cap, np.uint64)
        nb, nk, err = _scan_kernel(
            batch.addr,
            batch.t,
            batch.wmask,
            batch.wval,
            order,
            regs,
            program,
            np.int64(memory.heap_size),
            inp,
            old,
            new,
            t_prev,
            bnd,
            bnd_val,
            keep,
            keep_val,
        )
        if err == -2:
            cap *= 4
            continue
        if err >= 0:
            bad_addr, bad_t = int(batch.addr[err]), int(batch.t[err])
            raise TraceGenerationError(
                "unmapped word or two accesses at one timestamp", got=(hex(bad_addr), bad_t)
            )
        break
    return ScanResult(
        old=old,
        new=new,
        t_prev=t_prev,
        boundary_addr=bnd[:nb, 0].copy(),
        boundary_limit=bnd[:nb, 1].copy(),
        boundary_init=bnd_val[:nb, 0].copy(),
        boundary_t_init=bnd[:nb, 2].copy(),
        boundary_final=bnd_val[:nb, 1].copy(),
        boundary_t_final=bnd[:nb, 3].copy(),
        keep_addr=keep[:nk, 0].copy(),
        keep_limit=keep[:nk, 1].copy(),
        keep_value=keep_val[:nk].copy(),
        keep_t_prev=keep[:nk, 2].copy(),
        keep_t=keep[:nk, 3].copy(),
    )


def with_all_registers(result: ScanResult, registers: tuple[int, ...]) -> ScanResult:
    """Add boundary rows for registers nobody accessed (the public initialises all of them).

    The output cursor is one of them: the public starts it at 0 and reads its final value.
    """
    cells = (*range(NUM_REGISTERS), OUTPUT_CURSOR)
    present = set(result.boundary_addr[result.boundary_addr <= OUTPUT_CURSOR].tolist())
    missing = [r for r in cells if r not in present]
    if not missing:
        return result
    m = np.array(missing, dtype=np.int64)
    values = np.array([registers[r] if r < NUM_REGISTERS else 0 for r in missing], np.uint64)
    addr = np.concatenate([m, result.boundary_addr])
    order = np.argsort(addr, kind="stable")

    def cat(extra: NDArray[np.generic], column: NDArray[ScalarT]) -> NDArray[ScalarT]:
        joined: NDArray[ScalarT] = np.concatenate([extra.astype(column.dtype), column])
        return joined[order]

    zeros = np.zeros(len(missing), dtype=np.int64)
    result.boundary_addr = cat(m, result.boundary_addr)
    result.boundary_limit = cat(np.full(len(missing), 8), result.boundary_limit)
    result.boundary_init = cat(values, result.boundary_init)
    result.boundary_t_init = cat(zeros, result.boundary_t_init)
    result.boundary_final = cat(values, result.boundary_final)
    result.boundary_t_final = cat(zeros, result.boundary_t_final)
    return result
