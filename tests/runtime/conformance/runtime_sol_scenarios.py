"""SOL transfers and the System Program, fees and transaction-level checks."""

from __future__ import annotations

from runtime_harness import TxScenario
from solders.account import Account
from solders.hash import Hash
from solders.instruction import AccountMeta, Instruction
from solders.keypair import Keypair
from solders.litesvm import LiteSVM
from solders.message import Message, MessageV0
from solders.pubkey import Pubkey
from solders.signature import Signature
from solders.system_program import (
    ID as SYSTEM,
)
from solders.system_program import (
    AllocateParams,
    AllocateWithSeedParams,
    AssignParams,
    AssignWithSeedParams,
    CreateAccountParams,
    CreateAccountWithSeedParams,
    TransferParams,
    TransferWithSeedParams,
    allocate,
    allocate_with_seed,
    assign,
    assign_with_seed,
    create_account,
    create_account_with_seed,
    transfer,
    transfer_with_seed,
)
from solders.transaction import Transaction, VersionedTransaction

SOL = 1_000_000_000
PAYER = Keypair.from_seed(bytes([1] * 32))
ALICE = Keypair.from_seed(bytes([2] * 32))
BOB = Keypair.from_seed(bytes([3] * 32))
OWNER = Pubkey(bytes([9] * 32))


def funded(svm: LiteSVM, *keys: Keypair, lamports: int = 10 * SOL) -> None:
    for key in (PAYER, *keys):
        svm.set_account(key.pubkey(), Account(lamports, b"", SYSTEM, False, 0))


def tx(
    svm: LiteSVM, ixs: list[Instruction], *signers: Keypair, payer: Keypair = PAYER
) -> Transaction:
    return Transaction(
        [payer, *signers], Message(list(ixs), payer.pubkey()), svm.latest_blockhash()
    )


def send(from_: Keypair, to: Pubkey, lamports: int) -> Instruction:
    return transfer(TransferParams(from_pubkey=from_.pubkey(), to_pubkey=to, lamports=lamports))


def _simple(name: str, expect: str, body, tags: tuple[str, ...] = ("sol",)) -> TxScenario:
    return TxScenario(name, body, (expect,), tags)


def transfer_existing(svm: LiteSVM):
    funded(svm, ALICE, BOB)
    return [tx(svm, [send(ALICE, BOB.pubkey(), SOL)], ALICE)]


def transfer_new_account(svm: LiteSVM):
    funded(svm, ALICE)
    return [tx(svm, [send(ALICE, Pubkey(bytes([77] * 32)), SOL)], ALICE)]


def transfer_new_below_rent(svm: LiteSVM):
    funded(svm, ALICE)
    return [tx(svm, [send(ALICE, Pubkey(bytes([78] * 32)), 1000)], ALICE)]


def transfer_to_self(svm: LiteSVM):
    funded(svm, ALICE)
    return [tx(svm, [send(ALICE, ALICE.pubkey(), 5 * SOL)], ALICE)]


def transfer_payer_to_new(svm: LiteSVM):
    funded(svm)
    return [tx(svm, [send(PAYER, Pubkey(bytes([79] * 32)), 2 * SOL)])]


def insufficient_funds(svm: LiteSVM):
    funded(svm, ALICE, BOB)
    return [tx(svm, [send(ALICE, BOB.pubkey(), 11 * SOL)], ALICE)]


def missing_signature(svm: LiteSVM):
    funded(svm, ALICE, BOB)
    ix = Instruction(
        SYSTEM,
        bytes(send(ALICE, BOB.pubkey(), SOL).data),
        [AccountMeta(ALICE.pubkey(), False, True), AccountMeta(BOB.pubkey(), False, True)],
    )
    return [tx(svm, [ix])]


def bad_signature(svm: LiteSVM):
    funded(svm, ALICE, BOB)
    message = Message([send(ALICE, BOB.pubkey(), SOL)], PAYER.pubkey())
    good = Transaction([PAYER, ALICE], message, svm.latest_blockhash())
    forged = Signature(bytes(BOB.sign_message(b"something else")))
    return [VersionedTransaction.populate(good.message, [good.signatures[0], forged])]


def stale_blockhash(svm: LiteSVM):
    funded(svm, ALICE, BOB)
    message = Message([send(ALICE, BOB.pubkey(), SOL)], PAYER.pubkey())
    return [Transaction([PAYER, ALICE], message, Hash(bytes([5] * 32)))]


