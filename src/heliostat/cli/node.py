"""`heliostat node`: start the sequencer node (Solana JSON-RPC on PORT, websocket on PORT+1)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys
from typing import Any

from heliostat.node.errors import NodeError


def register(commands: Any) -> None:
    """Add the `node` subcommand."""
    parser: argparse.ArgumentParser = commands.add_parser(
        "node",
        help="run the sequencer node",
        description="Run the sequencer node. Settings come from --config (TOML), then "
        "HELIOSTAT_NODE_* environment variables, then these flags.",
    )
    parser.add_argument("--config", help="TOML configuration file")
    parser.add_argument("--host", help="listen address (default 127.0.0.1)")
    parser.add_argument("--port", type=int, help="HTTP JSON-RPC port; websocket on port + 1")
    parser.add_argument("--data-dir", help="directory for the database and keys")
    parser.add_argument("--slot-ms", type=int, help="slot length in milliseconds (default 400)")
    parser.add_argument(
        "--executor",
        choices=("runtime", "litesvm-double"),
        help="transaction executor: runtime (production) or litesvm-double (development)",
    )
    parser.add_argument("--sequencer-key", help="sequencer keypair file (JSON)")
    parser.add_argument("--faucet-key", help="faucet keypair file: enables requestAirdrop")
    parser.add_argument("--faucet-lamports", type=int, help="the faucet's genesis balance")
    parser.add_argument("--genesis-accounts", help='JSON list of {"pubkey", "lamports"}')
    parser.add_argument("--sqlite-synchronous", choices=("NORMAL", "FULL", "EXTRA"))
    parser.add_argument("--log-level", help="DEBUG, INFO, WARNING, ERROR")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Load the configuration, build the node, run until SIGINT/SIGTERM."""
    from heliostat.node.app import Node, run_forever
    from heliostat.node.config import load_config
    from heliostat.node.logs import configure_logging

    overrides = {
        "host": args.host,
        "port": args.port,
        "data_dir": args.data_dir,
        "slot_ms": args.slot_ms,
        "executor": args.executor,
        "sequencer_key": args.sequencer_key,
        "faucet_key": args.faucet_key,
        "faucet_lamports": args.faucet_lamports,
        "genesis_accounts": args.genesis_accounts,
        "sqlite_synchronous": args.sqlite_synchronous,
        "log_level": args.log_level,
    }
    try:
        config = load_config(args.config, overrides=overrides)
        configure_logging(config.log_level, config.log_json)
        node = Node.from_config(config)
    except NodeError as exc:
        print(f"heliostat node: {exc}", file=sys.stderr)
        return 2
    if config.executor == "litesvm-double":
        logging.getLogger("heliostat.node").warning(
            "executor is the LiteSVM test double: for tests and development, not production"
        )

    async def main() -> None:
        task = asyncio.current_task()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, task.cancel)  # type: ignore[union-attr]
        with contextlib.suppress(asyncio.CancelledError):
            await run_forever(node)

    from heliostat.node.app import tune_process

    tune_process()
    asyncio.run(main())
    return 0
