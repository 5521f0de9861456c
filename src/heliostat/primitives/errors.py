"""The root of Heliostat's exception tree; each layer derives its own base from it."""

from __future__ import annotations


class HeliostatError(Exception):
    """Base of every error Heliostat raises on purpose.

    ``reason`` is a stable, machine-readable code (snake_case) that RPC responses and logs
    can carry; the message is for people.
    """

    reason: str = "heliostat_error"

    def __init__(self, message: str, *, reason: str | None = None) -> None:
        super().__init__(message)
        if reason is not None:
            self.reason = reason
