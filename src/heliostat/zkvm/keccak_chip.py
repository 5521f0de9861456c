"""The Keccak-f[1600] chip: one permutation per 25 rows, answering KECCAK lookups.

This is the permutation under `sol_keccak256` (docs/zkvm.md, "sol_keccak256"): the absorb
rows of the syscall's sponge (keccak_absorb_chip) look permutations up here.

Rows 0–23 of a permutation are its rounds, row 24 holds the output. A round row has the state
A as 100 16-bit limbs, θ's output A' as 1600 bits (lane x + 5y, bit z), the column parities
C[x][z] of A and C'[x][z] = C[x][z] ⊕ C[x − 1][z] ⊕ C[x + 1][z − 1] (320 bits each; the
layout of Plonky3's keccak-air, which keeps bits only where χ needs them). A's bits are never
stored: each limb of A must equal the bits of A' ⊕ C ⊕ C' it covers, and the column parity of
A' must be C' ((s − C')(s − C' − 2)(s − C' − 4) = 0 for the column sum s). Together these
force C to be A's column parity (parity of A' ⊕ C ⊕ C' over five rows is C' ⊕ C ⊕ C' = C)
and so A' = A ⊕ C ⊕ C' = θ(A). ρ and π only move bits, so χ and ι are expressions of A' of
degree 3 and 4, and the next row's A limbs must equal theirs. The input limbs are copied
from row 0's A to every row of the permutation; row 24 receives KECCAK (input limbs, output
limbs) with its multiplicity. One-hot round flags (25 columns)
follow each other from the first row on; padding rows are permutations of the zero state
with multiplicity 0 (the last one may be cut off by the table's end). A table with no flag on
its first row has none anywhere: all zero, it is left out of proofs that hash nothing.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from heliostat.stark.air import AirBuilder
from heliostat.stark.symbolic import Expr, sum_exprs
from heliostat.zkvm.buses import Bus
from heliostat.zkvm.layout import Layout, Row

ROUNDS = 24
PERIOD = ROUNDS + 1  # rounds, then the output row
LANES = 25
LIMBS = 4 * LANES  # 16-bit limbs of the state
MASK64 = (1 << 64) - 1
KECCAK_BUS = Bus.KECCAK  # (input limbs[100], output limbs[100])


def _rotation_offsets() -> list[list[int]]:
    """Return ρ's offsets r[x][y], from the (x, y) → (y, 2x + 3y) walk of FIPS 202."""
    r = [[0] * 5 for _ in range(5)]
    x, y = 1, 0
    for t in range(24):
        r[x][y] = ((t + 1) * (t + 2) // 2) % 64
        x, y = y, (2 * x + 3 * y) % 5
    return r


def _round_constants() -> list[int]:
    """Return ι's 24 constants, from FIPS 202's LFSR rc(t)."""

    def rc(t: int) -> int:
        if t % 255 == 0:
            return 1
        r = 1
        for _ in range(t % 255):
            r <<= 1
            if r & 0x100:
                r ^= 0x171
        return r & 1

    out = []
    for i in range(ROUNDS):
        value = 0
        for j in range(7):
            if rc(j + 7 * i):
                value |= 1 << ((1 << j) - 1)
        out.append(value)
    return out


ROT = _rotation_offsets()
RC = _round_constants()


# --- the readable reference ------------------------------------------------------------------


def keccak_f(lanes: Sequence[int]) -> list[int]:
    """Apply Keccak-f[1600] to 25 lanes (lane x + 5y, little-endian bytes of the state)."""
    a = [[lanes[x + 5 * y] & MASK64 for y in range(5)] for x in range(5)]

    def rot(v: int, n: int) -> int:
        return ((v << n) | (v >> (64 - n))) & MASK64 if n else v

    for rc in RC:
        c = [a[x][0] ^ a[x][1] ^ a[x][2] ^ a[x][3] ^ a[x][4] for x in range(5)]
        d = [c[(x - 1) % 5] ^ rot(c[(x + 1) % 5], 1) for x in range(5)]
        a = [[a[x][y] ^ d[x] for y in range(5)] for x in range(5)]
        b = [[0] * 5 for _ in range(5)]
        for x in range(5):
            for y in range(5):
                b[y][(2 * x + 3 * y) % 5] = rot(a[x][y], ROT[x][y])
        a = [
            [b[x][y] ^ (~b[(x + 1) % 5][y] & b[(x + 2) % 5][y]) & MASK64 for y in range(5)]
            for x in range(5)
        ]
        a[0][0] ^= rc
    return [a[i % 5][i // 5] for i in range(LANES)]


def keccak256(data: bytes) -> bytes:
    """Return Keccak-256 of ``data`` (Ethereum's and `sol_keccak256`'s: pad 0x01 … 0x80)."""
    rate = 136
    padded = bytearray(data) + b"\x01" + bytes(-(len(data) + 1) % rate)
    padded[-1] |= 0x80
    lanes = [0] * LANES
    for block in range(0, len(padded), rate):
        for i in range(rate // 8):
            chunk = padded[block + 8 * i : block + 8 * i + 8]
            lanes[i] ^= int.from_bytes(chunk, "little")
        lanes = keccak_f(lanes)
    return b"".join(lane.to_bytes(8, "little") for lane in lanes[:4])


# --- the AIR ---------------------------------------------------------------------------------

LAYOUT = Layout()
LAYOUT.add("a", LIMBS)  # limb k: bits 16(k mod 4) … +15 of lane k div 4
LAYOUT.add("c", 64 * 5)  # bit z of column x at 64x + z
LAYOUT.add("cp", 64 * 5)  # C' = C ⊕ C[x − 1] ⊕ C[x + 1] rotated by one, same places
LAYOUT.add("ap", 64 * LANES)  # bit z of lane x + 5y at (x + 5y)·64 + z
LAYOUT.add("inp", LIMBS)
LAYOUT.add("f", PERIOD)
LAYOUT.add("m")


def _bit(bits: Sequence[Expr], x: int, y: int, z: int) -> Expr:
    return bits[64 * ((x % 5) + 5 * (y % 5)) + z % 64]


def _xor(a: Expr, b: Expr | int) -> Expr:
    """XOR of two bits (as field elements)."""
    return a + b - a * b * 2


def limbs_of(bits: Sequence[Expr]) -> list[Expr]:
    """Return the 100 16-bit limbs of a state given as 1600 bits."""
    return [sum_exprs(bits[16 * k + j] * (1 << j) for j in range(16)) for k in range(LIMBS)]


def round_output(ap: Sequence[Expr], rc_bits: Sequence[Expr]) -> list[Expr]:
    """Return χ(ι) ∘ π ∘ ρ of θ's output ``ap`` as 1600 expressions (``rc_bits``: ι's bits)."""
    # B[x][y] = A'[x'][y'] rotated, where (x, y) = (y', 2x' + 3y')
    b: dict[tuple[int, int, int], Expr] = {}
    for x in range(5):
        for y in range(5):
            for z in range(64):
                b[(y, (2 * x + 3 * y) % 5, (z + ROT[x][y]) % 64)] = _bit(ap, x, y, z)
    out: list[Expr] = [b[(0, 0, 0)]] * (64 * LANES)
    for x in range(5):
        for y in range(5):
            for z in range(64):
                v, v1, v2 = b[(x, y, z)], b[((x + 1) % 5, y, z)], b[((x + 2) % 5, y, z)]
                chi = _xor(v, (1 - v1) * v2)
                out[64 * (x + 5 * y) + z] = _xor(chi, rc_bits[z]) if x == y == 0 else chi
    return out


class KeccakChip:
    """The AIR."""

    name = "keccak"
    width = LAYOUT.width

    def preprocessed_trace(self) -> None:
        """No fixed columns (the round flags are main columns that follow each other)."""
        return None

    def eval(self, ab: AirBuilder) -> None:
        """Constrain flags, θ, the rounds, the input copy and the lookup."""
        r, nxt = Row(ab.main.local, LAYOUT), Row(ab.main.next, LAYOUT)
        a, c, cp, ap, f = r.many("a"), r.many("c"), r.many("cp"), r.many("ap"), r.many("f")
        for i in range(PERIOD):
            ab.assert_bool(f[i], f"f{i} is boolean")
        # every row has one flag, or (an empty table: no rows at all) none: the flags move on
        # row by row, so the first row decides for all
        ab.assert_bool(sum_exprs(f), "at most one round flag")
        ab.when_first_row().assert_eq(f[0], sum_exprs(f), "starts at round 0 (or is empty)")
        nf = nxt.many("f")
        for i in range(PERIOD):
            ab.when_transition().assert_eq(nf[(i + 1) % PERIOD], f[i], f"flag {i} moves on")
        for k in range(64 * LANES):
            ab.assert_bool(ap[k], "a' is boolean")
        # θ (see the module docstring): C', the parity of A', and A's limbs from A' ⊕ C ⊕ C'
        for x in range(5):
            for z in range(64):
                cb, cpb = c[64 * x + z], cp[64 * x + z]
                ab.assert_bool(cb, "c is boolean")
                ab.assert_bool(cpb, "c' is boolean")
                rotated = _xor(c[64 * ((x - 1) % 5) + z], c[64 * ((x + 1) % 5) + (z - 1) % 64])
                ab.assert_eq(cpb, _xor(cb, rotated), "c' from c")
                s = sum_exprs(_bit(ap, x, y, z) for y in range(5)) - cpb
                ab.assert_zero(s * (s - 2) * (s - 4), "c' is the column parity of a'")
        for k in range(LIMBS):
            lane, base = k // 4, 16 * (k % 4)
            x = lane % 5
            bits = [
                _xor(_xor(ap[64 * lane + base + j], c[64 * x + base + j]), cp[64 * x + base + j])
                for j in range(16)
            ]
            ab.assert_eq(a[k], sum_exprs(b * (1 << j) for j, b in enumerate(bits)), "a from a'")
        # the next row's state is this round's output (rounds 0–23)
        round_row = 1 - f[ROUNDS]
        rc_bits = [sum_exprs(f[i] for i in range(ROUNDS) if RC[i] >> z & 1) for z in range(64)]
        out = limbs_of(round_output(ap, rc_bits))
        na = nxt.many("a")
        for k in range(LIMBS):
            ab.when_transition().assert_zero(round_row * (na[k] - out[k]), "round")
        # the input: row 0's state, carried to the output row
        inp, ninp = r.many("inp"), nxt.many("inp")
        for k in range(LIMBS):
            ab.assert_zero(f[0] * (inp[k] - a[k]), "input is round 0's state")
            ab.when_transition().assert_zero(round_row * (ninp[k] - inp[k]), "input carried")
        ab.when_transition().assert_zero(round_row * (nxt.one("m") - r.one("m")), "m carried")
        ab.receive(KECCAK_BUS, [*inp, *a], f[ROUNDS] * r.one("m"), "permutation")


# --- trace generation ------------------------------------------------------------------------


def _bits(lanes: NDArray[np.uint64]) -> NDArray[np.int64]:
    """(n, 25) lanes → (n, 1600) bits, lane-major, little-endian within a lane."""
    shifts = np.arange(64, dtype=np.uint64)
    return ((lanes[:, :, None] >> shifts) & np.uint64(1)).astype(np.int64).reshape(-1, 1600)


def _lanes(bits: NDArray[np.int64]) -> NDArray[np.uint64]:
    weights = np.uint64(1) << np.arange(64, dtype=np.uint64)
    b = bits.reshape(-1, LANES, 64).astype(np.uint64)
    lanes: NDArray[np.uint64] = (b * weights).sum(axis=2, dtype=np.uint64)
    return lanes


def _round_rows(a: NDArray[np.int64], rnd: int) -> tuple[NDArray[np.int64], ...]:
    """One round on (n, 1600) bits: return (c, c', ap, next a)."""
    s = a.reshape(-1, 5, 5, 64)  # (n, y, x, z)
    c = s.sum(axis=1) & 1  # (n, x, z)
    d = np.roll(c, 1, axis=1) ^ np.roll(np.roll(c, -1, axis=1), 1, axis=2)
    ap = s ^ d[:, None, :, :]
    lanes = _lanes(ap.reshape(-1, 1600))
    out = np.array([keccak_round(row, rnd) for row in lanes.tolist()], dtype=np.uint64)
    cp = c ^ d
    return (
        c.reshape(-1, 320),
        cp.reshape(-1, 320),
        ap.reshape(-1, 1600),
        _bits(out.reshape(-1, LANES)),
    )


def _limbs(bits: NDArray[np.int64]) -> NDArray[np.int64]:
    """(n, 1600) bits → (n, 100) 16-bit limbs."""
    weights = np.int64(1) << np.arange(16, dtype=np.int64)
    limbs: NDArray[np.int64] = (bits.reshape(-1, LIMBS, 16) * weights).sum(axis=2)
    return limbs


def keccak_round(lanes_after_theta: Sequence[int], rnd: int) -> list[int]:
    """Return ρ, π, χ and ι of round ``rnd`` applied to θ's output (lanes x + 5y)."""
    a = lanes_after_theta
    b = [[0] * 5 for _ in range(5)]
    for x in range(5):
        for y in range(5):
            v, n = a[x + 5 * y], ROT[x][y]
            b[y][(2 * x + 3 * y) % 5] = ((v << n) | (v >> (64 - n))) & MASK64 if n else v
    out = [0] * LANES
    for x in range(5):
        for y in range(5):
            v = b[x][y] ^ (~b[(x + 1) % 5][y] & b[(x + 2) % 5][y]) & MASK64
            out[x + 5 * y] = v
    out[0] ^= RC[rnd]
    return out


def generate(inputs: NDArray[np.uint64], mult: NDArray[np.int64]) -> NDArray[np.int64]:
    """Rows for the input states (n, 25) with their multiplicities, padded to a power of two.

    Padding permutations run on the zero state with multiplicity 0.
    """
    n = int(inputs.shape[0])
    height = max(PERIOD, 1 << (PERIOD * max(n, 1) - 1).bit_length())
    perms = -(-height // PERIOD)
    states = np.zeros((perms, LANES), np.uint64)
    states[:n] = inputs
    m = np.zeros(perms, np.int64)
    m[:n] = mult
    t = np.zeros((perms, PERIOD, LAYOUT.width), np.int64)
    a = _bits(states)
    inp = _limbs(a)
    for rnd in range(PERIOD):
        t[:, rnd, LAYOUT.span("a")] = _limbs(a)
        t[:, rnd, LAYOUT.span("inp")] = inp
        t[:, rnd, LAYOUT.index("f") + rnd] = 1
        t[:, rnd, LAYOUT.index("m")] = m
        # the output row's θ columns are those of its state, so every row is consistent
        c, cp, ap, after = _round_rows(a, min(rnd, ROUNDS - 1))
        t[:, rnd, LAYOUT.span("c")] = c
        t[:, rnd, LAYOUT.span("cp")] = cp
        t[:, rnd, LAYOUT.span("ap")] = ap
        a = after
    return t.reshape(perms * PERIOD, LAYOUT.width)[:height]


def output_lanes(rows: NDArray[np.int64]) -> NDArray[np.uint64]:
    """Return the output states (n, 25) of the permutations in generated rows."""
    limbs = rows[ROUNDS::PERIOD, LAYOUT.span("a")].reshape(-1, LANES, 4).astype(np.uint64)
    shifts = np.uint64(16) * np.arange(4, dtype=np.uint64)
    lanes: NDArray[np.uint64] = np.bitwise_or.reduce(limbs << shifts, axis=2)
    return lanes
