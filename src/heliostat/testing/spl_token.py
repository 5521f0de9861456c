"""SPL Token instructions and account states, built by hand from the published layouts.

Instruction data follows spl-token `TokenInstruction::pack` (solana-program-library
token/program/src/instruction.rs; p-token, the build LiteSVM ships, reads the same bytes):
one tag byte, then little-endian fields; a `COption<Pubkey>` is a 0 byte (None) or a 1 byte
and the key. Account states are solders' `Mint` / `TokenAccount` (token/program/src/state.rs
layouts: 82 and 165 bytes).
"""

from __future__ import annotations

import struct
from enum import IntEnum

from solders.account import Account
from solders.instruction import AccountMeta, Instruction
from solders.pubkey import Pubkey
from solders.token.state import Mint, TokenAccount, TokenAccountState

from heliostat.svm.programs import SPL_TOKEN_ID
from heliostat.svm.syscalls.sysvars import RENT

MINT_SIZE = 82
ACCOUNT_SIZE = 165
# Rent-exempt minimums at LiteSVM's rent (6960 lamports per byte-year, threshold 1):
# (128 + size) * 6960.
MINT_RENT_EXEMPT = (128 + MINT_SIZE) * 6960
ACCOUNT_RENT_EXEMPT = (128 + ACCOUNT_SIZE) * 6960


class AuthorityType(IntEnum):
    """`spl_token::instruction::AuthorityType`."""

    MINT_TOKENS = 0
    FREEZE_ACCOUNT = 1
    ACCOUNT_OWNER = 2
    CLOSE_ACCOUNT = 3


def for_program(instruction: Instruction, program_id: Pubkey) -> Instruction:
    """Send the same instruction to another token program (Token-2022 shares the layouts)."""
    return Instruction(program_id, bytes(instruction.data), list(instruction.accounts))


def _option(key: Pubkey | None) -> bytes:
    return b"\0" if key is None else b"\1" + bytes(key)


def _ix(data: bytes, *metas: tuple[Pubkey, bool, bool]) -> Instruction:
    accounts = [AccountMeta(key, is_signer, is_writable) for key, is_signer, is_writable in metas]
    return Instruction(SPL_TOKEN_ID, data, accounts)


def initialize_mint(
    mint: Pubkey, decimals: int, authority: Pubkey, freeze: Pubkey | None = None
) -> Instruction:
    """InitializeMint (0): [mint (w), rent sysvar]."""
    data = bytes([0, decimals]) + bytes(authority) + _option(freeze)
    return _ix(data, (mint, False, True), (RENT, False, False))


def initialize_mint2(
    mint: Pubkey, decimals: int, authority: Pubkey, freeze: Pubkey | None = None
) -> Instruction:
    """InitializeMint2 (20): [mint (w)]; rent comes from the sysvar syscall."""
    data = bytes([20, decimals]) + bytes(authority) + _option(freeze)
    return _ix(data, (mint, False, True))


def initialize_account(account: Pubkey, mint: Pubkey, owner: Pubkey) -> Instruction:
    """InitializeAccount (1): [account (w), mint, owner, rent sysvar]."""
    return _ix(b"\1", (account, False, True), (mint, False, False), (owner, False, False),
               (RENT, False, False))  # fmt: skip


def initialize_account3(account: Pubkey, mint: Pubkey, owner: Pubkey) -> Instruction:
    """InitializeAccount3 (18): [account (w), mint]; the owner is in the data."""
    return _ix(bytes([18]) + bytes(owner), (account, False, True), (mint, False, False))


def transfer(source: Pubkey, destination: Pubkey, authority: Pubkey, amount: int) -> Instruction:
    """Transfer (3): [source (w), destination (w), authority (s)]."""
    return _ix(struct.pack("<BQ", 3, amount), (source, False, True), (destination, False, True),
               (authority, True, False))  # fmt: skip


def transfer_checked(
    source: Pubkey, mint: Pubkey, destination: Pubkey, authority: Pubkey, amount: int,
    decimals: int,
) -> Instruction:  # fmt: skip
    """TransferChecked (12): [source (w), mint, destination (w), authority (s)]."""
    data = struct.pack("<BQB", 12, amount, decimals)
    return _ix(data, (source, False, True), (mint, False, False), (destination, False, True),
               (authority, True, False))  # fmt: skip


