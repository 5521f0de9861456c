"""Prover worker processes for the devnet: local workers that leave Ctrl-C to the devnet.

A terminal's Ctrl-C reaches every process of the foreground group; a worker must not die of
it mid-proof (or print a traceback) while the devnet shuts down in order and stops it.
"""

from __future__ import annotations

import multiprocessing.connection
import signal

from heliostat.node.prover_service.workers import LocalWorker, _worker_main


def _serve_without_interrupts(conn: multiprocessing.connection.Connection) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _worker_main(conn)


class DevnetWorker(LocalWorker):
    """`LocalWorker` whose process ignores SIGINT (the devnet stops it itself)."""

    def _ensure_process(self) -> None:
        if self._process is not None and self._process.is_alive():
            return
        parent, child = self._context.Pipe()
        process = self._context.Process(
            target=_serve_without_interrupts,
            args=(child,),
            name=f"heliostat-prover-{self.name}",
            daemon=True,
        )
        process.start()
        child.close()
        self._process, self._conn = process, parent
