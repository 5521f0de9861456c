"""Keccak-256 kernels against pycryptodome (Ethereum padding, not SHA-3)."""

import hashlib

import numpy as np
import pytest
from Crypto.Hash import keccak as pycryptodome_keccak
from hypothesis import given
from hypothesis import strategies as st

from heliostat.stark import field as bf
from heliostat.stark import keccak as kk
from heliostat.stark.kernel_errors import FieldError, ShapeError


def reference(data: bytes) -> bytes:
    return pycryptodome_keccak.new(digest_bits=256, data=data).digest()


def row_bytes(row) -> bytes:
    return b"".join(int(x).to_bytes(4, "big") for x in row)


def test_known_vectors():
    assert kk.keccak256(b"").hex() == (
        "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470"
    )
    assert kk.keccak256(b"abc").hex() == (
        "4e03657aea45a94fc7d47ba826c8d667c0d1e6e33a64a036ec44f58fa12d6c45"
    )
    # the 0x01 padding makes it differ from FIPS-202 SHA3-256
    assert kk.keccak256(b"") != hashlib.sha3_256(b"").digest()


# widths around the 34-element (136-byte) rate boundary, where padding changes blocks
@pytest.mark.parametrize("cols", [0, 1, 2, 16, 17, 33, 34, 35, 67, 68, 69, 100, 101, 136])
def test_hash_rows_follows_the_leaf_rule(cols):
    rng = np.random.default_rng(cols)
    m = bf.random_elements(rng, (9, cols))
    digests = kk.hash_rows(m)
    assert digests.shape == (9, 32) and digests.dtype == np.uint8
    for r in range(9):
        assert bytes(digests[r]) == reference(row_bytes(m[r]))


rows_of_five = st.lists(st.integers(0, bf.P - 1), min_size=5, max_size=5)


@given(st.lists(rows_of_five, min_size=1, max_size=20))
def test_hash_rows_on_arbitrary_values(rows):
    m = np.array(rows, dtype=np.uint32)
    digests = kk.hash_rows(m)
    assert [bytes(d) for d in digests] == [reference(row_bytes(r)) for r in rows]


def test_hash_rows_of_extension_columns_flatten_coefficients():
    rng = np.random.default_rng(5)
    m = bf.random_elements(rng, (4, 3, 4))
    digests = kk.hash_rows(m)
    for r in range(4):
        assert bytes(digests[r]) == reference(row_bytes(m[r].reshape(-1)))


def test_hash_rows_rejects_non_canonical():
    with pytest.raises(FieldError):
        kk.hash_rows(np.full((2, 2), bf.P, dtype=np.uint32))


@given(st.integers(0, 2**32 - 1), st.integers(1, 40))
def test_compress_pairs(seed, pairs):
    d = np.random.default_rng(seed).integers(0, 256, (2 * pairs, 32), dtype=np.uint8)
    out = kk.compress_pairs(d)
    assert [bytes(x) for x in out] == [
        reference(bytes(d[2 * i]) + bytes(d[2 * i + 1])) for i in range(pairs)
    ]


def test_compress_pairs_validates():
    with pytest.raises(ShapeError):
        kk.compress_pairs(np.zeros((3, 32), dtype=np.uint8))
    with pytest.raises(ShapeError):
        kk.compress_pairs(np.zeros((2, 31), dtype=np.uint8))
    with pytest.raises(ShapeError):
        kk.compress_pairs(np.zeros((2, 32), dtype=np.uint16))


@pytest.mark.parametrize("length", [0, 1, 31, 64, 135, 136, 137, 271, 272, 500])
def test_hash_byte_rows(length):
    data = np.random.default_rng(length).integers(0, 256, (3, length), dtype=np.uint8)
    out = kk.hash_byte_rows(data)
    assert [bytes(x) for x in out] == [reference(bytes(row)) for row in data]
