"""RPC methods about transactions and blocks, the faucet, and the `heliostat_*` extensions."""

from __future__ import annotations

import base64
from typing import TYPE_CHECKING, Any

from solders.hash import Hash
from solders.message import Message, MessageV0
from solders.system_program import TransferParams, transfer
from solders.transaction import VersionedTransaction

from heliostat.node import base58
from heliostat.node.errors import AdmissionError
from heliostat.node.rpc import params
from heliostat.node.rpc.accounts import AccountView, encode_account
from heliostat.node.rpc.encoding import (
    check_version,
    encode_transaction,
    error_value,
    meta_json,
    return_data_json,
    transaction_version,
)
from heliostat.node.rpc.errors import (
    INVALID_REQUEST,
    TRANSACTION_SIGNATURE_VERIFICATION_FAILURE,
    RpcError,
    block_not_available,
    invalid_params,
    simulation_failure,
)
from heliostat.node.rpc.state_methods import StateMethods, rpc_method
from heliostat.node.sequencer.chain import MAX_PROCESSING_AGE
from heliostat.node.sequencer.entries import TransactionRefusedError
from heliostat.node.storage.interface import BlockRecord, EntryKind, EntryRecord
from heliostat.node.transactions import TransactionDecodeError, decode_wire, parse_transaction

if TYPE_CHECKING:
    from heliostat.node.execution import ExecutionOutcome

MAX_SIGNATURE_STATUSES = 256
MAX_GET_BLOCKS_RANGE = 500_000
TX_ENCODINGS = ("json", "jsonParsed", "base64", "base58", "binary")


