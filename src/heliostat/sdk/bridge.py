"""The bridge from a user's side: deposit ETH on L1, withdraw on L2, claim on L1, wait for L1.

1 lamport = 1 gwei. A deposit is `HeliostatRollup.depositETH(recipient)` with the value in
wei; the node credits the lamports once the L1 block is confirmed. A withdrawal is the L2
bridge program's instruction (`heliostat.runtime.bridge.withdraw`): the lamports leave the
sender's L2 account in a batch, and once L1 has executed that batch the recipient claims them
with `claimWithdrawal`. Everything the claim needs comes from L1 itself: the batch's
withdrawals are read back from its `commitBatch` calldata (the data availability), the Merkle
proof is computed from them (`heliostat.settlement.rollup.withdrawal_proof`).

A user the sequencer ignores forces a transaction through L1: `forced_transaction` signs it
with FORCED_BLOCKHASH (a forced transaction runs without a blockhash window, so it carries
that fixed hash instead, and L1 queues each signature once), `force_transaction` queues it;
the sequencer must run it before the queue's deadline or anyone can switch the rollup to
escape mode.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from eth_account.signers.local import LocalAccount
from solders.instruction import Instruction
from solders.keypair import Keypair
from solders.message import Message
from solders.pubkey import Pubkey
from solders.signature import Signature
from solders.transaction import VersionedTransaction
from web3 import Web3
from web3.contract import Contract
from web3.exceptions import ContractLogicError
from web3.logs import DISCARD

from heliostat.primitives.errors import HeliostatError
from heliostat.runtime import bridge
from heliostat.runtime.interface import FORCED_BLOCKHASH, Withdrawal
from heliostat.sdk.client import HeliostatClient, SoftConfirmation
from heliostat.settlement import rollup

GWEI = 10**9


class BridgeError(HeliostatError):
    """A bridge operation that cannot be done (with what to do about it in the message)."""

    reason = "bridge"


@dataclass(frozen=True)
class DepositReceipt:
    """A deposit queued on L1."""

    l1_index: int
    recipient: Pubkey
    lamports: int
    l1_transaction: str
    block_number: int


@dataclass(frozen=True)
class ForcedReceipt:
    """A transaction queued on L1 for forced inclusion."""

    l1_index: int
    signature: Signature
    l1_transaction: str
    block_number: int


@dataclass(frozen=True)
class ClaimReceipt:
    """A withdrawal paid on L1."""

    batch: int
    index: int
    recipient: str
    lamports: int
    l1_transaction: str


def rollup_contract(w3: Web3, address: str) -> Contract:
    """Return the HeliostatRollup at ``address`` (refused if nothing is deployed there)."""
    checksum = Web3.to_checksum_address(address)
    if not w3.eth.get_code(checksum):
        raise BridgeError(f"no contract at {address} on the L1 at this RPC endpoint")
    return w3.eth.contract(address=checksum, abi=rollup.compile_rollup()["HeliostatRollup"].abi)


def _send(w3: Web3, signer: LocalAccount, fn: Any, value: int = 0) -> Any:
    """Sign and send a contract call from ``signer``; return the receipt (reverts raised)."""
    params = {"from": signer.address, "value": value}
    try:
        gas = fn.estimate_gas(params)
    except ContractLogicError as err:
        raise BridgeError(f"L1 refused the transaction: {err}") from None
    tx = fn.build_transaction(
        {**params, "gas": gas + gas // 5, "nonce": w3.eth.get_transaction_count(signer.address)}
    )
    tx_hash = w3.eth.send_raw_transaction(signer.sign_transaction(tx).raw_transaction)
    receipt = w3.eth.wait_for_transaction_receipt(tx_hash, timeout=120)
    if receipt["status"] != 1:
        raise BridgeError(f"L1 transaction {Web3.to_hex(tx_hash)} reverted")
    return receipt


def deposit(
    w3: Web3, contract: Contract, signer: LocalAccount, recipient: Pubkey, lamports: int
) -> DepositReceipt:
    """Deposit ``lamports`` (paid as lamports × 1 gwei of ETH) to an L2 account."""
    if lamports <= 0:
        raise BridgeError("a deposit must be at least 1 lamport (1 gwei)")
    balance = w3.eth.get_balance(signer.address)
    if balance < lamports * GWEI:
        raise BridgeError(
            f"{signer.address} has {balance / 1e18:g} ETH on L1, the deposit needs "
            f"{lamports * GWEI / 1e18:g} ETH plus gas"
        )
    receipt = _send(w3, signer, contract.functions.depositETH(bytes(recipient)), lamports * GWEI)
    (event,) = contract.events.DepositQueued().process_receipt(receipt, errors=DISCARD)
    return DepositReceipt(
        int(event["args"]["id"]), recipient, int(event["args"]["lamports"]),
        Web3.to_hex(receipt["transactionHash"]), int(receipt["blockNumber"]),
    )  # fmt: skip


def forced_transaction(
    payer: Keypair, instructions: Sequence[Instruction], *signers: Keypair
) -> VersionedTransaction:
    """Return an L2 transaction signed for forced inclusion (blockhash FORCED_BLOCKHASH)."""
    message = Message.new_with_blockhash(list(instructions), payer.pubkey(), FORCED_BLOCKHASH)
    return VersionedTransaction(message, [payer, *signers])


def force_transaction(
    w3: Web3, contract: Contract, signer: LocalAccount, transaction: VersionedTransaction
) -> ForcedReceipt:
    """Queue ``transaction`` on L1; the sequencer must run it before the queue's deadline."""
    if transaction.message.recent_blockhash != FORCED_BLOCKHASH:
        raise BridgeError(
            "a forced transaction must carry FORCED_BLOCKHASH as its recent blockhash "
            "(heliostat.sdk.bridge.forced_transaction signs one); L2 refuses any other"
        )
    receipt = _send(w3, signer, contract.functions.forceTransaction(bytes(transaction)))
    (event,) = contract.events.ForcedTransactionQueued().process_receipt(receipt, errors=DISCARD)
    return ForcedReceipt(
        int(event["args"]["id"]), transaction.signatures[0],
        Web3.to_hex(receipt["transactionHash"]), int(receipt["blockNumber"]),
    )  # fmt: skip


