"""Hash syscalls: sol_sha256 and sol_keccak256 over a list of byte slices.

agave syscalls lib.rs `SyscallHash`: reject more than 20 000 slices, charge 85 CUs, check the
32-byte output, then per slice charge max(10, len / 2) and hash it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

from Crypto.Hash import keccak

from heliostat.svm.syscall_api import SyscallContext
from heliostat.svm.syscalls.costs import DEFAULT_BUDGET, DEFAULT_COST
from heliostat.svm.syscalls.errors import TooManySlicesError
from heliostat.svm.syscalls.translate import check_outputs, read_bytes, read_slices

Hasher = Callable[[list[bytes]], bytes]


def sha256(parts: list[bytes]) -> bytes:
    """SHA-256 of the concatenation of `parts`."""
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part)
    return digest.digest()


# Large inputs hashed again and again (a kernel run hashes its 20 KB sysvar section for its
# parameters hash every time: ~100 µs of a sequencer's ~4-transaction run) are remembered by
# content; a bytes key costs far less to hash and compare than Keccak costs to absorb.
_KECCAK_MEMO: dict[bytes, bytes] = {}
_MEMO_MIN_BYTES, _MEMO_ENTRIES = 4096, 8


def keccak256(parts: list[bytes]) -> bytes:
    """Keccak-256 (the original padding, as Ethereum and Solana use) of the concatenation."""
    if sum(len(part) for part in parts) >= _MEMO_MIN_BYTES:
        data = b"".join(parts)
        found = _KECCAK_MEMO.get(data)
        if found is None:
            found = keccak.new(digest_bits=256, data=data).digest()
            if len(_KECCAK_MEMO) >= _MEMO_ENTRIES:
                del _KECCAK_MEMO[next(iter(_KECCAK_MEMO))]  # the oldest
            _KECCAK_MEMO[data] = found
        return found
    digest = keccak.new(digest_bits=256)
    for part in parts:
        digest.update(part)
    return digest.digest()


def _hash_syscall(name: str, label: str, hasher: Hasher) -> Callable[..., int]:
    def syscall(ctx: SyscallContext, vals: int, count: int, result: int, _4: int, _5: int) -> int:
        cost = DEFAULT_COST
        limit = DEFAULT_BUDGET.sha256_max_slices
        if count > limit:
            ctx.host.logs.log(
                f"{label} Hashing {count} sequences in one syscall is over the limit {limit}"
            )
            raise TooManySlicesError
        ctx.consume(cost.sha256_base_cost)
        check_outputs(ctx, [(result, 32, 1)])
        parts = []
        for pointer, length in read_slices(ctx, vals, count):
            part = read_bytes(ctx, pointer, length)
            ctx.consume(max(cost.mem_op_base_cost, cost.sha256_byte_cost * (length // 2)))
            parts.append(part)
        ctx.write(result, hasher(parts))
        return 0

    syscall.__name__ = name
    syscall.__doc__ = f"`{name}(&[&[u8]], n, &mut [u8; 32])`: hash n slices into the result."
    return syscall


sol_sha256 = _hash_syscall("sol_sha256", "Sha256", sha256)
sol_keccak256 = _hash_syscall("sol_keccak256", "Keccak256", keccak256)
