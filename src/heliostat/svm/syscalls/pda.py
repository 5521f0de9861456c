"""Program-derived addresses: sol_create_program_address and sol_try_find_program_address.

An address is sha256(seed_0 || ... || seed_n || program_id || "ProgramDerivedAddress") and is
valid only when those 32 bytes are NOT an ed25519 point, so that no private key can sign for
it (solana-pubkey `create_program_address`). Costs: 1500 CUs, and `try_find` charges another
1500 for every bump it rejects (agave syscalls lib.rs).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from heliostat.svm.syscall_api import SyscallContext
from heliostat.svm.syscalls.costs import DEFAULT_COST, MAX_SEED_LEN, MAX_SEEDS
from heliostat.svm.syscalls.errors import BadSeedsError
from heliostat.svm.syscalls.translate import check_outputs, read_bytes, read_slices, read_type

PDA_MARKER = b"ProgramDerivedAddress"

# Curve25519 in Edwards form (RFC 8032 §5.1): -x² + y² = 1 + d·x²·y² over GF(p).
_P = 2**255 - 19
_D = (-121665 * pow(121666, -1, _P)) % _P


def is_on_curve(point: bytes) -> bool:
    """Whether 32 bytes decompress to a point of edwards25519, as curve25519-dalek decides.

    RFC 8032 §5.1.3: y is the low 255 bits, and x² = (y² − 1) / (d·y² + 1) must have a square
    root. dalek (what Solana calls) reduces y modulo p instead of rejecting y ≥ p, and accepts
    x = 0 with either sign bit; neither changes whether x² is a square, so the test is whether
    u·v is a quadratic residue (Euler's criterion), with u = y² − 1 and v = d·y² + 1 ≠ 0.
    """
    if len(point) != 32:
        raise ValueError("a compressed point has 32 bytes")
    y = (int.from_bytes(point, "little") & ((1 << 255) - 1)) % _P
    u = (y * y - 1) % _P
    v = (_D * y * y + 1) % _P
    return pow(u * v % _P, (_P - 1) // 2, _P) in (0, 1)


def create_program_address(seeds: Sequence[bytes], program_id: bytes) -> bytes | None:
    """Derive the program address for `seeds`, as solana-pubkey `create_program_address`.

    None when the seeds are over the limits or the hash is a curve point.
    """
    if len(seeds) > MAX_SEEDS or any(len(seed) > MAX_SEED_LEN for seed in seeds):
        return None
    digest = hashlib.sha256(b"".join(seeds) + program_id + PDA_MARKER).digest()
    return None if is_on_curve(digest) else digest


def _read_inputs(
    ctx: SyscallContext, seeds_address: int, seeds_count: int, program_id_address: int
) -> tuple[list[bytes], bytes]:
    slices = read_slices(ctx, seeds_address, seeds_count)
    if len(slices) > MAX_SEEDS:
        raise BadSeedsError
    seeds = []
    for pointer, length in slices:
        if length > MAX_SEED_LEN:
            raise BadSeedsError
        seeds.append(read_bytes(ctx, pointer, length))
    return seeds, read_type(ctx, program_id_address, 32, 1)


def sol_create_program_address(
    ctx: SyscallContext, seeds: int, seeds_len: int, program_id: int, address: int, _5: int
) -> int:
    """`sol_create_program_address(seeds, n, &program_id, &address)`: r0 = 1 if invalid."""
    ctx.consume(DEFAULT_COST.create_program_address_units)
    seed_bytes, program_id_bytes = _read_inputs(ctx, seeds, seeds_len, program_id)
    derived = create_program_address(seed_bytes, program_id_bytes)
    if derived is None:
        return 1
    check_outputs(ctx, [(address, 32, 1)])
    ctx.write(address, derived)
    return 0


def sol_try_find_program_address(
    ctx: SyscallContext, seeds: int, seeds_len: int, program_id: int, address: int, bump: int
) -> int:
    """`sol_try_find_program_address(seeds, n, &program_id, &address, &bump)`.

    Tries bump seeds 255, 254, ..., 1 (255 tries; bump 0 is never tried, as upstream) and
    writes the first valid address and its bump; r0 = 1 when none is valid.
    """
    cost = DEFAULT_COST.create_program_address_units
    ctx.consume(cost)
    seed_bytes, program_id_bytes = _read_inputs(ctx, seeds, seeds_len, program_id)
    for bump_seed in range(255, 0, -1):
        derived = create_program_address([*seed_bytes, bytes([bump_seed])], program_id_bytes)
        if derived is not None:
            check_outputs(ctx, [(bump, 1, 1), (address, 32, 1)])
            ctx.write(bump, bytes([bump_seed]))
            ctx.write(address, derived)
            return 0
        ctx.consume(cost)
    return 1
