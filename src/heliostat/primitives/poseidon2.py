"""Poseidon2 over BabyBear, width 16, x^7, 8 full + 13 partial rounds, exactly as Plonky3.

This is Plonky3's ``default_babybear_poseidon2_16`` (baby-bear/src/poseidon2.rs with the
poseidon2 crate's external layer): an initial external linear layer, 4 full rounds, 13
partial rounds, 4 full rounds. External linear layer: the 4×4 matrix [[2,3,1,1],[1,2,3,1],
[1,1,2,3],[3,1,1,2]] on each 4-chunk, then each element plus the sum of its residue class
mod 4. Internal linear layer: 1·1ᵀ + diag(V). This is the readable reference over Python
ints, shared by every layer (the VM's Poseidon2 syscall, the state tree, the prover);
``heliostat.stark.poseidon2`` adds the numba batch kernel.
"""

from __future__ import annotations

from collections.abc import Sequence

from heliostat.primitives.errors import HeliostatError

P = 2013265921  # BabyBear: 2^31 - 2^27 + 1


class Poseidon2InputError(HeliostatError, ValueError):
    """A state or digest of the wrong length, or a non-canonical element."""

    reason = "poseidon2_bad_input"


WIDTH = 16
ROUNDS_F = 8
ROUNDS_P = 13
SBOX_DEGREE = 7
DIGEST_WIDTH = 8

# Round constants: Plonky3 baby-bear/src/poseidon2.rs (tree 5dc50e51, file last changed in
# commit 84d46121), BABYBEAR_POSEIDON2_RC_16_EXTERNAL_INITIAL / _EXTERNAL_FINAL / _INTERNAL,
# generated there by the Grain LFSR (field_type=1, alpha=7, n=31, t=16, R_F=8, R_P=13).
# Canonical values.
EXTERNAL_INITIAL: tuple[tuple[int, ...], ...] = (
    (
        0x69CBB6AF, 0x46AD93F9, 0x60A00F4E, 0x6B1297CD, 0x23189AFE, 0x732E7BEF,
        0x72C246DE, 0x2C941900, 0x0557EEDE, 0x1580496F, 0x3A3EA77B, 0x54F3F271,
        0x0F49B029, 0x47872FE1, 0x221E2E36, 0x1AB7202E,
    ),
    (
        0x487779A6, 0x3851C9D8, 0x38DC17C0, 0x209F8849, 0x268DCEE8, 0x350C48DA,
        0x5B9AD32E, 0x0523272B, 0x3F89055B, 0x01E894B2, 0x13DDEDDE, 0x1B2EF334,
        0x7507D8B4, 0x6CEEB94E, 0x52EB6BA2, 0x50642905,
    ),
    (
        0x05453F3F, 0x06349EFC, 0x6922787C, 0x04BFFF9C, 0x768C714A, 0x3E9FF21A,
        0x15737C9C, 0x2229C807, 0x0D47F88C, 0x097E0ECC, 0x27EADBA0, 0x2D7D29E4,
        0x3502AAA0, 0x0F475FD7, 0x29FBDA49, 0x018AFFFD,
    ),
    (
        0x0315B618, 0x6D4497D1, 0x1B171D9E, 0x52861ABD, 0x2E5D0501, 0x3EC8646C,
        0x6E5F250A, 0x148AE8E6, 0x17F5FA4A, 0x3E66D284, 0x0051AA3B, 0x483F7913,
        0x2CFE5F15, 0x023427CA, 0x2CC78315, 0x1E36EA47,
    ),
)  # fmt: skip
EXTERNAL_FINAL: tuple[tuple[int, ...], ...] = (
    (
        0x7290A80D, 0x6F7E5329, 0x598EC8A8, 0x76A859A0, 0x6559E868, 0x657B83AF,
        0x13271D3F, 0x1F876063, 0x0AEEAE37, 0x706E9CA6, 0x46400CEE, 0x72A05C26,
        0x2C589C9E, 0x20BD37A7, 0x6A2D3D10, 0x20523767,
    ),
    (
        0x5B8FE9C4, 0x2AA501D6, 0x1E01AC3E, 0x1448BC54, 0x5CE5AD1C, 0x4918A14D,
        0x2C46A83F, 0x4FCF6876, 0x61D8D5C8, 0x6DDF4FF9, 0x11FDA4D3, 0x02933A8F,
        0x170EAF81, 0x5A9C314F, 0x49A12590, 0x35EC52A1,
    ),
    (
        0x58EB1611, 0x5E481E65, 0x367125C9, 0x0EBA33BA, 0x1FC28DED, 0x066399AD,
        0x0CBEC0EA, 0x75FD1AF0, 0x50F5BF4E, 0x643D5F41, 0x6F4FE718, 0x5B3CBBDE,
        0x1E3AFB3E, 0x296FB027, 0x45E1547B, 0x4A8DB2AB,
    ),
    (
        0x59986D19, 0x30BCDFA3, 0x1DB63932, 0x1D7C2824, 0x53B33681, 0x0673B747,
        0x038A98A3, 0x2C5BCE60, 0x351979CD, 0x5008FB73, 0x547BCA78, 0x711AF481,
        0x3F93BF64, 0x644D987B, 0x3C8BCD87, 0x608758B8,
    ),
)  # fmt: skip
INTERNAL: tuple[int, ...] = (
    0x5A8053C0, 0x693BE639, 0x3858867D, 0x19334F6B, 0x128F0FD8, 0x4E2B1CCB, 0x61210CE0,
    0x3C318939, 0x0B5B2F22, 0x2EDB11D5, 0x213EFFDF, 0x0CAC4606, 0x241AF16D,
)  # fmt: skip

