"""JSON-RPC errors with Solana's codes and shapes (agave rpc-client-api custom_error.rs)."""

from __future__ import annotations

from typing import Any

PARSE_ERROR = -32700
INVALID_REQUEST = -32600
METHOD_NOT_FOUND = -32601
INVALID_PARAMS = -32602
INTERNAL_ERROR = -32603
# agave JSON_RPC_SERVER_ERROR_* codes
BLOCK_CLEANED_UP = -32001
SEND_TRANSACTION_PREFLIGHT_FAILURE = -32002
TRANSACTION_SIGNATURE_VERIFICATION_FAILURE = -32003
BLOCK_NOT_AVAILABLE = -32004
NODE_UNHEALTHY = -32005
TRANSACTION_PRECOMPILE_VERIFICATION_FAILURE = -32006
SLOT_SKIPPED = -32007
TRANSACTION_HISTORY_NOT_AVAILABLE = -32011
TRANSACTION_SIGNATURE_LEN_MISMATCH = -32013
UNSUPPORTED_TRANSACTION_VERSION = -32015
MIN_CONTEXT_SLOT_NOT_REACHED = -32016
# Not in agave: the node's own limits.
RATE_LIMITED = -32429


class RpcError(Exception):
    """An error answer: code, message and optional data, as JSON-RPC 2.0 carries them."""

    def __init__(self, code: int, message: str, data: Any = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.data = data

    def to_json(self) -> dict[str, Any]:
        """Return the `error` member of a response."""
        body: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.data is not None:
            body["data"] = self.data
        return body


def invalid_params(message: str) -> RpcError:
    """-32602, with the text agave uses ("Invalid params: ...")."""
    return RpcError(
        INVALID_PARAMS, message if message.startswith("Invalid") else f"Invalid params: {message}"
    )


def block_not_available(slot: int) -> RpcError:
    """-32004 for a slot with no block (yet) at the requested commitment."""
    return RpcError(BLOCK_NOT_AVAILABLE, f"Block not available for slot {slot}")


def simulation_failure(message: str, err: Any, logs: Any, units: int, return_data: Any) -> RpcError:
    """-32002: the preflight simulation failed; data is the simulation result."""
    return RpcError(
        SEND_TRANSACTION_PREFLIGHT_FAILURE,
        message,
        {
            "accounts": None,
            "err": err,
            "innerInstructions": None,
            "loadedAccountsDataSize": None,
            "logs": logs,
            "replacementBlockhash": None,
            "returnData": return_data,
            "unitsConsumed": units,
        },
    )
