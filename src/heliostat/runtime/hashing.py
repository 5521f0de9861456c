"""Hashes the runtime's outputs use: Keccak-256 (what Ethereum recomputes) and SHA-256."""

from __future__ import annotations

import hashlib

from Crypto.Hash import keccak


def keccak256(data: bytes) -> bytes:
    """Keccak-256 (Ethereum's), as the kernel's sol_keccak256 computes it."""
    return bytes(keccak.new(data=data, digest_bits=256).digest())


def sha256(data: bytes) -> bytes:
    """SHA-256."""
    return hashlib.sha256(data).digest()
