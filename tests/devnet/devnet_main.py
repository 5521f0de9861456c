"""Run the plumbing devnet (plumbing.py's stand-ins) as its own process, as `heliostat devnet`
runs: SIGINT/SIGTERM set the stop event. For the shutdown tests only."""

from __future__ import annotations

import asyncio
import signal
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from plumbing import plumbing_devnet


async def main(data_dir: Path) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    devnet = plumbing_devnet(data_dir, [])
    devnet.out = lambda line: print(line, flush=True)
    await devnet.run(stop)


if __name__ == "__main__":
    asyncio.run(main(Path(sys.argv[1])))
