"""The devnet's settings, its well-known L1 test keys, ports, and its batch-level error."""

from __future__ import annotations

import socket
from dataclasses import dataclass
from pathlib import Path

from eth_account import Account as EthAccount
from eth_account.signers.local import LocalAccount

from heliostat.primitives.errors import HeliostatError
from heliostat.settlement.anvil import free_port

ANVIL_MNEMONIC = "test test test test test test test test test test test junk"  # anvil's default


class BatchNotProvenError(HeliostatError):
    """A batch that will not get a proof: the prover gave up on it, or it was refused."""

    def __init__(self, number: int, detail: str, *, reason: str) -> None:
        super().__init__(f"batch {number}: {detail}", reason=reason)
        self.number = number


@dataclass(frozen=True)
class DevnetConfig:
    """What `heliostat devnet` can be told."""

    data_dir: Path
    host: str = "127.0.0.1"
    port: int = 0  # 0: a free port (the websocket and explorer take port + 1)
    slot_ms: int = 400
    batch_max_age_s: float = 2.0
    batch_max_transactions: int = 1_000
    workers: int = 1
    proof_config: str = "default"
    faucet_lamports: int = 10**18  # a billion SOL on L2
    l1_block_time_s: float = 0.0  # 0: anvil mines each transaction at once
    confirmations: int = 0  # L1 blocks a deposit waits before the node takes it
    prover_attempts: int = 5  # a shutdown mid-proof counts as one (the queue retries it)
    prover_timeout_s: float = 3600.0


def anvil_key(index: int) -> LocalAccount:
    """Return anvil's default funded account number ``index`` (its well-known test keys)."""
    EthAccount.enable_unaudited_hdwallet_features()
    account: LocalAccount = EthAccount.from_mnemonic(
        ANVIL_MNEMONIC, account_path=f"m/44'/60'/0'/0/{index}"
    )
    return account


def free_port_pair(host: str = "127.0.0.1") -> int:
    """Return a port p with p and p + 1 free (the node's HTTP and websocket ports)."""
    for _ in range(64):
        port = free_port()
        if port >= 65534:
            continue
        with socket.socket() as probe:
            try:
                probe.bind((host, port + 1))
            except OSError:
                continue
        return port
    raise OSError("no free pair of ports")
