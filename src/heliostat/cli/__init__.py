"""The `heliostat` command: one subcommand per module in this package."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from heliostat.cli import bridge as bridge_command
from heliostat.cli import devnet as devnet_command
from heliostat.cli import node as node_command
from heliostat.cli import prove as prove_command
from heliostat.cli import wallet as wallet_command


def build_parser() -> argparse.ArgumentParser:
    """Return the top-level parser; each subcommand module adds its own parser."""
    parser = argparse.ArgumentParser(prog="heliostat", description="Heliostat ZK rollup")
    commands = parser.add_subparsers(dest="command", required=True)
    devnet_command.register(commands)
    node_command.register(commands)
    prove_command.register(commands)
    wallet_command.register(commands)
    bridge_command.register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point named by pyproject's `heliostat` script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        result: int = args.run(args)
    except wallet_command.CliError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    return result


if __name__ == "__main__":
    sys.exit(main())
