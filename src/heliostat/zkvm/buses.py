"""The buses that tie the chips together, the layout of their messages, and shared constants.

A message is a tuple of field elements; each bus has one arity machine-wide (checked when the
machine is compiled). docs/zkvm.md explains what each bus proves.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence

from heliostat.stark.symbolic import Expr


class Bus(enum.IntEnum):
    """Bus identifiers (the LogUp fingerprint adds the id, so they only need to differ)."""

    STATE = 1  # (pc, ts, cu, image, space)
    FETCH = 2  # (pc, opcode, dst, src, off, off_neg, imm0, imm1, imm2, imm3, target, image)
    MEMORY = 3  # (addr, limit, v0, v1, v2, v3, t, space)
    FRAME = 4  # (depth, r6 limbs, r7 limbs, r8 limbs, r9 limbs, return pc, t, space)
    PROGRAM_DATA = 5  # (addr, limit, v0, v1, v2, v3, image)
    INPUT_DATA = 6  # (addr, limit, v0, v1, v2, v3)
    REG_INIT = 7  # (register, v0, v1, v2, v3)
    OUTPUT = 8  # (register, v0, v1, v2, v3)
    U16 = 9  # (x)                      x < 2^16
    U16_MSB = 10  # (x, x >> 15)
    DIV8 = 11  # (x, x >> 3, x & 7)
    BYTES = 12  # (a, b)                 a, b < 2^8
    BITWISE = 13  # (op, a, b, a op b)     bytes
    DECODE = 14  # (opcode, decode flags…) see decode.py
    SHIFT = 15  # (x, 8·right + k, lo, hi): byte x shifted by k < 8 (see u16_chip)
    PERMUTE = 16  # (input[16], output[16]): one Poseidon2 permutation
    COMPRESS = 17  # (left[8], right[8], digest[8]): Poseidon2 2-to-1 compression
    MERKLE = 18  # (tree, level, index, digest[8]): a node of an image or input tree
    COPY = 19  # (ts, kind, dir, n, q, s, v, word, edge, done, t): the next word of a copy
    COPY_DONE = 20  # (ts, t_end): a copy's last word is done
    OUTPUT_DATA = 21  # (addr, v0, v1, v2, v3): final value of a word of the public output
    IMAGE = 22  # (image, entry_pc, text_start, text_len, ro_last, ro_tail): a public image
    OUTPUT_PREFIX = 29  # (word, v0, v1, v2, v3): output words 0–3, exposed as public values
    # sol_keccak256 (zkvm-batch; ids 30+ so that kernel-switch buses can take 23–29)
    KECCAK = 30  # (input limbs[100], output limbs[100]): one Keccak-f[1600] permutation
    KECCAK_SLICE = 31  # (ts, slices word, count, i, pos, cost, t): the next slice to absorb
    KECCAK_ABSORB = 32  # (ts, blocks, k, state limbs[100], t): the next block to absorb
    KECCAK_DONE = 33  # (ts, t): the digest is in the sponge buffer


ARITY = {
    Bus.STATE: 5,
    Bus.FETCH: 12,
    Bus.MEMORY: 8,
    Bus.FRAME: 20,
    Bus.PROGRAM_DATA: 7,
    Bus.INPUT_DATA: 6,
    Bus.REG_INIT: 5,
    Bus.OUTPUT: 5,
    Bus.U16: 1,
    Bus.U16_MSB: 2,
    Bus.DIV8: 3,
    Bus.BYTES: 2,
    Bus.BITWISE: 4,
    Bus.DECODE: 8,
    Bus.SHIFT: 4,
    Bus.PERMUTE: 32,
    Bus.COMPRESS: 24,
    Bus.MERKLE: 11,
    Bus.COPY: 11,
    Bus.COPY_DONE: 2,
    Bus.OUTPUT_DATA: 5,
    Bus.IMAGE: 6,
    Bus.OUTPUT_PREFIX: 5,
    Bus.KECCAK: 200,
    Bus.KECCAK_SLICE: 7,
    Bus.KECCAK_ABSORB: 104,
    Bus.KECCAK_DONE: 2,
}


class BitOp(enum.IntEnum):
    """The operation tag of a BITWISE lookup."""

    AND = 1
    OR = 2
    XOR = 3


# --- execution state -----------------------------------------------------------------------
TS_START = 4  # timestamp of the first instruction (boundary rows may start one below)
TS_STEP = 2  # timestamp slots per instruction: 0 for reads of sources and memory, 1 for dst
TS_STEP_SYSCALL = 4  # syscalls: up to four slots
HALT_BASE = 1 << 30  # a halting row sends (HALT_BASE + status, pc, cu, image, space); pc < 2^28
MAX_IMAGES = 4  # code images per proof: image 0 (the one the run starts in) and up to 3 more
KERNEL_SPACE = 0  # the address space the run starts and halts in (a kernel's, or the program's)
TS_GAP_BITS = 16  # a memory access proves t − t_prev − 1 < 2^16 (keep-alive rows bridge more)

CALL_TARGET_SYSCALL = 1 << 29  # FETCH target of a `call imm` that names a syscall
CALL_TARGET_UNRESOLVED = (1 << 29) + 1  # … that names nothing (UnsupportedInstruction)

# --- memory addresses ----------------------------------------------------------------------
NUM_REGISTERS = 11
REGION_SHIFT = 1 << 28  # a word's address is region·2^28 + (offset >> 3), offsets below 2^31
REGION_PROGRAM, REGION_STACK, REGION_HEAP, REGION_INPUT = 1, 2, 3, 4
# the public output (`heliostat_publish` appends to it): region 5, at most 2^16 words; cell
# 16 holds its length so far (beyond every register nibble 0–15, so no instruction's register
# field can reach it; registers 11–15 have no boundary row and so cannot be accessed at all)
REGION_OUTPUT = 5
OUTPUT_VADDR = REGION_OUTPUT << 32
OUTPUT_CURSOR = 16
MAX_OUTPUT = 1 << 19  # bytes
OUTPUT_PREFIX_WORDS = 4  # the output's first 32 bytes are public values (when it has them)
# the sol_keccak256 sponge buffer (keccak_sponge.py): region 6, zero-initialised, written only
# by the sponge; a call at timestamp ts owns words ts .. ts + 17·blocks + 3
REGION_KECCAK = 6
KECCAK_VADDR = REGION_KECCAK << 32
WORD_LIMIT = 8  # the `limit` of a whole word
STACK_TOP = (2 << 32) + 0x1000  # r10 at depth 0; each call adds FRAME_STRIDE
FRAME_STRIDE = 0x2000
LIMB_BITS = 16
LIMB = 1 << LIMB_BITS
LIMB_MASK = LIMB - 1


def word_address(region: int, offset: int) -> int:
    """Return the memory-bus address of the word holding byte ``offset`` of ``region``."""
    return region * REGION_SHIFT + (offset >> 3)


def limbs(value: int) -> tuple[int, int, int, int]:
    """Split a 64-bit value into four 16-bit limbs (little-endian)."""
    return (
        value & LIMB_MASK,
        (value >> 16) & LIMB_MASK,
        (value >> 32) & LIMB_MASK,
        (value >> 48) & LIMB_MASK,
    )


def from_limbs(values: Sequence[int]) -> int:
    """Recombine four 16-bit limbs."""
    return sum(int(v) << (16 * i) for i, v in enumerate(values))


def recombine(exprs: Sequence[Expr], base: int = LIMB) -> Expr:
    """Σ exprs[i]·base^i, symbolically."""
    total: Expr = exprs[0]
    scale = 1
    for e in exprs[1:]:
        scale *= base
        total = total + e * scale
    return total
