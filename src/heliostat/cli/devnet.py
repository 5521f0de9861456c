"""`heliostat devnet` and `heliostat l1 deploy`: a whole rollup on this machine, or its contracts.

`heliostat devnet` starts anvil, deploys the contracts, runs the node (JSON-RPC, websocket,
explorer), the prover service and the L1 loop, prints the endpoints and funded keys, and on
Ctrl-C (SIGINT) or SIGTERM stops them all in order. Its directory keeps everything; running it
again resumes. It also writes ``endpoints.json`` there, which the bridge commands read with
``--devnet DIR``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import sys
from pathlib import Path
from typing import Any

from heliostat.cli.wallet import CliError

DEFAULT_DIR = "./heliostat-devnet"


def register(commands: Any) -> None:
    """Add the `devnet` and `l1` subcommands."""
    devnet = commands.add_parser(
        "devnet",
        help="run a whole rollup locally: anvil, contracts, node, prover, L1 loop, explorer",
        description="Start anvil (L1), deploy the rollup contracts (with the generated zkVM "
        "verifier), and run the sequencer node (JSON-RPC on PORT, websocket and explorer on "
        "PORT+1), the prover service and the L1 watcher/sender. Deposits made on L1 reach L2; "
        "sealed batches are proven, committed, proven and executed on L1. Everything is kept "
        "in --data-dir: running the command again resumes. Ctrl-C stops it cleanly.",
    )
    devnet.add_argument("--data-dir", default=DEFAULT_DIR, help=f"default {DEFAULT_DIR}")
    devnet.add_argument("--port", type=int, default=0, help="node JSON-RPC port (default: free)")
    devnet.add_argument("--slot-ms", type=int, default=400, help="L2 slot length (default 400)")
    devnet.add_argument(
        "--batch-seconds", type=float, default=2.0,
        help="seal a batch this long after its first transaction (default 2)",
    )  # fmt: skip
    devnet.add_argument("--workers", type=int, default=1, help="prover processes (default 1)")
    devnet.add_argument(
        "--proof-config", default="default",
        help="STARK parameter set: default, compact, conservative or fast-test",
    )  # fmt: skip
    devnet.add_argument(
        "--l1-block-time", type=float, default=0.0,
        help="seconds between L1 blocks (default 0: a block per transaction)",
    )  # fmt: skip
    devnet.set_defaults(run=run_devnet)

    l1 = commands.add_parser("l1", help="L1 contracts")
    l1_commands = l1.add_subparsers(dest="l1_command", required=True)
    deploy = l1_commands.add_parser(
        "deploy",
        help="deploy the rollup contracts to an Ethereum RPC endpoint",
        description="Deploy the generated zkVM STARK verifier, StarkBatchVerifier, the state "
        "tree's account verifier and HeliostatRollup (genesis root given), and grant the "
        "deployer the sequencer and operator roles. Prints the addresses as JSON.",
    )
    deploy.add_argument("--l1-rpc", required=True, help="Ethereum JSON-RPC URL")
    deploy.add_argument(
        "--private-key", required=True, help="deployer's key (hex); becomes the operator"
    )
    deploy.add_argument(
        "--genesis-root", required=True, help="the L2 genesis state root (64 hex digits)"
    )
    deploy.add_argument("--proof-config", default="default", help="STARK parameter set")
    deploy.add_argument("--out", help="also write the deployment JSON to this file")
    deploy.set_defaults(run=run_l1_deploy)


def run_devnet(args: argparse.Namespace) -> int:
    """Run the devnet until SIGINT/SIGTERM."""
    from heliostat.devnet.config import DevnetConfig
    from heliostat.devnet.runner import Devnet
    from heliostat.node.logs import configure_logging
    from heliostat.primitives.errors import HeliostatError

    if args.workers < 1:
        raise CliError("--workers must be at least 1")
    configure_logging("WARNING", False)
    config = DevnetConfig(
        data_dir=Path(args.data_dir).resolve(),
        port=args.port,
        slot_ms=args.slot_ms,
        batch_max_age_s=args.batch_seconds,
        workers=args.workers,
        proof_config=args.proof_config,
        l1_block_time_s=args.l1_block_time,
    )
    devnet = Devnet(config, out=lambda line: print(line, flush=True))

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        starting = loop.create_task(devnet.run(stop))
        while not starting.done():
            await asyncio.sleep(0.1)
            if devnet.node is not None and devnet.deployment is not None:
                write_endpoints(devnet)
                break
        await starting

    try:
        asyncio.run(main())
    except HeliostatError as err:
        raise CliError(f"devnet: {err}") from None
    return 0


def write_endpoints(devnet: Any) -> None:
    """Write ``endpoints.json`` for the bridge commands' ``--devnet DIR``."""
    if devnet.anvil is None or devnet.deployment is None:
        return
    endpoints = {
        "rpc_url": devnet.rpc_url,
        "ws_url": devnet.ws_url,
        "explorer": devnet.explorer_url,
        "l1_rpc": devnet.anvil.rpc_url,
        "rollup": devnet.deployment.rollup,
        "chain_id": devnet.deployment.chain_id,
    }
    path = devnet.path("endpoints.json")
    path.write_text(json.dumps(endpoints, indent=2) + "\n")


def run_l1_deploy(args: argparse.Namespace) -> int:
    """Deploy the rollup to an L1 endpoint and print where."""
    from dataclasses import asdict

    from eth_account import Account
    from web3 import Web3

    from heliostat.devnet.l1 import deploy_rollup
    from heliostat.primitives.errors import HeliostatError

    try:
        root = bytes.fromhex(args.genesis_root.removeprefix("0x"))
    except ValueError:
        raise CliError("--genesis-root must be 64 hex digits") from None
    if len(root) != 32:
        raise CliError(f"--genesis-root must be 32 bytes, got {len(root)}")
    try:
        signer = Account.from_key(args.private_key)
    except ValueError as err:
        raise CliError(f"--private-key is not an Ethereum private key: {err}") from None
    w3 = Web3(Web3.HTTPProvider(args.l1_rpc, request_kwargs={"timeout": 120}))
    if not w3.is_connected():
        raise CliError(f"cannot reach an Ethereum node at {args.l1_rpc}")
    w3.middleware_onion.inject(_signing_middleware(signer), layer=0)
    w3.eth.default_account = signer.address
    try:
        deployment = deploy_rollup(
            w3, root, signer.address, config=args.proof_config,
            progress=lambda m: print(m, file=sys.stderr, flush=True),
        )  # fmt: skip
    except HeliostatError as err:
        raise CliError(f"deploy failed: {err}") from None
    fields = asdict(deployment)
    fields.pop("stark_abi")
    text = json.dumps(fields, indent=2)
    print(text)
    if args.out:
        deployment.save(Path(args.out))
    return 0


def _signing_middleware(signer: Any) -> Any:
    """Sign the deployer's transactions locally (the endpoint holds no keys)."""
    from web3.middleware import SignAndSendRawMiddlewareBuilder

    return SignAndSendRawMiddlewareBuilder.build(signer)
