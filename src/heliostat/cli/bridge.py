"""`heliostat deposit|withdraw|claim|force`: move ETH between L1 and L2 (1 lamport = 1 gwei).

deposit: ETH on L1 becomes lamports on L2 (`depositETH`, then the node credits it).
withdraw: an L2 bridge instruction burns lamports into the bridge vault for an L1 address.
claim: once L1 has executed the withdrawal's batch, its Merkle proof pays the L1 address.
force: an L2 SOL transfer queued on L1 (`forceTransaction`), for when the sequencer ignores
the sender: it must run before the queue's deadline or the rollup can enter escape mode.
`--devnet DIR` reads the endpoints a running `heliostat devnet` wrote there.
"""

from __future__ import annotations

import argparse
import json
import time
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from heliostat.cli.wallet import DEFAULT_URL, CliError, address_of, read_keypair, rpc

LAMPORTS_PER_SOL = 10**9
WAIT_S = 120  # --wait gives up after this


def register(commands: Any) -> None:
    """Add the bridge subcommands."""
    where = argparse.ArgumentParser(add_help=False)
    where.add_argument("--devnet", help="a devnet directory: its endpoints.json fills the URLs")
    amount = argparse.ArgumentParser(add_help=False)
    group = amount.add_mutually_exclusive_group(required=True)
    group.add_argument("--sol", help="amount in SOL (= ETH on L1; 9 decimals)")
    group.add_argument("--lamports", type=int, help="amount in lamports (= gwei on L1)")
    l1 = argparse.ArgumentParser(add_help=False)
    l1.add_argument("--l1-rpc", help="Ethereum JSON-RPC URL (or from --devnet)")
    l1.add_argument("--rollup", help="HeliostatRollup address (or from --devnet)")
    l1.add_argument("--private-key", required=True, help="the L1 key that pays (hex)")

    deposit = commands.add_parser(
        "deposit", parents=[where, amount, l1],
        help="deposit ETH on L1 to an L2 account",
        description="Call HeliostatRollup.depositETH(recipient) with the amount in wei "
        "(lamports × 1 gwei). The node credits the L2 account once the L1 block is "
        "confirmed; with --wait the command waits until the balance shows on L2.",
    )  # fmt: skip
    deposit.add_argument("--to", required=True, help="L2 recipient: base58 address or keypair")
    deposit.add_argument("--url", help=f"L2 node URL for --wait (default {DEFAULT_URL})")
    deposit.add_argument("--wait", action="store_true", help="wait for the L2 credit")
    deposit.set_defaults(run=run_deposit)

    withdraw = commands.add_parser(
        "withdraw", parents=[where, amount],
        help="withdraw lamports from L2 to an L1 address",
        description="Send the L2 bridge program's withdraw instruction signed by --keypair: "
        "the lamports leave the account now and can be claimed on L1 (heliostat claim) once "
        "the batch holding this transaction is executed on L1.",
    )  # fmt: skip
    withdraw.add_argument("--keypair", required=True, help="L2 keypair file of the sender")
    withdraw.add_argument("--to", required=True, help="L1 recipient address (0x…)")
    withdraw.add_argument("--url", help=f"L2 node URL (default {DEFAULT_URL})")
    withdraw.set_defaults(run=run_withdraw)

    claim = commands.add_parser(
        "claim", parents=[where, l1],
        help="claim an L2 withdrawal on L1 once its batch is final",
        description="Find the batch of the withdrawal transaction --signature, wait (with "
        "--wait) until L1 has executed it, read the batch's withdrawals back from its L1 "
        "commit, and call claimWithdrawal with the Merkle proof. Anyone may send the claim; "
        "the withdrawal's recipient is paid.",
    )  # fmt: skip
    claim.add_argument("--signature", required=True, help="the L2 withdraw transaction")
    claim.add_argument("--url", help=f"L2 node URL (default {DEFAULT_URL})")
    claim.add_argument("--wait", action="store_true", help="wait for L1 finality first")
    claim.add_argument("--timeout", type=float, default=600.0, help="seconds to wait")
    claim.set_defaults(run=run_claim)

    force = commands.add_parser(
        "force", parents=[where, amount, l1],
        help="force an L2 SOL transfer in through the L1 queue",
        description="Sign a SOL transfer from --keypair to --to for forced inclusion (its "
        "blockhash is FORCED_BLOCKHASH, since it may wait in the queue longer than any "
        "blockhash lives) and queue it with HeliostatRollup.forceTransaction. The sequencer "
        "must run it before the queue's deadline; if it does not, anyone can switch the "
        "rollup to escape mode. With --wait the command waits until it ran on L2.",
    )  # fmt: skip
    force.add_argument("--keypair", required=True, help="L2 keypair file of the sender")
    force.add_argument("--to", required=True, help="L2 recipient: base58 address or keypair")
    force.add_argument("--url", help=f"L2 node URL for --wait (default {DEFAULT_URL})")
    force.add_argument("--wait", action="store_true", help="wait until it ran on L2")
    force.set_defaults(run=run_force)


