"""The transaction log as agave writes it: a byte-limited collector and the stable log lines.

Mirrors agave's `LogCollector` (solana-svm-log-collector: 10 000-byte limit, one
"Log truncated" line when a message would reach it) and `stable_log` (program-runtime
stable_log.rs), whose line formats downstream tools parse and must not change.

The program id may be given as its base58 text: callers that log often cache it.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence

from solders.pubkey import Pubkey

LOG_MESSAGES_BYTES_LIMIT = 10_000
TRUNCATED = "Log truncated"


class LogCollector:
    """Collects log lines until `bytes_limit` bytes of messages have been written."""

    def __init__(self, bytes_limit: int | None = LOG_MESSAGES_BYTES_LIMIT) -> None:
        self.bytes_limit = bytes_limit
        self.bytes_written = 0
        self.messages: list[str] = []
        self._limit_warning = False

    def log(self, message: str) -> None:
        """Append one line, or the single truncation notice once the limit is reached."""
        if self.bytes_limit is None:
            self.messages.append(message)
            return
        size = len(message) if message.isascii() else len(message.encode())  # UTF-8 bytes
        written = self.bytes_written + size
        if written >= self.bytes_limit:
            if not self._limit_warning:
                self._limit_warning = True
                self.messages.append(TRUNCATED)
        else:
            self.bytes_written = written
            self.messages.append(message)

    def available_bytes(self) -> int | None:
        """Bytes that may still be written, or None without a limit."""
        if self.bytes_limit is None:
            return None
        return max(0, self.bytes_limit - self.bytes_written)


def program_invoke(logs: LogCollector, program_id: Pubkey | str, depth: int) -> None:
    """`Program <id> invoke [<depth>]`."""
    logs.log(f"Program {program_id} invoke [{depth}]")


def program_log(logs: LogCollector, message: str) -> None:
    """`Program log: <message>`: what sol_log_ and friends print."""
    logs.log(f"Program log: {message}")


def program_data(logs: LogCollector, fields: Sequence[bytes]) -> None:
    """`Program data: <base64> <base64> ...`: what sol_log_data prints.

    Like agave, stop encoding fields once the line already fills the remaining budget (the
    collector then records "Log truncated" instead of the line).
    """
    available = logs.available_bytes()
    line = "Program data: "
    for index, field in enumerate(fields):
        if available is not None and available <= len(line):
            break
        if index > 0:
            line += " "
        line += base64.b64encode(field).decode()
    logs.log(line)


def program_return(logs: LogCollector, program_id: Pubkey | str, data: bytes) -> None:
    """`Program return: <id> <base64>`, written when an instruction leaves return data."""
    logs.log(f"Program return: {program_id} {base64.b64encode(data).decode()}")


def program_consumed(
    logs: LogCollector, program_id: Pubkey | str, consumed: int, budget: int
) -> None:
    """`Program <id> consumed <n> of <budget> compute units` (agave bpf_loader `execute`)."""
    logs.log(f"Program {program_id} consumed {consumed} of {budget} compute units")


def program_success(logs: LogCollector, program_id: Pubkey | str) -> None:
    """`Program <id> success`."""
    logs.log(f"Program {program_id} success")


def program_failure(logs: LogCollector, program_id: Pubkey | str, error: object) -> None:
    """`Program <id> failed: <error>`."""
    logs.log(f"Program {program_id} failed: {error}")