def duplicate_transaction(svm: LiteSVM):
    funded(svm, ALICE, BOB)
    t = tx(svm, [send(ALICE, BOB.pubkey(), SOL)], ALICE)
    return [t, t]


def payer_missing(svm: LiteSVM):
    svm.set_account(ALICE.pubkey(), Account(10 * SOL, b"", SYSTEM, False, 0))
    return [tx(svm, [send(ALICE, BOB.pubkey(), SOL)], ALICE)]


def payer_cannot_pay_fee(svm: LiteSVM):
    funded(svm, ALICE, BOB)
    svm.set_account(PAYER.pubkey(), Account(4000, b"", SYSTEM, False, 0))
    return [tx(svm, [send(ALICE, BOB.pubkey(), SOL)], ALICE)]


def payer_with_data(svm: LiteSVM):
    funded(svm, ALICE, BOB)
    svm.set_account(PAYER.pubkey(), Account(10 * SOL, b"\x01\x02", SYSTEM, False, 0))
    return [tx(svm, [send(ALICE, BOB.pubkey(), SOL)], ALICE)]


def payer_left_rent_paying(svm: LiteSVM):
    funded(svm, ALICE, BOB)
    minimum = svm.minimum_balance_for_rent_exemption(0)
    svm.set_account(PAYER.pubkey(), Account(minimum + 1000, b"", SYSTEM, False, 0))
    return [tx(svm, [send(ALICE, BOB.pubkey(), SOL)], ALICE)]


def two_transfers(svm: LiteSVM):
    funded(svm, ALICE, BOB)
    return [
        tx(svm, [send(ALICE, BOB.pubkey(), SOL), send(BOB, ALICE.pubkey(), 3 * SOL)], ALICE, BOB)
    ]


def fails_halfway(svm: LiteSVM):
    funded(svm, ALICE, BOB)
    ixs = [send(ALICE, BOB.pubkey(), SOL), send(BOB, ALICE.pubkey(), 30 * SOL)]
    return [tx(svm, ixs, ALICE, BOB)]


def to_readonly(svm: LiteSVM):
    funded(svm, ALICE, BOB)
    ix = Instruction(
        SYSTEM,
        bytes(send(ALICE, BOB.pubkey(), SOL).data),
        [AccountMeta(ALICE.pubkey(), True, True), AccountMeta(BOB.pubkey(), False, False)],
    )
    return [tx(svm, [ix], ALICE)]


def zero_lamports(svm: LiteSVM):
    funded(svm, ALICE, BOB)
    return [tx(svm, [send(ALICE, BOB.pubkey(), 0)], ALICE)]


def from_with_data(svm: LiteSVM):
    funded(svm, BOB)
    svm.set_account(ALICE.pubkey(), Account(10 * SOL, b"\x07" * 8, SYSTEM, False, 0))
    return [tx(svm, [send(ALICE, BOB.pubkey(), SOL)], ALICE)]


SEED = "heliostat-seed"


def seeded(base: Pubkey, owner: Pubkey = SYSTEM) -> Pubkey:
    return Pubkey.create_with_seed(base, SEED, owner)


def transfer_with_seed_ok(svm: LiteSVM):
    funded(svm, ALICE, BOB)
    source = seeded(ALICE.pubkey())
    svm.set_account(source, Account(5 * SOL, b"", SYSTEM, False, 0))
    params = TransferWithSeedParams(
        from_pubkey=source, from_base=ALICE.pubkey(), from_seed=SEED, from_owner=SYSTEM,
        to_pubkey=BOB.pubkey(), lamports=SOL,
    )  # fmt: skip
    return [tx(svm, [transfer_with_seed(params)], ALICE)]


def transfer_with_seed_mismatch(svm: LiteSVM):
    funded(svm, ALICE, BOB)
    source = seeded(BOB.pubkey())
    svm.set_account(source, Account(5 * SOL, b"", SYSTEM, False, 0))
    params = TransferWithSeedParams(
        from_pubkey=source, from_base=ALICE.pubkey(), from_seed=SEED, from_owner=SYSTEM,
        to_pubkey=BOB.pubkey(), lamports=SOL,
    )  # fmt: skip
    return [tx(svm, [transfer_with_seed(params)], ALICE)]