def _endpoints(args: argparse.Namespace) -> dict[str, Any]:
    if not getattr(args, "devnet", None):
        return {}
    path = Path(args.devnet) / "endpoints.json"
    try:
        return dict(json.loads(path.read_text()))
    except FileNotFoundError:
        hint = f"is `heliostat devnet --data-dir {args.devnet}` running?"
        raise CliError(f"no {path}: {hint}") from None
    except ValueError as err:
        raise CliError(f"{path} is not JSON: {err}") from None


def _option(args: argparse.Namespace, name: str, key: str, default: str | None = None) -> str:
    value = getattr(args, name, None) or _endpoints(args).get(key) or default
    if not value:
        raise CliError(f"--{name.replace('_', '-')} is required (or --devnet DIR)")
    return str(value)


def lamports_of(args: argparse.Namespace) -> int:
    """Return the amount given as --sol (9 decimals) or --lamports, checked positive."""
    if args.lamports is not None:
        lamports = int(args.lamports)
    else:
        try:
            value = Decimal(args.sol) * LAMPORTS_PER_SOL
        except InvalidOperation:
            raise CliError(f"--sol {args.sol!r} is not a number") from None
        if value != value.to_integral_value():
            raise CliError("--sol has more than 9 decimals (1 lamport = 1 gwei is the unit)")
        lamports = int(value)
    if lamports <= 0:
        raise CliError("the amount must be positive")
    return lamports


def _l1(args: argparse.Namespace) -> tuple[Any, Any, Any]:
    from eth_account import Account
    from web3 import Web3

    from heliostat.sdk import bridge

    url = _option(args, "l1_rpc", "l1_rpc")
    w3 = Web3(Web3.HTTPProvider(url, request_kwargs={"timeout": 60}))
    if not w3.is_connected():
        raise CliError(f"cannot reach an Ethereum node at {url}")
    try:
        signer = Account.from_key(args.private_key)
    except ValueError as err:
        raise CliError(f"--private-key is not an Ethereum private key: {err}") from None
    try:
        contract = bridge.rollup_contract(w3, _option(args, "rollup", "rollup"))
    except bridge.BridgeError as err:
        raise CliError(str(err)) from None
    return w3, contract, signer


def run_deposit(args: argparse.Namespace) -> int:
    """Deposit ETH on L1 for an L2 account."""
    from heliostat.sdk import bridge

    lamports = lamports_of(args)
    recipient = address_of(args.to)
    w3, contract, signer = _l1(args)
    url = _option(args, "url", "rpc_url", DEFAULT_URL) if args.wait else ""
    before = rpc(url, "getBalance", str(recipient))["value"] if args.wait else 0
    started = time.monotonic()
    try:
        receipt = bridge.deposit(w3, contract, signer, recipient, lamports)
    except bridge.BridgeError as err:
        raise CliError(str(err)) from None
    print(f"deposit {receipt.l1_index}: {lamports:,} lamports to {recipient}")
    print(f"L1 transaction {receipt.l1_transaction} (block {receipt.block_number})")
    if args.wait:
        _await_balance(url, recipient, before + lamports, "the deposit did not reach L2 within "
                       f"{WAIT_S} s (is the node running?)")  # fmt: skip
        print(f"credited on L2 after {time.monotonic() - started:.1f} s")
    return 0


def _await_balance(url: str, account: Any, at_least: int, failure: str) -> None:
    """Poll ``account``'s L2 balance until it is ``at_least``; after WAIT_S, fail saying so."""
    deadline = time.monotonic() + WAIT_S
    while rpc(url, "getBalance", str(account))["value"] < at_least:
        if time.monotonic() > deadline:
            raise CliError(failure)
        time.sleep(0.2)


def run_force(args: argparse.Namespace) -> int:
    """Queue an L2 SOL transfer on L1 for forced inclusion."""
    from solders.system_program import TransferParams, transfer

    from heliostat.sdk import bridge

    lamports = lamports_of(args)
    sender = read_keypair(args.keypair)
    recipient = address_of(args.to)
    w3, contract, signer = _l1(args)
    url = _option(args, "url", "rpc_url", DEFAULT_URL) if args.wait else ""
    before = rpc(url, "getBalance", str(recipient))["value"] if args.wait else 0
    params = TransferParams(from_pubkey=sender.pubkey(), to_pubkey=recipient, lamports=lamports)
    transaction = bridge.forced_transaction(sender, [transfer(params)])
    started = time.monotonic()
    try:
        receipt = bridge.force_transaction(w3, contract, signer, transaction)
    except bridge.BridgeError as err:
        raise CliError(str(err)) from None
    print(f"forced transaction {receipt.l1_index}: {lamports:,} lamports to {recipient}")
    print(f"L2 signature {receipt.signature}")
    print(f"L1 transaction {receipt.l1_transaction} (block {receipt.block_number})")
    if args.wait:
        _await_balance(url, recipient, before + lamports, f"the transfer did not show on L2 "
                       f"within {WAIT_S} s: is the node running, can the sender pay it and its "
                       "fee, and is a new recipient left rent-exempt?")  # fmt: skip
        print(f"ran on L2 after {time.monotonic() - started:.1f} s")
    return 0