class TransactionMethods(StateMethods):
    """Sending, simulating and looking up transactions and blocks."""

    def _decode(self, args: list[Any], cfg: dict[str, Any]) -> tuple[bytes, VersionedTransaction]:
        text = params.string(args[0], "transaction")
        encoding = params.choice(cfg.get("encoding"), "encoding", ("base58", "base64"), "base58")
        try:
            wire = decode_wire(text, encoding)
            return wire, parse_transaction(wire)
        except TransactionDecodeError as exc:
            raise invalid_params(str(exc)) from None

    def _status(self, entry: EntryRecord) -> tuple[int | None, str]:
        if entry.slot <= self.storage.highest_finalized_slot():
            return None, "finalized"
        if entry.slot <= self.sequencer.durable_sealed_slot:
            return self.sequencer.durable_sealed_slot - entry.slot, "confirmed"
        return 0, "processed"

    # -- sending ------------------------------------------------------------------------

    @rpc_method("sendTransaction")
    async def send_transaction(self, raw: Any) -> Any:
        """Order, execute and soft-confirm a transaction; answer its signature."""
        args = params.positional(raw, 1, 2)
        cfg = params.config(args[1])
        wire, tx = self._decode(args, cfg)
        skip = params.boolean(cfg.get("skipPreflight"), "skipPreflight", False)
        if cfg.get("preflightCommitment") is not None:
            params.commitment({"commitment": cfg["preflightCommitment"]})
        self.context(cfg)
        await self.node.submit(tx, wire, preflight=not skip)
        return str(tx.signatures[0])

    @rpc_method("simulateTransaction")
    async def simulate_transaction(self, raw: Any) -> Any:
        """Run a transaction against the latest state and discard it."""
        args = params.positional(raw, 1, 2)
        cfg = params.config(args[1])
        _wire, tx = self._decode(args, cfg)
        sig_verify = params.boolean(cfg.get("sigVerify"), "sigVerify", False)
        replace = params.boolean(cfg.get("replaceRecentBlockhash"), "replaceRecentBlockhash", False)
        if sig_verify and replace:
            raise invalid_params("sigVerify may not be used with replaceRecentBlockhash")
        context = self.context(cfg)
        replacement = None
        if replace:
            block = self.node.durable_blockhash()
            tx = _with_blockhash(tx, Hash(block.blockhash or bytes(32)))
            replacement = {
                "blockhash": str(tx.message.recent_blockhash),
                "lastValidBlockHeight": block.block_height + MAX_PROCESSING_AGE,
            }
        outcome = self.executor.simulate(tx, verify_signatures=sig_verify)
        accounts = None
        wanted = cfg.get("accounts")
        if wanted is not None:
            wanted = params.config(wanted)
            addresses = wanted.get("addresses")
            if not isinstance(addresses, list):
                raise invalid_params("Invalid params: accounts.addresses must be an array")
            view = AccountView.from_config(wanted, default="base64")
            changed = dict(outcome.changed_accounts)
            accounts = []
            for text in addresses:
                key = params.pubkey(text)
                account = changed.get(key) or self.lookup(key)
                accounts.append(
                    None if account is None else encode_account(account, view, self.lookup)
                )
        return {
            "context": context,
            "value": {
                "accounts": accounts,
                "err": outcome.err,
                "innerInstructions": None,
                "loadedAccountsDataSize": None,
                "logs": list(outcome.logs),
                "replacementBlockhash": replacement,
                "returnData": _outcome_return_data(outcome),
                "unitsConsumed": outcome.compute_units,
            },
        }

    @rpc_method("requestAirdrop")
    async def request_airdrop(self, raw: Any) -> Any:
        """Send lamports from the faucet (only when one is configured)."""
        args = params.positional(raw, 2, 3)
        to = params.pubkey(args[0])
        lamports = params.integer(args[1], "lamports", minimum=1)
        params.config(args[2])
        faucet = self.node.faucet
        if faucet is None:
            raise RpcError(
                INVALID_REQUEST, "Invalid request: requestAirdrop is disabled on this node"
            )
        if lamports > self.node.config.faucet_max_lamports:
            raise invalid_params(
                f"Invalid params: airdrop of {lamports} lamports exceeds the faucet limit of "
                f"{self.node.config.faucet_max_lamports}"
            )
        blockhash = Hash(self.node.durable_blockhash().blockhash or bytes(32))
        message = Message.new_with_blockhash(
            [
                transfer(
                    TransferParams(from_pubkey=faucet.pubkey(), to_pubkey=to, lamports=lamports)
                )
            ],
            faucet.pubkey(),
            blockhash,
        )
        tx = VersionedTransaction(message, [faucet])
        confirmation = await self.node.submit(tx, bytes(tx), preflight=True)
        return base58.b58encode(confirmation.entry.signature)

    # -- lookups ------------------------------------------------------------------------

    @rpc_method("getSignatureStatuses")
    async def get_signature_statuses(self, raw: Any) -> Any:
        """Status and commitment of up to 256 signatures."""
        args = params.positional(raw, 1, 2)
        if not isinstance(args[0], list):
            raise invalid_params("Invalid params: expected an array of signatures")
        if len(args[0]) > MAX_SIGNATURE_STATUSES:
            raise invalid_params(f"Too many inputs provided; max {MAX_SIGNATURE_STATUSES}")
        signatures = [params.signature(s) for s in args[0]]
        cfg = params.config(args[1])
        params.boolean(cfg.get("searchTransactionHistory"), "searchTransactionHistory", False)
        values: list[Any] = []
        for sig in signatures:
            entry = self.storage.entry_by_signature(bytes(sig))
            if entry is None:
                values.append(None)
                continue
            confirmations, status = self._status(entry)
            err = error_value(entry)
            values.append(
                {
                    "confirmationStatus": status,
                    "confirmations": confirmations,
                    "err": err,
                    "slot": entry.slot,
                    "status": {"Ok": None} if err is None else {"Err": err},
                }
            )
        return {"context": self.context(), "value": values}

    def _entry_json(
        self, entry: EntryRecord, encoding: str, max_version: int | None, block: BlockRecord | None
    ) -> dict[str, Any]:
        tx = VersionedTransaction.from_bytes(entry.payload)
        check_version(tx, max_version)
        out: dict[str, Any] = {
            "meta": meta_json(entry),
            "transaction": encode_transaction(tx, entry.payload, encoding),
        }
        if max_version is not None:
            out["version"] = transaction_version(tx)
        if block is not None:
            out["blockTime"] = block.block_time
            out["slot"] = entry.slot
        return out

    @rpc_method("getTransaction")
    async def get_transaction(self, raw: Any) -> Any:
        """Return a transaction with its status meta."""
        args = params.positional(raw, 1, 2)
        sig = params.signature(args[0])
        cfg = params.config(args[1]) if not isinstance(args[1], str) else {"encoding": args[1]}
        commitment = params.commitment(cfg)
        if commitment == "processed":
            raise invalid_params("Invalid params: processed commitment is not supported")
        encoding = params.choice(cfg.get("encoding"), "encoding", TX_ENCODINGS, "json")
        max_version = cfg.get("maxSupportedTransactionVersion")
        if max_version is not None:
            max_version = params.integer(max_version, "maxSupportedTransactionVersion", maximum=255)
        entry = self.storage.entry_by_signature(bytes(sig))
        if entry is None or entry.kind is not EntryKind.TRANSACTION:
            return None
        if entry.slot > self.slot_for(commitment):
            return None
        block = self.storage.block(entry.slot)
        return self._entry_json(entry, encoding, max_version, block)

    @rpc_method("getSignaturesForAddress")
    async def get_signatures_for_address(self, raw: Any) -> Any:
        """Entries naming an address, newest first."""
        args = params.positional(raw, 1, 2)
        address = params.pubkey(args[0])
        cfg = params.config(args[1])
        limit = params.integer(cfg.get("limit", 1000), "limit", minimum=1, maximum=1000)
        bounds: list[int | None] = []
        for name in ("before", "until"):
            if cfg.get(name) is None:
                bounds.append(None)
                continue
            found = self.storage.entry_by_signature(bytes(params.signature(cfg[name])))
            bounds.append(None if found is None else found.seq)
        entries = self.storage.signatures_for_address(bytes(address), bounds[0], bounds[1], limit)
        times: dict[int, int] = {}
        out = []
        for entry in entries:
            if entry.slot not in times:
                block = self.storage.block(entry.slot)
                times[entry.slot] = 0 if block is None else block.block_time
            _, status = self._status(entry)
            out.append(
                {
                    "blockTime": times[entry.slot],
                    "confirmationStatus": status,
                    "err": error_value(entry),
                    "memo": None,
                    "signature": base58.b58encode(entry.signature),
                    "slot": entry.slot,
                }
            )
        return out

    @rpc_method("getBlock")
    async def get_block(self, raw: Any) -> Any:
        """Return a sealed block."""
        args = params.positional(raw, 1, 2)
        slot = params.integer(args[0], "slot")
        cfg = params.config(args[1]) if not isinstance(args[1], str) else {"encoding": args[1]}
        commitment = params.commitment(cfg)
        if commitment == "processed":
            raise invalid_params("Invalid params: processed commitment is not supported")
        encoding = params.choice(cfg.get("encoding"), "encoding", TX_ENCODINGS, "json")
        details = params.choice(
            cfg.get("transactionDetails"),
            "transactionDetails",
            ("full", "signatures", "none", "accounts"),
            "full",
        )
        rewards = params.boolean(cfg.get("rewards"), "rewards", True)
        max_version = cfg.get("maxSupportedTransactionVersion")
        if max_version is not None:
            max_version = params.integer(max_version, "maxSupportedTransactionVersion", maximum=255)
        block = self.storage.block(slot)
        if block is None or block.blockhash is None or slot > self.slot_for(commitment):
            raise block_not_available(slot)
        out: dict[str, Any] = {
            "blockHeight": block.block_height,
            "blockTime": block.block_time,
            "blockhash": base58.b58encode(block.blockhash),
            "parentSlot": block.parent_slot,
            "previousBlockhash": base58.b58encode(block.parent_blockhash),
        }
        entries = [
            e for e in self.storage.entries_in_block(block) if e.kind is EntryKind.TRANSACTION
        ]
        if details == "signatures":
            out["signatures"] = [base58.b58encode(e.signature) for e in entries]
        elif details in ("full", "accounts"):
            out["transactions"] = [
                self._entry_json(e, encoding, max_version, None) for e in entries
            ]
        if rewards:
            out["rewards"] = []
        return out

    @rpc_method("getBlocks")
    async def get_blocks(self, raw: Any) -> Any:
        """Sealed block slots in a range."""
        args = params.positional(raw, 1, 3)
        start = params.integer(args[0], "start_slot")
        cfg: dict[str, Any] = {}
        end = None
        if isinstance(args[1], dict):
            cfg = args[1]
        elif args[1] is not None:
            end = params.integer(args[1], "end_slot")
        if args[2] is not None:
            cfg = params.config(args[2])
        commitment = params.commitment(cfg)
        if commitment == "processed":
            raise invalid_params("Invalid params: processed commitment is not supported")
        top = self.slot_for(commitment)
        end = top if end is None else min(end, top)
        if end >= start and end - start > MAX_GET_BLOCKS_RANGE:
            raise invalid_params(f"Slot range too large; max {MAX_GET_BLOCKS_RANGE}")
        return self.storage.blocks_in_range(start, end, MAX_GET_BLOCKS_RANGE)

    # -- heliostat extensions -----------------------------------------------------------

    @rpc_method("heliostat_getReceipt")
    async def heliostat_get_receipt(self, raw: Any) -> Any:
        """Return the signed soft-confirmation receipt of an entry."""
        args = params.positional(raw, 1, 1)
        entry = self.storage.entry_by_signature(bytes(params.signature(args[0])))
        if entry is None:
            return None
        _, status = self._status(entry)
        return {
            "receipt": base64.b64encode(entry.receipt).decode(),
            "seq": entry.seq,
            "slot": entry.slot,
            "position": entry.position,
            "sequencer": str(self.sequencer.keypair.pubkey()),
            "runningHash": entry.running_hash.hex(),
            "confirmationStatus": status,
            "batch": self.storage.batch_of_slot(entry.slot),
        }

    @rpc_method("heliostat_getSequencerInfo")
    async def heliostat_get_sequencer_info(self, raw: Any) -> Any:
        """Return the sequencer's key, genesis hash and settings."""
        params.positional(raw, 0, 0)
        return {
            "sequencer": str(self.sequencer.keypair.pubkey()),
            "genesisHash": base58.b58encode(self.sequencer.genesis_hash),
            "chain": self.sequencer.config.chain_name,
            "slotMs": self.sequencer.config.slot_ms,
            "executor": self.node.executor_name,
        }

    @rpc_method("heliostat_getBatchStatus")
    async def heliostat_get_batch_status(self, raw: Any) -> Any:
        """Return a batch's range, state root and status towards L1 finality."""
        args = params.positional(raw, 1, 1)
        batch = self.storage.batch(params.integer(args[0], "batch"))
        if batch is None:
            return None
        return {
            "batch": batch.number,
            "firstSlot": batch.first_slot,
            "lastSlot": batch.last_slot,
            "transactionCount": batch.entry_count,
            "computeUnits": batch.compute_units,
            "dataBytes": batch.data_bytes,
            "stateRoot": batch.state_root.hex(),
            "status": str(batch.status),
            "sealedAt": batch.sealed_at,
            "l1Transaction": batch.l1_transaction,
            "hasProof": batch.proof is not None,
        }

    @rpc_method("heliostat_getBatchProof")
    async def heliostat_get_batch_proof(self, raw: Any) -> Any:
        """Return a batch's proof, once the prover has produced it."""
        args = params.positional(raw, 1, 1)
        batch = self.storage.batch(params.integer(args[0], "batch"))
        if batch is None:
            return None
        proof = None if batch.proof is None else base64.b64encode(batch.proof).decode()
        return {"batch": batch.number, "status": str(batch.status), "proof": proof}


