"""The blocks of a `sol_keccak256` call: one row per 136-byte block absorbed.

Row k of the call at ts receives KECCAK_ABSORB (ts, blocks, k, state limbs[100], t), reads
the block's 17 sponge-buffer words (region 6, words ts + 17k ..) at t, adds the final pad
bit 0x80 to byte 135 when it is the last block (the buffer holds the message and the 0x01
pad byte, the rest is zero), XORs the block into the state's rate bytewise (BITWISE, which
also range-checks all three bytes), and looks the permutation of the result up on KECCAK
(keccak_chip proves it). It sends the permuted state on as block k + 1 at t + 1; the last
row (k + 1 = blocks) instead writes the first 32 bytes of the state (the digest) to words
ts + 17·blocks .. + 3 at t + 1 and sends KECCAK_DONE (ts, t + 2).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from heliostat.stark.air import AirBuilder
from heliostat.stark.symbolic import Expr
from heliostat.zkvm import keccak_chip as kc
from heliostat.zkvm import keccak_sponge as ks
from heliostat.zkvm.buses import REGION_KECCAK, REGION_SHIFT, BitOp, Bus
from heliostat.zkvm.chip import SlotResult
from heliostat.zkvm.errors import TraceGenerationError
from heliostat.zkvm.frame import access, limb_columns
from heliostat.zkvm.layout import Layout, Row
from heliostat.zkvm.operands import byte_columns
from heliostat.zkvm.u16_chip import LookupCounts

RATE_LIMBS = ks.RATE // 2  # 68
PAD_END = 0x80 << 8  # the final pad bit, in the high byte of the rate's last limb

LAYOUT = Layout()
for _n in ("is_real", "ts0", "nb", "k", "t", "last"):
    LAYOUT.add(_n)
LAYOUT.add("st", kc.LIMBS)  # the state before the block
LAYOUT.add("out", kc.LIMBS)  # after the permutation
LAYOUT.add("bb", ks.RATE)  # the padded block's bytes
LAYOUT.add("sb", ks.RATE)  # the state's rate bytes
LAYOUT.add("xb", ks.RATE)  # their XOR
LAYOUT.add("bt", ks.RATE_WORDS)  # previous timestamps of the block's words
LAYOUT.add("dold", 16)  # the digest words' previous values
LAYOUT.add("dt", 4)


def _pairs(b: list[Expr]) -> list[Expr]:
    return [b[2 * i] + b[2 * i + 1] * 256 for i in range(len(b) // 2)]


class KeccakAbsorbChip:
    """The AIR."""

    name = "keccak_absorb"
    width = LAYOUT.width

    def preprocessed_trace(self) -> None:
        """No fixed columns."""
        return None

    def eval(self, ab: AirBuilder) -> None:
        """Block words, XOR, permutation, chain or digest."""
        r = Row(ab.main.local, LAYOUT)
        real, last = r.one("is_real"), r.one("last")
        ts0, nb, k, t = r.one("ts0"), r.one("nb"), r.one("k"), r.one("t")
        st, out = r.many("st"), r.many("out")
        bb, sb, xb = r.many("bb"), r.many("sb"), r.many("xb")
        ab.assert_bool(real, "is_real is boolean")
        ab.assert_bool(last, "last is boolean")
        ab.assert_zero(last * (1 - real), "last only on real rows")
        ab.receive(Bus.KECCAK_ABSORB, [ts0, nb, k, *st, t], real, "this block")
        for j, limb in enumerate(_pairs(sb)):
            ab.assert_eq(st[j], limb, f"state limb {j} bytes")
        # the block's buffer words: limbs of bb, minus the final pad bit on the last block
        limbs = _pairs(bb)
        limbs[RATE_LIMBS - 1] = limbs[RATE_LIMBS - 1] - last * PAD_END
        base = REGION_KECCAK * REGION_SHIFT + ts0 + k * ks.RATE_WORDS
        bt = r.many("bt")
        for j in range(ks.RATE_WORDS):
            w = limbs[4 * j : 4 * j + 4]
            access(ab, base + j, w, w, bt[j], t, real, f"block word {j}")
        for i in range(ks.RATE):
            ab.send(Bus.BITWISE, [BitOp.XOR, sb[i], bb[i], xb[i]], real, f"xor byte {i}")
        absorbed = [*_pairs(xb), *st[RATE_LIMBS:]]
        ab.send(Bus.KECCAK, [*absorbed, *out], real, "permutation")
        ab.send(Bus.KECCAK_ABSORB, [ts0, nb, k + 1, *out, t + 1], real - last, "next block")
        ab.assert_zero(last * (k + 1 - nb), "the last block is block nb − 1")
        digest = REGION_KECCAK * REGION_SHIFT + ts0 + nb * ks.RATE_WORDS
        dold, dt = r.many("dold"), r.many("dt")
        for j in range(4):
            old, new = dold[4 * j : 4 * j + 4], out[4 * j : 4 * j + 4]
            access(ab, digest + j, old, new, dt[j], t + 1, last, f"digest word {j}")
        ab.send(Bus.KECCAK_DONE, [ts0, t + 2], last, "digest ready")


def _lane_limbs(lanes: list[list[int]]) -> NDArray[np.int64]:
    arr = np.array(lanes, np.uint64).reshape(-1)
    return limb_columns(arr).reshape(len(lanes), kc.LIMBS)


def generate(
    plans: list[ks.CallPlan],
    blocks: list[SlotResult],
    digests: list[SlotResult],
    lookups: LookupCounts,
) -> tuple[NDArray[np.int64], NDArray[np.uint64]]:
    """Return the absorb rows and the permutations' input states (n, 25).

    ``blocks[j]`` / ``digests[j]``: the scan's results for word j of every block / call.
    """
    rows: list[NDArray[np.int64]] = []
    inputs: list[list[int]] = []
    b = 0
    col = LAYOUT.index
    for call, plan in enumerate(plans):
        sponge = ks.states(plan.data)
        message = ks.padded(plan.data)
        if sponge[-1][:4] != [
            int.from_bytes(plan.digest[8 * j : 8 * j + 8], "little") for j in range(4)
        ]:
            raise TraceGenerationError("sol_keccak256: the VM's digest is not the sponge's")
        for k in range(plan.blocks):
            row = np.zeros(LAYOUT.width, np.int64)
            last = k == plan.blocks - 1
            words = np.array([int(blocks[j].old[b]) for j in range(ks.RATE_WORDS)], np.uint64)
            block = message[ks.RATE * k : ks.RATE * (k + 1)]
            expected = bytearray(block)
            if last:
                expected[-1] ^= 0x80
            if words.astype("<u8").tobytes() != bytes(expected):
                raise TraceGenerationError("sol_keccak256: the sponge buffer is not the message")
            state_in, state_out = sponge[k], sponge[k + 1]
            st = _lane_limbs([state_in])[0]
            sb = byte_columns(np.array(state_in[: ks.RATE_WORDS], np.uint64)).reshape(-1)
            bb = np.frombuffer(block, np.uint8).astype(np.int64)
            xb = sb ^ bb
            absorbed = [
                lane ^ int.from_bytes(block[8 * i : 8 * i + 8], "little")
                if i < ks.RATE_WORDS
                else lane
                for i, lane in enumerate(state_in)
            ]
            inputs.append(absorbed)
            for name, v in (("is_real", 1), ("ts0", plan.ts), ("nb", plan.blocks), ("k", k)):
                row[col(name)] = v
            row[col("t")] = plan.t_s + k
            row[col("last")] = last
            row[LAYOUT.span("st")] = st
            row[LAYOUT.span("out")] = _lane_limbs([state_out])[0]
            row[LAYOUT.span("bb")] = bb
            row[LAYOUT.span("sb")] = sb
            row[LAYOUT.span("xb")] = xb
            bts = np.array([int(blocks[j].t_prev[b]) for j in range(ks.RATE_WORDS)], np.int64)
            row[LAYOUT.span("bt")] = bts
            lookups.u16(plan.t_s + k - bts - 1)
            lookups.bitwise(BitOp.XOR, sb, bb)
            if last:
                dold = np.array([int(digests[j].old[call]) for j in range(4)], np.uint64)
                row[LAYOUT.span("dold")] = limb_columns(dold).reshape(-1)
                dts = np.array([int(digests[j].t_prev[call]) for j in range(4)], np.int64)
                row[LAYOUT.span("dt")] = dts
                lookups.u16(plan.t_s + k + 1 - dts - 1)
            rows.append(row)
            b += 1
    trace = np.array(rows, np.int64).reshape(-1, LAYOUT.width)
    return trace, np.array(inputs, np.uint64).reshape(-1, kc.LANES)