def run_withdraw(args: argparse.Namespace) -> int:
    """Withdraw lamports from L2 to an L1 address."""
    import base64

    from solders.hash import Hash
    from web3 import Web3

    from heliostat.sdk import bridge

    lamports = lamports_of(args)
    if not Web3.is_address(args.to):
        raise CliError(f"--to {args.to!r} is not an Ethereum address (0x and 40 hex digits)")
    url = _option(args, "url", "rpc_url", DEFAULT_URL)
    owner = read_keypair(args.keypair)
    balance = rpc(url, "getBalance", str(owner.pubkey()))["value"]
    if balance < lamports:
        raise CliError(f"{owner.pubkey()} holds {balance:,} lamports on L2, not {lamports:,}")
    blockhash = Hash.from_string(rpc(url, "getLatestBlockhash")["value"]["blockhash"])
    try:
        tx = bridge.withdraw_transaction(owner, lamports, args.to, blockhash)
    except bridge.BridgeError as err:
        raise CliError(str(err)) from None
    signature = rpc(url, "sendTransaction", base64.b64encode(bytes(tx)).decode(),
                    {"encoding": "base64"})  # fmt: skip
    receipt = rpc(url, "heliostat_getReceipt", signature)
    print(f"withdrawal of {lamports:,} lamports to {args.to} sent")
    print(f"signature {signature} (slot {receipt['slot']})")
    print("claim it on L1 once its batch is final: heliostat claim --signature " + signature)
    return 0


def run_claim(args: argparse.Namespace) -> int:
    """Claim a withdrawal on L1."""
    from solders.pubkey import Pubkey
    from web3 import Web3

    from heliostat.sdk import bridge

    url = _option(args, "url", "rpc_url", DEFAULT_URL)
    found = withdrawal_of(url, args.signature)
    w3, contract, signer = _l1(args)
    batch = _batch_of(url, args.signature, wait=args.wait, timeout_s=args.timeout)
    try:
        if args.wait:
            waited = bridge.wait_for_l1_finality(contract, batch, timeout_s=args.timeout)
            print(f"batch {batch} final on L1 (waited {waited:.1f} s)")
        receipt = bridge.claim(w3, contract, signer, batch, Pubkey.from_string(found["sender"]),
                               found["recipient"], found["lamports"])  # fmt: skip
    except bridge.BridgeError as err:
        raise CliError(str(err)) from None
    paid = Web3.to_checksum_address(receipt.recipient)
    print(f"claimed withdrawal {receipt.index} of batch {batch}: "
          f"{receipt.lamports:,} gwei to {paid}")  # fmt: skip
    print(f"L1 transaction {receipt.l1_transaction}")
    return 0


def withdrawal_of(url: str, signature: str) -> dict[str, Any]:
    """Read a withdraw transaction back from the node: its sender, L1 recipient, amount."""
    import base64
    import struct

    from solders.transaction import VersionedTransaction

    from heliostat.runtime.bridge import BRIDGE_PROGRAM_ID, WITHDRAW

    options = {"encoding": "base64", "maxSupportedTransactionVersion": 0, "commitment": "confirmed"}
    found = rpc(url, "getTransaction", signature, options)
    if found is None:
        raise CliError(f"no transaction {signature} on the node at {url}")
    if found["meta"]["err"] is not None:
        raise CliError(f"transaction {signature} failed on L2: {found['meta']['err']}")
    tx = VersionedTransaction.from_bytes(base64.b64decode(found["transaction"][0]))
    keys = tx.message.account_keys
    for ix in tx.message.instructions:
        data = bytes(ix.data)
        if keys[ix.program_id_index] == BRIDGE_PROGRAM_ID and len(data) == 32:
            tag, lamports = struct.unpack_from("<IQ", data)
            if tag == WITHDRAW:
                sender = keys[ix.accounts[0]]
                return {"sender": str(sender), "recipient": "0x" + data[12:32].hex(),
                        "lamports": lamports}  # fmt: skip
    raise CliError(f"transaction {signature} holds no bridge withdrawal")


def _batch_of(url: str, signature: str, *, wait: bool, timeout_s: float) -> int:
    deadline = time.monotonic() + timeout_s
    while True:
        receipt = rpc(url, "heliostat_getReceipt", signature)
        if receipt is not None and receipt.get("batch") is not None:
            return int(receipt["batch"])
        if not wait or time.monotonic() > deadline:
            raise CliError(f"{signature} is not in a sealed batch yet (use --wait)")
        time.sleep(0.25)
