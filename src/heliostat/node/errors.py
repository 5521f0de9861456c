"""The node layer's exceptions: one base, leaves that carry the numbers and a stable reason."""

from __future__ import annotations

from heliostat.primitives.errors import HeliostatError


class NodeError(HeliostatError):
    """Base of every error the node raises on purpose."""

    reason = "node_error"


class ConfigError(NodeError):
    """A configuration value is missing, malformed or out of range."""

    reason = "bad_config"

    def __init__(self, key: str, message: str) -> None:
        super().__init__(f"config {key}: {message}")
        self.key = key


class StorageError(NodeError):
    """The store is unusable: wrong schema, a different genesis, or a broken invariant."""

    reason = "storage_error"


class GenesisMismatchError(StorageError):
    """The database was created for another genesis than the one configured."""

    reason = "genesis_mismatch"

    def __init__(self, expected: bytes, got: bytes) -> None:
        super().__init__(f"database genesis {got.hex()} differs from configured {expected.hex()}")
        self.expected = expected
        self.got = got


class AdmissionError(NodeError):
    """A transaction was refused before ordering; `code` and `data` follow Solana's RPC shapes."""

    reason = "admission_refused"

    def __init__(self, message: str, *, code: int, reason: str, data: object | None = None) -> None:
        super().__init__(message, reason=reason)
        self.code = code
        self.data = data


class MempoolFullError(AdmissionError):
    """The mempool, or this sender's share of it, is at capacity."""

    def __init__(self, limit: int, *, per_sender: bool) -> None:
        scope = "sender's share of the mempool" if per_sender else "mempool"
        super().__init__(
            f"{scope} is full ({limit} pending transactions)",
            code=-32005,
            reason="mempool_full_sender" if per_sender else "mempool_full",
        )
        self.limit = limit
