"""RPC methods that read the chain and accounts: slots, blockhashes, balances, token state."""

from __future__ import annotations

import base64
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import heliostat
from heliostat.node import base58
from heliostat.node.rpc import params
from heliostat.node.rpc.accounts import AccountView, encode_account, program_filter
from heliostat.node.rpc.errors import (
    MIN_CONTEXT_SLOT_NOT_REACHED,
    NODE_UNHEALTHY,
    RpcError,
    invalid_params,
)
from heliostat.node.rpc.token_json import (
    TOKEN_PROGRAMS,
    mint_decimals,
    token_amount,
)
from heliostat.node.sequencer.chain import MAX_PROCESSING_AGE
from heliostat.node.transactions import message_fee

if TYPE_CHECKING:
    from solders.account import Account
    from solders.pubkey import Pubkey

    from heliostat.node.app import Node

API_VERSION = "2.2.0"
_RpcHandler = Callable[[Any, Any], Awaitable[Any]]


def rpc_method(name: str) -> Callable[[_RpcHandler], _RpcHandler]:
    """Mark a handler as the JSON-RPC method `name` (the server builds its table from these)."""

    def mark(handler: _RpcHandler) -> _RpcHandler:
        handler.rpc_name = name  # type: ignore[attr-defined]
        return handler

    return mark


SLOTS_PER_EPOCH = 432_000  # agave DEFAULT_SLOTS_PER_EPOCH
MAX_MULTIPLE_ACCOUNTS = 100


