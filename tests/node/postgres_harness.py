"""A throwaway PostgreSQL server for the storage tests, from the pgserver package's binaries.

pgserver (PyPI) bundles the PostgreSQL server, so a fresh machine needs no system package:
the session starts one server in a temporary directory and each test gets its own database.
"""

from __future__ import annotations

import itertools
import os
import tempfile
import uuid
import warnings
from pathlib import Path

import pgserver
import psycopg

_names = itertools.count()


class PostgresServer:
    """One running server; `fresh_dsn` creates an empty database and returns its DSN."""

    def __init__(self) -> None:
        # A fresh directory that pgserver creates itself: run as root, it runs PostgreSQL as
        # its own user, which must be able to enter every parent (pytest's 0700 tmp is not).
        self.directory = (
            Path(tempfile.gettempdir()) / f"heliostat-pg-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        )
        with warnings.catch_warnings():  # platformdirs: no XDG_RUNTIME_DIR in a bare container
            warnings.simplefilter("ignore")
            self.server = pgserver.get_server(self.directory, cleanup_mode="delete")
        self.admin_dsn = self.server.get_uri()

    def fresh_dsn(self) -> str:
        name = f"heliostat_test_{next(_names)}"
        with psycopg.connect(self.admin_dsn, autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {name}")
        head, _, query = self.admin_dsn.partition("?")
        return f"{head.rsplit('/', 1)[0]}/{name}?{query}"

    def stop(self) -> None:
        self.server.cleanup()