def create(svm: LiteSVM, space: int = 64, lamports: int | None = None, signer: bool = True):
    funded(svm, ALICE)
    new = Keypair.from_seed(bytes([40] * 32))
    lam = svm.minimum_balance_for_rent_exemption(space) if lamports is None else lamports
    ix = create_account(
        CreateAccountParams(
            from_pubkey=ALICE.pubkey(),
            to_pubkey=new.pubkey(),
            lamports=lam,
            space=space,
            owner=OWNER,
        )
    )
    if not signer:
        ix = Instruction(
            ix.program_id, bytes(ix.data), [ix.accounts[0], AccountMeta(new.pubkey(), False, True)]
        )
        return [tx(svm, [ix], ALICE)]
    return [tx(svm, [ix], ALICE, new)]


def create_in_use(svm: LiteSVM):
    new = Keypair.from_seed(bytes([40] * 32))
    txs = create(svm)
    svm.set_account(new.pubkey(), Account(SOL, b"", SYSTEM, False, 0))
    return txs


def create_with_seed_ok(svm: LiteSVM):
    funded(svm, ALICE)
    address = seeded(ALICE.pubkey(), OWNER)
    params = CreateAccountWithSeedParams(
        from_pubkey=ALICE.pubkey(), to_pubkey=address, base=ALICE.pubkey(), seed=SEED,
        lamports=svm.minimum_balance_for_rent_exemption(10), space=10, owner=OWNER,
    )  # fmt: skip
    return [tx(svm, [create_account_with_seed(params)], ALICE)]


def assign_ok(svm: LiteSVM):
    funded(svm, ALICE)
    return [tx(svm, [assign(AssignParams(pubkey=ALICE.pubkey(), owner=OWNER))], ALICE)]


def assign_unsigned(svm: LiteSVM):
    funded(svm, ALICE)
    ix = assign(AssignParams(pubkey=ALICE.pubkey(), owner=OWNER))
    ix = Instruction(ix.program_id, bytes(ix.data), [AccountMeta(ALICE.pubkey(), False, True)])
    return [tx(svm, [ix])]


def allocate_ok(svm: LiteSVM):
    funded(svm, ALICE)
    return [tx(svm, [allocate(AllocateParams(pubkey=ALICE.pubkey(), space=100))], ALICE)]


def allocate_too_large(svm: LiteSVM):
    funded(svm, ALICE)
    return [
        tx(svm, [allocate(AllocateParams(pubkey=ALICE.pubkey(), space=11 * 1024 * 1024))], ALICE)
    ]


def allocate_in_use(svm: LiteSVM):
    funded(svm)
    svm.set_account(ALICE.pubkey(), Account(10 * SOL, b"\x01", SYSTEM, False, 0))
    return [tx(svm, [allocate(AllocateParams(pubkey=ALICE.pubkey(), space=100))], ALICE)]


def allocate_assign_with_seed(svm: LiteSVM):
    funded(svm, ALICE)
    address = seeded(ALICE.pubkey(), OWNER)
    svm.set_account(address, Account(5 * SOL, b"", SYSTEM, False, 0))
    ixs = [
        allocate_with_seed(
            AllocateWithSeedParams(
                address=address, base=ALICE.pubkey(), seed=SEED, space=32, owner=OWNER
            )
        ),
    ]
    return [tx(svm, ixs, ALICE)]


def assign_with_seed_ok(svm: LiteSVM):
    funded(svm, ALICE)
    address = seeded(ALICE.pubkey(), OWNER)
    svm.set_account(address, Account(5 * SOL, b"", SYSTEM, False, 0))
    ix = assign_with_seed(
        AssignWithSeedParams(address=address, base=ALICE.pubkey(), seed=SEED, owner=OWNER)
    )
    return [tx(svm, [ix], ALICE)]


def bad_instruction_data(svm: LiteSVM):
    funded(svm, ALICE, BOB)
    ix = Instruction(
        SYSTEM,
        bytes([2, 0, 0, 0, 1]),
        [AccountMeta(ALICE.pubkey(), True, True), AccountMeta(BOB.pubkey(), False, True)],
    )
    return [tx(svm, [ix], ALICE)]


def not_enough_accounts(svm: LiteSVM):
    funded(svm, ALICE)
    ix = send(ALICE, BOB.pubkey(), SOL)
    ix = Instruction(SYSTEM, bytes(ix.data), [AccountMeta(ALICE.pubkey(), True, True)])
    return [tx(svm, [ix], ALICE)]