class StateMethods:
    """Chain and account reads. State is the sequencer's latest (processed) state."""

    def __init__(self, node: Node) -> None:
        self.node = node
        self.sequencer = node.sequencer
        self.storage = node.storage
        self.executor = node.executor

    # -- helpers ------------------------------------------------------------------------

    def slot_for(self, commitment: str) -> int:
        """Return the newest slot at a commitment level."""
        if commitment == "processed":
            return self.sequencer.open.slot
        if commitment == "confirmed":
            return self.sequencer.durable_sealed_slot
        return self.storage.highest_finalized_slot()

    def context(self, cfg: dict[str, Any] | None = None) -> dict[str, Any]:
        """Return the response context; checks `minContextSlot`."""
        slot = self.sequencer.open.slot
        if cfg and cfg.get("minContextSlot") is not None:
            wanted = params.integer(cfg["minContextSlot"], "minContextSlot")
            if wanted > slot:
                raise RpcError(
                    MIN_CONTEXT_SLOT_NOT_REACHED,
                    "Minimum context slot has not been reached",
                    {"contextSlot": slot},
                )
        return {"apiVersion": API_VERSION, "slot": slot}

    def lookup(self, pubkey: Pubkey) -> Account | None:
        """Return an account's latest state."""
        return self.executor.get_account(pubkey)

    def _account_json(self, pubkey: Pubkey, view: AccountView) -> dict[str, Any] | None:
        account = self.lookup(pubkey)
        return None if account is None else encode_account(account, view, self.lookup)

    # -- cluster ------------------------------------------------------------------------

    @rpc_method("getVersion")
    async def get_version(self, raw: Any) -> Any:
        """Node software version."""
        params.positional(raw, 0, 0)
        return {"solana-core": API_VERSION, "feature-set": 0, "heliostat": heliostat.__version__}

    @rpc_method("getHealth")
    async def get_health(self, raw: Any) -> Any:
        """ok, or -32005 when the sequencer has stopped."""
        params.positional(raw, 0, 0)
        if self.sequencer.failure is not None:
            raise RpcError(NODE_UNHEALTHY, "Node is unhealthy", {"reason": "storage_failure"})
        return "ok"

    @rpc_method("getGenesisHash")
    async def get_genesis_hash(self, raw: Any) -> Any:
        """Return the chain's genesis hash."""
        params.positional(raw, 0, 0)
        return base58.b58encode(self.sequencer.genesis_hash)

    @rpc_method("getSlot")
    async def get_slot(self, raw: Any) -> Any:
        """Return the newest slot at the commitment."""
        cfg = params.config(params.positional(raw, 0, 1)[0])
        self.context(cfg)
        return self.slot_for(params.commitment(cfg))

    @rpc_method("getBlockHeight")
    async def get_block_height(self, raw: Any) -> Any:
        """Return the block height at the commitment (equal to the slot: one block per slot)."""
        # One block per slot: the block height equals the slot.
        return await self.get_slot(raw)

    @rpc_method("getEpochInfo")
    async def get_epoch_info(self, raw: Any) -> Any:
        """Epoch, slot index and transaction count."""
        cfg = params.config(params.positional(raw, 0, 1)[0])
        self.context(cfg)
        slot = self.slot_for(params.commitment(cfg))
        return {
            "absoluteSlot": slot,
            "blockHeight": slot,
            "epoch": slot // SLOTS_PER_EPOCH,
            "slotIndex": slot % SLOTS_PER_EPOCH,
            "slotsInEpoch": SLOTS_PER_EPOCH,
            "transactionCount": self.sequencer.next_seq,
        }

    @rpc_method("getLatestBlockhash")
    async def get_latest_blockhash(self, raw: Any) -> Any:
        """Return the newest durable blockhash and the last height it is valid at."""
        cfg = params.config(params.positional(raw, 0, 1)[0])
        params.commitment(cfg)
        context = self.context(cfg)
        block = self.node.durable_blockhash()
        return {
            "context": context,
            "value": {
                "blockhash": base58.b58encode(block.blockhash or b""),
                "lastValidBlockHeight": block.block_height + MAX_PROCESSING_AGE,
            },
        }

    @rpc_method("isBlockhashValid")
    async def is_blockhash_valid(self, raw: Any) -> Any:
        """Whether a blockhash is still usable."""
        args = params.positional(raw, 1, 2)
        cfg = params.config(args[1])
        text = params.string(args[0], "blockhash")
        try:
            value = base58.b58decode(text)
        except ValueError:
            raise invalid_params("Invalid params: blockhash is not base58") from None
        if len(value) != 32:
            raise invalid_params("Invalid params: blockhash must be 32 bytes")
        return {
            "context": self.context(cfg),
            "value": self.sequencer.blockhash_block(value) is not None,
        }

    @rpc_method("getFeeForMessage")
    async def get_fee_for_message(self, raw: Any) -> Any:
        """Return the fee a base64 message would pay (null for an unknown blockhash)."""
        from solders.message import from_bytes_versioned

        args = params.positional(raw, 1, 2)
        cfg = params.config(args[1])
        text = params.string(args[0], "message")
        try:
            message = from_bytes_versioned(base64.b64decode(text, validate=True))
        except Exception:
            raise invalid_params("Invalid params: invalid base64 message") from None
        context = self.context(cfg)
        if self.sequencer.blockhash_block(bytes(message.recent_blockhash)) is None:
            return {"context": context, "value": None}
        return {"context": context, "value": message_fee(message)}

    @rpc_method("getMinimumBalanceForRentExemption")
    async def get_minimum_balance_for_rent_exemption(self, raw: Any) -> Any:
        """Lamports a data length needs to be rent-exempt."""
        args = params.positional(raw, 1, 2)
        size = params.integer(args[0], "data length", maximum=10 * 1024 * 1024)
        return self.executor.minimum_balance_for_rent_exemption(size)

    # -- accounts -----------------------------------------------------------------------

    @rpc_method("getBalance")
    async def get_balance(self, raw: Any) -> Any:
        """Return an account's lamports."""
        args = params.positional(raw, 1, 2)
        key = params.pubkey(args[0])
        cfg = params.config(args[1])
        params.commitment(cfg)
        account = self.lookup(key)
        return {"context": self.context(cfg), "value": 0 if account is None else account.lamports}

    @rpc_method("getAccountInfo")
    async def get_account_info(self, raw: Any) -> Any:
        """One account, encoded as asked."""
        args = params.positional(raw, 1, 2)
        key = params.pubkey(args[0])
        cfg = params.config(args[1])
        params.commitment(cfg)
        view = AccountView.from_config(cfg)
        context = self.context(cfg)
        return {"context": context, "value": self._account_json(key, view)}

    @rpc_method("getMultipleAccounts")
    async def get_multiple_accounts(self, raw: Any) -> Any:
        """Up to 100 accounts."""
        args = params.positional(raw, 1, 2)
        if not isinstance(args[0], list):
            raise invalid_params("Invalid params: expected an array of public keys")
        if len(args[0]) > MAX_MULTIPLE_ACCOUNTS:
            raise invalid_params(f"Too many inputs provided; max {MAX_MULTIPLE_ACCOUNTS}")
        keys = [params.pubkey(k) for k in args[0]]
        cfg = params.config(args[1])
        params.commitment(cfg)
        view = AccountView.from_config(cfg)
        context = self.context(cfg)
        return {"context": context, "value": [self._account_json(k, view) for k in keys]}

    @rpc_method("getProgramAccounts")
    async def get_program_accounts(self, raw: Any) -> Any:
        """Accounts a program owns, filtered."""
        args = params.positional(raw, 1, 2)
        program = params.pubkey(args[0])
        cfg = params.config(args[1])
        params.commitment(cfg)
        view = AccountView.from_config(cfg)
        keep = program_filter(cfg.get("filters"))
        found = []
        # Storage finds the keys; the data comes from the latest state.
        for key, _stored in self.storage.accounts_by_owner(program):
            account = self.lookup(key)
            if account is not None and account.owner == program and keep(bytes(account.data)):
                found.append(
                    {"account": encode_account(account, view, self.lookup), "pubkey": str(key)}
                )
        if params.boolean(cfg.get("withContext"), "withContext", False):
            return {"context": self.context(cfg), "value": found}
        self.context(cfg)
        return found

    # -- SPL Token ----------------------------------------------------------------------

    def _token_account(self, key: Pubkey) -> tuple[Account, int]:
        account = self.lookup(key)
        if account is None or account.owner not in TOKEN_PROGRAMS or len(account.data) < 165:
            raise invalid_params("Invalid param: not a Token account")
        mint = self.lookup(type(key).from_bytes(bytes(account.data)[0:32]))
        decimals = None if mint is None else mint_decimals(bytes(mint.data))
        if decimals is None:
            raise invalid_params("Invalid param: could not find mint")
        return account, decimals

    @rpc_method("getTokenAccountBalance")
    async def get_token_account_balance(self, raw: Any) -> Any:
        """Return a token account's amount."""
        args = params.positional(raw, 1, 2)
        key = params.pubkey(args[0])
        cfg = params.config(args[1])
        account, decimals = self._token_account(key)
        amount = int.from_bytes(bytes(account.data)[64:72], "little")
        return {"context": self.context(cfg), "value": token_amount(amount, decimals)}

    @rpc_method("getTokenSupply")
    async def get_token_supply(self, raw: Any) -> Any:
        """Return a mint's supply."""
        args = params.positional(raw, 1, 2)
        key = params.pubkey(args[0])
        cfg = params.config(args[1])
        mint = self.lookup(key)
        decimals = (
            None
            if mint is None or mint.owner not in TOKEN_PROGRAMS
            else mint_decimals(bytes(mint.data))
        )
        if mint is None or decimals is None:
            raise invalid_params("Invalid param: not a Token mint")
        supply = int.from_bytes(bytes(mint.data)[36:44], "little")
        return {"context": self.context(cfg), "value": token_amount(supply, decimals)}

    @rpc_method("getTokenAccountsByOwner")
    async def get_token_accounts_by_owner(self, raw: Any) -> Any:
        """Token accounts of an owner, by mint or token program."""
        args = params.positional(raw, 2, 3)
        owner = params.pubkey(args[0])
        selector = params.config(args[1])
        cfg = params.config(args[2])
        params.commitment(cfg)
        mint = program = None
        if set(selector) == {"mint"}:
            mint = params.pubkey(selector["mint"])
        elif set(selector) == {"programId"}:
            program = params.pubkey(selector["programId"])
            if program not in TOKEN_PROGRAMS:
                raise invalid_params("Invalid param: unrecognized Token program id")
        else:
            raise invalid_params("Invalid params: expected exactly one of mint or programId")
        view = AccountView.from_config(cfg)
        found = []
        for key, _stored in self.storage.token_accounts_by_owner(owner):
            account = self.lookup(key)
            if account is None or bytes(account.data)[32:64] != bytes(owner):
                continue
            if mint is not None and bytes(account.data)[0:32] != bytes(mint):
                continue
            if program is not None and account.owner != program:
                continue
            found.append(
                {"account": encode_account(account, view, self.lookup), "pubkey": str(key)}
            )
        return {"context": self.context(cfg), "value": found}