def withdraw_transaction(
    owner: Keypair, lamports: int, eth_recipient: str, blockhash: Any
) -> VersionedTransaction:
    """Return the signed L2 transaction that withdraws ``lamports`` to ``eth_recipient``."""
    if not Web3.is_address(eth_recipient):
        raise BridgeError(f"{eth_recipient!r} is not an Ethereum address (0x and 40 hex digits)")
    recipient = bytes.fromhex(Web3.to_checksum_address(eth_recipient)[2:])
    instruction = bridge.withdraw(owner.pubkey(), lamports, recipient)
    message = Message.new_with_blockhash([instruction], owner.pubkey(), blockhash)
    return VersionedTransaction(message, [owner])


async def withdraw(
    client: HeliostatClient, owner: Keypair, lamports: int, eth_recipient: str
) -> SoftConfirmation:
    """Send the withdrawal on L2; return once its receipt verifies (claim after L1 finality)."""
    blockhash = (await client.solana.get_latest_blockhash()).value.blockhash
    return await client.send_transaction(
        withdraw_transaction(owner, lamports, eth_recipient, blockhash)
    )


def batch_withdrawals(w3: Web3, contract: Contract, batch: int) -> tuple[Withdrawal, ...]:
    """Read a batch's withdrawals back from its commitBatch calldata on L1."""
    logs = contract.events.BatchCommitted().get_logs(
        from_block=0, argument_filters={"number": batch}
    )
    if not logs:
        raise BridgeError(f"batch {batch} is not committed on L1 yet")
    expected = bytes(contract.functions.batchHashes(batch).call())
    for log in reversed(logs):  # a reverted and recommitted batch has several
        if bytes(log["args"]["batchHash"]) != expected:
            continue
        tx = w3.eth.get_transaction(log["transactionHash"])
        _, args = contract.decode_function_input(tx["input"])
        return tuple(_withdrawal(w) for w in _field(args["batch"], "withdrawals", 5))
    raise BridgeError(f"no commit of batch {batch} matches the stored batch")


def _field(value: Any, name: str, index: int) -> Any:
    """Return a decoded ABI struct's field (web3 gives a mapping or a tuple, by version)."""
    return value[name] if isinstance(value, Mapping) else value[index]


def _withdrawal(value: Any) -> Withdrawal:
    sender = bytes(_field(value, "sender", 0))
    recipient = Web3.to_checksum_address(_field(value, "recipient", 1))
    lamports = int(_field(value, "lamports", 2))
    return Withdrawal(Pubkey(sender), bytes.fromhex(recipient[2:]), lamports)


def wait_for_l1_finality(
    contract: Contract, batch: int, *, timeout_s: float = 600.0, poll_s: float = 0.25
) -> float:
    """Wait until L1 has executed ``batch``; return the seconds waited."""
    started = time.monotonic()
    while int(contract.functions.totalExecuted().call()) < batch:
        if time.monotonic() - started > timeout_s:
            committed = int(contract.functions.totalCommitted().call())
            proven = int(contract.functions.totalProven().call())
            raise BridgeError(
                f"batch {batch} not executed on L1 after {timeout_s:.0f} s "
                f"(committed {committed}, proven {proven}): is its proof made yet?"
            )
        time.sleep(poll_s)
    return time.monotonic() - started


def claim(
    w3: Web3,
    contract: Contract,
    signer: LocalAccount,
    batch: int,
    sender: Pubkey,
    eth_recipient: str,
    lamports: int,
) -> ClaimReceipt:
    """Claim a withdrawal of an executed batch on L1 (anyone may send it; the recipient is paid)."""
    if int(contract.functions.totalExecuted().call()) < batch:
        raise BridgeError(f"batch {batch} is not executed on L1 yet: wait for L1 finality first")
    withdrawals = batch_withdrawals(w3, contract, batch)
    recipient = bytes.fromhex(Web3.to_checksum_address(eth_recipient)[2:])
    claimed = contract.functions.withdrawalClaimed
    for index, w in enumerate(withdrawals):
        if (w.sender, w.recipient, w.lamports) != (sender, recipient, lamports):
            continue
        if _is_claimed(claimed, batch, index):
            continue
        proof = rollup.withdrawal_proof(withdrawals, index)
        leaf = (bytes(w.sender), Web3.to_checksum_address(w.recipient), w.lamports)
        receipt = _send(w3, signer, contract.functions.claimWithdrawal(batch, index, leaf, proof))
        return ClaimReceipt(batch, index, Web3.to_checksum_address(w.recipient), w.lamports,
                            Web3.to_hex(receipt["transactionHash"]))  # fmt: skip
    raise BridgeError(
        f"batch {batch} has no unclaimed withdrawal of {lamports} lamports from {sender} "
        f"to {eth_recipient}"
    )


def _is_claimed(claimed: Any, batch: int, index: int) -> bool:
    try:
        return bool(claimed(batch, index).call())
    except (ContractLogicError, ValueError):
        return False