def _outcome_return_data(outcome: ExecutionOutcome) -> Any:
    if outcome.return_data is None:
        return None
    return return_data_json(bytes(outcome.return_data[0]) + outcome.return_data[1])


def _with_blockhash(tx: VersionedTransaction, blockhash: Hash) -> VersionedTransaction:
    message = tx.message
    new: Message | MessageV0
    if isinstance(message, MessageV0):
        new = MessageV0(
            message.header,
            list(message.account_keys),
            blockhash,
            list(message.instructions),
            list(message.address_table_lookups),
        )
    else:
        header = message.header
        new = Message.new_with_compiled_instructions(
            header.num_required_signatures,
            header.num_readonly_signed_accounts,
            header.num_readonly_unsigned_accounts,
            list(message.account_keys),
            blockhash,
            list(message.instructions),
        )
    return VersionedTransaction.populate(new, list(tx.signatures))


def refusal_to_rpc(exc: AdmissionError) -> RpcError:
    """Map a refused submission to the error Solana's RPC gives for it."""
    if isinstance(exc, TransactionRefusedError):
        outcome = exc.outcome
        if outcome.err == "SignatureFailure":
            return RpcError(
                TRANSACTION_SIGNATURE_VERIFICATION_FAILURE,
                "Transaction signature verification failure",
            )
        return simulation_failure(
            str(exc),
            outcome.err,
            list(outcome.logs),
            outcome.compute_units,
            _outcome_return_data(outcome),
        )
    return RpcError(exc.code, str(exc), exc.data)
