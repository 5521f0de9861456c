"""Generate fe25519_asm.c: GF(2^255 − 19) multiply and square as hand-scheduled sBPF.

Run `python c/lib/ed25519/gen_field_asm.py` after changing the schedule; a test checks that
the committed file is what this script prints. Why assembly: every sBPF instruction is a
proven row, and LLVM's scheduler hoists the 100 loads of a 10-limb product so far that half
the instructions it emits are register spills (~550 instructions per multiply, against ~390
here).

Representation (as in ref10): 10 signed 64-bit limbs, f = Σ f_i·2^⌈25.5·i⌉, even limbs
26 bits and odd limbs 25 bits once carried. A product column h_k = Σ_{i+j≡k} f_i·g_j·c_ij,
where c_ij = 2 when i and j are both odd (the radix is 2^25.5) and a factor 19 applies when
i + j ≥ 10 (2^255 ≡ 19).

Schedule: the columns are computed five at a time with their five accumulators in
registers; g_j is loaded once per half into a register and every product is
`t = f[i]; t *= g_j; acc += t` (3 instructions). The g_j run from 9 down to 0, so in each
column the wrapped products (j > k) come first and the ×19 is one multiply of the
accumulator before the first unwrapped product. The ×2 of odd·odd products is one shift of
the g_j register between the odd and the even columns. Carries are arithmetic shifts (floor),
so limbs come out in [0, 2^26) / [0, 2^25), with limb 1 possibly a little outside after the
final wrap; inputs may have limbs of magnitude up to 2^27 (bounds in fe25519.h).

Register use: r1 = h (spilled to the stack at once), r2 = f, r3 = g, r4–r8 the
accumulators, r9 the g_j register, r0 a product, r1 the carry between the two halves.
The output is written only at the end, so h may alias f or g.
"""

from __future__ import annotations

import sys
from pathlib import Path

ACC = ("r4", "r5", "r6", "r7", "r8")
GJ, T, CARRY = "r9", "r0", "r1"
H_SPILL = -8  # stack slots of the frame: h pointer, then h0..h4 of the first half
LOW_SLOT = {k: -16 - 8 * k for k in range(5)}
MASK = {0: 0x3FFFFFF, 1: 0x1FFFFFF}  # by limb parity
SHIFT = {0: 26, 1: 25}


def _products_mul(k: int, j: int) -> list[tuple[int, int]]:
    """(i, coefficient) of f_i·g_j in column k (coefficient 1 or 2; ×19 is separate)."""
    i = (k - j) % 10
    return [(i, 2 if i % 2 == 1 and j % 2 == 1 else 1)]


def _products_sq(k: int, j: int) -> list[tuple[int, int]]:
    """(i, coefficient) of f_i·f_j in column k of a square, each unordered pair once."""
    i = (k - j) % 10
    if i > j:
        return []
    coefficient = 1 if i == j else 2
    if i % 2 == 1 and j % 2 == 1:
        coefficient *= 2
    return [(i, coefficient)]


def _half(columns: range, products, lines: list[str], g_reg: str, g_bytes: int) -> None:
    """Emit the products of five columns, g_j from 9 down to 0."""
    started: set[int] = set()
    for j in range(9, -1, -1):
        items = []
        for slot, k in enumerate(columns):
            for i, coefficient in products(k, j):
                items.append((coefficient, slot, k, i))
        # ×19 of a column once its wrapped products (j > k) are all in
        for slot, k in enumerate(columns):
            if k == j and k in started:
                lines.append(f"{ACC[slot]} *= 19")
        if not items:
            continue
        items.sort()
        width = "u64" if g_bytes == 8 else "u32"  # u32 limbs: the tables in .rodata
        lines.append(f"{GJ} = *({width} *)({g_reg} + {g_bytes * j})")
        scale = 1
        for coefficient, slot, k, i in items:
            while scale < coefficient:
                lines.append(f"{GJ} <<= 1")
                scale *= 2
            acc = ACC[slot]
            if k in started:
                lines += [f"{T} = *(u64 *)(r2 + {8 * i})", f"{T} *= {GJ}", f"{acc} += {T}"]
            else:
                lines += [f"{acc} = *(u64 *)(r2 + {8 * i})", f"{acc} *= {GJ}"]
                started.add(k)


def _carry(lines: list[str], k: int, slot_from: int, to: str) -> None:
    """h_k → h_{k+1}: carry = h_k >> 25|26 (floor), h_k keeps its low bits."""
    acc = ACC[slot_from]
    lines += [
        f"{T} = {acc}",
        f"{T} s>>= {SHIFT[k % 2]}",
        f"{to} += {T}",
        f"{acc} &= {MASK[k % 2]:#x}",
    ]


