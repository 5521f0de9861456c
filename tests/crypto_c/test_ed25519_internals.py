"""Each piece of c/lib/ed25519, run as sBPF, against Python integers and hashlib.

The pieces are reached through tests/crypto_c/programs/ed25519_internals.c (op byte,
repeat byte, operands; the result comes back as return data).
"""

from __future__ import annotations

import hashlib
import importlib.util
import random
import struct
import sys

import pytest
from hypothesis import given
from hypothesis import strategies as st

from heliostat.primitives.ed25519 import (
    BASE,
    L,
    P,
    compress,
    decompress,
    point_add,
    scalar_mult,
)
from heliostat.testing.ed25519_cases import SMALL_ORDER_ENCODINGS, TORSION, encode_y
from heliostat.testing.ed25519_sbpf import LIB_DIR, internals_runner

LIMB_BITS = (26, 25, 26, 25, 26, 25, 26, 25, 26, 25)
LIMB_OFFSETS = (0, 26, 51, 77, 102, 128, 153, 179, 204, 230)
MASK64 = (1 << 64) - 1

field = st.integers(min_value=0, max_value=P - 1)
wide_field = st.integers(min_value=0, max_value=2**255 - 1)  # frombytes takes any 255 bits


def call(op: int, operands: bytes, repeat: int = 1) -> bytes:
    run = internals_runner().run(bytes([op, repeat]) + operands)
    assert run.error is None, run.error
    return run.return_data


def fe(value: int) -> bytes:
    return value.to_bytes(32, "little")


def from_limbs(limbs: list[int]) -> int:
    return sum(limb << off for limb, off in zip(limbs, LIMB_OFFSETS, strict=True))


def pack_limbs(limbs: list[int]) -> bytes:
    return b"".join(struct.pack("<Q", limb & MASK64) for limb in limbs)


def unpack_limbs(data: bytes) -> list[int]:
    return [v - (1 << 64) if v >> 63 else v for v in struct.unpack("<10Q", data)]


@given(a=wide_field, b=wide_field)
def test_mul_and_square(a: int, b: int) -> None:
    assert int.from_bytes(call(0, fe(a) + fe(b)), "little") == a * b % P
    assert int.from_bytes(call(1, fe(a)), "little") == a * a % P


def limbs_strategy(k: int) -> st.SearchStrategy[list[int]]:
    """Limbs of magnitude up to k times the carried bound (2^26 / 2^25), either sign."""
    return st.tuples(
        *(st.integers(min_value=-(k << bits) + 1, max_value=(k << bits) - 1) for bits in LIMB_BITS)
    ).map(list)


def check_carried(limbs: list[int]) -> None:
    for i, (limb, bits) in enumerate(zip(limbs, LIMB_BITS, strict=True)):
        if i == 1:  # the last wrap of the carry chain lands in limb 1
            assert -(1 << 16) < limb < (1 << bits) + (1 << 16)
        else:
            assert 0 <= limb < 1 << bits


@given(f=limbs_strategy(4), g=limbs_strategy(4))
def test_kernels_at_the_documented_input_bounds(f: list[int], g: list[int]) -> None:
    # fe25519.h: inputs up to k_f, k_g times the carried bound with k_f k_g <= 16
    for op in (4, 15):  # aliasing-safe and non-aliasing multiply
        product = unpack_limbs(call(op, pack_limbs(f) + pack_limbs(g)))
        assert from_limbs(product) % P == from_limbs(f) * from_limbs(g) % P
        check_carried(product)
    for op in (5, 16):
        square = unpack_limbs(call(op, pack_limbs(f)))
        assert from_limbs(square) % P == from_limbs(f) ** 2 % P
        check_carried(square)


@given(f=limbs_strategy(4), g=field)
def test_table_kernel(f: list[int], g: int) -> None:
    # the base tables hold reduced elements as uint32 limbs
    g_limbs = [
        (g >> off) & ((1 << bits) - 1) for off, bits in zip(LIMB_OFFSETS, LIMB_BITS, strict=True)
    ]
    small = b"".join(struct.pack("<I", limb) for limb in g_limbs)
    product = unpack_limbs(call(17, pack_limbs(f) + small))
    assert from_limbs(product) % P == from_limbs(f) * g % P
    check_carried(product)


def test_kernels_at_the_extremes() -> None:
    for f in ([(4 << b) - 1 for b in LIMB_BITS], [-(4 << b) + 1 for b in LIMB_BITS]):
        for g in (f, [-x for x in f]):
            product = unpack_limbs(call(4, pack_limbs(f) + pack_limbs(g)))
            assert from_limbs(product) % P == from_limbs(f) * from_limbs(g) % P
            check_carried(product)


