"""Yul helpers for BabyBear and its quartic extension, pasted into generated evaluators.

The same packed representation as contracts/src/stark/BabyBear4.sol: an extension element is
one word with coefficient i in bits [64i, 64i + 64); a base element is the word c0. Each
helper is emitted only if the generated code calls it.
"""

from __future__ import annotations

P = 2013265921
C4 = "0x0000000087ffffff0000000087ffffff0000000087ffffff0000000087ffffff"
ONES4 = "0x0000000000000001000000000000000100000000000000010000000000000001"
P4 = "0x0000000078000001000000007800000100000000780000010000000078000001"
M64 = "0xffffffffffffffff"

_REDUCE = f"sub(s, mul(and(shr(32, add(s, {C4})), {ONES4}), {P:#x}))"

HELPERS: dict[str, tuple[str, tuple[str, ...]]] = {
    "eadd": (
        f"function eadd(a, b) -> r {{ let s := add(a, b) r := {_REDUCE} }}",
        (),
    ),
    "esub": (
        f"function esub(a, b) -> r {{ let s := sub(add(a, {P4}), b) r := {_REDUCE} }}",
        (),
    ),
    "eneg": (
        f"function eneg(a) -> r {{ let s := sub({P4}, a) r := {_REDUCE} }}",
        (),
    ),
    "emul": (
        "function emul(a, b) -> r {\n"
        f"    let a0 := and(a, {M64}) let a1 := and(shr(64, a), {M64})\n"
        f"    let a2 := and(shr(128, a), {M64}) let a3 := shr(192, a)\n"
        f"    let b0 := and(b, {M64}) let b1 := and(shr(64, b), {M64})\n"
        f"    let b2 := and(shr(128, b), {M64}) let b3 := shr(192, b)\n"
        "    r := mod(add(mul(a0, b0), mul(11, add(add(mul(a1, b3), mul(a2, b2)), mul(a3, "
        f"b1)))), {P:#x})\n"
        "    r := or(r, shl(64, mod(add(add(mul(a0, b1), mul(a1, b0)), mul(11, add(mul(a2, b3), "
        f"mul(a3, b2)))), {P:#x})))\n"
        "    r := or(r, shl(128, mod(add(add(add(mul(a0, b2), mul(a1, b1)), mul(a2, b0)), "
        f"mul(11, mul(a3, b3))), {P:#x})))\n"
        "    r := or(r, shl(192, mod(add(add(add(mul(a0, b3), mul(a1, b2)), mul(a2, b1)), "
        f"mul(a3, b0)), {P:#x})))\n"
        "}",
        (),
    ),
    "escale": (
        "function escale(a, s) -> r {\n"
        "    let t := mul(a, s)\n"
        f"    r := or(mod(and(t, {M64}), {P:#x}), shl(64, mod(and(shr(64, t), {M64}), {P:#x})))\n"
        f"    r := or(r, or(shl(128, mod(and(shr(128, t), {M64}), {P:#x})), shl(192, mod(shr(192, "
        f"t), {P:#x}))))\n"
        "}",
        (),
    ),
    "binv": (
        "function binv(x) -> r {\n"
        f"    let t3 := mulmod(x, x, {P:#x}) t3 := mulmod(mulmod(t3, x, {P:#x}), mulmod(t3, x, "
        f"{P:#x}), {P:#x})\n"
        f"    t3 := mulmod(t3, x, {P:#x})\n"
        f"    let t6 := mulmod(sqn(t3, 3), t3, {P:#x})\n"
        f"    let t12 := mulmod(sqn(t6, 6), t6, {P:#x})\n"
        f"    let t24 := mulmod(sqn(t12, 12), t12, {P:#x})\n"
        f"    r := mulmod(sqn(mulmod(sqn(t3, 4), t3, {P:#x}), 24), t24, {P:#x})\n"
        "}\n"
        "function sqn(v, n) -> out {\n"
        f"    out := v for {{ let i := 0 }} lt(i, n) {{ i := add(i, 1) }} "
        f"{{ out := mulmod(out, out, {P:#x}) }}\n"
        "}",
        (),
    ),
    "einv": (
        "function einv(a) -> r {\n"
        f"    let p := {P:#x}\n"
        f"    let a0 := and(a, {M64}) let a1 := and(shr(64, a), {M64})\n"
        f"    let a2 := and(shr(128, a), {M64}) let a3 := shr(192, a)\n"
        "    let n0 := addmod(add(mulmod(a0, a0, p), mul(11, mulmod(a2, a2, p))), mul(22, sub(p, "
        "mulmod(a1, a3, p))), p)\n"
        "    let n1 := addmod(mul(2, mulmod(a0, a2, p)), sub(sub(mul(2, p), mulmod(a1, a1, p)), "
        "mulmod(mul(11, a3), a3, p)), p)\n"
        "    let d := binv(addmod(mulmod(n0, n0, p), sub(p, mulmod(mul(11, n1), n1, p)), p))\n"
        "    let m0 := mulmod(n0, d, p)\n"
        "    let m1 := sub(p, mulmod(n1, d, p))\n"
        "    let c1 := addmod(mulmod(a1, m0, p), mulmod(mul(11, a3), m1, p), p)\n"
        "    let c3 := addmod(mulmod(a1, m1, p), mulmod(a3, m0, p), p)\n"
        "    r := or(addmod(mulmod(a0, m0, p), mulmod(mul(11, a2), m1, p), p), shl(64, mod(sub(p, "
        "c1), p)))\n"
        "    r := or(r, or(shl(128, addmod(mulmod(a0, m1, p), mulmod(a2, m0, p), p)), shl(192, "
        "mod(sub(p, c3), p))))\n"
        "}",
        ("binv",),
    ),
}


def helpers_for(used: set[str]) -> str:
    """Return the Yul text of the helpers ``used`` needs (and what they need), in a fixed order."""
    needed: set[str] = set()
    stack = list(used)
    while stack:
        name = stack.pop()
        if name not in needed:
            needed.add(name)
            stack.extend(HELPERS[name][1])
    return "\n".join(HELPERS[name][0] for name in HELPERS if name in needed)