def approve(source: Pubkey, delegate: Pubkey, owner: Pubkey, amount: int) -> Instruction:
    """Approve (4): [source (w), delegate, owner (s)]."""
    return _ix(struct.pack("<BQ", 4, amount), (source, False, True), (delegate, False, False),
               (owner, True, False))  # fmt: skip


def revoke(source: Pubkey, owner: Pubkey) -> Instruction:
    """Revoke (5): [source (w), owner (s)]."""
    return _ix(b"\5", (source, False, True), (owner, True, False))


def set_authority(
    target: Pubkey, current: Pubkey, kind: AuthorityType, new: Pubkey | None
) -> Instruction:
    """SetAuthority (6): [mint or account (w), current authority (s)]."""
    return _ix(bytes([6, kind]) + _option(new), (target, False, True), (current, True, False))


def mint_to(mint: Pubkey, destination: Pubkey, authority: Pubkey, amount: int) -> Instruction:
    """MintTo (7): [mint (w), destination (w), mint authority (s)]."""
    return _ix(struct.pack("<BQ", 7, amount), (mint, False, True), (destination, False, True),
               (authority, True, False))  # fmt: skip


def mint_to_checked(
    mint: Pubkey, destination: Pubkey, authority: Pubkey, amount: int, decimals: int
) -> Instruction:
    """MintToChecked (14): [mint (w), destination (w), mint authority (s)]."""
    return _ix(struct.pack("<BQB", 14, amount, decimals), (mint, False, True),
               (destination, False, True), (authority, True, False))  # fmt: skip


def burn(account: Pubkey, mint: Pubkey, owner: Pubkey, amount: int) -> Instruction:
    """Burn (8): [account (w), mint (w), owner (s)]."""
    return _ix(struct.pack("<BQ", 8, amount), (account, False, True), (mint, False, True),
               (owner, True, False))  # fmt: skip


def burn_checked(
    account: Pubkey, mint: Pubkey, owner: Pubkey, amount: int, decimals: int
) -> Instruction:
    """BurnChecked (15): [account (w), mint (w), owner (s)]."""
    return _ix(struct.pack("<BQB", 15, amount, decimals), (account, False, True),
               (mint, False, True), (owner, True, False))  # fmt: skip


def close_account(account: Pubkey, destination: Pubkey, owner: Pubkey) -> Instruction:
    """CloseAccount (9): [account (w), destination (w), owner (s)]."""
    return _ix(b"\x09", (account, False, True), (destination, False, True), (owner, True, False))


def freeze_account(account: Pubkey, mint: Pubkey, authority: Pubkey) -> Instruction:
    """FreezeAccount (10): [account (w), mint, freeze authority (s)]."""
    return _ix(b"\x0a", (account, False, True), (mint, False, False), (authority, True, False))


def thaw_account(account: Pubkey, mint: Pubkey, authority: Pubkey) -> Instruction:
    """ThawAccount (11): [account (w), mint, freeze authority (s)]."""
    return _ix(b"\x0b", (account, False, True), (mint, False, False), (authority, True, False))


def mint_account(
    authority: Pubkey | None,
    supply: int = 0,
    decimals: int = 6,
    freeze: Pubkey | None = None,
    *,
    initialized: bool = True,
    lamports: int = MINT_RENT_EXEMPT,
    program_owner: Pubkey = SPL_TOKEN_ID,
) -> Account:
    """Build a mint account owned by SPL Token (all zeros when not `initialized`)."""
    data = (
        bytes(Mint(authority, supply, decimals, True, freeze)) if initialized else bytes(MINT_SIZE)
    )
    return Account(lamports, data, program_owner)


def token_account(
    mint: Pubkey,
    owner: Pubkey,
    amount: int = 0,
    *,
    delegate: Pubkey | None = None,
    delegated_amount: int = 0,
    frozen: bool = False,
    close_authority: Pubkey | None = None,
    initialized: bool = True,
    lamports: int = ACCOUNT_RENT_EXEMPT,
    program_owner: Pubkey = SPL_TOKEN_ID,
) -> Account:
    """Build a token account (all zeros when not `initialized`)."""
    if not initialized:
        return Account(lamports, bytes(ACCOUNT_SIZE), program_owner)
    state = TokenAccountState.Frozen if frozen else TokenAccountState.Initialized
    token = TokenAccount(
        mint, owner, amount, delegate, state, None, delegated_amount, close_authority
    )
    return Account(lamports, bytes(token), program_owner)