@given(a=field)
def test_invert_and_pow22523(a: int) -> None:
    expected_inverse = pow(a, P - 2, P)
    assert int.from_bytes(call(2, fe(a)), "little") == expected_inverse
    assert int.from_bytes(call(3, fe(a)), "little") == pow(a, (P - 5) // 8, P)


def test_tobytes_reduces_values_at_and_above_p() -> None:
    for value in (0, 1, P - 1, P, P + 1, P + 18, 2**255 - 1):
        assert int.from_bytes(call(0, fe(value) + fe(1)), "little") == value % P


@given(x=st.integers(min_value=0, max_value=2**512 - 1))
def test_sc_reduce(x: int) -> None:
    assert int.from_bytes(call(6, x.to_bytes(64, "little")), "little") == x % L


@pytest.mark.parametrize(
    "x", [0, 1, L - 1, L, L + 1, 2**252, 2**253 - 1, 8 * L, 2**512 - 1, L * (2**259 // 1) - 1]
)
def test_sc_reduce_edges(x: int) -> None:
    x %= 2**512
    assert int.from_bytes(call(6, x.to_bytes(64, "little")), "little") == x % L


@given(s=st.integers(min_value=0, max_value=2**256 - 1))
def test_scalar_is_canonical(s: int) -> None:
    assert call(12, s.to_bytes(32, "little")) == bytes([s < L])


@pytest.mark.parametrize("s", [0, L - 1, L, L + 1, 2**252, 2**253, 2**256 - 1])
def test_scalar_is_canonical_edges(s: int) -> None:
    assert call(12, s.to_bytes(32, "little")) == bytes([s < L])


@pytest.mark.parametrize("length", [0, 1, 111, 112, 113, 127, 128, 129, 239, 240, 256, 1000])
def test_sha512(length: int) -> None:
    data = bytes((i * 31 + 7) % 256 for i in range(length))
    assert call(7, data) == hashlib.sha512(data).digest()


@given(data=st.binary(max_size=600))
def test_sha512_random(data: bytes) -> None:
    assert call(7, data) == hashlib.sha512(data).digest()


@given(y=st.integers(min_value=0, max_value=2**255 - 1), sign=st.integers(0, 1))
def test_decode_matches_reference(y: int, sign: int) -> None:
    encoding = encode_y(y, sign)
    expected = decompress(encoding)
    out = call(9, encoding)
    if expected is None:
        assert out == b"\x01"
        return
    assert out[0] == 0
    x, yy = int.from_bytes(out[1:33], "little"), int.from_bytes(out[33:], "little")
    assert (x, yy) == (expected.X % P, expected.Y % P)


def test_decode_small_order_and_non_canonical_encodings() -> None:
    for encoding in [
        *SMALL_ORDER_ENCODINGS,
        *(encode_y(y + P, s) for y in range(19) for s in (0, 1)),
    ]:
        expected = decompress(encoding)
        out = call(9, encoding)
        assert out[0] == (expected is None)
        if expected is not None:
            assert int.from_bytes(out[1:33], "little") == expected.X % P


@given(y=st.integers(min_value=0, max_value=2**255 - 1), sign=st.integers(0, 1))
def test_small_order_y(y: int, sign: int) -> None:
    point = decompress(encode_y(y, sign))
    small = point is not None and compress(scalar_mult(8, point)) == compress(scalar_mult(0, BASE))
    assert call(11, encode_y(y, sign)) == bytes([small])


def test_small_order_y_on_every_small_order_encoding() -> None:
    for encoding in SMALL_ORDER_ENCODINGS:
        assert call(11, encoding) == b"\x01"


@given(
    a=st.integers(min_value=0, max_value=2**256 - 1),
    b=st.integers(min_value=0, max_value=2**253 - 1),
    secret=st.integers(min_value=1, max_value=L - 1),
    torsion=st.integers(min_value=0, max_value=7),
)
def test_double_scalar_mult(a: int, b: int, secret: int, torsion: int) -> None:
    # scalars are used as integers: [a]A for a mixed-order A needs all of a's bits
    point = point_add(scalar_mult(secret, BASE), TORSION[torsion])
    expected = compress(point_add(scalar_mult(a, point), scalar_mult(b, BASE)))
    operands = a.to_bytes(32, "little") + compress(point) + b.to_bytes(32, "little")
    assert call(10, operands) == expected


@given(k=st.integers(min_value=0, max_value=L - 1))
def test_lattice_split(k: int) -> None:
    out = call(13, k.to_bytes(32, "little"))
    r, t = int.from_bytes(out[:32], "little"), int.from_bytes(out[32:64], "little")
    signed_t = -t if out[64] else t
    assert (r - signed_t * k) % (8 * L) == 0
    assert t % 2 == 1 and t < L
    assert out[65] == max(r.bit_length(), t.bit_length())


def test_lattice_split_halves_the_scalars() -> None:
    # |r|, |t| are about sqrt(8L) ~ 2^128; an even t costs a neighbouring, longer vector
    rng = random.Random(2520)
    lengths = sorted(call(13, rng.randrange(L).to_bytes(32, "little"))[65] for _ in range(200))
    assert lengths[100] <= 129
    assert lengths[-1] <= 160


@pytest.mark.parametrize("k", [0, 1, 2, 2**128 - 1, 2**128, L - 1, (L - 1) // 2, 2**252])
def test_lattice_split_edges(k: int) -> None:
    out = call(13, k.to_bytes(32, "little"))
    r, t = int.from_bytes(out[:32], "little"), int.from_bytes(out[32:64], "little")
    signed_t = -t if out[64] else t
    assert (r - signed_t * k) % (8 * L) == 0
    assert t % 2 == 1 and t < L


@given(t=st.integers(min_value=0, max_value=2**256 - 1), s=st.integers(0, 2**256 - 1))
def test_mul_mod_l(t: int, s: int) -> None:
    out = call(14, t.to_bytes(32, "little") + s.to_bytes(32, "little"))
    assert int.from_bytes(out, "little") == t * s % L


@pytest.mark.parametrize(
    ("generator", "target"),
    [
        ("gen_field_asm", "fe25519_asm.c"),
        ("gen_sha512_asm", "sha512_asm.c"),
        ("gen_tables", "ed25519_tables.h"),
    ],
)
def test_generated_files_are_current(generator: str, target: str) -> None:
    spec = importlib.util.spec_from_file_location(generator, LIB_DIR / f"{generator}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[generator] = module
    spec.loader.exec_module(module)
    assert (LIB_DIR / target).read_text() == module.generate()
