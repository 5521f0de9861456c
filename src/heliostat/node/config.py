"""Node configuration: defaults, then a TOML file, then HELIOSTAT_NODE_* environment variables.

Every field of `NodeConfig` can be set in the file (same name, in a `[node]` table or at the
top level) or in the environment as HELIOSTAT_NODE_<FIELD> in upper case; command-line flags
override both. `docs/node.md` lists the fields.
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from heliostat.node.errors import ConfigError

ENV_PREFIX = "HELIOSTAT_NODE_"


@dataclass(frozen=True, slots=True)
class NodeConfig:
    """Everything an operator can set."""

    host: str = "127.0.0.1"
    port: int = 8899  # HTTP JSON-RPC; the websocket listens on port + 1
    data_dir: str = "./heliostat-data"
    chain_name: str = "heliostat-local"
    sequencer_key: str = ""  # path to a solana-keygen JSON keypair; created in data_dir if empty
    executor: str = "runtime"  # "runtime" (production) or "litesvm-double" (tests, development)
    slot_ms: int = 400
    storage: str = "sqlite"  # "sqlite" (data_dir/node.sqlite) or "postgres" (postgres_dsn)
    sqlite_synchronous: str = "FULL"
    postgres_dsn: str = ""  # libpq connection string or URI, for storage = "postgres"
    mempool_capacity: int = 20_000
    per_sender_limit: int = 2_000
    batch_max_transactions: int = 10_000
    batch_max_compute_units: int = 1_400_000_000
    batch_max_bytes: int = 8_000_000
    batch_max_age_s: float = 10.0
    max_request_bytes: int = 51_200  # agave MAX_REQUEST_BODY_SIZE (50 KiB)
    max_batch_requests: int = 100
    rate_limit_rps: float = 20_000.0  # per client address; 0 turns the limit off
    rate_limit_burst: int = 40_000
    faucet_key: str = ""  # path to a keypair funded at genesis; empty: no requestAirdrop
    faucet_lamports: int = 0  # genesis balance of the faucet account
    faucet_max_lamports: int = 10_000_000_000_000
    genesis_accounts: str = ""  # path to a JSON list of {"pubkey", "lamports"} funded at genesis
    log_level: str = "INFO"
    log_json: bool = True

    @property
    def ws_port(self) -> int:
        """The websocket port: HTTP port + 1, the convention Solana clients assume."""
        return self.port + 1


def _convert(name: str, kind: Any, value: Any) -> Any:
    try:
        if kind in (int, "int"):
            if isinstance(value, bool):
                raise ValueError("boolean given")
            return int(value)
        if kind in (float, "float"):
            return float(value)
        if kind in (bool, "bool"):
            if isinstance(value, bool):
                return value
            text = str(value).strip().lower()
            if text in ("1", "true", "yes", "on"):
                return True
            if text in ("0", "false", "no", "off"):
                return False
            raise ValueError(f"not a boolean: {value!r}")
        return str(value)
    except (TypeError, ValueError) as exc:
        raise ConfigError(name, str(exc)) from None


def load_config(
    path: str | Path | None = None,
    environ: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> NodeConfig:
    """Merge defaults, the TOML file, the environment and explicit overrides, and check."""
    environ = os.environ if environ is None else environ
    kinds = {f.name: f.type for f in fields(NodeConfig)}
    values: dict[str, Any] = {}
    if path is not None:
        try:
            data = tomllib.loads(Path(path).read_text())
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise ConfigError(str(path), str(exc)) from None
        table = data.get("node", data)
        for key, value in table.items():
            if key not in kinds:
                raise ConfigError(key, "unknown setting")
            values[key] = _convert(key, kinds[key], value)
    for name, kind in kinds.items():
        env = environ.get(ENV_PREFIX + name.upper())
        if env is not None:
            values[name] = _convert(name, kind, env)
    for key, value in (overrides or {}).items():
        if value is not None:
            if key not in kinds:
                raise ConfigError(key, "unknown setting")
            values[key] = _convert(key, kinds[key], value)
    config = dataclasses.replace(NodeConfig(), **values)
    _check(config)
    return config


def _check(config: NodeConfig) -> None:
    if not 0 < config.port < 65535:
        raise ConfigError("port", f"{config.port} is not a port below 65535")
    if config.slot_ms < 10:
        raise ConfigError("slot_ms", f"{config.slot_ms} ms is below the 10 ms minimum")
    if config.executor not in ("runtime", "litesvm-double"):
        raise ConfigError("executor", f"unknown executor {config.executor!r}")
    if config.storage not in ("sqlite", "postgres"):
        raise ConfigError("storage", f"unknown storage {config.storage!r} (sqlite or postgres)")
    if config.storage == "postgres" and not config.postgres_dsn:
        raise ConfigError("postgres_dsn", "storage = postgres needs a connection string")
    if config.sqlite_synchronous not in ("NORMAL", "FULL", "EXTRA"):
        raise ConfigError("sqlite_synchronous", "must be NORMAL, FULL or EXTRA")
    for name in ("mempool_capacity", "per_sender_limit", "max_request_bytes", "max_batch_requests"):
        if getattr(config, name) <= 0:
            raise ConfigError(name, "must be positive")
    if config.faucet_key and config.faucet_lamports <= 0:
        raise ConfigError("faucet_lamports", "a faucet needs a positive genesis balance")
