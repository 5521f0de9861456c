"""The L1 sender: signed transactions with nonce and fee management, stuck ones replaced.

``L1Sender(w3, signer).send(fn)`` estimates gas (a revert is reported with its reason before
anything is sent), takes the next nonce from the chain's pending count (so a restarted sender
continues where the last one stopped, its queued transactions included), prices with EIP-1559
fees (twice the base fee plus a tip) and waits for the receipt. A transaction not mined within
``FeePolicy.stuck_after_s`` is sent again with the same nonce and fees raised by
``bump_percent`` (nodes require at least 10%), up to ``max_fee_wei``; whichever version is
mined is the result.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from eth_account.signers.local import LocalAccount
from web3 import Web3
from web3.exceptions import ContractLogicError, TransactionNotFound

from heliostat.settlement.anvil import TX_GAS_CAP
from heliostat.settlement.errors import ChainError

GWEI = 10**9


@dataclass(frozen=True)
class FeePolicy:
    """How to price and re-price transactions."""

    tip_wei: int = 1 * GWEI
    max_fee_wei: int = 500 * GWEI
    bump_percent: int = 15
    stuck_after_s: float = 30.0
    timeout_s: float = 600.0


@dataclass
class Sent:
    """One logical transaction: the call, every hash sent for its nonce, and the receipt."""

    nonce: int
    call: Any  # the contract function call
    params: dict[str, Any]
    gas: int
    hashes: list[bytes] = field(default_factory=list)
    receipt: Any = None


class L1Sender:
    """Send transactions from one account."""

    def __init__(
        self, w3: Web3, signer: LocalAccount, fees: FeePolicy | None = None, poll_s: float = 0.1
    ) -> None:
        self.w3 = w3
        self.signer = signer
        self.fees = fees or FeePolicy()
        self.poll_s = poll_s

    def next_nonce(self) -> int:
        """Return the chain's count of this account's transactions, pending ones included.

        Pending ones are this sender's or a previous run's: a restart continues after them.
        """
        return int(self.w3.eth.get_transaction_count(self.signer.address, "pending"))

    def _prices(self, attempt: int) -> tuple[int, int]:
        base = int(self.w3.eth.get_block("latest").get("baseFeePerGas", 0))
        factor = (100 + self.fees.bump_percent) ** attempt
        scale = 100**attempt
        tip = self.fees.tip_wei * factor // scale
        cap = (2 * base + self.fees.tip_wei) * factor // scale
        if cap > self.fees.max_fee_wei:
            raise ChainError(f"fee cap {cap} wei would pass the limit {self.fees.max_fee_wei}")
        return tip, cap

    def submit(self, fn: Any, *, value: int = 0, nonce: int | None = None) -> Sent:
        """Sign and send ``fn`` (a contract function call) without waiting."""
        params = {"from": self.signer.address, "value": value}
        try:
            gas = int(fn.estimate_gas({**params, "gas": TX_GAS_CAP}))
        except ContractLogicError as err:
            raise ChainError(f"the transaction would revert: {err}", reason="would_revert") from err
        nonce = self.next_nonce() if nonce is None else nonce
        sent = Sent(nonce, fn, params, min(TX_GAS_CAP, gas + gas // 5))
        self._send_version(sent)
        return sent

    def _send_version(self, sent: Sent) -> None:
        """Send the next version of ``sent``: the same nonce, fees raised per earlier one."""
        tip, cap = self._prices(len(sent.hashes))
        tx = sent.call.build_transaction(
            {
                **sent.params,
                "nonce": sent.nonce,
                "gas": sent.gas,
                "maxPriorityFeePerGas": tip,
                "maxFeePerGas": cap,
                "chainId": self.w3.eth.chain_id,
            }
        )
        signed = self.signer.sign_transaction(tx)
        sent.hashes.append(bytes(self.w3.eth.send_raw_transaction(signed.raw_transaction)))

    def send(self, fn: Any, *, value: int = 0) -> Sent:
        """Send ``fn`` and wait until one version of it is mined; raise if it reverted."""
        sent = self.submit(fn, value=value)
        started = last_sent = time.monotonic()
        while sent.receipt is None:
            for tx_hash in sent.hashes:
                try:
                    sent.receipt = self.w3.eth.get_transaction_receipt(tx_hash)  # type: ignore[arg-type]
                    break
                except TransactionNotFound:
                    continue
            if sent.receipt is not None:
                break
            now = time.monotonic()
            if now - started > self.fees.timeout_s:
                raise ChainError(f"nonce {sent.nonce} not mined in {self.fees.timeout_s} s")
            if now - last_sent > self.fees.stuck_after_s:
                self._send_version(sent)
                last_sent = now
            time.sleep(self.poll_s)
        if sent.receipt["status"] != 1:
            raise ChainError(f"transaction {sent.receipt['transactionHash'].hex()} reverted")
        return sent
