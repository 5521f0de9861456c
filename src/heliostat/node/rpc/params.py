"""Decoding JSON-RPC params at the edge: every helper raises `RpcError` -32602 on bad input."""

from __future__ import annotations

from typing import Any

from solders.pubkey import Pubkey
from solders.signature import Signature

from heliostat.node import base58
from heliostat.node.rpc.errors import invalid_params

COMMITMENTS = ("processed", "confirmed", "finalized")
# Old names agave still maps (rpc-client-api config).
_COMMITMENT_ALIASES = {
    "recent": "processed",
    "single": "confirmed",
    "singleGossip": "confirmed",
    "root": "finalized",
    "max": "finalized",
}


def positional(params: Any, required: int, maximum: int) -> list[Any]:
    """Params as a list of `maximum` items (missing optional ones as None)."""
    if params is None:
        params = []
    if not isinstance(params, list):
        raise invalid_params("Invalid params: expected an array of parameters")
    if len(params) < required:
        raise invalid_params(f"Invalid params: expected at least {required} parameter(s)")
    if len(params) > maximum:
        raise invalid_params(f"Invalid params: expected at most {maximum} parameter(s)")
    return params + [None] * (maximum - len(params))


def config(value: Any) -> dict[str, Any]:
    """Return an optional config object."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise invalid_params("Invalid params: configuration must be an object")
    return value


def pubkey(value: Any) -> Pubkey:
    """Return a base58 public key."""
    if not isinstance(value, str) or not 32 <= len(value) <= 44:
        raise invalid_params("Invalid param: Invalid")
    try:
        return Pubkey.from_string(value)
    except ValueError:
        raise invalid_params("Invalid param: WrongSize") from None


def signature(value: Any) -> Signature:
    """Return a base58 transaction signature."""
    if not isinstance(value, str) or len(value) > 88:
        raise invalid_params("Invalid param: Invalid")
    try:
        raw = base58.b58decode(value)
    except ValueError:
        raise invalid_params("Invalid param: Invalid") from None
    if len(raw) != 64:
        raise invalid_params("Invalid param: WrongSize")
    return Signature.from_bytes(raw)


def integer(value: Any, name: str, *, minimum: int = 0, maximum: int = (1 << 64) - 1) -> int:
    """Return a JSON integer in range (booleans refused)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise invalid_params(f"Invalid params: {name} must be an integer")
    if not minimum <= value <= maximum:
        raise invalid_params(f"Invalid params: {name} out of range")
    return value


def boolean(value: Any, name: str, default: bool) -> bool:
    """Return an optional boolean."""
    if value is None:
        return default
    if not isinstance(value, bool):
        raise invalid_params(f"Invalid params: {name} must be a boolean")
    return value


def string(value: Any, name: str, default: str | None = None) -> str:
    """Return an optional string."""
    if value is None and default is not None:
        return default
    if not isinstance(value, str):
        raise invalid_params(f"Invalid params: {name} must be a string")
    return value


def commitment(cfg: dict[str, Any], default: str = "finalized") -> str:
    """Return the requested commitment level."""
    value = cfg.get("commitment")
    if value is None:
        return default
    if not isinstance(value, str):
        raise invalid_params("Invalid params: commitment must be a string")
    value = _COMMITMENT_ALIASES.get(value, value)
    if value not in COMMITMENTS:
        raise invalid_params(f"Invalid params: unknown commitment {value!r}")
    return value


def choice(value: Any, name: str, options: tuple[str, ...], default: str) -> str:
    """One of a fixed set of strings."""
    if value is None:
        return default
    if not isinstance(value, str) or value not in options:
        raise invalid_params(f"Invalid params: {name} must be one of {', '.join(options)}")
    return value
