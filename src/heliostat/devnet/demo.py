"""`python -m heliostat.devnet.demo` (`make demo`): the devnet's demo flow, with timings.

Starts a devnet (real zkVM proofs, the generated verifier on L1) in a fresh directory (or
``--data-dir``), runs `heliostat.devnet.flow.run_flow` — deposit on L1, transfers through
solana-py, a withdrawal, every batch proven and verified on L1, the claim on L1 — then keeps
the devnet and its explorer running until Ctrl-C (``--exit``: stops at once). If a batch
cannot reach L1 finality the demo says which and why, and exits with status 1.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
import tempfile
from pathlib import Path

from heliostat.devnet.config import DevnetConfig
from heliostat.devnet.flow import run_flow
from heliostat.devnet.runner import Devnet
from heliostat.primitives.errors import HeliostatError


async def _until_interrupted() -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()


async def _demo(devnet: Devnet, transfers: int, stay: bool) -> int:
    await devnet.start()
    try:
        print(devnet.banner(), flush=True)
        flow = asyncio.create_task(run_flow(devnet, transfers=transfers, finality_timeout_s=3600))
        while not flow.done():
            if devnet.failures:
                flow.cancel()
                number, error = next(iter(devnet.failures.items()))
                print(f"\nthe demo stops: batch {number} cannot reach L1 finality: {error}")
                return 1
            await asyncio.sleep(0.5)
        result = flow.result()
        total = sum(seconds for _, seconds in result.steps)
        print(f"\ndone in {total:.1f} s: {result.l1_paid_wei / 1e18:g} ETH withdrawn to "
              f"{result.l1_recipient} through batch {result.batch}")  # fmt: skip
        if stay:
            print(f"the devnet keeps running; explorer: {devnet.explorer_url} (Ctrl-C stops it)",
                  flush=True)  # fmt: skip
            await _until_interrupted()
        return 0
    finally:
        await devnet.stop()


def main(argv: list[str] | None = None) -> int:
    """Run the demo; return the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data-dir", help="devnet directory (default: a temporary one)")
    parser.add_argument("--transfers", type=int, default=2, help="SOL transfers on L2")
    parser.add_argument("--workers", type=int, default=1, help="prover processes")
    parser.add_argument("--exit", action="store_true", help="stop once the flow is done")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="heliostat-demo-") as tmp:
        data = Path(args.data_dir) if args.data_dir else Path(tmp)
        config = DevnetConfig(data_dir=data, slot_ms=200, batch_max_age_s=1.0,
                              workers=args.workers)  # fmt: skip
        devnet = Devnet(config, out=lambda line: print(line, flush=True))
        try:
            return asyncio.run(_demo(devnet, args.transfers, stay=not args.exit))
        except HeliostatError as err:
            print(f"demo: {err}", file=sys.stderr)
            return 1


if __name__ == "__main__":
    sys.exit(main())
