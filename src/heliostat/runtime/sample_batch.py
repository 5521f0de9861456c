"""A realistic sample batch: deposits, a forced transaction, SOL and SPL transfers, a withdrawal.

Used by the runtime's tests, benchmarks/runtime.py and (for proving) the zkVM: every key is
derived from a seed, so the same call always builds the same batch.
"""

from __future__ import annotations

from dataclasses import dataclass

from solders.account import Account
from solders.hash import Hash
from solders.instruction import Instruction
from solders.keypair import Keypair
from solders.message import Message
from solders.pubkey import Pubkey
from solders.system_program import TransferParams, transfer
from solders.transaction import Transaction

from heliostat.runtime import bridge
from heliostat.runtime.executor import DictState
from heliostat.runtime.genesis import SYSTEM_PROGRAM_ID, genesis_accounts
from heliostat.runtime.interface import (
    FORCED_BLOCKHASH,
    BatchInput,
    Block,
    BlockContext,
    Deposit,
    ForcedTransaction,
)
from heliostat.runtime.kernel_input import KernelBlock, KernelInput
from heliostat.runtime.runtime import Runtime, clock_data
from heliostat.runtime.state_tree import StateTree
from heliostat.svm.programs import ASSOCIATED_TOKEN_ID, SPL_TOKEN_ID
from heliostat.testing import spl_token as tk

SOL = 1_000_000_000
DECIMALS = 6


def keypair(seed: int) -> Keypair:
    """Return the sample's keypair number ``seed``."""
    return Keypair.from_seed(seed.to_bytes(2, "little") * 16)


def associated_address(wallet: Pubkey, mint: Pubkey) -> Pubkey:
    """Return the associated token account of ``wallet`` for ``mint``."""
    return Pubkey.find_program_address(
        [bytes(wallet), bytes(SPL_TOKEN_ID), bytes(mint)], ASSOCIATED_TOKEN_ID
    )[0]


@dataclass(frozen=True)
class SampleWorld:
    """Users with SOL and tokens of one mint, and the state holding them."""

    users: tuple[Keypair, ...]
    mint: Keypair
    state: DictState
    blockhash: Hash

    def ata(self, user: Keypair) -> Pubkey:
        """Return a user's token account."""
        return associated_address(user.pubkey(), self.mint.pubkey())

    def tx(
        self, payer: Keypair, ixs: list[Instruction], *signers: Keypair, forced: bool = False
    ) -> bytes:
        """Return a signed transaction with the world's blockhash (FORCED_BLOCKHASH if forced)."""
        message = Message(ixs, payer.pubkey())
        blockhash = FORCED_BLOCKHASH if forced else self.blockhash
        return bytes(Transaction([payer, *signers], message, blockhash))

    def sol_transfer(
        self, src: Keypair, dst: Pubkey, lamports: int, *, forced: bool = False
    ) -> bytes:
        """Return a SOL transfer paid and signed by ``src``."""
        params = TransferParams(from_pubkey=src.pubkey(), to_pubkey=dst, lamports=lamports)
        return self.tx(src, [transfer(params)], forced=forced)

    def spl_transfer(self, src: Keypair, dst: Keypair, amount: int) -> bytes:
        """Return an SPL TransferChecked between two users' token accounts."""
        ix = tk.transfer_checked(
            self.ata(src), self.mint.pubkey(), self.ata(dst), src.pubkey(), amount, DECIMALS
        )
        return self.tx(src, [ix])

    def tree(self) -> StateTree:
        """Return the state tree holding the world's accounts (its genesis tree)."""
        return StateTree.from_accounts(self.state.accounts)

    def kernel_input(
        self, runtime: Runtime, txs: list[bytes], *, verify_signatures: bool = False
    ) -> KernelInput:
        """Return the kernel input of batch 0 holding ``txs`` in one block at slot 1.

        No priority operations, no state tree: the smallest kernel run of given transactions.
        """
        context = BlockContext(1, 0, frozenset([self.blockhash]))
        block = KernelBlock(1, clock_data(context), [bytes(self.blockhash)], txs)
        return runtime.kernel_input(
            batch_number=0,
            old_root=bytes(32),
            priority=(),
            blocks=[block],
            state=self.state,
            verify_signatures=verify_signatures,
            processed=[],
        )


def sample_world(n_users: int = 8, *, blockhash: Hash | None = None) -> SampleWorld:
    """Genesis plus ``n_users`` funded users, each with 1,000,000 tokens of one mint."""
    users = tuple(keypair(100 + i) for i in range(n_users))
    mint = keypair(99)
    state = DictState(genesis_accounts())
    accounts: list[tuple[Pubkey, Account]] = [
        (mint.pubkey(), tk.mint_account(users[0].pubkey(), 1_000_000 * n_users, DECIMALS))
    ]
    for user in users:
        accounts.append((user.pubkey(), Account(100 * SOL, b"", SYSTEM_PROGRAM_ID, False, 0)))
        ata = associated_address(user.pubkey(), mint.pubkey())
        accounts.append((ata, tk.token_account(mint.pubkey(), user.pubkey(), 1_000_000)))
    state.apply(accounts)
    return SampleWorld(users, mint, state, blockhash or Hash(bytes([42] * 32)))


def sample_batch(
    world: SampleWorld,
    n_transactions: int = 24,
    *,
    batch_number: int = 1,
    old_root: bytes = bytes(32),
) -> BatchInput:
    """Deposits and a forced transfer on L1, then two blocks of mixed L2 transactions.

    L2: SOL transfers (one to a new account), SPL transfers, one withdrawal to an Ethereum
    address, and one failing SPL transfer (more than the balance), which pays its fee.
    """
    users = world.users
    n = len(users)
    fresh = keypair(999).pubkey()
    deposit_to = keypair(998).pubkey()
    priority = (
        Deposit(0, deposit_to, 5 * SOL),
        Deposit(1, users[0].pubkey(), 123),
        ForcedTransaction(2, world.sol_transfer(users[1], users[2].pubkey(), 7, forced=True)),
    )
    txs: list[bytes] = [
        world.sol_transfer(users[0], fresh, SOL),
        world.tx(users[3], [bridge.withdraw(users[3].pubkey(), 2 * SOL, bytes(range(20)))]),
        world.spl_transfer(users[4], users[5], 10_000_000),  # more than the balance: fails
    ]
    i = 0
    while len(txs) < n_transactions:
        src, dst = users[i % n], users[(i + 1 + i // n) % n]
        if dst == src:
            dst = users[(i + 2) % n]
        if i % 2:
            txs.append(world.spl_transfer(src, dst, 1000 + i))
        else:
            txs.append(world.sol_transfer(src, dst.pubkey(), 10_000 + i))
        i += 1
    half = len(txs) // 2
    context = BlockContext(10, 1_700_000_000, frozenset([world.blockhash]))
    later = BlockContext(11, 1_700_000_001, frozenset([world.blockhash]))
    blocks = (Block(context, tuple(txs[:half])), Block(later, tuple(txs[half:])))
    return BatchInput(batch_number, old_root, priority, blocks)
