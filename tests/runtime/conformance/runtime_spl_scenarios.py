"""SPL Token through the Associated Token Account program (CPI into Token and System), Memo."""

from __future__ import annotations

from runtime_harness import TxScenario
from runtime_sol_scenarios import ALICE, BOB, PAYER, SOL, funded, send, tx
from solders.instruction import AccountMeta, Instruction
from solders.keypair import Keypair
from solders.litesvm import LiteSVM
from solders.pubkey import Pubkey
from solders.system_program import ID as SYSTEM
from solders.system_program import CreateAccountParams, create_account

from heliostat.svm.programs import ASSOCIATED_TOKEN_ID, MEMO_ID, SPL_TOKEN_ID
from heliostat.testing import spl_token as tk

MINT = Keypair.from_seed(bytes([60] * 32))
DECIMALS = 6


def ata(wallet: Pubkey, mint: Pubkey | None = None) -> Pubkey:
    mint = mint or MINT.pubkey()
    return Pubkey.find_program_address(
        [bytes(wallet), bytes(SPL_TOKEN_ID), bytes(mint)], ASSOCIATED_TOKEN_ID
    )[0]


def create_ata(wallet: Pubkey, *, idempotent: bool = True, payer: Pubkey | None = None,
               payer_signs: bool = True) -> Instruction:  # fmt: skip
    payer = payer or PAYER.pubkey()
    return Instruction(
        ASSOCIATED_TOKEN_ID,
        bytes([1]) if idempotent else b"",
        [
            AccountMeta(payer, payer_signs, True),
            AccountMeta(ata(wallet), False, True),
            AccountMeta(wallet, False, False),
            AccountMeta(MINT.pubkey(), False, False),
            AccountMeta(SYSTEM, False, False),
            AccountMeta(SPL_TOKEN_ID, False, False),
        ],
    )


def with_mint(svm: LiteSVM, supply: int = 0) -> None:
    funded(svm, ALICE, BOB)
    svm.set_account(MINT.pubkey(), tk.mint_account(ALICE.pubkey(), supply, DECIMALS))


def with_balances(svm: LiteSVM, alice: int = 1_000_000, bob: int | None = 0) -> None:
    with_mint(svm, supply=alice + (bob or 0))
    svm.set_account(ata(ALICE.pubkey()), tk.token_account(MINT.pubkey(), ALICE.pubkey(), alice))
    if bob is not None:
        svm.set_account(ata(BOB.pubkey()), tk.token_account(MINT.pubkey(), BOB.pubkey(), bob))


def transfer_checked(amount: int, decimals: int = DECIMALS, owner: Keypair = ALICE) -> Instruction:
    """Alice's tokens to Bob, authorised by ``owner``."""
    source, destination = ata(ALICE.pubkey()), ata(BOB.pubkey())
    return tk.transfer_checked(source, MINT.pubkey(), destination, owner.pubkey(), amount, decimals)


def memo(text: bytes, *signers: Pubkey) -> Instruction:
    return Instruction(MEMO_ID, text, [AccountMeta(s, True, False) for s in signers])


def ata_create(svm: LiteSVM):
    with_mint(svm)
    return [tx(svm, [create_ata(BOB.pubkey(), idempotent=False)])]


def ata_create_idempotent_new(svm: LiteSVM):
    with_mint(svm)
    return [tx(svm, [create_ata(BOB.pubkey())])]


def ata_create_idempotent_exists(svm: LiteSVM):
    with_balances(svm)
    return [tx(svm, [create_ata(BOB.pubkey())])]


def ata_create_exists(svm: LiteSVM):
    with_balances(svm)
    return [tx(svm, [create_ata(BOB.pubkey(), idempotent=False)])]


def ata_payer_not_signing(svm: LiteSVM):
    with_mint(svm)
    return [tx(svm, [create_ata(BOB.pubkey(), payer=ALICE.pubkey(), payer_signs=False)])]


def ata_funded_before(svm: LiteSVM):
    """The ATA address already holds lamports: ATA tops it up, allocates and assigns."""
    with_mint(svm)
    svm.set_account(ata(BOB.pubkey()), tk.Account(1_000_000, b"", SYSTEM))
    return [tx(svm, [create_ata(BOB.pubkey())])]


def create_mint(svm: LiteSVM):
    funded(svm, ALICE)
    ixs = [
        create_account(
            CreateAccountParams(
                from_pubkey=PAYER.pubkey(),
                to_pubkey=MINT.pubkey(),
                lamports=tk.MINT_RENT_EXEMPT,
                space=tk.MINT_SIZE,
                owner=SPL_TOKEN_ID,
            )
        ),
        tk.initialize_mint2(MINT.pubkey(), DECIMALS, ALICE.pubkey()),
    ]
    return [tx(svm, ixs, MINT)]


def mint_to(svm: LiteSVM, authority: Keypair = ALICE):
    with_balances(svm)
    ix = tk.mint_to(MINT.pubkey(), ata(BOB.pubkey()), authority.pubkey(), 5_000)
    return [tx(svm, [ix], authority)]


def transfer_ok(svm: LiteSVM):
    with_balances(svm)
    return [tx(svm, [transfer_checked(250_000)], ALICE)]


def transfer_plain(svm: LiteSVM):
    with_balances(svm)
    ix = tk.transfer(ata(ALICE.pubkey()), ata(BOB.pubkey()), ALICE.pubkey(), 7)
    return [tx(svm, [ix], ALICE)]