# V of the internal layer (Plonky3: [-2, 1, 2, 1/2, 3, 4, -1/2, -3, -4, 1/2^8, 1/4, 1/8,
# 1/2^27, -1/2^8, -1/16, -1/2^27]) as field elements.
_HALF = pow(2, P - 2, P)
INTERNAL_DIAGONAL: tuple[int, ...] = tuple(
    v % P
    for v in (
        -2, 1, 2, _HALF, 3, 4, -_HALF, -3, -4, pow(_HALF, 8, P), pow(_HALF, 2, P),
        pow(_HALF, 3, P), pow(_HALF, 27, P), -pow(_HALF, 8, P), -pow(_HALF, 4, P),
        -pow(_HALF, 27, P),
    )
)  # fmt: skip

_MAT4 = ((2, 3, 1, 1), (1, 2, 3, 1), (1, 1, 2, 3), (3, 1, 1, 2))


def _external_linear(s: list[int]) -> list[int]:
    chunks = [
        [sum(_MAT4[r][c] * s[4 * k + c] for c in range(4)) for r in range(4)] for k in range(4)
    ]
    flat = [x for chunk in chunks for x in chunk]
    sums = [sum(flat[4 * k + r] for k in range(4)) for r in range(4)]
    return [(flat[i] + sums[i % 4]) % P for i in range(WIDTH)]


def _internal_linear(s: list[int]) -> list[int]:
    total = sum(s)
    return [(total + d * x) % P for d, x in zip(INTERNAL_DIAGONAL, s, strict=True)]


def _full_round(s: list[int], constants: Sequence[int]) -> list[int]:
    return _external_linear([pow(x + c, SBOX_DEGREE, P) for x, c in zip(s, constants, strict=True)])


def permute(state: Sequence[int]) -> tuple[int, ...]:
    """Apply the permutation to 16 canonical elements (reference implementation)."""
    if len(state) != WIDTH:
        raise Poseidon2InputError(f"a Poseidon2 state has {WIDTH} elements, got {len(state)}")
    s = [int(x) for x in state]
    if any(not 0 <= x < P for x in s):
        raise Poseidon2InputError("Poseidon2 state elements must be canonical BabyBear values")
    s = _external_linear(s)
    for constants in EXTERNAL_INITIAL:
        s = _full_round(s, constants)
    for c in INTERNAL:
        s[0] = pow(s[0] + c, SBOX_DEGREE, P)
        s = _internal_linear(s)
    for constants in EXTERNAL_FINAL:
        s = _full_round(s, constants)
    return tuple(s)


def compress(left: Sequence[int], right: Sequence[int]) -> tuple[int, ...]:
    """2-to-1 compression of 8-element digests: the first 8 words of permute(left ‖ right).

    This is Plonky3's ``TruncatedPermutation<_, 2, 8, 16>``.
    """
    if len(left) != DIGEST_WIDTH or len(right) != DIGEST_WIDTH:
        raise Poseidon2InputError(
            f"digests have {DIGEST_WIDTH} elements, got {len(left)} and {len(right)}"
        )
    return permute([*left, *right])[:DIGEST_WIDTH]