def _kernel(products, g_reg: str, *, distinct: bool = False, g_bytes: int = 8) -> list[str]:
    """Return the instructions of one kernel.

    ``distinct``: h is neither f nor g, so h0..h4 go straight to h instead of through the
    stack (5 instructions fewer). ``g_bytes`` 4: g's limbs are uint32 (the base tables).
    """
    lines = [f"*(u64 *)(r10 {H_SPILL}) = r1"]
    _half(range(0, 5), products, lines, g_reg, g_bytes)
    if distinct:  # g_j's register is free until the second half
        lines.append(f"{GJ} = *(u64 *)(r10 {H_SPILL})")
    low = [f"({GJ} + {8 * k})" if distinct else f"(r10 {LOW_SLOT[k]})" for k in range(5)]
    for k in range(4):
        _carry(lines, k, k, ACC[k + 1])
        lines.append(f"*(u64 *){low[k]} = {ACC[k]}")
    lines += [f"{CARRY} = {ACC[4]}", f"{CARRY} s>>= 26", f"{ACC[4]} &= {MASK[0]:#x}"]
    lines.append(f"*(u64 *){low[4]} = {ACC[4]}")
    _half(range(5, 10), products, lines, g_reg, g_bytes)
    lines.append(f"{ACC[0]} += {CARRY}")
    lines.append(f"r2 = *(u64 *)(r10 {H_SPILL})")
    low = ["(r2 + 0)", "(r2 + 8)"] if distinct else [f"(r10 {LOW_SLOT[k]})" for k in range(2)]
    for k in range(5, 9):
        _carry(lines, k, k - 5, ACC[k - 4])
        lines.append(f"*(u64 *)(r2 + {8 * k}) = {ACC[k - 5]}")
    # h9 → h0 (×19) → h1
    lines += [f"{T} = {ACC[4]}", f"{T} s>>= 25", f"{ACC[4]} &= {MASK[1]:#x}"]
    lines.append(f"*(u64 *)(r2 + 72) = {ACC[4]}")
    lines += [f"{T} *= 19", f"r3 = *(u64 *){low[0]}", f"r3 += {T}"]
    lines += [f"{T} = r3", f"{T} s>>= 26", "r3 &= 0x3ffffff", "*(u64 *)(r2 + 0) = r3"]
    lines += [f"r3 = *(u64 *){low[1]}", f"r3 += {T}", "*(u64 *)(r2 + 8) = r3"]
    if not distinct:
        for k in (2, 3, 4):
            lines += [f"r3 = *(u64 *)(r10 {LOW_SLOT[k]})", f"*(u64 *)(r2 + {8 * k}) = r3"]
    lines.append("exit")
    return lines


KERNELS = (
    # (C signature, products, g register, distinct, g limb bytes)
    (
        "void fe25519_mul(fe25519 h, const fe25519 f, const fe25519 g)",
        _products_mul,
        "r3",
        False,
        8,
    ),
    ("void fe25519_sq(fe25519 h, const fe25519 f)", _products_sq, "r2", False, 8),
    (
        "void fe25519_mul_distinct(fe25519 h, const fe25519 f, const fe25519 g)",
        _products_mul,
        "r3",
        True,
        8,
    ),
    ("void fe25519_sq_distinct(fe25519 h, const fe25519 f)", _products_sq, "r2", True, 8),
    (
        "void fe25519_mul_small(fe25519 h, const fe25519 f, const fe25519_small g)",
        _products_mul,
        "r3",
        True,
        4,
    ),
)


def kernel_lengths() -> dict[str, int]:
    """Instructions of each kernel (straight-line code: executed = emitted)."""
    return {
        sig.split("(")[0].split()[-1]: len(_kernel(products, g, distinct=d, g_bytes=b))
        for sig, products, g, d, b in KERNELS
    }


def _function(signature: str, lines: list[str]) -> str:
    body = "\n".join(f'      "{line}\\n\\t"' for line in lines)
    return f"__attribute__((naked, noinline)) {signature} {{\n  __asm__ volatile(\n{body});\n}}\n"


def generate() -> str:
    """Return the text of fe25519_asm.c."""
    lengths = ", ".join(f"{name} {n}" for name, n in kernel_lengths().items())
    header = (
        "/* Generated by gen_field_asm.py: do not edit. GF(2^255-19) multiply and square as\n"
        " * hand-scheduled sBPF (see the generator for the schedule and fe25519.h for bounds).\n"
        f" * Instructions: {lengths}. */\n"
        '#include "fe25519.h"\n'
    )
    functions = [
        _function(sig, _kernel(products, g, distinct=d, g_bytes=b))
        for sig, products, g, d, b in KERNELS
    ]
    return header + "\n" + "\n".join(functions)


def main() -> None:
    """Write fe25519_asm.c next to this script (or print it with --stdout)."""
    text = generate()
    if "--stdout" in sys.argv:
        sys.stdout.write(text)
    else:
        (Path(__file__).resolve().parent / "fe25519_asm.c").write_text(text)


if __name__ == "__main__":
    main()
