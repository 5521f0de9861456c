"""SPL Token scenarios: every instruction family the brief names, and their error paths.

Expected errors are spl-token's `TokenError` codes as `Custom(n)`: 0 NotRentExempt,
1 InsufficientFunds, 2 InvalidMint, 3 MintMismatch, 4 OwnerMismatch, 6 AlreadyInUse,
11 NonNativeHasBalance, 12 InvalidInstruction, 16 MintCannotFreeze, 17 AccountFrozen,
18 MintDecimalsMismatch (token/program/src/error.rs). p-token writes to a token account
without checking its owner first, so a foreign "token account" is caught by the runtime's
write-back (ExternalAccountDataModified), not by the program.
"""

from __future__ import annotations

from conformance_harness import ProgramSource, Scenario
from solders.instruction import AccountMeta, Instruction
from solders.keypair import Keypair
from solders.pubkey import Pubkey

from heliostat.svm import programs
from heliostat.testing import spl_token as tk

TOKEN = ProgramSource(
    "spl_token",
    programs.SPL_TOKEN_ID,
    programs.BPF_LOADER_UPGRADEABLE_ID,
    lambda: programs.spl_token().elf,
    preloaded=True,
)

OWNER = Keypair.from_seed(bytes([1] * 32))
OTHER = Keypair.from_seed(bytes([2] * 32))
DELEGATE = Keypair.from_seed(bytes([3] * 32))
FREEZER = Keypair.from_seed(bytes([4] * 32))
MINT = Pubkey(bytes([10] * 32))
OTHER_MINT = Pubkey(bytes([11] * 32))
SOURCE = Pubkey(bytes([12] * 32))
DEST = Pubkey(bytes([13] * 32))
NEW_ACCOUNT = Pubkey(bytes([14] * 32))
WALLET = Pubkey(bytes([15] * 32))

MINT_STATE = tk.mint_account(OWNER.pubkey(), supply=1_000_000, decimals=6, freeze=FREEZER.pubkey())
SOURCE_STATE = tk.token_account(MINT, OWNER.pubkey(), 1000)
DEST_STATE = tk.token_account(MINT, OTHER.pubkey(), 5)
TRANSFER_ACCOUNTS = {MINT: MINT_STATE, SOURCE: SOURCE_STATE, DEST: DEST_STATE}


def _token(
    name: str,
    instruction: Instruction,
    accounts: dict[Pubkey, object],
    signers: tuple[Keypair, ...] = (OWNER,),
    expect: str = "ok",
) -> Scenario:
    return Scenario(f"token_{name}", TOKEN, instruction, accounts, signers, expect)  # type: ignore[arg-type]


def _raw(data: bytes, *metas: AccountMeta) -> Instruction:
    return Instruction(programs.SPL_TOKEN_ID, data, list(metas))


UNINITIALIZED_MINT = {MINT: tk.mint_account(None, initialized=False)}
NEW_ACCOUNT_STATE = {
    MINT: MINT_STATE,
    NEW_ACCOUNT: tk.token_account(MINT, OWNER.pubkey(), initialized=False),
}

