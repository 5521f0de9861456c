import pytest

from heliostat.primitives.murmur3 import murmur3_32


@pytest.mark.parametrize(
    ("data", "seed", "expected"),
    [
        # Appleby's SMHasher verification values and widely published vectors.
        (b"", 0, 0x00000000),
        (b"", 1, 0x514E28B7),
        (b"\xff\xff\xff\xff", 0, 0x76293B50),
        (b"\x21\x43\x65\x87", 0, 0xF55B516B),
        (b"\x21\x43\x65", 0, 0x7E4A8634),
        (b"\x21\x43", 0, 0xA0F7B07A),
        (b"\x21", 0, 0x72661CF4),
        (b"Hello, world!", 1234, 0xFAF6CDB3),
        # FACTS.md: the syscall key Solana binds `sol_log_` to.
        (b"sol_log_", 0, 0x207559BD),
    ],
)
def test_known_vectors(data: bytes, seed: int, expected: int) -> None:
    assert murmur3_32(data, seed) == expected