def not_executable_program(svm: LiteSVM):
    funded(svm, ALICE)
    ix = Instruction(BOB.pubkey(), b"", [AccountMeta(ALICE.pubkey(), True, True)])
    svm.set_account(BOB.pubkey(), Account(SOL, b"", SYSTEM, False, 0))
    return [tx(svm, [ix], ALICE)]


def v0_transfer(svm: LiteSVM):
    funded(svm, ALICE, BOB)
    message = MessageV0.try_compile(
        PAYER.pubkey(), [send(ALICE, BOB.pubkey(), SOL)], [], svm.latest_blockhash()
    )
    return [VersionedTransaction(message, [PAYER, ALICE])]


def duplicate_accounts(svm: LiteSVM):
    funded(svm, ALICE)
    ix = Instruction(
        SYSTEM,
        bytes(send(ALICE, ALICE.pubkey(), SOL).data),
        [AccountMeta(ALICE.pubkey(), True, True), AccountMeta(ALICE.pubkey(), True, True)],
    )
    return [tx(svm, [ix], ALICE)]


SCENARIOS = [
    _simple("sol transfer", "ok", transfer_existing),
    _simple("sol transfer to a new account", "ok", transfer_new_account),
    _simple(
        "sol transfer to a new account below rent",
        "InsufficientFundsForRent({'account_index': 2})",
        transfer_new_below_rent,
    ),
    _simple("sol transfer to self", "ok", transfer_to_self),
    _simple("sol transfer from the fee payer", "ok", transfer_payer_to_new),
    _simple("sol transfer, insufficient funds", "Custom(1)@0", insufficient_funds),
    _simple("sol transfer, from not a signer", "MissingRequiredSignature@0", missing_signature),
    _simple("sol transfer, bad signature", "SignatureFailure", bad_signature),
    _simple("sol transfer, stale blockhash", "BlockhashNotFound", stale_blockhash),
    TxScenario(
        "sol transfer, duplicate transaction",
        duplicate_transaction,
        ("ok", "AlreadyProcessed"),
        ("sol",),
    ),
    _simple("fee payer does not exist", "AccountNotFound", payer_missing),
    _simple("fee payer cannot pay", "InsufficientFundsForFee", payer_cannot_pay_fee),
    _simple("fee payer holds data", "InvalidAccountForFee", payer_with_data),
    _simple(
        "fee payer left rent-paying",
        "InsufficientFundsForRent({'account_index': 0})",
        payer_left_rent_paying,
    ),
    _simple("two transfers in one transaction", "ok", two_transfers),
    _simple("second instruction fails: rolled back, fee kept", "Custom(1)@1", fails_halfway),
    _simple("transfer to a read-only account", "ReadonlyLamportChange@0", to_readonly),
    _simple("transfer of zero lamports", "ok", zero_lamports),
    _simple("transfer from an account with data", "InvalidArgument@0", from_with_data),
    _simple("transfer with seed", "ok", transfer_with_seed_ok),
    _simple("transfer with seed, wrong base", "Custom(5)@0", transfer_with_seed_mismatch),
    _simple("create account", "ok", create),
    _simple("create account already in use", "Custom(0)@0", create_in_use),
    _simple(
        "create account, new key not signing",
        "MissingRequiredSignature@0",
        lambda s: create(s, signer=False),
    ),
    _simple("create account with seed", "ok", create_with_seed_ok),
    _simple("assign", "ok", assign_ok),
    _simple("assign without signature", "MissingRequiredSignature@0", assign_unsigned),
    _simple("allocate", "ok", allocate_ok),
    _simple("allocate beyond 10 MiB", "Custom(3)@0", allocate_too_large),
    _simple("allocate an account in use", "Custom(0)@0", allocate_in_use),
    _simple("allocate with seed", "ok", allocate_assign_with_seed),
    _simple("assign with seed", "ok", assign_with_seed_ok),
    _simple("system instruction data too short", "InvalidInstructionData@0", bad_instruction_data),
    _simple("system instruction without accounts", "MissingAccount@0", not_enough_accounts),
    _simple("program id is not executable", "InvalidProgramForExecution", not_executable_program),
    _simple("v0 message transfer", "ok", v0_transfer),
    _simple("same account twice in one instruction", "ok", duplicate_accounts),
]