TOKEN_SCENARIOS = [
    # -- mints
    _token("initialize_mint2", tk.initialize_mint2(MINT, 6, OWNER.pubkey()),
           UNINITIALIZED_MINT, ()),
    _token("initialize_mint2_freeze",
           tk.initialize_mint2(MINT, 9, OWNER.pubkey(), FREEZER.pubkey()), UNINITIALIZED_MINT, ()),
    _token("initialize_mint_rent_sysvar", tk.initialize_mint(MINT, 2, OWNER.pubkey()),
           UNINITIALIZED_MINT, ()),
    _token("initialize_mint2_already_initialized", tk.initialize_mint2(MINT, 6, OWNER.pubkey()),
           {MINT: MINT_STATE}, (), "Custom(6)"),
    _token("initialize_mint2_not_rent_exempt", tk.initialize_mint2(MINT, 6, OWNER.pubkey()),
           {MINT: tk.mint_account(None, initialized=False, lamports=1000)}, (), "Custom(0)"),
    # -- token accounts
    _token("initialize_account3", tk.initialize_account3(NEW_ACCOUNT, MINT, OWNER.pubkey()),
           NEW_ACCOUNT_STATE, ()),
    _token("initialize_account_rent_sysvar", tk.initialize_account(NEW_ACCOUNT, MINT, WALLET),
           NEW_ACCOUNT_STATE, ()),
    _token("initialize_account3_uninitialized_mint",
           tk.initialize_account3(NEW_ACCOUNT, MINT, OWNER.pubkey()),
           {**UNINITIALIZED_MINT, NEW_ACCOUNT: NEW_ACCOUNT_STATE[NEW_ACCOUNT]}, (), "Custom(2)"),
    # -- minting
    _token("mint_to", tk.mint_to(MINT, SOURCE, OWNER.pubkey(), 500), TRANSFER_ACCOUNTS),
    _token("mint_to_wrong_authority", tk.mint_to(MINT, SOURCE, OTHER.pubkey(), 500),
           TRANSFER_ACCOUNTS, (OTHER,), "Custom(4)"),
    _token("mint_to_checked", tk.mint_to_checked(MINT, DEST, OWNER.pubkey(), 7, 6),
           TRANSFER_ACCOUNTS),
    _token("mint_to_checked_wrong_decimals", tk.mint_to_checked(MINT, DEST, OWNER.pubkey(), 7, 5),
           TRANSFER_ACCOUNTS, expect="Custom(18)"),
    # -- transfers
    _token("transfer", tk.transfer(SOURCE, DEST, OWNER.pubkey(), 10), TRANSFER_ACCOUNTS),
    _token("transfer_insufficient_funds", tk.transfer(SOURCE, DEST, OWNER.pubkey(), 1001),
           TRANSFER_ACCOUNTS, expect="Custom(1)"),
    _token("transfer_wrong_owner", tk.transfer(SOURCE, DEST, OTHER.pubkey(), 10),
           TRANSFER_ACCOUNTS, (OTHER,), "Custom(4)"),
    _token("transfer_frozen_source", tk.transfer(SOURCE, DEST, OWNER.pubkey(), 10),
           {**TRANSFER_ACCOUNTS, SOURCE: tk.token_account(MINT, OWNER.pubkey(), 1000, frozen=True)},
           expect="Custom(17)"),
    _token("transfer_unsigned_authority",
           _raw(bytes([3]) + (10).to_bytes(8, "little"), AccountMeta(SOURCE, False, True),
                AccountMeta(DEST, False, True), AccountMeta(OWNER.pubkey(), False, False)),
           TRANSFER_ACCOUNTS, (), "MissingRequiredSignature"),
    _token("transfer_to_self", tk.transfer(SOURCE, SOURCE, OWNER.pubkey(), 10), TRANSFER_ACCOUNTS),
    _token("transfer_checked", tk.transfer_checked(SOURCE, MINT, DEST, OWNER.pubkey(), 10, 6),
           TRANSFER_ACCOUNTS),
    _token("transfer_checked_mint_mismatch",
           tk.transfer_checked(SOURCE, OTHER_MINT, DEST, OWNER.pubkey(), 10, 6),
           {**TRANSFER_ACCOUNTS, OTHER_MINT: tk.mint_account(OWNER.pubkey(), 0, 6)},
           expect="Custom(3)"),
    _token("transfer_not_token_account", tk.transfer(SOURCE, DEST, OWNER.pubkey(), 10),
           {**TRANSFER_ACCOUNTS,
            SOURCE: tk.token_account(MINT, OWNER.pubkey(), 1000, program_owner=WALLET)},
           expect="ExternalAccountDataModified"),
    # -- delegation
    _token("approve", tk.approve(SOURCE, DELEGATE.pubkey(), OWNER.pubkey(), 300),
           TRANSFER_ACCOUNTS),
    _token("transfer_by_delegate", tk.transfer(SOURCE, DEST, DELEGATE.pubkey(), 200),
           {**TRANSFER_ACCOUNTS, SOURCE: tk.token_account(
               MINT, OWNER.pubkey(), 1000, delegate=DELEGATE.pubkey(), delegated_amount=300)},
           (DELEGATE,)),
    _token("transfer_by_delegate_over_allowance", tk.transfer(SOURCE, DEST, DELEGATE.pubkey(), 301),
           {**TRANSFER_ACCOUNTS, SOURCE: tk.token_account(
               MINT, OWNER.pubkey(), 1000, delegate=DELEGATE.pubkey(), delegated_amount=300)},
           (DELEGATE,), "Custom(1)"),
    _token("revoke", tk.revoke(SOURCE, OWNER.pubkey()),
           {**TRANSFER_ACCOUNTS, SOURCE: tk.token_account(
               MINT, OWNER.pubkey(), 1000, delegate=DELEGATE.pubkey(), delegated_amount=300)}),
    # -- burning and closing
    _token("burn", tk.burn(SOURCE, MINT, OWNER.pubkey(), 400), TRANSFER_ACCOUNTS),
    _token("burn_insufficient_funds", tk.burn(SOURCE, MINT, OWNER.pubkey(), 4000),
           TRANSFER_ACCOUNTS, expect="Custom(1)"),
    _token("burn_checked", tk.burn_checked(SOURCE, MINT, OWNER.pubkey(), 1, 6), TRANSFER_ACCOUNTS),
    _token("close_account", tk.close_account(SOURCE, WALLET, OWNER.pubkey()),
           {**TRANSFER_ACCOUNTS, SOURCE: tk.token_account(MINT, OWNER.pubkey(), 0)}),
    _token("close_account_with_balance", tk.close_account(SOURCE, WALLET, OWNER.pubkey()),
           TRANSFER_ACCOUNTS, expect="Custom(11)"),
    # -- authorities, freezing
    _token("set_authority_mint", tk.set_authority(
        MINT, OWNER.pubkey(), tk.AuthorityType.MINT_TOKENS, OTHER.pubkey()), TRANSFER_ACCOUNTS),
    _token("set_authority_close", tk.set_authority(
        SOURCE, OWNER.pubkey(), tk.AuthorityType.CLOSE_ACCOUNT, WALLET), TRANSFER_ACCOUNTS),
    _token("set_authority_wrong_owner", tk.set_authority(
        SOURCE, OTHER.pubkey(), tk.AuthorityType.ACCOUNT_OWNER, WALLET),
        TRANSFER_ACCOUNTS, (OTHER,), "Custom(4)"),
    _token("freeze_account", tk.freeze_account(SOURCE, MINT, FREEZER.pubkey()),
           TRANSFER_ACCOUNTS, (FREEZER,)),
    _token("freeze_without_freeze_authority", tk.freeze_account(SOURCE, MINT, FREEZER.pubkey()),
           {**TRANSFER_ACCOUNTS, MINT: tk.mint_account(OWNER.pubkey(), 1_000_000, 6)},
           (FREEZER,), "Custom(16)"),
    _token("thaw_account", tk.thaw_account(SOURCE, MINT, FREEZER.pubkey()),
           {**TRANSFER_ACCOUNTS, SOURCE: tk.token_account(MINT, OWNER.pubkey(), 1000, frozen=True)},
           (FREEZER,)),
    # -- malformed instructions
    _token("empty_instruction_data", _raw(b"", AccountMeta(SOURCE, False, True)),
           TRANSFER_ACCOUNTS, (), "Custom(12)"),
    _token("unknown_instruction_tag", _raw(b"\xff", AccountMeta(SOURCE, False, True)),
           TRANSFER_ACCOUNTS, (), "Custom(12)"),
    _token("transfer_truncated_amount",
           _raw(b"\x03\x01\x02", AccountMeta(SOURCE, False, True), AccountMeta(DEST, False, True),
                AccountMeta(OWNER.pubkey(), True, False)),
           TRANSFER_ACCOUNTS, expect="Custom(12)"),
    _token("transfer_missing_accounts",
           _raw(bytes([3]) + (10).to_bytes(8, "little"), AccountMeta(SOURCE, False, True)),
           TRANSFER_ACCOUNTS, (), "NotEnoughAccountKeys"),
]  # fmt: skip


