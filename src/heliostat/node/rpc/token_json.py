"""SPL Token accounts and mints as `jsonParsed` (agave account-decoder parse_token.rs shapes)."""

from __future__ import annotations

import struct
from collections.abc import Callable
from typing import Any

from solders.account import Account
from solders.pubkey import Pubkey

SPL_TOKEN = Pubkey.from_string("TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA")
TOKEN_2022 = Pubkey.from_string("TokenzQdBNbLqP5VEhdkAS6EPFLC1PHnBqCXEpPxuEb")
TOKEN_PROGRAMS = (SPL_TOKEN, TOKEN_2022)
NATIVE_MINT = Pubkey.from_string("So11111111111111111111111111111111111111112")
MINT_LEN = 82
ACCOUNT_LEN = 165
_STATES = {0: "uninitialized", 1: "initialized", 2: "frozen"}


def ui_amount_string(amount: int, decimals: int) -> str:
    """Scale `amount` by 10^-decimals, without trailing zeros (agave real_number_string_trimmed)."""
    if decimals == 0:
        return str(amount)
    digits = str(amount).rjust(decimals + 1, "0")
    whole, frac = digits[:-decimals], digits[-decimals:].rstrip("0")
    return f"{whole}.{frac}" if frac else whole


def token_amount(amount: int, decimals: int) -> dict[str, Any]:
    """Return the UiTokenAmount object."""
    text = ui_amount_string(amount, decimals)
    return {
        "amount": str(amount),
        "decimals": decimals,
        "uiAmount": float(text),
        "uiAmountString": text,
    }


def _coption_key(data: bytes, offset: int) -> str | None:
    tag = struct.unpack_from("<I", data, offset)[0]
    return str(Pubkey.from_bytes(data[offset + 4 : offset + 36])) if tag == 1 else None


def mint_info(data: bytes) -> dict[str, Any] | None:
    """Return a Mint's fields, or None if `data` is not an initialised mint."""
    if len(data) < MINT_LEN or data[45] != 1:
        return None
    return {
        "decimals": data[44],
        "freezeAuthority": _coption_key(data, 46),
        "isInitialized": True,
        "mintAuthority": _coption_key(data, 0),
        "supply": str(struct.unpack_from("<Q", data, 36)[0]),
    }


def mint_decimals(data: bytes) -> int | None:
    """Return a mint's decimals, None if not a mint."""
    return data[44] if len(data) >= MINT_LEN and data[45] == 1 else None


def token_account_info(data: bytes, decimals: int) -> dict[str, Any] | None:
    """Return a token Account's fields, or None if `data` is not an initialised token account."""
    if len(data) < ACCOUNT_LEN or data[108] == 0:
        return None
    mint = Pubkey.from_bytes(data[0:32])
    amount = struct.unpack_from("<Q", data, 64)[0]
    info: dict[str, Any] = {
        "isNative": struct.unpack_from("<I", data, 109)[0] == 1,
        "mint": str(mint),
        "owner": str(Pubkey.from_bytes(data[32:64])),
        "state": _STATES.get(data[108], "uninitialized"),
        "tokenAmount": token_amount(amount, decimals),
    }
    delegate = _coption_key(data, 72)
    if delegate is not None:
        info["delegate"] = delegate
        info["delegatedAmount"] = token_amount(struct.unpack_from("<Q", data, 121)[0], decimals)
    close = _coption_key(data, 129)
    if close is not None:
        info["closeAuthority"] = close
    if info["isNative"]:
        info["rentExemptReserve"] = token_amount(struct.unpack_from("<Q", data, 113)[0], decimals)
    return info


def parse_token(
    account: Account, lookup_mint: Callable[[Pubkey], Account | None]
) -> dict[str, Any] | None:
    """`{"program", "parsed", "space"}` for a token-program account, None if not parseable."""
    if account.owner not in TOKEN_PROGRAMS:
        return None
    data = bytes(account.data)
    program = "spl-token" if account.owner == SPL_TOKEN else "spl-token-2022"
    if len(data) == MINT_LEN or (
        account.owner == TOKEN_2022 and len(data) > ACCOUNT_LEN and data[ACCOUNT_LEN] == 1
    ):
        info = mint_info(data)
        if info is None:
            return None
        parsed = {"info": info, "type": "mint"}
    elif len(data) >= ACCOUNT_LEN:
        mint_account = lookup_mint(Pubkey.from_bytes(data[0:32]))
        decimals = None if mint_account is None else mint_decimals(bytes(mint_account.data))
        if decimals is None:
            return None
        info = token_account_info(data, decimals)
        if info is None:
            return None
        parsed = {"info": info, "type": "account"}
    else:
        return None
    return {"program": program, "parsed": parsed, "space": len(data)}
