"""Accounts as the RPC returns them: binary encodings, jsonParsed, data slices and filters."""

from __future__ import annotations

import base64
import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import zstandard
from solders.account import Account
from solders.pubkey import Pubkey

from heliostat.node import base58
from heliostat.node.rpc import params
from heliostat.node.rpc.errors import invalid_params
from heliostat.node.rpc.token_json import parse_token

ENCODINGS = ("base58", "base64", "base64+zstd", "jsonParsed", "binary")
# agave rpc: MAX_BASE58_BYTES, the largest account data base58 will encode.
MAX_BASE58_BYTES = 128
U64_MAX = (1 << 64) - 1


@dataclass(frozen=True, slots=True)
class AccountView:
    """How the client asked to see account data."""

    encoding: str
    offset: int | None
    length: int | None

    @classmethod
    def from_config(cls, cfg: dict[str, Any], default: str = "base58") -> AccountView:
        """Read `encoding` and `dataSlice` from a config object."""
        encoding = params.choice(cfg.get("encoding"), "encoding", ENCODINGS, default)
        offset = length = None
        data_slice = cfg.get("dataSlice")
        if data_slice is not None:
            if not isinstance(data_slice, dict):
                raise invalid_params("Invalid params: dataSlice must be an object")
            offset = params.integer(data_slice.get("offset"), "dataSlice.offset")
            length = params.integer(data_slice.get("length"), "dataSlice.length")
            if encoding == "jsonParsed":
                encoding = "base64"  # agave: a slice makes jsonParsed fall back to binary
        return cls(encoding, offset, length)


def _binary(data: bytes, encoding: str) -> Any:
    if encoding == "binary":
        return base58.b58encode(data)
    if encoding == "base58":
        return [base58.b58encode(data), "base58"]
    if encoding == "base64+zstd":
        return [base64.b64encode(zstandard.ZstdCompressor().compress(data)).decode(), "base64+zstd"]
    return [base64.b64encode(data).decode(), "base64"]


def encode_account(
    account: Account, view: AccountView, lookup: Callable[[Pubkey], Account | None]
) -> dict[str, Any]:
    """Return the UiAccount object."""
    data = bytes(account.data)
    encoding = view.encoding
    encoded: Any
    if encoding == "jsonParsed":
        parsed = parse_token(account, lookup)
        encoded = parsed if parsed is not None else _binary(data, "base64")
    else:
        if view.offset is not None:
            data = data[view.offset : view.offset + (view.length or 0)]
        if encoding in ("base58", "binary") and len(data) > MAX_BASE58_BYTES:
            raise invalid_params(
                "Encoded binary (base 58) data should be less than 128 bytes, please use "
                "Base64 encoding."
            )
        encoded = _binary(data, encoding)
    return {
        "data": encoded,
        "executable": account.executable,
        "lamports": account.lamports,
        "owner": str(account.owner),
        "rentEpoch": account.rent_epoch if account.rent_epoch else U64_MAX,
        "space": len(account.data),
    }


def _size_is(size: int, data: bytes) -> bool:
    return len(data) == size


def _bytes_at(offset: int, wanted: bytes, data: bytes) -> bool:
    return data[offset : offset + len(wanted)] == wanted


def program_filter(filters: Any) -> Callable[[bytes], bool]:
    """Return a predicate over account data from `filters` (memcmp, dataSize; at most 4)."""
    if filters is None:
        return lambda _data: True
    if not isinstance(filters, list) or len(filters) > 4:
        raise invalid_params("Invalid params: filters must be an array of at most 4 filters")
    checks: list[Callable[[bytes], bool]] = []
    for item in filters:
        if not isinstance(item, dict) or len(item) != 1:
            raise invalid_params("Invalid params: each filter is one of memcmp or dataSize")
        if "dataSize" in item:
            size = params.integer(item["dataSize"], "dataSize")
            checks.append(functools.partial(_size_is, size))
        elif "memcmp" in item:
            memcmp = item["memcmp"]
            if not isinstance(memcmp, dict):
                raise invalid_params("Invalid params: memcmp must be an object")
            offset = params.integer(memcmp.get("offset"), "memcmp.offset")
            raw = params.string(memcmp.get("bytes"), "memcmp.bytes")
            encoding = params.choice(
                memcmp.get("encoding"), "memcmp.encoding", ("base58", "base64"), "base58"
            )
            try:
                wanted = (
                    base58.b58decode(raw)
                    if encoding == "base58"
                    else base64.b64decode(raw, validate=True)
                )
            except ValueError:
                raise invalid_params("Invalid params: memcmp bytes do not decode") from None
            if len(wanted) > 128:
                raise invalid_params("Invalid params: memcmp bytes longer than 128")
            checks.append(functools.partial(_bytes_at, offset, wanted))
        elif "tokenAccountState" in item:
            checks.append(lambda data: len(data) >= 165 and data[108] != 0)
        else:
            raise invalid_params(f"Invalid params: unknown filter {next(iter(item))!r}")
    return lambda data: all(check(data) for check in checks)