# -- Token-2022 without extensions: the same instructions and layouts, another program
TOKEN_2022 = ProgramSource(
    "token_2022",
    programs.TOKEN_2022_ID,
    programs.BPF_LOADER_UPGRADEABLE_ID,
    lambda: programs.token_2022().elf,
    preloaded=True,
)
T22 = programs.TOKEN_2022_ID
T22_MINT = tk.mint_account(OWNER.pubkey(), supply=1_000_000, decimals=6, program_owner=T22)
T22_ACCOUNTS = {
    MINT: T22_MINT,
    SOURCE: tk.token_account(MINT, OWNER.pubkey(), 1000, program_owner=T22),
    DEST: tk.token_account(MINT, OTHER.pubkey(), 5, program_owner=T22),
}


def _t22(name: str, instruction: Instruction, accounts: dict[Pubkey, object],
         signers: tuple[Keypair, ...] = (OWNER,), expect: str = "ok") -> Scenario:  # fmt: skip
    return Scenario(f"token_2022_{name}", TOKEN_2022, tk.for_program(instruction, T22),
                    accounts, signers, expect)  # type: ignore[arg-type]  # fmt: skip


TOKEN_2022_SCENARIOS = [
    _t22("initialize_mint2", tk.initialize_mint2(MINT, 6, OWNER.pubkey()),
         {MINT: tk.mint_account(None, initialized=False, program_owner=T22)}, ()),
    _t22("initialize_account3", tk.initialize_account3(NEW_ACCOUNT, MINT, OWNER.pubkey()),
         {MINT: T22_MINT,
          NEW_ACCOUNT: tk.token_account(MINT, OWNER.pubkey(), initialized=False,
                                        program_owner=T22)}, ()),
    _t22("mint_to_checked", tk.mint_to_checked(MINT, DEST, OWNER.pubkey(), 7, 6), T22_ACCOUNTS),
    _t22("transfer_checked", tk.transfer_checked(SOURCE, MINT, DEST, OWNER.pubkey(), 10, 6),
         T22_ACCOUNTS),
    _t22("transfer_checked_insufficient_funds",
         tk.transfer_checked(SOURCE, MINT, DEST, OWNER.pubkey(), 5000, 6), T22_ACCOUNTS,
         expect="Custom(1)"),
    _t22("burn", tk.burn(SOURCE, MINT, OWNER.pubkey(), 400), T22_ACCOUNTS),
    _t22("close_account", tk.close_account(SOURCE, WALLET, OWNER.pubkey()),
         {**T22_ACCOUNTS, SOURCE: tk.token_account(MINT, OWNER.pubkey(), 0, program_owner=T22)}),
]  # fmt: skip
