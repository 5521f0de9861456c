"""The default syscall registry: every syscall agave's program runtime v1 registers on mainnet.

The names and feature gates follow agave syscalls/src/lib.rs
(`create_program_runtime_environment_v1`) with the feature set LiteSVM calls mainnet:
blake3, big_mod_exp and sol_remaining_compute_units are gated off there and so are absent here
(a program importing them fails to load, as in agave); sol_get_fees_sysvar is disabled.
Syscalls Heliostat does not implement yet are still registered, so that the programs
importing them (Token-2022 imports sol_curve_group_op) load; calling one stops the program
with `UnsupportedSyscallError`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

from heliostat.svm.syscall_api import SyscallContext, SyscallRegistry
from heliostat.svm.syscalls import (
    context,
    hashing,
    logging,
    memory_ops,
    panic,
    pda,
    return_data,
    sysvars,
)
from heliostat.svm.syscalls.errors import UnsupportedSyscallError

SyscallFunction = Callable[[SyscallContext, int, int, int, int, int], int]

IMPLEMENTED: dict[str, SyscallFunction] = {
    "abort": panic.abort,
    "sol_panic_": panic.sol_panic,
    "sol_log_": logging.sol_log,
    "sol_log_64_": logging.sol_log_64,
    "sol_log_pubkey": logging.sol_log_pubkey,
    "sol_log_compute_units_": logging.sol_log_compute_units,
    "sol_log_data": logging.sol_log_data,
    "sol_create_program_address": pda.sol_create_program_address,
    "sol_try_find_program_address": pda.sol_try_find_program_address,
    "sol_sha256": hashing.sol_sha256,
    "sol_keccak256": hashing.sol_keccak256,
    **{name: sysvars.typed_getter(name) for name in sysvars.LAYOUTS},
    "sol_get_sysvar": sysvars.sol_get_sysvar,
    "sol_memcpy_": memory_ops.sol_memcpy,
    "sol_memmove_": memory_ops.sol_memmove,
    "sol_memset_": memory_ops.sol_memset,
    "sol_memcmp_": memory_ops.sol_memcmp,
    "sol_get_processed_sibling_instruction": context.sol_get_processed_sibling_instruction,
    "sol_get_stack_height": context.sol_get_stack_height,
    "sol_set_return_data": return_data.sol_set_return_data,
    "sol_get_return_data": return_data.sol_get_return_data,
    "sol_get_epoch_stake": context.sol_get_epoch_stake,
    # performed by the host: the runtime implements CPI (issue 3)
    "sol_invoke_signed_c": context.sol_invoke_signed_c,
    "sol_invoke_signed_rust": context.sol_invoke_signed_rust,
}

NOT_IMPLEMENTED: dict[str, str] = {
    "sol_secp256k1_recover": "secp256k1 recovery is not implemented",
    "sol_curve_validate_point": "curve25519/BLS12-381 operations are not implemented",
    "sol_curve_group_op": "curve25519/BLS12-381 operations are not implemented",
    "sol_curve_multiscalar_mul": "curve25519 multiscalar multiplication is not implemented",
    "sol_curve_decompress": "BLS12-381 point decompression is not implemented",
    "sol_curve_pairing_map": "BLS12-381 pairings are not implemented",
    "sol_alt_bn128_group_op": "alt_bn128 operations are not implemented",
    "sol_alt_bn128_compression": "alt_bn128 compression is not implemented",
    "sol_poseidon": "the Poseidon (BN254) syscall is not implemented",
    "sol_alloc_free_": "sol_alloc_free_ is deprecated (programs bring their own allocator)",
}


def _unsupported(name: str, why: str) -> SyscallFunction:
    def unsupported(ctx: SyscallContext, _1: int, _2: int, _3: int, _4: int, _5: int) -> int:
        raise UnsupportedSyscallError(name, why)

    unsupported.__name__ = name
    return unsupported


@functools.cache
def _default() -> SyscallRegistry:
    registry = SyscallRegistry()
    for name, function in IMPLEMENTED.items():
        registry.register(name, function)
    for name, why in NOT_IMPLEMENTED.items():
        registry.register(name, _unsupported(name, why))
    return registry


def default_registry() -> SyscallRegistry:
    """Return a fresh registry with mainnet's syscall set, for loading programs."""
    return _default().copy()
