"""The real Solana program binaries Heliostat runs, read out of the LiteSVM inside solders.

solders ships the mainnet builds of SPL Token, Token-2022, Associated Token Account and Memo
preloaded in `solders.litesvm.LiteSVM`; reading their ELF bytes from there means the VM, its
tests and genesis all run exactly the bytes Solana runs, without vendoring binaries.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from solders.pubkey import Pubkey

# Program ids (mainnet), as the Solana Program Library publishes them.
SPL_TOKEN_ID = Pubkey.from_string("TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA")
TOKEN_2022_ID = Pubkey.from_string("TokenzQdBNbLqP5VEhdkAS6EPFLC1PHnBqCXEpPxuEb")
ASSOCIATED_TOKEN_ID = Pubkey.from_string("ATokenGPvbdGVxr1b2hvZbsiqW5xWH25efTNsLJA8knL")
MEMO_ID = Pubkey.from_string("MemoSq4gqABAXKb96qnH8TysNcWxMyWCqXgDLGmfcHr")

BPF_LOADER_2_ID = Pubkey.from_string("BPFLoader2111111111111111111111111111111111")
BPF_LOADER_UPGRADEABLE_ID = Pubkey.from_string("BPFLoaderUpgradeab1e11111111111111111111111")

# Layout of upgradeable-loader accounts (solana-loader-v3-interface): the program account is
# a 4-byte enum tag then the 32-byte programdata address; the programdata account is a 4-byte
# tag, an 8-byte slot and a 1+32-byte optional upgrade authority, then the ELF at byte 45.
_PROGRAMDATA_ADDRESS = slice(4, 36)
_PROGRAMDATA_ELF_OFFSET = 45


@dataclass(frozen=True)
class ProgramBinary:
    """A program's id, the loader that owns it and its ELF bytes."""

    program_id: Pubkey
    loader_id: Pubkey
    elf: bytes


@functools.cache
def load_program(program_id: Pubkey) -> ProgramBinary:
    """Return the ELF of one of the programs preloaded in solders' LiteSVM."""
    from solders.litesvm import LiteSVM  # imported lazily: creating a LiteSVM takes ~10 ms

    svm = LiteSVM()
    account = svm.get_account(program_id)
    if account is None or not account.executable:
        raise KeyError(f"{program_id} is not a program preloaded in LiteSVM")
    data = bytes(account.data)
    if account.owner == BPF_LOADER_UPGRADEABLE_ID:
        programdata = svm.get_account(Pubkey(data[_PROGRAMDATA_ADDRESS]))
        if programdata is None:
            raise KeyError(f"programdata account of {program_id} is missing")
        data = bytes(programdata.data)[_PROGRAMDATA_ELF_OFFSET:]
    return ProgramBinary(program_id, account.owner, data)


def spl_token() -> ProgramBinary:
    """SPL Token (the p-token build mainnet runs)."""
    return load_program(SPL_TOKEN_ID)


def token_2022() -> ProgramBinary:
    """SPL Token-2022."""
    return load_program(TOKEN_2022_ID)


def associated_token() -> ProgramBinary:
    """SPL Associated Token Account."""
    return load_program(ASSOCIATED_TOKEN_ID)


def memo() -> ProgramBinary:
    """SPL Memo (v2)."""
    return load_program(MEMO_ID)
