"""`heliostat keys|balance|airdrop|transfer|batch`: a wallet and a node's status from the shell.

Talks the node's Solana JSON-RPC (plus its `heliostat_*` methods) over HTTP with the
standard library; keys are Solana CLI keypair files (a JSON array of the 64 secret bytes), so
`solana-keygen` files work as they are. A transfer waits for its soft confirmation and checks
the sequencer's signed receipt (heliostat.sdk.receipts) before it reports success.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from solders.keypair import Keypair
from solders.pubkey import Pubkey

DEFAULT_URL = os.environ.get("HELIOSTAT_RPC_URL", "http://127.0.0.1:8899")
LAMPORTS_PER_ETH = 10**9  # 1 lamport = 1 gwei (docs/runtime.md)


class CliError(Exception):
    """An error the user can act on; printed as one line."""


def register(commands: Any) -> None:
    """Add the wallet subcommands."""
    url = argparse.ArgumentParser(add_help=False)
    url.add_argument(
        "--url", default=DEFAULT_URL, help=f"node JSON-RPC URL (default {DEFAULT_URL})"
    )

    keys = commands.add_parser("keys", help="create or show a keypair file")
    keys_commands = keys.add_subparsers(dest="keys_command", required=True)
    new = keys_commands.add_parser("new", help="write a new keypair file (Solana CLI format)")
    new.add_argument("outfile", help="where to write it")
    new.add_argument("--force", action="store_true", help="overwrite an existing file")
    new.set_defaults(run=run_keys_new)
    show = keys_commands.add_parser("show", help="print a keypair file's public key")
    show.add_argument("keyfile")
    show.set_defaults(run=run_keys_show)

    balance = commands.add_parser(
        "balance", parents=[url], help="an account's lamports (1 lamport = 1 gwei of L1 ETH)"
    )
    balance.add_argument("account", help="a base58 address or a keypair file")
    balance.set_defaults(run=run_balance)

    airdrop = commands.add_parser(
        "airdrop", parents=[url], help="lamports from the node's faucet (local networks only)"
    )
    airdrop.add_argument("account", help="a base58 address or a keypair file")
    airdrop.add_argument("lamports", type=int)
    airdrop.set_defaults(run=run_airdrop)

    transfer = commands.add_parser(
        "transfer",
        parents=[url],
        help="send lamports and wait for the soft confirmation",
        description="Send lamports with a System Program transfer signed by --from; wait for "
        "the sequencer's soft confirmation and check its signed receipt.",
    )
    transfer.add_argument("to", help="recipient: a base58 address or a keypair file")
    transfer.add_argument("lamports", type=int)
    transfer.add_argument("--from", dest="sender", required=True, help="sender's keypair file")
    transfer.set_defaults(run=run_transfer)

    batch = commands.add_parser("batch", parents=[url], help="a batch's status towards L1")
    batch.add_argument("number", type=int)
    batch.set_defaults(run=run_batch)


def rpc(url: str, method: str, *params: Any) -> Any:
    """Call one JSON-RPC method; its result, or CliError with the node's message."""
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": list(params)})
    request = urllib.request.Request(
        url, data=body.encode(), headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            answer = json.loads(response.read())
    except urllib.error.HTTPError as err:
        raise CliError(f"{url} answered HTTP {err.code} to {method}") from None
    except (urllib.error.URLError, OSError) as err:
        reason = getattr(err, "reason", err)
        raise CliError(f"cannot reach a node at {url}: {reason}") from None
    except json.JSONDecodeError:
        raise CliError(f"{url} did not answer JSON-RPC") from None
    if "error" in answer:
        error = answer["error"]
        raise CliError(f"{method}: {error.get('message', error)}")
    return answer.get("result")


def read_keypair(path: str) -> Keypair:
    """Read a Solana CLI keypair file."""
    try:
        raw = json.loads(Path(path).read_text())
        return Keypair.from_bytes(bytes(raw))
    except FileNotFoundError:
        raise CliError(f"no keypair file at {path}") from None
    except (OSError, ValueError, TypeError) as err:
        raise CliError(f"{path} is not a keypair file (a JSON array of 64 bytes): {err}") from None


def address_of(text: str) -> Pubkey:
    """Return an address given as base58, or the public key of a keypair file."""
    if Path(text).is_file():
        return read_keypair(text).pubkey()
    try:
        return Pubkey.from_string(text)
    except ValueError:
        raise CliError(f"{text!r} is neither a base58 address nor a keypair file") from None


def run_keys_new(args: argparse.Namespace) -> int:
    """Write a new keypair file."""
    path = Path(args.outfile)
    if path.exists() and not args.force:
        raise CliError(f"{path} exists; pass --force to overwrite it")
    keypair = Keypair()
    path.write_text(json.dumps(list(bytes(keypair))))
    path.chmod(0o600)
    print(f"wrote {path}\npubkey: {keypair.pubkey()}")
    return 0


def run_keys_show(args: argparse.Namespace) -> int:
    """Print a keypair file's public key."""
    print(read_keypair(args.keyfile).pubkey())
    return 0


def run_balance(args: argparse.Namespace) -> int:
    """Print an account's balance."""
    lamports = rpc(args.url, "getBalance", str(address_of(args.account)))["value"]
    print(f"{lamports:,} lamports ({lamports / LAMPORTS_PER_ETH:.9f} ETH)")
    return 0


def _wait_confirmed(url: str, signature: str, timeout_s: float = 30) -> dict[str, Any]:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        status = rpc(url, "getSignatureStatuses", [signature])["value"][0]
        if status is not None:
            return dict(status)
        time.sleep(0.05)
    raise CliError(f"{signature} not confirmed after {timeout_s:.0f} s")


def run_airdrop(args: argparse.Namespace) -> int:
    """Ask the faucet for lamports."""
    signature = rpc(args.url, "requestAirdrop", str(address_of(args.account)), args.lamports)
    _wait_confirmed(args.url, signature)
    print(f"airdropped {args.lamports:,} lamports: {signature}")
    return 0


def run_transfer(args: argparse.Namespace) -> int:
    """Send a transfer, wait for the soft confirmation and check its receipt."""
    from solders.hash import Hash
    from solders.message import Message
    from solders.system_program import TransferParams, transfer
    from solders.transaction import Transaction

    from heliostat.sdk.receipts import ReceiptError, verify_receipt

    if args.lamports <= 0:
        raise CliError("the amount must be a positive number of lamports")
    sender = read_keypair(args.sender)
    to = address_of(args.to)
    blockhash = Hash.from_string(rpc(args.url, "getLatestBlockhash")["value"]["blockhash"])
    ix = transfer(TransferParams(from_pubkey=sender.pubkey(), to_pubkey=to, lamports=args.lamports))
    tx = Transaction([sender], Message([ix], sender.pubkey()), blockhash)
    wire = bytes(tx)
    signature = rpc(
        args.url, "sendTransaction", base64.b64encode(wire).decode(), {"encoding": "base64"}
    )
    status = _wait_confirmed(args.url, signature)
    if status.get("err") is not None:
        raise CliError(f"transaction {signature} failed: {status['err']}")
    receipt = rpc(args.url, "heliostat_getReceipt", signature)
    info = rpc(args.url, "heliostat_getSequencerInfo")
    try:
        verify_receipt(
            base64.b64decode(receipt["receipt"]), Pubkey.from_string(info["sequencer"]),
            transaction=wire,
        )  # fmt: skip
    except ReceiptError as err:
        raise CliError(f"the sequencer's receipt for {signature} does not verify: {err}") from None
    print(f"sent {args.lamports:,} lamports to {to}")
    print(f"signature {signature}")
    print(f"soft-confirmed at slot {receipt['slot']}, position {receipt['position']} "
          f"(receipt signed by sequencer {info['sequencer']}, verified)")  # fmt: skip
    return 0


def run_batch(args: argparse.Namespace) -> int:
    """Print a batch's status."""
    batch = rpc(args.url, "heliostat_getBatchStatus", args.number)
    if batch is None:
        raise CliError(f"no batch {args.number} yet")
    print(json.dumps(batch, indent=2))
    return 0
