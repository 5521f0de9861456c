"""The rollup's genesis: builtin programs, sysvars, the real SPL programs and the bridge.

SPL Token (the p-token build mainnet runs), Associated Token Account and Memo are installed
with their mainnet ids and the exact bytes solders' LiteSVM preloads; the builtin programs and
sysvars have LiteSVM's account shapes, so conformance runs start from identical state.
"""

from __future__ import annotations

import functools
import struct

from solders.account import Account
from solders.pubkey import Pubkey

from heliostat.svm.programs import ASSOCIATED_TOKEN_ID, MEMO_ID, SPL_TOKEN_ID
from heliostat.svm.syscalls.sysvars import (
    CLOCK,
    EPOCH_REWARDS,
    EPOCH_SCHEDULE,
    LAST_RESTART_SLOT,
    RENT,
    SLOT_HASHES,
    STAKE_HISTORY,
)

SYSTEM_PROGRAM_ID = Pubkey.from_string("11111111111111111111111111111111")
COMPUTE_BUDGET_ID = Pubkey.from_string("ComputeBudget111111111111111111111111111111")
NATIVE_LOADER_ID = Pubkey.from_string("NativeLoader1111111111111111111111111111111")
BRIDGE_PROGRAM_ID = Pubkey.from_string("HeLiostatBridge11111111111111111111111111111")
BRIDGE_VAULT = Pubkey.find_program_address([b"vault"], BRIDGE_PROGRAM_ID)[0]
BPF_LOADER_2 = Pubkey.from_string("BPFLoader2111111111111111111111111111111111")
BPF_LOADER_UPGRADEABLE = Pubkey.from_string("BPFLoaderUpgradeab1e11111111111111111111111")

# Sysvars the kernel serves to programs (agave's sysvar cache); the Clock comes from the block.
CACHED_SYSVARS = (
    RENT,
    EPOCH_SCHEDULE,
    EPOCH_REWARDS,
    LAST_RESTART_SLOT,
    SLOT_HASHES,
    STAKE_HISTORY,
)
_PRELOADED = (
    SYSTEM_PROGRAM_ID,
    COMPUTE_BUDGET_ID,
    BPF_LOADER_2,
    BPF_LOADER_UPGRADEABLE,
    CLOCK,
    *CACHED_SYSVARS,
    SPL_TOKEN_ID,
    ASSOCIATED_TOKEN_ID,
    MEMO_ID,
)


def native_program(name: bytes) -> Account:
    """Return a builtin program account as agave creates it (native loader, its name)."""
    return Account(1, name, NATIVE_LOADER_ID, True, 0)


@functools.cache
def _litesvm_accounts() -> tuple[tuple[Pubkey, Account], ...]:
    from solders.litesvm import LiteSVM

    svm = LiteSVM()
    out: list[tuple[Pubkey, Account]] = []
    for key in _PRELOADED:
        account = svm.get_account(key)
        if account is None:
            raise KeyError(f"LiteSVM does not preload {key}")
        out.append((key, account))
        data = bytes(account.data)
        if account.owner == BPF_LOADER_UPGRADEABLE and account.executable and len(data) >= 36:
            programdata = Pubkey(data[4:36])
            stored = svm.get_account(programdata)
            if stored is None:
                raise KeyError(f"programdata of {key} missing")
            out.append((programdata, stored))
    return tuple(out)


def rent_per_byte(rent_data: bytes) -> int:
    """Lamports per byte of the rent-exempt minimum: lamports_per_byte_year × threshold.

    The kernel has no floating point, so the threshold must make this an integer (it is 1.0
    on mainnet today, 2.0 in older genesis configs).
    """
    per_year, threshold = struct.unpack_from("<Qd", rent_data)
    product = per_year * threshold
    if product != int(product):
        raise ValueError(f"rent {per_year} × {threshold} is not an integral lamports per byte")
    return int(product)


def genesis_accounts(vault_lamports: int | None = None) -> list[tuple[Pubkey, Account]]:
    """Every account at genesis, sorted by key."""
    accounts = dict(_litesvm_accounts())
    accounts[BRIDGE_PROGRAM_ID] = native_program(b"heliostat_bridge_program")
    rent = rent_per_byte(bytes(accounts[RENT].data))
    minimum = (128 + 0) * rent
    accounts[BRIDGE_VAULT] = Account(
        vault_lamports if vault_lamports is not None else minimum, b"", SYSTEM_PROGRAM_ID, False, 0
    )
    return sorted(accounts.items(), key=lambda item: bytes(item[0]))