def burn(svm: LiteSVM):
    with_balances(svm)
    return [tx(svm, [tk.burn(ata(ALICE.pubkey()), MINT.pubkey(), ALICE.pubkey(), 1000)], ALICE)]


def close(svm: LiteSVM, balance: int = 0):
    with_balances(svm, bob=balance)
    ix = tk.close_account(ata(BOB.pubkey()), BOB.pubkey(), BOB.pubkey())
    return [tx(svm, [ix], BOB)]


def full_flow(svm: LiteSVM):
    """One transaction: create Bob's ATA, mint to Alice, transfer to Bob, memo."""
    with_balances(svm, bob=None)
    ixs = [
        create_ata(BOB.pubkey()),
        tk.mint_to(MINT.pubkey(), ata(ALICE.pubkey()), ALICE.pubkey(), 10),
        transfer_checked(500),
        memo(b"paid", ALICE.pubkey()),
    ]
    return [tx(svm, ixs, ALICE)]


def flow_fails_after_create(svm: LiteSVM):
    """The ATA is created, then the transfer fails: everything is rolled back, fee kept."""
    with_balances(svm, alice=100, bob=None)
    return [tx(svm, [create_ata(BOB.pubkey()), transfer_checked(101)], ALICE)]


def sequence(svm: LiteSVM):
    """Three transactions that depend on each other, in one kernel run."""
    with_balances(svm, bob=None)
    return [
        tx(svm, [create_ata(BOB.pubkey())]),
        tx(svm, [transfer_checked(1234)], ALICE),
        tx(
            svm,
            [
                tk.transfer_checked(
                    ata(BOB.pubkey()),
                    MINT.pubkey(),
                    ata(ALICE.pubkey()),
                    BOB.pubkey(),
                    34,
                    DECIMALS,
                )
            ],
            BOB,
        ),
    ]


def memo_signed(svm: LiteSVM):
    funded(svm, ALICE)
    return [tx(svm, [memo("héliostat ☀".encode(), ALICE.pubkey())], ALICE)]


def memo_unsigned(svm: LiteSVM):
    funded(svm)
    return [tx(svm, [memo(b"no signers")])]


def memo_missing_signer(svm: LiteSVM):
    funded(svm, ALICE)
    ix = Instruction(MEMO_ID, b"hello", [AccountMeta(ALICE.pubkey(), False, False)])
    return [tx(svm, [ix])]


def memo_bad_utf8(svm: LiteSVM):
    funded(svm)
    return [tx(svm, [memo(b"\xff\xfe bad")])]


def sol_and_token(svm: LiteSVM):
    with_balances(svm)
    return [tx(svm, [send(ALICE, BOB.pubkey(), SOL), transfer_checked(1)], ALICE)]


def _s(name: str, expect: str, body) -> TxScenario:
    return TxScenario(name, body, (expect,), ("spl",))


SCENARIOS = [
    _s("ATA create (CPI into System and Token)", "ok", ata_create),
    _s("ATA create idempotent, new", "ok", ata_create_idempotent_new),
    _s("ATA create idempotent, existing", "ok", ata_create_idempotent_exists),
    _s("ATA create, existing", "IllegalOwner@0", ata_create_exists),
    _s(
        "ATA create, payer not signing (privilege escalation)",
        "PrivilegeEscalation@0",
        ata_payer_not_signing,
    ),
    _s("ATA create over a funded address", "ok", ata_funded_before),
    _s("create a mint (System + InitializeMint2)", "ok", create_mint),
    _s("mint to", "ok", mint_to),
    _s("mint to, wrong authority", "Custom(4)@0", lambda s: mint_to(s, BOB)),
    _s("transfer checked", "ok", transfer_ok),
    _s(
        "transfer checked, wrong decimals",
        "Custom(18)@0",
        lambda s: (with_balances(s), [tx(s, [transfer_checked(5, decimals=9)], ALICE)])[1],
    ),
    _s(
        "transfer checked, insufficient",
        "Custom(1)@0",
        lambda s: (with_balances(s), [tx(s, [transfer_checked(2_000_000)], ALICE)])[1],
    ),
    _s(
        "transfer checked, wrong owner",
        "Custom(4)@0",
        lambda s: (with_balances(s), [tx(s, [transfer_checked(5, owner=BOB)], BOB)])[1],
    ),
    _s("transfer (unchecked)", "ok", transfer_plain),
    _s("burn", "ok", burn),
    _s("close an empty account", "ok", close),
    _s("close a non-empty account", "Custom(11)@0", lambda s: close(s, balance=5)),
    _s("create ATA + mint + transfer + memo in one transaction", "ok", full_flow),
    _s("ATA created then transfer fails: rolled back", "Custom(1)@1", flow_fails_after_create),
    TxScenario("three dependent SPL transactions", sequence, ("ok", "ok", "ok"), ("spl",)),
    _s("memo with a signer", "ok", memo_signed),
    _s("memo without accounts", "ok", memo_unsigned),
    _s("memo, account not signing", "MissingRequiredSignature@0", memo_missing_signer),
    _s("memo, invalid UTF-8", "ProgramFailedToComplete@0", memo_bad_utf8),
    _s("SOL transfer and token transfer in one transaction", "ok", sol_and_token),
]
